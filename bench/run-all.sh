#!/usr/bin/env bash
# libodm, the hand-written baselines and Mongoose side by side, on the same documents,
# then libodm's scaling with document size and threads. Prints Markdown tables.
#
#   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel --target odm_bench
#   bench/run-all.sh [--quick] [--repeat N] [--baseline OTHER_BUILD_DIR] [--out DIR] [BUILD_DIR]   (BUILD_DIR: build-rel)
#
# --repeat N (default 3): run every bench N times, one after the other in turn (libodm,
# the baseline build, Mongoose, the scaling, the views, then again), and report each
# cell's best run. A cell of one run is taken at one moment: on a shared machine a burst
# of load moves it by tens of percent, and a ratio of two cells taken minutes apart moves
# with it. The best of runs spread over the whole time is what each side can do.
#
# --baseline: also time another build's odm_bench (one that has --sets, e.g. main before a
# change, built in Release elsewhere) on the same dumped documents, for the targets "against
# today's main in the same run" targets; and its per-collection decode against this build's
# zero-copy read (odm_bench_view, bench/view-report.js).
# --out DIR: keep the dumped sets and the JSON lines of every bench there (re-print the
# tables with: node bench/mongoose/report.js DIR/sets.jsonl DIR/mongoose.jsonl DIR/scaling.jsonl).
# Needs node (>= 16.20) and, the first time, the npm registry (npm ci in bench/mongoose).
# --quick: a smoke run of a few seconds, one run whatever --repeat says; its numbers mean nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=
repeat=3
build=$root/build-rel
base=
out=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=--quick ;;
    --baseline) base=$(cd "${2:?--baseline wants a build directory}" && pwd)/bench/odm_bench; shift ;;
    --out) out=${2:?--out wants a directory}; shift ;;
    --repeat) repeat=${2:?--repeat wants a count}; shift ;;
    -*) echo "usage: $0 [--quick] [--repeat N] [--baseline OTHER_BUILD_DIR] [--out DIR] [BUILD_DIR]" >&2; exit 2 ;;
    *) build=$(cd "$1" && pwd) ;;
  esac
  shift
done
case $repeat in
  '' | *[!0-9]* | 0) echo "$0: --repeat wants a positive count, not '$repeat'" >&2; exit 2 ;;
esac
[ -n "$quick" ] && repeat=1
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
view=
if [ -n "$base" ] && [ -x "$build/bench/odm_bench_view" ]; then
  view=yes
fi
: > "$tmp/sets.jsonl"
: > "$tmp/mongoose.jsonl"
: > "$tmp/scaling.jsonl"
: > "$tmp/baseline-codec.jsonl"
: > "$tmp/view.jsonl"
for run in $(seq "$repeat"); do
  echo "# run $run of $repeat: libodm and the hand-written baselines..." >&2
  "$bench" --sets --json $quick "${sets[@]}" >> "$tmp/sets.jsonl"
  if [ -n "$base" ]; then
    echo "# run $run of $repeat: the baseline build ($base)..." >&2
    "$base" --sets --json $quick "${sets[@]}" | grep '"impl": "libodm"' | sed 's/"impl": "libodm"/"impl": "baseline"/' >> "$tmp/sets.jsonl"
  fi
  echo "# run $run of $repeat: Mongoose..." >&2
  node "$root/bench/mongoose/bench.js" --json $quick "${sets[@]}" >> "$tmp/mongoose.jsonl"
  echo "# run $run of $repeat: scaling..." >&2
  "$bench" --scaling --json $quick >> "$tmp/scaling.jsonl"
  if [ -n "$view" ]; then
    echo "# run $run of $repeat: the zero-copy read per collection..." >&2
    "$base" --json $quick >> "$tmp/baseline-codec.jsonl" 2>/dev/null
    "$build/bench/odm_bench_view" --json ${quick:+--ms 2} >> "$tmp/view.jsonl"
  fi
done
node "$root/bench/mongoose/report.js" "$tmp/sets.jsonl" "$tmp/mongoose.jsonl" "$tmp/scaling.jsonl"
if [ -n "$view" ]; then
  # the zero-copy read per collection, against the baseline build's copying decode
  echo
  node "$root/bench/view-report.js" "$tmp/baseline-codec.jsonl" "$tmp/view.jsonl"
fi
