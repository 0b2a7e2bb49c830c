#!/usr/bin/env bash
# Stops a test server started by start.sh and starts it again on the same port, keeping
# its data directory (FerretDB's SQLite files survive; mongo-java-server is in memory).
# The live tests use it to check that clients recover after an outage.
#
# Usage: tests/servers/restart.sh mongo-java-server|ferretdb DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -eq 2 ]] || { echo "usage: $0 NAME DIR" >&2; exit 1; }
port="$(cat "$2/$1.port")"
"$here/stop.sh" "$1" "$2"
sleep 1
ODM_SERVER_PORT="$port" ODM_SERVER_KEEP_DATA=1 "$here/start.sh" "$1" "$2" >/dev/null
