#!/usr/bin/env bash
# Start a MongoDB-wire test server on a free 127.0.0.1 port.
#
# Usage: tests/servers/start.sh mongo-java-server|ferretdb DIR
#
# Builds the server if needed (build.sh), starts it in the background with a
# throwaway data directory DIR/NAME.data, writes DIR/NAME.pid, DIR/NAME.port
# and DIR/NAME.log, waits until it answers a MongoDB `ping`, then prints
# `mongodb://127.0.0.1:PORT/` on stdout. If the server is already running from
# DIR it just prints its URI. On failure prints the log to stderr, exits 1.
#
# Environment:
#   ODM_SERVER_CACHE          build cache (default: $HOME/.cache/libodm-servers)
#   ODM_SERVER_START_TIMEOUT  seconds to wait for `ping` (default: 60)
#   ODM_JAVA_OPTS             JVM options for mongo-java-server
#                             (default: -Xmx512m -XX:+UseSerialGC)
#   ODM_MJS_VERSION           MongoDB version mongo-java-server reports: 3.6|4.0|5.0
#   ODM_SERVER_PORT           use this port instead of a free one (restart.sh)
#   ODM_SERVER_KEEP_DATA=1    keep DIR/NAME.data from a previous run (restart.sh)
set -euo pipefail

# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

[[ $# -eq 2 ]] || die "usage: $0 mongo-java-server|ferretdb DIR"
NAME="$1"
check_name "$NAME"
mkdir -p "$2"
DIR="$(cd "$2" && pwd)"
PIDFILE="$DIR/$NAME.pid"
PORTFILE="$DIR/$NAME.port"
LOG="$DIR/$NAME.log"
DATA="$DIR/$NAME.data"
TIMEOUT="${ODM_SERVER_START_TIMEOUT:-60}"

command -v python3 >/dev/null || die "python3 not found"

# Already running from this DIR? Then just report it.
if [[ -f "$PIDFILE" && -f "$PORTFILE" ]]; then
    pid="$(cat "$PIDFILE")"
    port="$(cat "$PORTFILE")"
    if server_pid_alive "$NAME" "$pid" &&
       python3 "$SERVERS_DIR/mongo_ping.py" "$port" --wait 5 --pid "$pid" 2>/dev/null; then
        echo "mongodb://127.0.0.1:$port/"
        exit 0
    fi
fi
# Anything left over is stale (or not answering): stop it first.
"$SERVERS_DIR/stop.sh" "$NAME" "$DIR"
rm -f "$PORTFILE"

"$SERVERS_DIR/build.sh" "$NAME"
ARTIFACT="$(artifact_path "$NAME")"

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

launch() {
    local port="$1"
    case "$NAME" in
        mongo-java-server)
            # shellcheck disable=SC2086
            setsid java ${ODM_JAVA_OPTS:--Xmx512m -XX:+UseSerialGC} \
                -cp "$ARTIFACT" org.libodm.testservers.MongoJavaServerLauncher \
                "$port" ${ODM_MJS_VERSION:+"$ODM_MJS_VERSION"} \
                </dev/null >"$LOG" 2>&1 &
            ;;
        ferretdb)
            setsid "$ARTIFACT" "$port" "$DATA" </dev/null >"$LOG" 2>&1 &
            ;;
    esac
    echo $!
}

for attempt in 1 2 3; do
    [[ "${ODM_SERVER_KEEP_DATA:-0}" = 1 ]] || rm -rf "$DATA"
    mkdir -p "$DATA"
    port="${ODM_SERVER_PORT:-$(free_port)}"
    pid="$(launch "$port")"
    echo "$pid" >"$PIDFILE"
    rc=0
    python3 "$SERVERS_DIR/mongo_ping.py" "$port" --wait "$TIMEOUT" --pid "$pid" 2>"$DIR/$NAME.ping.err" || rc=$?
    if [[ $rc -eq 0 ]]; then
        rm -f "$DIR/$NAME.ping.err"
        echo "$port" >"$PORTFILE"
        echo "mongodb://127.0.0.1:$port/"
        exit 0
    fi
    # The port may have been taken between picking and binding it: retry.
    if [[ $rc -eq 3 ]] && grep -qiE 'address already in use|BindException' "$LOG"; then
        "$SERVERS_DIR/stop.sh" "$NAME" "$DIR"
        continue
    fi
    break
done

{
    echo "start.sh: $NAME did not answer ping on 127.0.0.1:$port (attempt $attempt, timeout ${TIMEOUT}s)"
    cat "$DIR/$NAME.ping.err" 2>/dev/null || true
    echo "----- $LOG -----"
    cat "$LOG" 2>/dev/null || true
    echo "----- end of $LOG -----"
} >&2
"$SERVERS_DIR/stop.sh" "$NAME" "$DIR"
rm -f "$DIR/$NAME.ping.err"
exit 1
