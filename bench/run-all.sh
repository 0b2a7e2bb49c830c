#!/usr/bin/env bash
# libodm, the hand-written baselines and Mongoose side by side, on the same documents,
# then libodm's scaling with document size and threads. Prints Markdown tables.
#
#   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel --target odm_bench
#   bench/run-all.sh [--quick] [BUILD_DIR]        (BUILD_DIR defaults to build-rel)
#
# Needs node (>= 16.20) and, the first time, the npm registry (npm ci in bench/mongoose).
# --quick: a smoke run of a few seconds; its numbers mean nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=
build=$root/build-rel
for a in "$@"; do
  case $a in
    --quick) quick=--quick ;;
    -*) echo "usage: $0 [--quick] [BUILD_DIR]" >&2; exit 2 ;;
    *) build=$(cd "$a" && pwd) ;;
  esac
done
bench=$build/bench/odm_bench
if [ ! -x "$bench" ]; then
  echo "$0: no $bench: build it first (see the top of this script)" >&2
  exit 1
fi
if ! grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "# note: $build is not a Release build: its numbers are not the ones to compare" >&2
fi
if [ ! -d "$root/bench/mongoose/node_modules" ]; then
  (cd "$root/bench/mongoose" && npm ci --no-audit --no-fund >&2)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for s in full min mixed; do
  "$bench" --dump-set "$s" "$tmp/$s.jsonl" 2>&1 | grep -v 'Falling back to malloc' >&2 || true
  test -s "$tmp/$s.jsonl"
done
echo "# libodm and the hand-written baselines..." >&2
"$bench" --sets --json $quick > "$tmp/sets.jsonl"
echo "# Mongoose..." >&2
node "$root/bench/mongoose/bench.js" --json $quick "$tmp/full.jsonl" "$tmp/min.jsonl" "$tmp/mixed.jsonl" > "$tmp/mongoose.jsonl"
echo "# scaling..." >&2
"$bench" --scaling --json $quick > "$tmp/scaling.jsonl"
node "$root/bench/mongoose/report.js" "$tmp/sets.jsonl" "$tmp/mongoose.jsonl" "$tmp/scaling.jsonl"
