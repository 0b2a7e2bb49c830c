'use strict';
// Joins the JSON lines of `odm_bench --sets --json`, `node bench.js --json` and
// `odm_bench --scaling --json` into the Markdown tables bench/run-all.sh prints.
// Stops when the two benches did not read the same documents (count and BSON bytes).
// The files may hold several runs (run-all.sh --repeat): each cell is its best run (the
// least time; for the thread rows, the most documents per second).
//
// Usage: node report.js SETS.jsonl MONGOOSE.jsonl SCALING.jsonl
const fs = require('fs');

const read = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const [setsFile, nodeFile, scalingFile] = process.argv.slice(2);
if (!scalingFile) {
  process.stderr.write('usage: node report.js SETS.jsonl MONGOOSE.jsonl SCALING.jsonl\n');
  process.exit(2);
}
// The best run of each cell, in the order cells first appear; and how many runs there were.
let runs = 1;
const best = (rs, keyOf, better) => {
  const m = new Map(), seen = new Map();
  for (const r of rs) {
    const k = keyOf(r), b = m.get(k);
    seen.set(k, (seen.get(k) || 0) + 1);
    runs = Math.max(runs, seen.get(k));
    if (!b || better(r, b)) m.set(k, r);
  }
  return m;
};
const faster = (a, b) => a.ns_per_doc < b.ns_per_doc;
const key = (r) => `${r.set}|${r.subset}|${r.op}|${r.impl}`;
const by = best(read(setsFile).concat(read(nodeFile)), key, faster);
const rows = [...by.values()];
const scaling = [...best(read(scalingFile), (r) => `${r.bench}|${r.set}|${r.op}|${r.threads || 0}`,
  (a, b) => (a.bench === 'threads' ? a.docs_per_s > b.docs_per_s : faster(a, b))).values()];
const get = (set, subset, op, impl) => by.get(`${set}|${subset}|${op}|${impl}`);

const us = (ns) => (ns === undefined ? '—' : ns >= 100000 ? (ns / 1000).toFixed(0) : (ns / 1000).toFixed(2));
const x = (a, b) => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(a / b >= 10 ? 0 : 2)}x`);

const out = [];
out.push(`Per document, CPU time in µs (best of several rounds${runs > 1 ? `, in the best of ${runs} runs taken in turn` : ''}). `
  + 'decode: stored BSON to a typed document '
  + '(libodm odm_from_bson; Mongoose BSON.deserialize + Model.hydrate). arena: the same decode into an '
  + 'arena, for documents that are read and dropped (libodm odm_from_bson_arena + odm_arena_reset). view: the zero-copy read '
  + '(libodm odm_view_init_bson, then every field read through the view accessors; no allocation); its "baseline / libodm" '
  + 'sets it against the baseline build\'s decode. dpe: decode + prepare + encode '
  + '(libodm odm_from_bson + odm_prepare + odm_to_bson; Mongoose new Model(doc) + timestamps and '
  + 'derivations + validateSync() + the spec\'s rules + BSON.serialize(doc.toBSON())). adpe: the same decode + '
  + 'prepare + encode with nothing allocated per document (libodm odm_from_bson_arena + odm_prepare_arena + '
  + 'odm_to_bson_into one bson_t + odm_arena_reset), set against Mongoose\'s and the baseline\'s dpe. '
  + '"hand" rows: the documents of chat_sessions, community_posts and support_tickets only, which '
  + 'have hand-written libbson baselines.');
out.push('');
const hasBase = rows.some((r) => r.impl === 'baseline');
out.push(`| set | docs | BSON bytes/doc | op | libodm | hand-written | Mongoose | Mongoose / libodm | libodm / hand-written |${hasBase ? ' baseline build | baseline / libodm |' : ''}`);
out.push(`| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |${hasBase ? ' ---: | ---: |' : ''}`);
for (const set of ['full', 'min', 'mixed']) {
  for (const subset of ['all', 'hand']) {
    for (const op of ['decode', 'arena', 'view', 'dpe', 'adpe']) {
      const o = get(set, subset, op, 'libodm');
      const h = get(set, subset, op, 'hand');
      // adpe does dpe's work: it is held to Mongoose's and the baseline's dpe
      const m = get(set, subset, op === 'adpe' ? 'dpe' : op, 'mongoose');
      // the zero-copy read replaces the copying decode: it is held to the baseline's decode
      const b = get(set, subset, op === 'view' ? 'decode' : op === 'adpe' ? 'dpe' : op, 'baseline');
      if (!o) continue;
      for (const other of [m, b]) {
        if (other && (other.docs !== o.docs || Math.round(other.bytes_per_doc) !== Math.round(o.bytes_per_doc))) {
          process.stderr.write(`report: ${set}/${subset}: odm_bench read ${o.docs} documents of ${o.bytes_per_doc} `
            + `bytes, ${other.impl} ${other.docs} of ${other.bytes_per_doc}: not the same documents\n`);
          process.exit(1);
        }
      }
      out.push(`| ${set}${subset === 'hand' ? ' (hand)' : ''} | ${o.docs} | ${Math.round(o.bytes_per_doc)} | ${op} | `
        + `${us(o.ns_per_doc)} | ${us(h && h.ns_per_doc)} | ${us(m && m.ns_per_doc)} | `
        + `${x(m && m.ns_per_doc, o.ns_per_doc)} | ${h ? x(o.ns_per_doc, h.ns_per_doc) : '—'} |`
        + (hasBase ? ` ${us(b && b.ns_per_doc)} | ${x(b && b.ns_per_doc, o.ns_per_doc)} |` : ''));
    }
  }
}

// ---------------------------------------------------------------- the targets
const ratio = (set, op, a, bImpl, bOp = op) => {
  const p = get(set, 'all', op, a), q = get(set, 'all', bOp, bImpl);
  return p && q ? p.ns_per_doc / q.ns_per_doc : undefined;
};
const sizes = scaling.filter((r) => r.bench === 'size');
const th = scaling.filter((r) => r.bench === 'threads');
// linear: ns per KB of the largest document of a family within 1.25x of the smallest
// grown one's (the fixture itself, a few hundred bytes, is dominated by fixed costs)
const family = (prefix, op) => sizes.filter((r) => r.set.startsWith(prefix) && r.op === op && !r.set.endsWith('fixture'));
const spread = (rs) => (rs.length < 2 ? undefined : rs[rs.length - 1].ns_per_kb / rs[0].ns_per_kb);
const thr = (op) => {
  const one = th.find((r) => r.op === op && r.threads === 1), two = th.find((r) => r.op === op && r.threads === 2);
  return one && two ? two.docs_per_s / one.docs_per_s : undefined;
};
const targets = [
  ['mixed: decode at least 3x faster than the baseline build', ratio('mixed', 'decode', 'baseline', 'libodm'), 3, '>='],
  ['mixed: decode + prepare + encode at least 3x faster than the baseline build', ratio('mixed', 'dpe', 'baseline', 'libodm'), 3, '>='],
  ['mixed: Mongoose / libodm, decode + prepare + encode, at least 200x', ratio('mixed', 'dpe', 'mongoose', 'libodm'), 200, '>='],
  ['mixed: Mongoose / libodm, decode + prepare + encode in an arena (adpe), at least 200x',
    ratio('mixed', 'dpe', 'mongoose', 'libodm', 'adpe'), 200, '>='],
  ['mixed: Mongoose / libodm, decode, at least 50x', ratio('mixed', 'decode', 'mongoose', 'libodm'), 50, '>='],
  ['full: the zero-copy read (view + every field) at least 10x faster than the baseline build\'s decode',
    ratio('full', 'decode', 'baseline', 'libodm', 'view'), 10, '>='],
  ['mixed: the zero-copy read (view + every field) at least 10x faster than the baseline build\'s decode',
    ratio('mixed', 'decode', 'baseline', 'libodm', 'view'), 10, '>='],
];
for (const [prefix, what] of [['chat_canvas_files content', '1 KB to 1 MB strings'],
  ['chat_sessions tags', '100 to 10,000 strings'], ['support_tickets conversation', '100 to 10,000 subdocuments']]) {
  for (const op of ['decode', 'arena', 'dpe', 'adpe']) {
    targets.push([`linear, ${what}, ${op}: ns/KB at the largest within 1.25x of the smallest`, spread(family(prefix, op)), 1.25, '<=']);
  }
}
targets.push(['2 threads give at least 1.8x the throughput of one, decode', thr('decode'), 1.8, '>=']);
targets.push(['2 threads give at least 1.8x the throughput of one, dpe', thr('dpe'), 1.8, '>=']);
targets.push(['2 threads give at least 1.8x the throughput of one, adpe', thr('adpe'), 1.8, '>=']);
out.push('');
out.push('Targets (reported, never enforced):');
out.push('');
out.push('| target | measured | met |');
out.push('| --- | ---: | --- |');
for (const [what, v, goal, cmp] of targets) {
  const met = v === undefined ? 'not measured' : (cmp === '>=' ? v >= goal : v <= goal) ? 'yes' : 'no';
  out.push(`| ${what} | ${v === undefined ? '—' : `${v.toFixed(v >= 10 ? 0 : 2)}x`} | ${met} |`);
}
out.push('');
out.push('Scaling with document size (libodm, one document, CPU time; ns/KB flat = linear):');
out.push('');
const sizeOps = ['decode', 'arena', 'dpe', 'adpe'];
out.push(`| document | BSON bytes | ${sizeOps.map((op) => `${op} µs | ${op} ns/KB`).join(' | ')} |`);
out.push(`| --- | ---: | ${sizeOps.map(() => '---: | ---:').join(' | ')} |`);
for (const r of sizes.filter((s) => s.op === 'decode')) {
  const cells = sizeOps.map((op) => {
    const c = sizes.find((s) => s.set === r.set && s.op === op);
    return `${us(c && c.ns_per_doc)} | ${c ? c.ns_per_kb.toFixed(0) : '—'}`;
  });
  out.push(`| ${r.set} | ${r.bytes_per_doc} | ${cells.join(' | ')} |`);
}
out.push('');
out.push('Scaling with threads (libodm, the mixed set per thread, wall-clock throughput; target 2 threads >= 1.8x). '
  + 'The threads\' CPU time per document staying that of one thread means they share nothing costly (no lock, no '
  + 'shared cache line); throughput then falls short only when the machine gives the process no second core '
  + '("cores busy": CPU time / wall time of the threads):');
out.push('');
out.push('| op | 1 thread docs/s | 2 threads docs/s | 2 threads / 1 | CPU µs/doc, 1 thread | CPU µs/doc, 2 threads | cores busy, 1 thread | cores busy, 2 threads |');
out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const op of ['decode', 'dpe', 'adpe']) {
  const one = th.find((r) => r.op === op && r.threads === 1), two = th.find((r) => r.op === op && r.threads === 2);
  if (one && two) {
    out.push(`| ${op} | ${one.docs_per_s.toFixed(0)} | ${two.docs_per_s.toFixed(0)} | ${(two.docs_per_s / one.docs_per_s).toFixed(2)}x | `
      + `${us(one.cpu_ns_per_doc)} | ${us(two.cpu_ns_per_doc)} | `
      + `${(one.cpu_ns_per_doc * one.docs_per_s / 1e9).toFixed(2)} | ${(two.cpu_ns_per_doc * two.docs_per_s / 1e9).toFixed(2)} |`);
  }
}
console.log(out.join('\n'));
