#!/usr/bin/env bash
# Runs the live suite (tests/test-live.c), the layer suite (tests/test-layer.c), the
# integrity suite (tests/test-integrity.c) and
# the analytics suite of BUILD_DIR against real wire servers:
# mongo-java-server and FerretDB, built and started here on free loopback ports, and the
# server in MONGODB_URI too when it is set (a real MongoDB; its outage test is skipped,
# since it cannot be restarted from here).
# usage: scripts/live-tests.sh BUILD_DIR [RUNNER...]   (RUNNER: e.g. valgrind ...)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "$1" && pwd)
shift
runner=("$@")
state=$(mktemp -d)
servers=(mongo-java-server ferretdb)
cleanup() {
  for s in "${servers[@]}"; do tests/servers/stop.sh "$s" "$state" || true; done
  rm -rf "$state"
}
trap cleanup EXIT

tests/servers/build.sh all
for s in "${servers[@]}"; do
  uri=$(tests/servers/start.sh "$s" "$state")
  db="odm_live_$$"
  echo "-- live suite against $s at $uri"
  ODM_TEST_URI="${uri}${db}?serverSelectionTimeoutMS=3000&connectTimeoutMS=3000" \
  ODM_TEST_SERVER="$s" \
  ODM_TEST_RESTART="$PWD/tests/servers/restart.sh $s $state" \
  ODM_TEST_ODM="$build/odm" \
    "${runner[@]}" "$build/tests/odm_tests" live
  echo "-- layer suite against $s"
  ODM_TEST_URI="${uri}${db}_ly?serverSelectionTimeoutMS=3000&connectTimeoutMS=3000" \
  ODM_TEST_SERVER="$s" \
  ODM_TEST_RESTART="$PWD/tests/servers/restart.sh $s $state" \
    "${runner[@]}" "$build/tests/odm_tests" layer
  echo "-- integrity suite against $s"
  ODM_TEST_URI="${uri}${db}_in?serverSelectionTimeoutMS=3000&connectTimeoutMS=3000" \
  ODM_TEST_SERVER="$s" \
  ODM_TEST_SERVER_PID="$state/$s.pid" \
    "${runner[@]}" "$build/tests/odm_tests" integrity
  if [ "$s" = mongo-java-server ]; then
    # The analytics need MongoDB's aggregation language: mongo-java-server has it,
    # FerretDB v1 has almost none of it.
    echo "-- analytics suite against $s"
    ODM_TEST_URI="${uri}${db}_ax?serverSelectionTimeoutMS=3000" "${runner[@]}" "$build/tests/odm_tests" analytics
  fi
  # A downstream project's own collection next to the shipped users, built against the
  # installed package (CMake and pkg-config), writing to this server.
  echo "-- examples/custom-collection against $s"
  tests/custom-collection.sh "$build" "$PWD" "$uri"
done
if [ -n "${MONGODB_URI:-}" ]; then
  echo "-- live suite against MONGODB_URI"
  ODM_TEST_URI="$MONGODB_URI" ODM_TEST_SERVER=mongodb ODM_TEST_ODM="$build/odm" CK_EXCLUDE_TCASES=outage \
    "${runner[@]}" "$build/tests/odm_tests" live
  ODM_TEST_URI="$MONGODB_URI" ODM_TEST_SERVER=mongodb CK_EXCLUDE_TCASES=outage \
    "${runner[@]}" "$build/tests/odm_tests" layer
  # (the frozen-server case needs a server process of our own to stop)
  ODM_TEST_URI="$MONGODB_URI" ODM_TEST_SERVER=mongodb CK_EXCLUDE_TCASES=frozen \
    "${runner[@]}" "$build/tests/odm_tests" integrity
  ODM_TEST_URI="$MONGODB_URI" "${runner[@]}" "$build/tests/odm_tests" analytics
fi
