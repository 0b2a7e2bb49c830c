#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. a normal build and ctest (unit, generator, packaging, CLI, fuzz-smoke tests), then
#      the live suite against mongo-java-server and FerretDB (started here);
#   2. the same built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the suites under valgrind (no leaks allowed);
#   4. each libFuzzer harness (scripts/fuzz-long.sh) for ODM_FUZZ_SECONDS (default 30) with
#      ASan+UBSan (clang); a crash, leak or broken promise fails the step.
# Set ODM_TEST_QUICK=1 to run step 1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
# libmongoc warns on stderr when its shared-memory counters cannot be set up (stale
# /dev/shm entries); the CLI contract tests read stderr, so counters stay in memory.
export MONGOC_DISABLE_SHM=1

steps=0
step() {
  [ -z "${current:-}" ] || steps=$((steps + 1))
  current="$*"
  printf '\n==== %s\n' "$*"
}

step "build and test (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

step "live suite against mongo-java-server and FerretDB (and MONGODB_URI when set)"
scripts/live-tests.sh build

if [ "${ODM_TEST_QUICK:-0}" = 1 ]; then
  step "done"
  echo "test steps: $steps passed, 0 failed"
  exit 0
fi

step "build and test with AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DODM_SANITIZE=address,undefined \
  -DODM_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -E packaging
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  scripts/live-tests.sh build-asan

step "valgrind (memcheck, leaks are errors)"
for suite in codec rules schema hooks update view gencode; do
  CK_FORK=no valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    ./build/tests/odm_tests "$suite"
done
# The registry suite registers schemas, hooks and validators for the life of the process:
# each test needs its own (check's fork mode), and valgrind follows the forks.
valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  ./build/tests/odm_tests registry
valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  ./build/tests/fuzz_smoke 3000 >/dev/null
valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  ./build/tests/fuzz_smoke_view 3000 >/dev/null
for h in decode validate update keys filter indexes view; do
  valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    ./build/tests/fuzz_replay_$h tests/fuzz/corpus/$h $(ls -d tests/fuzz/regressions/$h 2>/dev/null) >/dev/null
done
CK_FORK=no scripts/live-tests.sh build valgrind -q --error-exitcode=1 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect
printf '{"sessionId":"s","userId":{"$oid":"64b0000000000000000000a1"},"agentId":{"$oid":"64b0000000000000000000b1"},"name":"n"}\n{"x":\n' |
  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    ./build/odm validate --now 1750000000000 chat_sessions >/dev/null 2>&1 || [ $? -eq 2 ]

step "libFuzzer harnesses (${ODM_FUZZ_SECONDS:-30} s each, ASan+UBSan, any report fails)"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DODM_BUILD_FUZZ=ON \
  -DODM_BUILD_TESTS=OFF -DODM_BUILD_EXAMPLES=OFF -DODM_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target fuzz_all
scripts/fuzz-long.sh "${ODM_FUZZ_SECONDS:-30}" build-fuzz

step "done"
echo "test steps: $steps passed, 0 failed"
