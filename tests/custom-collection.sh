#!/usr/bin/env bash
# A downstream project against the INSTALLED libodm: examples/custom-collection (its own
# spec set "orders" next to the shipped "users") is built twice, once with
# find_package(odm) + odm_generate (), once with pkg-config + the odmgen command line
# (its Makefile); each build's program and its project `odm` command are run. With a
# server URI (mongodb://host:port/, as tests/servers/start.sh prints it) the program also
# writes and reads both collections, and the odm command audits and diffs the live ones.
# usage: custom-collection.sh BUILD_DIR SOURCE_DIR [SERVER_URI]
set -euo pipefail
build=$1
src=$2
uri=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -n1)
export LD_LIBRARY_PATH="$libdir"
example="$src/examples/custom-collection"
# A sanitizer build of libodm needs consumers built with the same sanitizers.
san=$(sed -n 's/^ODM_SANITIZE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
sanflags=${san:+-fsanitize=$san -fno-omit-frame-pointer}

fail() { echo "custom-collection: $*" >&2; exit 1; }

check() { # check NAME PROGRAM ODM_COMMAND
  local name=$1 prog=$2 odm=$3 db out rc
  if [ -n "$uri" ]; then
    db="${uri}odm_example_$$_$name?serverSelectionTimeoutMS=3000"
    "$prog" "$db"
  else
    "$prog"
  fi
  # the project's odm command sees both sets
  "$odm" collections >"$tmp/colls"
  grep -qx orders "$tmp/colls" || fail "$name: odm collections lacks orders"
  grep -qx users "$tmp/colls" || fail "$name: odm collections lacks users"
  "$odm" schema orders | grep -q '"collection": "orders"' || fail "$name: odm schema orders"
  printf '%s\n' '{"orderNumber": "ORD-000009", "customerEmail": "A@B.C", "items": [{"sku": "SKU-9", "quantity": 1, "price": 2}]}' \
    | "$odm" validate --now 1700000000000 orders >"$tmp/valid" || fail "$name: odm validate refused a valid order: $(cat "$tmp/valid")"
  grep -q '"valid" : true' "$tmp/valid" || grep -q '"valid": true' "$tmp/valid" || fail "$name: $(cat "$tmp/valid")"
  grep -q '"customerEmail" : "a@b.c"' "$tmp/valid" || fail "$name: not lowercased: $(cat "$tmp/valid")"
  rc=0
  printf '%s\n' '{"orderNumber": "ORD-10", "customerEmail": "a@b.c", "status": "lost", "items": [{"sku": "SKU-9", "quantity": 0, "price": 2}]}' \
    | "$odm" validate orders >"$tmp/invalid" || rc=$?
  [ "$rc" = 1 ] || fail "$name: odm validate exit $rc on an invalid order"
  grep -q '"path" : "status", "rule" : "enum"' "$tmp/invalid" || fail "$name: $(cat "$tmp/invalid")"
  grep -q '"path" : "items.0.quantity", "rule" : "min"' "$tmp/invalid" || fail "$name: $(cat "$tmp/invalid")"
  grep -q '"path" : "orderNumber", "rule" : "pattern", "message" : "An order number is ORD- and six digits"' "$tmp/invalid" \
    || fail "$name: $(cat "$tmp/invalid")"
  "$odm" indexes plan orders | grep -q orderNumber_1 || fail "$name: odm indexes plan orders"
  "$odm" indexes lint orders >/dev/null || fail "$name: odm indexes lint orders"
  if [ -n "$uri" ]; then
    "$odm" audit orders --uri "$db" >"$tmp/audit" || fail "$name: odm audit orders: $(cat "$tmp/audit")"
    "$odm" indexes diff orders --uri "$db" >"$tmp/diff" || fail "$name: odm indexes diff orders: $(cat "$tmp/diff")"
  fi
  echo "$name: ok"
}

echo "== find_package(odm) + odm_generate ()"
cmake -S "$example" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_C_FLAGS="$sanflags" \
  -DCMAKE_EXE_LINKER_FLAGS="$sanflags" >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
check cmake "$tmp/cmake-build/custom_collection" "$tmp/cmake-build/orders-odm"

echo "== pkg-config + odmgen (make)"
mkdir "$tmp/make-build"
cp "$example/Makefile" "$example/main.c" "$tmp/make-build/"
cp -r "$example/specs" "$tmp/make-build/"
PKG_CONFIG_PATH="$libdir/pkgconfig" make -s -C "$tmp/make-build" CFLAGS="-std=c11 -Wall -Wextra -Werror -O2 $sanflags" >/dev/null
check make "$tmp/make-build/custom_collection" "$tmp/make-build/orders-odm"
echo "custom-collection: ok${uri:+ (live)}"
