#!/usr/bin/env bash
# Runs the libFuzzer harnesses, each for SECONDS, and prints per harness the executions,
# the edges covered (cov) and whether libFuzzer reported anything. Exit status 1 when any
# harness reported a crash, a leak, a sanitizer error or a broken promise.
#   scripts/fuzz-long.sh [SECONDS] [BUILD_DIR] [HARNESS...]
#     SECONDS    per harness (default 300)
#     BUILD_DIR  a build configured with clang and -DODM_BUILD_FUZZ=ON (default build-fuzz;
#                built here, target fuzz_all)
#     HARNESS    decode validate update keys filter indexes view (default: all)
#   ODM_FUZZ_KEEP_GOING=1  keep fuzzing after a report (libFuzzer -fork=1 -ignore_crashes=1)
#                          to collect every crasher in one run.
# The corpus grown by a run is kept in BUILD_DIR/fuzz-corpus/<harness> and reused by the
# next; tests/fuzz/corpus/<harness> (the committed seeds) is only read. Crashing inputs
# are written to BUILD_DIR/fuzz-artifacts/, the logs to BUILD_DIR/fuzz-logs/.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
build=${2:-build-fuzz}
shift $(($# > 2 ? 2 : $#))
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(decode validate update keys filter indexes view)

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DODM_BUILD_FUZZ=ON \
    -DODM_BUILD_TESTS=OFF -DODM_BUILD_EXAMPLES=OFF -DODM_BUILD_BENCH=OFF >/dev/null || exit 1
fi
cmake --build "$build" -j "$(nproc)" --target fuzz_all >/dev/null || exit 1

mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
extra=()
[ "${ODM_FUZZ_KEEP_GOING:-0}" = 1 ] && extra=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)

failed=0
printf '%-10s %12s %8s %8s  %s\n' harness executions cov ft result
for h in "${harnesses[@]}"; do
  bin="$build/tests/fuzz/fuzz_$h"
  log="$build/fuzz-logs/$h.log"
  mkdir -p "$build/fuzz-corpus/$h"
  "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -dict=tests/fuzz/odm.dict \
    -artifact_prefix="$build/fuzz-artifacts/$h-" "${extra[@]}" \
    "$build/fuzz-corpus/$h" "tests/fuzz/corpus/$h" >"$log" 2>&1
  rc=$?
  # executions: the final stats (plain run) or the last progress line (fork mode)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  reports=$(grep -cE '^==[0-9]+==ERROR|^SUMMARY: |^fuzz [a-z]+: ' "$log")
  # fork mode: the parent counts what its jobs found ("oom/timeout/crash: 0/0/3")
  forked=$(sed -n 's|.*oom/timeout/crash: \([0-9]*\)/\([0-9]*\)/\([0-9]*\).*|\1 \2 \3|p' "$log" | tail -n 1)
  if [ -n "$forked" ]; then
    set -- $forked
    reports=$(($1 + $2 + $3))
  fi
  if [ $rc -ne 0 ] || [ "$reports" -ne 0 ]; then
    failed=1
    result="FAILED (exit $rc, $reports reports; $log)"
  else
    result="0 reports"
  fi
  printf '%-10s %12s %8s %8s  %s\n' "$h" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
  if [ "$result" != "0 reports" ]; then
    grep -m 1 -B 2 -A 25 -E '^==[0-9]+==ERROR|^fuzz [a-z]+: ' "$log" | sed 's/^/    /' >&2 || true
  fi
done
[ $failed -eq 0 ] || echo "fuzz: crashing inputs are in $build/fuzz-artifacts/" >&2
exit $failed
