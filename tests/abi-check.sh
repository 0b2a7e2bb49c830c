#!/usr/bin/env bash
# A generated header made by an odmgen of another codegen ABI refuses to compile, saying
# to regenerate it; the current one compiles.
# usage: abi-check.sh CC GENERATED_DIR INCLUDE_DIR BSON_INCLUDE_DIR
set -euo pipefail
cc=$1 gen=$2 inc=$3 bson=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/odm/gen"
printf '#include <odm/gen/chat_sessions.h>\nint main (void) { return 0; }\n' >"$tmp/use.c"
# current: compiles
"$cc" -std=c11 -fsyntax-only -I"$gen" -I"$inc" -I"$bson" "$tmp/use.c"
# stale: an ABI this runtime does not have
sed 's/#if ODM_CODEGEN_ABI != \([0-9]*\)/#if ODM_CODEGEN_ABI != 999/' "$gen/odm/gen/chat_sessions.h" >"$tmp/odm/gen/chat_sessions.h"
if "$cc" -std=c11 -fsyntax-only -I"$tmp" -I"$gen" -I"$inc" -I"$bson" "$tmp/use.c" 2>"$tmp/err"; then
  echo "a stale generated header compiled" >&2
  exit 1
fi
grep -q "regenerate this file" "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
echo "abi-check: ok"
