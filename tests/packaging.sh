#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then builds and runs an outside program
# against it twice: once through pkg-config, once through CMake's find_package(odm).
# usage: packaging.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null

libdir=$(ls -d "$tmp"/prefix/lib*/ | head -n1)
echo "== pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
pkg-config --modversion libodm
cc -std=c11 -Wall -Wextra -Werror "$src/tests/consumer/consumer.c" -o "$tmp/consumer-pc" \
  $(pkg-config --cflags --libs libodm)
LD_LIBRARY_PATH="$libdir" "$tmp/consumer-pc"

echo "== cmake find_package(odm)"
cmake -S "$src/tests/consumer" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/cmake-build/consumer"

echo "== installed odm command"
"$tmp/prefix/bin/odm" collections | grep -qx chat_sessions
echo "packaging: ok"
