#!/usr/bin/env bash
# odmgen's command line: --help on standard output with status 0, --version, usage errors
# (status 2), and specs that cannot form one set (status 1, naming the file and the key).
# usage: odmgen-cli.sh ODMGEN SOURCE_DIR
set -euo pipefail
odmgen=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "odmgen-cli: $*" >&2; exit 1; }
expect() { # expect STATUS STDERR_TEXT ARGS...: runs odmgen, checks its status and error text
  local want=$1 text=$2 rc=0
  shift 2
  "$odmgen" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ "$rc" = "$want" ] || fail "odmgen $*: status $rc, expected $want: $(cat "$tmp/err")"
  [ -z "$text" ] || grep -qF -- "$text" "$tmp/err" || fail "odmgen $*: expected \"$text\", got: $(cat "$tmp/err")"
}

"$odmgen" --help >"$tmp/help" 2>"$tmp/err" || fail "--help: status $?"
grep -q '^usage: odmgen \[--set NAME\] OUTDIR SPEC.json' "$tmp/help" || fail "--help: no usage line"
[ -s "$tmp/err" ] && fail "--help wrote to standard error"
"$odmgen" --version | grep -Eq '^odmgen [0-9]+\.[0-9]+\.[0-9]+ \(codegen ABI [0-9]+\)$' || fail "--version"

expect 2 "usage: odmgen" "$tmp/out"
expect 2 'odmgen: unknown option "--frobnicate"' --frobnicate "$tmp/out" x.json
expect 2 'odmgen: --set "Bad-Name": a set name is snake_case and not "platform" or "odm"' --set Bad-Name "$tmp/o" x.json
expect 2 '--set "platform"' --set platform "$tmp/o" x.json
expect 1 "odmgen: $tmp/missing.json: No such file or directory" "$tmp/o" "$tmp/missing.json"

# two specs of one set: the same collection, the same C name
cp "$src/examples/custom-collection/specs/orders.json" "$tmp/a.json"
sed 's/"c_name": "order",/"c_name": "order2",/' "$tmp/a.json" >"$tmp/b.json"
expect 1 "collection: collection \"orders\" is also defined by" "$tmp/o" "$tmp/a.json" "$tmp/b.json"
sed 's/"collection": "orders",/"collection": "orders2",/' "$tmp/a.json" >"$tmp/c.json"
expect 1 "c_name: C name \"order\" is also used by" "$tmp/o" "$tmp/a.json" "$tmp/c.json"
expect 1 'collection: collection "orders" has the name of its set' --set orders "$tmp/o" "$tmp/a.json"

# pattern rules: the regular expression and its flags are checked when generating
sed 's/"regex": "^ORD-\\\\d{6}\$"/"regex": "^ORD-(\\\\d{6}$"/' "$tmp/a.json" >"$tmp/re.json"
grep -q 'ORD-(' "$tmp/re.json" || fail "test setup: regex not replaced"
expect 1 "rules[1]: \"regex\": /^ORD-(\\d{6}\$/ does not compile at offset 12: missing closing parenthesis" "$tmp/o" "$tmp/re.json"
sed 's/"regex": /"flags": "ig", "regex": /' "$tmp/a.json" >"$tmp/fl.json"
expect 1 'rules[1]: "flags": "ig": only i, m, s and u, each once' "$tmp/o" "$tmp/fl.json"

# a spec of objects nested 30 levels deep, a mixed value at the bottom (the JSON reader
# takes about that many), is generated at once: a decision that read each nested object
# twice per level once doubled per level (hours at 30: a bound of 60 s says "does not
# end", not "slow")
deep='{ "name": "m", "type": "mixed" }'
for i in $(seq 30); do
  deep="{ \"name\": \"n$i\", \"type\": \"object\", \"fields\": [ $deep ] }"
done
printf '{ "collection": "deep_docs", "model": "DeepDoc", "c_name": "deep_doc", "fields": [ %s ] }\n' "$deep" >"$tmp/deep.json"
rc=0
timeout 60 "$odmgen" --set deep "$tmp/deep" "$tmp/deep.json" 2>"$tmp/err" || rc=$?
[ "$rc" = 124 ] && fail "a spec 30 levels deep: odmgen did not end within 60 s"
[ "$rc" = 0 ] || fail "a spec 30 levels deep: status $rc: $(cat "$tmp/err")"
grep -q 'ODM_O_MINIMIZE' "$tmp/deep/deep_docs.c" || fail "a spec 30 levels deep: no minimize flag above its mixed value"

# a set: its header, its registration, its collection files
"$odmgen" --set shop "$tmp/shop" "$tmp/a.json"
for f in shop.h shop.c orders.c shop/orders.h; do
  [ -f "$tmp/shop/$f" ] || fail "--set shop: no $f"
done
[ -e "$tmp/shop/odm" ] && fail "a user's set wrote under odm/ (the library's headers)"
grep -q '^odm_register_shop (bson_error_t \*error);' "$tmp/shop/shop.h" || fail "no odm_register_shop"
grep -q 'odm_schemas (' "$tmp/shop/shop.c" && fail "a set defines odm_schemas ()"
echo "odmgen-cli: ok"
