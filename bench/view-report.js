'use strict';
// The zero-copy read of each collection's fixtures against the baseline build's copying
// decode of the same fixtures: joins `odm_bench_view --json` (this build) with the decode
// rows of `odm_bench --json` (the baseline build) and prints a Markdown table, the
// target being "at least 10x, with zero allocations" for the full documents.
//
// The files may hold several runs (run-all.sh --repeat): each time is its best run.
//
// Usage: node bench/view-report.js BASELINE.jsonl VIEW.jsonl
const fs = require('fs');

const read = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const [baseFile, viewFile] = process.argv.slice(2);
if (!viewFile) {
  process.stderr.write('usage: node view-report.js BASELINE.jsonl VIEW.jsonl\n');
  process.exit(2);
}
const base = new Map();
for (const r of read(baseFile).filter((x) => x.op === 'decode')) {
  const k = `${r.collection}|${r.variant}`, b = base.get(k);
  if (!b || r.ns_per_doc < b.ns_per_doc) base.set(k, r);
}
// each of a view row's times is its best run (the runs read the same fixtures)
const viewBy = new Map();
for (const v of read(viewFile)) {
  const k = `${v.collection}|${v.variant}`, b = viewBy.get(k);
  if (!b) {
    viewBy.set(k, { ...v });
  } else {
    for (const f of ['decode_ns', 'view_ns', 'view_read_ns']) b[f] = Math.min(b[f], v[f]);
    b.view_read_allocs = Math.max(b.view_read_allocs, v.view_read_allocs);
  }
}
const views = [...viewBy.values()];

const out = [];
out.push('| collection | doc | bytes | baseline decode ns | decode ns | view ns | view + read every field ns (allocs) | baseline decode / view+read |');
out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
const ratios = { full: [], min: [] };
for (const v of views) {
  const b = base.get(`${v.collection}|${v.variant}`);
  if (b && b.bson_bytes !== v.bson_bytes) {
    process.stderr.write(`view-report: ${v.collection} ${v.variant}: ${b.bson_bytes} bytes in the baseline, ${v.bson_bytes} here\n`);
    process.exit(1);
  }
  const r = b ? b.ns_per_doc / v.view_read_ns : undefined;
  if (r !== undefined) ratios[v.variant].push({ c: v.collection, r, allocs: v.view_read_allocs });
  out.push(`| ${v.collection} | ${v.variant} | ${v.bson_bytes} | ${b ? b.ns_per_doc.toFixed(1) : '—'} | ${v.decode_ns.toFixed(1)} | `
    + `${v.view_ns.toFixed(1)} | ${v.view_read_ns.toFixed(1)} (${v.view_read_allocs}) | ${r === undefined ? '—' : `${r.toFixed(1)}x`} |`);
}
out.push('');
for (const variant of ['full', 'min']) {
  const rs = ratios[variant];
  if (!rs.length) continue;
  const geo = Math.exp(rs.reduce((s, x) => s + Math.log(x.r), 0) / rs.length);
  const worst = rs.reduce((a, b) => (b.r < a.r ? b : a));
  const met = rs.filter((x) => x.r >= 10 && x.allocs === 0).length;
  out.push(`${variant} documents: ${geo.toFixed(1)}x geometric mean, ${worst.r.toFixed(1)}x at worst (${worst.c}); `
    + `${met} of ${rs.length} at least 10x with zero allocations.`);
}
console.log(out.join('\n'));
