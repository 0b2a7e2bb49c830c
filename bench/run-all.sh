#!/usr/bin/env bash
# libodm, the hand-written baselines and Mongoose side by side, on the same documents,
# then libodm's scaling with document size and threads. Prints Markdown tables.
#
#   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel --target odm_bench
#   bench/run-all.sh [--quick] [--baseline OTHER_BUILD_DIR] [--out DIR] [BUILD_DIR]   (BUILD_DIR: build-rel)
#
# --baseline: also time another build's odm_bench (one that has --sets, e.g. main before a
# change, built in Release elsewhere) on the same dumped documents, for the targets "against
# today's main in the same run" targets; and its per-collection decode against this build's
# zero-copy read (odm_bench_view, bench/view-report.js).
# --out DIR: keep the dumped sets and the JSON lines of every bench there (re-print the
# tables with: node bench/mongoose/report.js DIR/sets.jsonl DIR/mongoose.jsonl DIR/scaling.jsonl).
# Needs node (>= 16.20) and, the first time, the npm registry (npm ci in bench/mongoose).
# --quick: a smoke run of a few seconds; its numbers mean nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=
build=$root/build-rel
base=
out=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=--quick ;;
    --baseline) base=$(cd "${2:?--baseline wants a build directory}" && pwd)/bench/odm_bench; shift ;;
    --out) out=${2:?--out wants a directory}; shift ;;
    -*) echo "usage: $0 [--quick] [--baseline OTHER_BUILD_DIR] [--out DIR] [BUILD_DIR]" >&2; exit 2 ;;
    *) build=$(cd "$1" && pwd) ;;
  esac
  shift
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
if [ -n "$out" ]; then
  mkdir -p "$out"
  tmp=$(cd "$out" && pwd)
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
fi

# the sets, and libodm's prepared documents, which the Mongoose bench compares with its own
for s in full min mixed; do
  "$bench" --dump-set "$s" "$tmp/$s.jsonl" 2>&1 | grep -v 'Falling back to malloc' >&2 || true
  test -s "$tmp/$s.jsonl"
  "$bench" --dump-prepared "$tmp/$s.jsonl" "$tmp/$s.prepared.jsonl"
done
sets=("$tmp/full.jsonl" "$tmp/min.jsonl" "$tmp/mixed.jsonl")
echo "# libodm and the hand-written baselines..." >&2
"$bench" --sets --json $quick "${sets[@]}" > "$tmp/sets.jsonl"
if [ -n "$base" ]; then
  echo "# the baseline build ($base)..." >&2
  "$base" --sets --json $quick "${sets[@]}" | grep '"impl": "libodm"' | sed 's/"impl": "libodm"/"impl": "baseline"/' >> "$tmp/sets.jsonl"
fi
echo "# Mongoose..." >&2
node "$root/bench/mongoose/bench.js" --json $quick "${sets[@]}" > "$tmp/mongoose.jsonl"
echo "# scaling..." >&2
"$bench" --scaling --json $quick > "$tmp/scaling.jsonl"
node "$root/bench/mongoose/report.js" "$tmp/sets.jsonl" "$tmp/mongoose.jsonl" "$tmp/scaling.jsonl"
if [ -n "$base" ] && [ -x "$build/bench/odm_bench_view" ]; then
  # the zero-copy read per collection, against the baseline build's copying decode
  echo "# the zero-copy read per collection..." >&2
  "$base" --json $quick > "$tmp/baseline-codec.jsonl" 2>/dev/null
  "$build/bench/odm_bench_view" --json ${quick:+--ms 2} > "$tmp/view.jsonl"
  echo
  node "$root/bench/view-report.js" "$tmp/baseline-codec.jsonl" "$tmp/view.jsonl"
fi
