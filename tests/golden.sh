#!/usr/bin/env bash
# Golden output: odmgen over a small spec (tests/golden/widgets.json: every field type, a
# nested object, arrays of subdocuments and of strings, enum, defaults, a C++ keyword, a
# regex pattern, an index) writes exactly tests/golden/expected/. A deliberate change of
# the generated code is reviewed as a diff of these files:
#   ODM_UPDATE_GOLDEN=1 tests/golden.sh build/odmgen .
# usage: golden.sh ODMGEN SOURCE_DIR
set -euo pipefail
odmgen=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$odmgen" --set golden "$tmp/out" "$src/tests/golden/widgets.json"
if [ -n "${ODM_UPDATE_GOLDEN:-}" ]; then
  rm -rf "$src/tests/golden/expected"
  cp -r "$tmp/out" "$src/tests/golden/expected"
  echo "golden: updated tests/golden/expected"
  exit 0
fi
if ! diff -ru "$src/tests/golden/expected" "$tmp/out"; then
  echo "golden: odmgen's output changed (ODM_UPDATE_GOLDEN=1 $0 $* to accept it)" >&2
  exit 1
fi
echo "golden: $(find "$tmp/out" -type f | wc -l) files identical"
