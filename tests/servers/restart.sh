#!/usr/bin/env bash
# Stops and/or starts again a test server started by start.sh, on the same port and
# keeping its data directory (FerretDB's SQLite files survive; mongo-java-server is in
# memory). The live tests use it for an outage: stop, see errors, start, see recovery.
#
# Usage: tests/servers/restart.sh mongo-java-server|ferretdb DIR [stop|start|restart]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -ge 2 ]] || { echo "usage: $0 NAME DIR [stop|start|restart]" >&2; exit 1; }
name=$1 dir=$2 verb=${3:-restart}
case "$verb" in
  stop)
    cp "$dir/$name.port" "$dir/$name.port.saved"
    "$here/stop.sh" "$name" "$dir" ;;
  start)
    port="$(cat "$dir/$name.port.saved")"
    ODM_SERVER_PORT="$port" ODM_SERVER_KEEP_DATA=1 "$here/start.sh" "$name" "$dir" >/dev/null ;;
  restart)
    "$0" "$name" "$dir" stop
    sleep 1
    "$0" "$name" "$dir" start ;;
  *) echo "usage: $0 NAME DIR [stop|start|restart]" >&2; exit 1 ;;
esac
