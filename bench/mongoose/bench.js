'use strict';
// Mongoose on the documents odm_bench uses: for each set dumped by
// `odm_bench --dump-set NAME FILE` (one {"collection", "doc"} Extended JSON line per document),
//   dpe     new Model(doc), the timestamps and derivations a save would set, validateSync(),
//           the spec's rules (the seed's pre-save hooks), doc.toBSON() and BSON.serialize:
//           Mongoose's counterpart of libodm's decode + prepare + encode
//   decode  BSON.deserialize of the stored bytes and Model.hydrate: libodm's decode
// on all the documents of the set and on those of the collections that have a hand-written
// C baseline (subset "hand"). CPU time of the process (process.cpuUsage: user + system, so
// the garbage collector's threads count), per document, best of --rounds rounds, each
// round whole passes over the set lasting at least --round-ms. One JSON object per line on
// stdout, in odm_bench --sets --json's format.
//
// Usage: node bench.js [--json] [--quick] [--rounds N] [--round-ms MS] SET.jsonl ...
//   (the set's name is the file name without .jsonl)
// When SET.prepared.jsonl is next to SET.jsonl (odm_bench --dump-prepared), every document
// Mongoose prepares must hold the same values as libodm's prepared document (key order
// aside), or the bench stops: both sides then provably did the same work.
const fs = require('fs');
const path = require('path');
const BSON = require('bson');
const mongoose = require('mongoose');
const { loadModels } = require('./schemas');

const NOW_MS = 1700100000000; // ODM_BENCH_SET_NOW_MS in bench/mixed-set.h
const HAND = new Set(['chat_sessions', 'community_posts', 'support_tickets']);

function parseArgs(argv) {
  const o = { json: false, rounds: 5, roundMs: 200, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a === '--quick') { o.rounds = 1; o.roundMs = 1; o.quick = true; }
    else if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--round-ms') o.roundMs = Number(argv[++i]);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (!(o.rounds > 0) || !(o.roundMs > 0) || o.files.length === 0) {
    process.stderr.write('usage: node bench.js [--json] [--quick] [--rounds N] [--round-ms MS] SET.jsonl ...\n');
    process.exit(2);
  }
  return o;
}

function loadSet(file, models) {
  const items = [];
  let bytes = 0;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const { collection, doc } = BSON.EJSON.parse(line, { relaxed: false });
    const m = models[collection];
    if (!m) throw new Error(`${file}: no spec for collection ${collection}`);
    // the stored bytes: the same as libodm's (canonical Extended JSON keeps int32/double)
    const stored = BSON.serialize(doc);
    bytes += stored.length;
    // the input an application hands to Mongoose: plain JavaScript values
    items.push({ collection, m, stored, input: BSON.deserialize(stored) });
  }
  return { name: path.basename(file).replace(/\.jsonl$/, ''), items, bytes };
}

const now = new Date(NOW_MS);

function dpe(it) {
  const { model, derive, rules, timestamps } = it.m;
  const d = new model(it.input); // eslint-disable-line new-cap
  if (timestamps) { // what the timestamps option does on save (a create)
    if (!d.createdAt) d.createdAt = now;
    d.updatedAt = now;
  }
  if (derive) derive(d);
  const err = d.validateSync();
  const broken = rules ? rules(d).length : 0;
  const out = BSON.serialize(d.toBSON());
  return out.length + (err ? 1 : 0) + broken;
}

function decode(it) {
  const d = it.m.model.hydrate(BSON.deserialize(it.stored));
  return d._id ? 1 : 0;
}

function cpuNs() {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

let sink = 0;

function runPasses(items, op, passes) {
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < items.length; i++) sink += op(items[i]);
  }
}

function time(items, op, opts) {
  let passes = 1;
  for (;;) { // warm-up (the JIT), and how many passes make a round
    const t0 = cpuNs();
    runPasses(items, op, passes);
    if (cpuNs() - t0 >= opts.roundMs * 1e6 || passes >= 1 << 16) break;
    passes *= 2;
  }
  let best = Infinity;
  for (let r = 0; r < opts.rounds; r++) {
    const t0 = cpuNs();
    runPasses(items, op, passes);
    best = Math.min(best, (cpuNs() - t0) / (passes * items.length));
  }
  return best;
}

// The documents that break a rule, as "collection path: message". The mixed set is
// generated to pass odm_prepare, so there every document must pass here too (otherwise the
// two benches would not do the same work); a fixture may break a rule in both.
function failures(set) {
  const out = [];
  for (const it of set.items) {
    const d = new it.m.model(it.input); // eslint-disable-line new-cap
    if (it.m.timestamps) { d.createdAt = d.createdAt || now; d.updatedAt = now; }
    if (it.m.derive) it.m.derive(d);
    const err = d.validateSync();
    const broken = it.m.rules ? it.m.rules(d) : [];
    if (err || broken.length) {
      const what = err ? Object.values(err.errors).map((e) => `${e.path}: ${e.message}`)
        : broken.map((b) => `${b.path}: ${b.message}`);
      out.push(`${it.collection} ${what.join('; ')}`);
    }
  }
  return out;
}

// A comparable form: keys sorted, ObjectIds and dates as strings, numbers as numbers.
function norm(v) {
  if (Array.isArray(v)) return v.map(norm);
  if (v instanceof Date) return `date:${v.getTime()}`;
  if (v && v._bsontype === 'ObjectId') return `oid:${v.toHexString()}`;
  if (v && typeof v === 'object' && !v._bsontype) {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = norm(v[k]);
    return o;
  }
  return v;
}

function firstDifference(a, b, p) {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)
      && (!Array.isArray(a) || a.length === b.length)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], p ? `${p}.${k}` : k);
      if (d) return d;
    }
  }
  return `${p}: libodm ${JSON.stringify(a)}, Mongoose ${JSON.stringify(b)}`;
}

// Compares Mongoose's prepared documents (what dpe serialises) with libodm's.
function compareWithLibodm(set, preparedFile) {
  const lines = fs.readFileSync(preparedFile, 'utf8').split('\n').filter(Boolean);
  if (lines.length !== set.items.length) {
    throw new Error(`${preparedFile}: ${lines.length} documents, the set has ${set.items.length}`);
  }
  let differ = 0, first = null;
  set.items.forEach((it, i) => {
    const { model, derive, timestamps } = it.m;
    const d = new model(it.input); // eslint-disable-line new-cap
    if (timestamps) { if (!d.createdAt) d.createdAt = now; d.updatedAt = now; }
    if (derive) derive(d);
    d.validateSync();
    const mine = norm(BSON.deserialize(BSON.serialize(d.toBSON())));
    const theirs = norm(BSON.deserialize(BSON.serialize(BSON.EJSON.parse(lines[i], { relaxed: false }).doc)));
    const diff = firstDifference(theirs, mine, '');
    if (diff) {
      differ++;
      first = first || `${it.collection} document ${i + 1}: ${diff}`;
    }
  });
  if (differ) throw new Error(`${set.name}: ${differ} prepared document(s) differ from libodm's; first: ${first}`);
  process.stderr.write(`# ${set.name}: Mongoose's ${set.items.length} prepared documents hold the same values as libodm's\n`);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const models = loadModels(path.join(__dirname, '..', '..', 'specs'), NOW_MS);
  const info = `mongoose ${mongoose.version}, bson ${JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('bson')), '..', 'package.json'), 'utf8')).version}, node ${process.version}`;
  if (!opts.json) {
    console.log(`# ${info}; CPU ns per document, best of ${opts.rounds} rounds of >= ${opts.roundMs} ms`);
    console.log('bench    set                    subset impl     op        docs bytes/doc       ns/doc');
  } else {
    process.stderr.write(`# ${info}\n`);
  }
  for (const file of opts.files) {
    const set = loadSet(file, models);
    const prepared = file.replace(/\.jsonl$/, '.prepared.jsonl');
    if (prepared !== file && fs.existsSync(prepared)) compareWithLibodm(set, prepared);
    const failed = failures(set);
    if (failed.length && set.name === 'mixed') {
      throw new Error(`mixed: ${failed.length} documents fail Mongoose validation, first: ${failed[0]}`);
    }
    if (failed.length) {
      process.stderr.write(`# ${set.name}: ${failed.length} document(s) break a rule (timed anyway): ${failed.join(', ')}\n`);
    }
    for (const subset of ['all', 'hand']) {
      const items = subset === 'all' ? set.items : set.items.filter((it) => HAND.has(it.collection));
      if (items.length === 0) continue;
      const bytes = items.reduce((s, it) => s + it.stored.length, 0);
      for (const [opName, op] of [['decode', decode], ['dpe', dpe]]) {
        const ns = time(items, op, opts);
        const row = {
          bench: 'sets', set: set.name, subset, impl: 'mongoose', op: opName,
          docs: items.length, bytes_per_doc: Math.round(bytes / items.length), ns_per_doc: Math.round(ns * 10) / 10,
        };
        if (opts.json) console.log(JSON.stringify(row));
        else {
          console.log(`${'sets'.padEnd(8)} ${set.name.padEnd(22)} ${subset.padEnd(6)} ${'mongoose'.padEnd(8)} `
            + `${opName.padEnd(7)} ${String(row.docs).padStart(6)} ${String(row.bytes_per_doc).padStart(9)} `
            + `${row.ns_per_doc.toFixed(1).padStart(12)}`);
        }
      }
    }
  }
  if (!opts.json) console.log(`# checksum ${sink}`);
}

main();
