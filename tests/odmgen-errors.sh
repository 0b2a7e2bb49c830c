#!/usr/bin/env bash
# Every case of tests/odmgen-errors.txt: odmgen refuses the spec with status 1 and exactly
# that message, naming the file and the JSON path of the mistake.
# usage: odmgen-errors.sh ODMGEN SOURCE_DIR
set -euo pipefail
odmgen=$1
src=$(cd "$2" && pwd)
odmgen=$(cd "$(dirname "$odmgen")" && pwd)/$(basename "$odmgen")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
n=0 bad=0
while IFS=$'\t' read -r want spec; do
  case "$want" in '#'* | '') continue ;; esac
  printf '%s\n' "$spec" >bad.json
  rc=0
  "$odmgen" out bad.json >/dev/null 2>err || rc=$?
  got=$(cat err)
  if [ "$rc" != 1 ] || [ "$got" != "odmgen: bad.json: $want" ]; then
    echo "odmgen-errors: status $rc for $spec" >&2
    echo "  expected: odmgen: bad.json: $want" >&2
    echo "  got:      $got" >&2
    bad=$((bad + 1))
  fi
  n=$((n + 1))
done <"$src/tests/odmgen-errors.txt"
[ "$bad" = 0 ] || { echo "odmgen-errors: $bad of $n cases wrong" >&2; exit 1; }
echo "odmgen-errors: $n cases"
