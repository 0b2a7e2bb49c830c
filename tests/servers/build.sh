#!/usr/bin/env bash
# Build the MongoDB-wire test servers into the cache directory
# (${ODM_SERVER_CACHE:-$HOME/.cache/libodm-servers}).
#
# Usage: tests/servers/build.sh [mongo-java-server|ferretdb|all]   (default: all)
#
# Skips a server whose artifact exists and whose inputs (pom.xml + sources,
# go.mod/go.sum/main.go) hash to the value stored next to it. Quiet on
# success; on failure prints the build log to stderr.
#
# Needs: Java 17 + Maven (mongo-java-server), Go >= 1.24 (ferretdb), and
# network access to Maven Central / the Go module proxy on a cold machine.
set -euo pipefail

# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

build_mongo_java_server() {
    local out="$1" stage="$2" log="$3"
    command -v mvn >/dev/null || die "mvn not found (install Maven and Java 17)"
    command -v java >/dev/null || die "java not found (install Java 17)"
    mkdir -p "$stage/java"
    (cd "$SERVERS_DIR/java" && tar --exclude=./target -cf - .) | tar -xf - -C "$stage/java"
    if ! (cd "$stage/java" && mvn -q -B package) >"$log" 2>&1; then
        cat "$log" >&2
        die "mongo-java-server: maven build failed (log: $log)"
    fi
    cp "$stage/java/target/mongo-java-server-launcher.jar" "$out"
}

build_ferretdb() {
    local out="$1" stage="$2" log="$3"
    command -v go >/dev/null || die "go not found (install Go >= 1.24)"
    mkdir -p "$stage/ferretdb"
    cp "$SERVERS_DIR/ferretdb/go.mod" "$SERVERS_DIR/ferretdb/go.sum" \
        "$SERVERS_DIR/ferretdb/main.go" "$stage/ferretdb/"
    # ferretdb_no_postgresql: only the SQLite backend is needed (smaller, faster build).
    if ! (cd "$stage/ferretdb" &&
          CGO_ENABLED=0 GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod -buildvcs=false" \
          go build -trimpath -tags ferretdb_no_postgresql -ldflags='-s -w' \
              -o "$stage/ferretdb-server" .) >"$log" 2>&1; then
        cat "$log" >&2
        die "ferretdb: go build failed (log: $log)"
    fi
    cp "$stage/ferretdb-server" "$out"
}

build_one() {
    local name="$1" dir art hash stage log
    dir="$(artifact_dir "$name")"
    art="$(artifact_path "$name")"
    mkdir -p "$dir"

    # Serialise concurrent builds of the same server (e.g. parallel start.sh).
    exec {lockfd}>"$dir/.lock"
    flock "$lockfd"

    hash="$(inputs_hash "$name")"
    if [[ -s "$art" && -f "$dir/inputs.sha256" && "$(cat "$dir/inputs.sha256")" == "$hash" ]]; then
        flock -u "$lockfd"; exec {lockfd}>&-
        return 0
    fi

    rm -f "$dir/inputs.sha256"
    stage="$(mktemp -d "$dir/.build.XXXXXX")"
    log="$dir/build.log"
    # shellcheck disable=SC2064
    trap "rm -rf '$stage'" EXIT
    "build_${name//-/_}" "$art.tmp" "$stage" "$log"
    mv -f "$art.tmp" "$art"
    echo "$hash" >"$dir/inputs.sha256"
    rm -rf "$stage"
    trap - EXIT

    flock -u "$lockfd"; exec {lockfd}>&-
}

main() {
    local target="${1:-all}"
    [[ $# -le 1 ]] || die "usage: $0 [mongo-java-server|ferretdb|all]"
    if [[ "$target" == all ]]; then
        local n
        for n in "${SERVER_NAMES[@]}"; do build_one "$n"; done
    else
        check_name "$target"
        build_one "$target"
    fi
}

main "$@"
