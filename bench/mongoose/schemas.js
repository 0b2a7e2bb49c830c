'use strict';
// specs/*.json -> Mongoose schemas and models, written for this bench (no generator shared
// with libodm). What the converter carries over from each FIELD of docs/spec-format.md:
//   type (string, number, boolean, date, objectid, object, array, mixed), required, enum,
//   min/max, minlength/maxlength, lowercase, default (a literal, or "now": Date.now, or,
//   in the bench, the bench's fixed clock, as odm_prepare_opts_t.now_ms fixes libodm's),
//   unique, ref, messages (as Mongoose's [value, message] pairs), nested objects (nested
//   paths), arrays of subdocuments (sub-schemas, with their own _id), timestamps.
// RULES and DERIVATIONS are the seed's pre-save hooks: they become two functions of the
// document, hooked as pre('validate') middleware for a real save(), and called by the
// bench around validateSync(), which runs no middleware: derive(doc) first (with the
// timestamps a save would set), then validateSync(), then rules(doc), which returns the
// broken rules as {path, rule, message} (as libodm's odm_prepare reports them).
// Left out: null_is_zero (the documents of the bench hold no nulls), indexes (no server
// here: they would only be declared), and the analytics.
const fs = require('fs');
const path = require('path');
const mongoose = require('mongoose');

const { Schema } = mongoose;

// The clock of "now" defaults: Date.now, or a fixed time (loadModels' NOW_MS).
let nowDefault = Date.now;

function pair(value, messages, key) {
  return messages && messages[key] ? [value, messages[key]] : value;
}

// A FIELD (or an array's element, which has no name) -> a Mongoose path declaration.
function convertField(f) {
  const m = f.messages;
  switch (f.type) {
    case 'object':
      return convertFields(f.fields);
    case 'array': {
      const of = f.of;
      if (of.type === 'object') return [new Schema(convertFields(of.fields), { typeKey: '$type' })];
      return [convertField(of)];
    }
    default:
      break;
  }
  const d = {};
  switch (f.type) {
    case 'string': d.$type = String; break;
    case 'number': d.$type = Number; break;
    case 'boolean': d.$type = Boolean; break;
    case 'date': d.$type = Date; break;
    case 'objectid': d.$type = Schema.Types.ObjectId; break;
    case 'mixed': d.$type = Schema.Types.Mixed; break;
    default: throw new Error(`unknown type ${f.type}`);
  }
  if (f.required) d.required = m && m.required ? [true, m.required] : true;
  if (f.enum) d.enum = m && m.enumeration ? { values: f.enum, message: m.enumeration } : f.enum;
  if (f.min !== undefined) d.min = pair(f.min, m, 'min');
  if (f.max !== undefined) d.max = pair(f.max, m, 'max');
  if (f.minlength !== undefined) d.minlength = pair(f.minlength, m, 'minlength');
  if (f.maxlength !== undefined) d.maxlength = pair(f.maxlength, m, 'maxlength');
  if (f.lowercase) d.lowercase = true;
  if (f.unique) d.unique = true;
  if (f.ref) d.ref = f.ref;
  if (f.default !== undefined) d.default = f.type === 'date' && f.default === 'now' ? nowDefault : f.default;
  return d;
}

function convertFields(fields) {
  const out = {};
  for (const f of fields) out[f.name] = convertField(f);
  return out;
}

// ---------------------------------------------------------------- rules and derivations

// The seed's patterns (src/odm-validate.c implements the same ones).
const PATTERNS = {
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  username: /^[a-zA-Z0-9_]+$/,
  slug: /^[a-z0-9-]+$/,
};

const present = (v) => v !== undefined && v !== null;
const num = (v) => (v instanceof Date ? v.getTime() : v);

// One check per RULE: (doc) -> true when the rule holds; NOW_MS is the clock of the bench.
function ruleValidator(rule, nowMs) {
  const get = (doc, p) => doc.get(p);
  switch (rule.kind) {
    case 'min': return function (doc) { const v = get(doc, rule.path); return !present(v) || v >= rule.value; };
    case 'max': return function (doc) { const v = get(doc, rule.path); return !present(v) || v <= rule.value; };
    case 'after': return function (doc) {
      const a = get(doc, rule.path), b = get(doc, rule.than);
      return !present(a) || !present(b) || num(a) > num(b);
    };
    case 'not_greater': return function (doc) {
      const a = get(doc, rule.path), b = get(doc, rule.than);
      return !present(a) || !present(b) || a <= b;
    };
    case 'max_items': return function (doc) { const a = get(doc, rule.path); return !a || a.length <= rule.value; };
    case 'items_if_any': return function (doc) {
      const a = get(doc, rule.path); return !a || a.length === 0 || a.length === rule.value;
    };
    case 'sum_not_greater': return function (doc) {
      const a = get(doc, rule.path) || [];
      const than = get(doc, rule.than);
      let sum = 0;
      for (const e of a) if (present(e[rule.field])) sum += e[rule.field];
      return sum <= (present(than) ? than : 0);
    };
    case 'pattern': return function (doc) {
      const s = get(doc, rule.path); return !s || PATTERNS[rule.pattern].test(s);
    };
    case 'minlength': return function (doc) { const s = get(doc, rule.path); return !present(s) || s.length >= rule.value; };
    case 'byte_length_equals': return function (doc) {
      const s = get(doc, rule.path), n = get(doc, rule.than);
      return !present(s) || Buffer.byteLength(s, 'utf8') === n;
    };
    case 'not_equal_id': return function (doc) {
      const v = get(doc, rule.path); return !present(v) || !v.equals(doc._id);
    };
    case 'future_on_create': return function (doc) {
      const v = get(doc, rule.path);
      if (!present(v) || !(doc.isNew || doc.isModified(rule.path))) return true;
      return v.getTime() > nowMs;
    };
    case 'requires': return function (doc) {
      if (get(doc, rule.when.path) !== rule.when.equals) return true;
      return rule.paths.every((p) => present(get(doc, p)));
    };
    default:
      throw new Error(`unknown rule kind ${rule.kind}`);
  }
}

function deriver(derive, nowMs) {
  if (!derive || derive.length === 0) return null;
  return function (doc) {
    for (const d of derive) {
      switch (d.kind) {
        case 'now_when':
          if (doc.get(d.when.path) === d.when.equals && !present(doc.get(d.path))) doc.set(d.path, new Date(nowMs));
          break;
        case 'true_when':
          if (doc.get(d.when.path) === d.when.equals) doc.set(d.path, true);
          break;
        case 'count_of': {
          const of = doc.get(d.of);
          if (of !== null) doc.set(d.path, of ? of.length : 0);
          break;
        }
        case 'seconds_between': {
          const a = doc.get(d.from), b = doc.get(d.to);
          if (present(a) && present(b) && b > a) doc.set(d.path, Math.floor((b - a) / 1000));
          break;
        }
        default:
          throw new Error(`unknown derivation kind ${d.kind}`);
      }
    }
  };
}

// ---------------------------------------------------------------- models

// { collection: { model, derive(doc) or null, timestamps } } for every spec in SPECS_DIR.
function loadModels(specsDir, nowMs) {
  const out = {};
  if (nowMs !== undefined) nowDefault = () => new Date(nowMs);
  for (const file of fs.readdirSync(specsDir).filter((n) => n.endsWith('.json')).sort()) {
    const spec = JSON.parse(fs.readFileSync(path.join(specsDir, file), 'utf8'));
    const schema = new Schema(convertFields(spec.fields), {
      typeKey: '$type',
      timestamps: !!spec.timestamps,
      collection: spec.collection,
      autoIndex: false,
      suppressReservedKeysWarning: true,
    });
    const checks = (spec.rules || []).map((r) => ({ rule: r, check: ruleValidator(r, nowMs) }));
    const rules = checks.length === 0 ? null : function (doc) {
      const broken = [];
      for (const c of checks) {
        if (!c.check(doc)) broken.push({ path: c.rule.path, rule: c.rule.kind, message: c.rule.message });
      }
      return broken;
    };
    const derive = deriver(spec.derive, nowMs);
    if (derive) schema.pre('validate', function () { derive(this); });
    if (rules) {
      schema.pre('validate', function () {
        for (const b of rules(this)) this.invalidate(b.path, b.message);
      });
    }
    const model = mongoose.model(spec.model, schema);
    out[spec.collection] = { model, derive, rules, timestamps: !!spec.timestamps };
  }
  return out;
}

module.exports = { loadModels, convertFields };
