#!/usr/bin/env bash
# A generated header made by an odmgen of another codegen ABI refuses to compile, saying
# to regenerate it; the current one compiles. And the functions only generated code calls
# (odm_rule_*, odm_derive_*, odm_str_eq: they change with the codegen ABI) are declared
# apart from the stable API: ODM_GENERATED_API, in the "for generated code only" part of
# odm-rules.h, and every such function the generated code calls is declared there.
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
rules="$inc/odm/odm-rules.h"
mark=$(grep -n "For generated code only, not part of the stable API" "$rules" | cut -d: -f1)
[ -n "$mark" ] || { echo "abi-check: odm-rules.h has no 'for generated code only' part" >&2; exit 1; }
# ODM_GENERATED_API only in that part, and every declaration in it marked so
bad=$(grep -n "^ODM_GENERATED_API" "$inc"/odm/*.h | grep -v "^$rules:" || true)
[ -z "$bad" ] || { echo "abi-check: ODM_GENERATED_API outside odm-rules.h: $bad" >&2; exit 1; }
awk -v mark="$mark" '
  NR < mark && /^ODM_GENERATED_API/ { print FILENAME ":" NR ": ODM_GENERATED_API before the generated-only part"; bad = 1 }
  NR > mark && /^ODM_API/ { print FILENAME ":" NR ": ODM_API in the generated-only part"; bad = 1 }
  /^odm_(rule|derive)_[a-z_]* \(/ && (NR < mark || prev !~ /^ODM_GENERATED_API/) { print FILENAME ":" NR ": " $1 " is not declared ODM_GENERATED_API in the generated-only part"; bad = 1 }
  { prev = $0 }
  END { exit bad }' "$rules" >&2
# no other public header declares a primitive
if grep -n "^odm_\(rule\|derive\)_[a-z_]* (" "$inc"/odm/*.h | grep -v "^$rules:"; then
  echo "abi-check: a rule primitive declared outside odm-rules.h" >&2
  exit 1
fi
# what generated code calls is declared in the generated-only part
declared=$(awk -v mark="$mark" 'NR > mark && /^odm_[a-z_]* \(/ { print $1 }' "$rules" | sort -u)
called=$(cat "$gen"/*.c | grep -o "\(odm_\(rule\|derive\)_[a-z_]*\|odm_validate_field\|odm_nonzero\) (" | sed 's/ ($//' | sort -u)
missing=$(comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$called"))
[ -z "$missing" ] || { echo "abi-check: generated code calls primitives not in the generated-only part: $missing" >&2; exit 1; }
echo "abi-check: ok ($(printf '%s\n' "$declared" | wc -l) generated-only functions, $(printf '%s\n' "$called" | wc -l) called)"
