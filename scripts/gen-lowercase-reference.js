// Writes tests/data/lowercase-js.txt: JavaScript's toLowerCase() of every code point of the
// blocks libodm promises to lowercase (docs/differences.md), one line per code point that
// changes: "<code point hex> <UTF-8 hex of the lowercase>". The test compares libodm with it;
// the library's table comes from another source (Python's str.lower(), scripts/gen-lowercase-table.py).
// usage: node scripts/gen-lowercase-reference.js > tests/data/lowercase-js.txt
'use strict';
const blocks = [[0x0000, 0x017f], [0x0370, 0x04ff]];
const lines = [`# JavaScript toLowerCase, Unicode ${process.versions.unicode}; U+0000..U+017F, U+0370..U+04FF`];
for (const [first, last] of blocks) {
  for (let cp = first; cp <= last; cp++) {
    const s = String.fromCodePoint(cp);
    const l = s.toLowerCase();
    if (l !== s) {
      lines.push(cp.toString(16).toUpperCase().padStart(4, '0') + ' ' + Buffer.from(l, 'utf8').toString('hex').toUpperCase());
    }
  }
}
process.stdout.write(lines.join('\n') + '\n');
