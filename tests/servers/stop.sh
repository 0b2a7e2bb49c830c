#!/usr/bin/env bash
# Stop a test server started by start.sh.
#
# Usage: tests/servers/stop.sh mongo-java-server|ferretdb DIR
#
# Sends TERM to the PID in DIR/NAME.pid, KILL after 5 s if still alive, then
# removes DIR/NAME.pid and DIR/NAME.port. No error if it is not running.
# The log (DIR/NAME.log) and data dir (DIR/NAME.data) are left for inspection.
set -euo pipefail

# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

[[ $# -eq 2 ]] || die "usage: $0 mongo-java-server|ferretdb DIR"
NAME="$1"
check_name "$NAME"
DIR="$2"
PIDFILE="$DIR/$NAME.pid"

[[ -f "$PIDFILE" ]] || exit 0
pid="$(cat "$PIDFILE" 2>/dev/null || true)"

if server_pid_alive "$NAME" "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        server_pid_alive "$NAME" "$pid" || break
        sleep 0.1
    done
    if server_pid_alive "$NAME" "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do
            server_pid_alive "$NAME" "$pid" || break
            sleep 0.1
        done
    fi
fi

rm -f "$PIDFILE" "$DIR/$NAME.port"
