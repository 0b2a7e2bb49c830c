# Shared settings for tests/servers/{build,start,stop}.sh. Sourced, not run.
# shellcheck shell=bash

SERVERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ODM_SERVER_CACHE="${ODM_SERVER_CACHE:-$HOME/.cache/libodm-servers}"

SERVER_NAMES=(mongo-java-server ferretdb)

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

check_name() {
    case "$1" in
        mongo-java-server|ferretdb) ;;
        *) die "unknown server '$1' (expected: ${SERVER_NAMES[*]})" ;;
    esac
}

# Directory holding the built artifact of server $1 and its input stamp.
artifact_dir() {
    echo "$ODM_SERVER_CACHE/$1"
}

# Path of the built artifact of server $1.
artifact_path() {
    case "$1" in
        mongo-java-server) echo "$ODM_SERVER_CACHE/mongo-java-server/mongo-java-server-launcher.jar" ;;
        ferretdb) echo "$ODM_SERVER_CACHE/ferretdb/ferretdb-server" ;;
    esac
}

# Source files (relative to SERVERS_DIR) whose content determines the artifact.
input_files() {
    case "$1" in
        mongo-java-server)
            (cd "$SERVERS_DIR" && find java -path java/target -prune -o -type f \
                \( -name pom.xml -o -name '*.java' -o -path 'java/src/main/resources/*' \) -print | LC_ALL=C sort) ;;
        ferretdb)
            echo ferretdb/go.mod
            echo ferretdb/go.sum
            echo ferretdb/main.go ;;
    esac
}

# Hash over the inputs of server $1 (names and contents) plus the build recipe version.
inputs_hash() {
    local name="$1" f
    {
        echo "recipe-v1 $name"
        while IFS= read -r f; do
            echo "== $f"
            cat "$SERVERS_DIR/$f"
        done < <(input_files "$name")
    } | sha256sum | cut -d' ' -f1
}

# A string that must appear in /proc/PID/cmdline of a running server $1
# (guards stop.sh/start.sh against a recycled PID).
proc_marker() {
    case "$1" in
        mongo-java-server) echo "MongoJavaServerLauncher" ;;
        ferretdb) echo "ferretdb-server" ;;
    esac
}

# True if PID $2 is alive and is server $1.
server_pid_alive() {
    local name="$1" pid="$2" state
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    state="$(sed -e 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
    [[ "$state" != Z ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(proc_marker "$name")"
}
