#!/usr/bin/env bash
# The `odm` command's contract (issue: odm validate): one JSON line per input line,
# exit 0 all valid / 1 some invalid / 2 usage or unreadable input, errors named on stderr.
# usage: cli-validate.sh PATH/TO/odm
set -uo pipefail
odm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0
check() { # name, condition (as a command)
  if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi
}
NOW=1750000000000
ok='{"sessionId":"s1","userId":{"$oid":"64b0000000000000000000a1"},"agentId":{"$oid":"64b0000000000000000000b1"},"name":"n"}'
bad='{"sessionId":"s2","userId":{"$oid":"64b0000000000000000000a1"},"agentId":{"$oid":"64b0000000000000000000b1"},"name":"n","settings":{"temperature":2.0001,"mode":"turbo"}}'

# valid only -> exit 0, canonical document after defaults
printf '%s\n' "$ok" >"$tmp/valid.jsonl"
"$odm" validate --now $NOW chat_sessions "$tmp/valid.jsonl" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "valid: exit 0" "[ $rc -eq 0 ]"
check "valid: one line" "[ \$(wc -l <\"$tmp/out\") -eq 1 ]"
check "valid: valid true" "grep -q '^{ \"valid\" : true, \"document\" : {' \"$tmp/out\""
check "valid: defaults applied" "grep -q '\"temperature\" : { \"\$numberDouble\" : \"0.69999999999999995559\" }' \"$tmp/out\""
check "valid: createdAt from --now" "grep -q '\"createdAt\" : { \"\$date\" : { \"\$numberLong\" : \"$NOW\" } }' \"$tmp/out\""
check "valid: quiet stderr" "[ ! -s \"$tmp/err\" ]"

# invalid only -> exit 1, every error with path, rule and the seed's message
printf '%s\n' "$bad" | "$odm" validate --now $NOW chat_sessions >"$tmp/out" 2>"$tmp/err"; rc=$?
check "invalid: exit 1" "[ $rc -eq 1 ]"
check "invalid: max with seed message" "grep -qF '{ \"path\" : \"settings.temperature\", \"rule\" : \"max\", \"message\" : \"Temperature must be between 0 and 2\" }' \"$tmp/out\""
check "invalid: enum" "grep -qF '\"path\" : \"settings.mode\", \"rule\" : \"enum\"' \"$tmp/out\""
check "invalid: valid false" "grep -q '^{ \"valid\" : false, \"errors\" : \\[' \"$tmp/out\""

# mixed file with a malformed line, a non-object line and a non-UTF-8 line: one output line
# each, the run goes on, exit 2, stderr names the lines
{
  printf '%s\n' "$ok"
  printf '%s\n' "$bad"
  printf '{"sessionId": \n'
  printf '[1, 2]\n'
  printf '{"sessionId":"\xff\xfe"}\n'
  printf '%s\n' "$ok"
} >"$tmp/mixed.jsonl"
"$odm" validate --now $NOW chat_sessions <"$tmp/mixed.jsonl" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "mixed: exit 2" "[ $rc -eq 2 ]"
check "mixed: six lines" "[ \$(wc -l <\"$tmp/out\") -eq 6 ]"
check "mixed: line 1 valid" "sed -n 1p \"$tmp/out\" | grep -q '\"valid\" : true'"
check "mixed: line 2 invalid" "sed -n 2p \"$tmp/out\" | grep -q '\"valid\" : false'"
check "mixed: line 3 json error" "sed -n 3p \"$tmp/out\" | grep -q '\"rule\" : \"json\"'"
check "mixed: line 4 not an object" "sed -n 4p \"$tmp/out\" | grep -q '\"rule\" : \"json\"'"
check "mixed: line 5 utf8" "sed -n 5p \"$tmp/out\" | grep -q '\"rule\" : \"utf8\"'"
check "mixed: line 6 valid" "sed -n 6p \"$tmp/out\" | grep -q '\"valid\" : true'"
check "mixed: stderr names line 3" "grep -q 'line 3' \"$tmp/err\""
check "mixed: stderr names line 5" "grep -q 'line 5: not valid UTF-8' \"$tmp/err\""

# type errors are document errors (exit 1), with the path
printf '{"name": 5}\n' | "$odm" validate chat_sessions >"$tmp/out" 2>/dev/null; rc=$?
check "type: exit 1" "[ $rc -eq 1 ]"
check "type: path and message" "grep -qF '\"path\" : \"name\", \"rule\" : \"type\", \"message\" : \"expected string, got int\"' \"$tmp/out\""

# --strict makes unknown fields errors; without it they are kept
printf '{"sessionId":"s","userId":{"$oid":"64b0000000000000000000a1"},"agentId":{"$oid":"64b0000000000000000000b1"},"name":"n","extra":1}\n' >"$tmp/x.jsonl"
"$odm" validate chat_sessions "$tmp/x.jsonl" >"$tmp/out" 2>/dev/null; rc=$?
check "unknown kept: exit 0" "[ $rc -eq 0 ] && grep -q '\"extra\"' \"$tmp/out\""
"$odm" validate --strict chat_sessions "$tmp/x.jsonl" >"$tmp/out" 2>/dev/null; rc=$?
check "strict: exit 1" "[ $rc -eq 1 ] && grep -q '\"rule\" : \"unknown\"' \"$tmp/out\""

# relaxed Extended JSON dates; consultation in the past refused on create, fine with --update
past='{"consultationId":"C1","clientId":{"$oid":"64b0000000000000000000a1"},"consultantId":{"$oid":"64b0000000000000000000a2"},"title":"t","category":"technical","scheduledAt":{"$date":"2020-01-01T00:00:00Z"},"duration":60,"location":{"type":"virtual"},"pricing":{"amount":10}}'
printf '%s\n' "$past" | "$odm" validate --now $NOW consultations >"$tmp/out"; rc=$?
check "future: create refused" "[ $rc -eq 1 ] && grep -qF 'Scheduled time must be in the future' \"$tmp/out\""
printf '%s\n' "$past" | "$odm" validate --update --now $NOW consultations >"$tmp/out"; rc=$?
check "future: update accepted" "[ $rc -eq 0 ]"

# derivations show in the document
printf '{"authorId":{"$oid":"64b0000000000000000000a1"},"title":"t","content":"c","category":"news","status":"published"}\n' |
  "$odm" validate --now $NOW community_posts >"$tmp/out"; rc=$?
check "derive: publishedAt" "[ $rc -eq 0 ] && grep -q '\"publishedAt\" : { \"\$date\" : { \"\$numberLong\" : \"$NOW\" } }' \"$tmp/out\""

# required fields of a nested object (a Mongoose nested path) are required when the object
# is absent or null, not only when it is {}
for pm in '' ',"paymentMethod":null' ',"paymentMethod":{}'; do
  printf '{"transactionId":"T1","userId":{"$oid":"64b0000000000000000000a1"},"type":"donation","amount":1,"description":"d"%s}\n' "$pm" |
    "$odm" validate --now $NOW transactions >"$tmp/out"; rc=$?
  check "nested required ($pm): paymentMethod.type" "[ $rc -eq 1 ] && grep -qF '{ \"path\" : \"paymentMethod.type\", \"rule\" : \"required\"' \"$tmp/out\""
done

# usage errors
"$odm" validate nosuch </dev/null >/dev/null 2>"$tmp/err"; rc=$?
check "usage: unknown collection exit 2" "[ $rc -eq 2 ] && grep -q 'no collection named' \"$tmp/err\""
"$odm" validate chat_sessions /nonexistent/file >/dev/null 2>"$tmp/err"; rc=$?
check "usage: missing file exit 2" "[ $rc -eq 2 ]"
"$odm" bogus >/dev/null 2>&1; rc=$?
check "usage: bad command exit 2" "[ $rc -eq 2 ]"
"$odm" collections >"$tmp/out"; rc=$?
check "collections: 29" "[ $rc -eq 0 ] && [ \$(wc -l <\"$tmp/out\") -eq 29 ]"
"$odm" schema users >"$tmp/out"; rc=$?
check "schema: prints spec" "[ $rc -eq 0 ] && grep -q '\"collection\": \"users\"' \"$tmp/out\""

tx='"transactionId":"t","userId":{"$oid":"64b0000000000000000000a2"},"type":"donation","amount":9.99,"paymentMethod":{"type":"paypal"},"description":"d"'

# every output line is one valid JSON value, whatever the input (issue 11 item 1)
alljson() { python3 -c 'import json,sys
for n, l in enumerate(sys.stdin.buffer.read().split(b"\n")[:-1], 1):
    json.loads(l.decode("utf-8"))' <"$1"; }
E=$(printf 'é%.0s' $(seq 40))
K=$(printf 'ü%.0s' $(seq 300))
{
  printf '{"userId":{"$oid":"507f1f77bcf86cd799439011"},"theme":"a%s"}\n' "$E"
  printf '{"userId":{"$oid":"507f1f77bcf86cd799439011"},"%s":1}\n' "$K"
  printf '{"userId":{"$oid":"507f1f77bcf86cd799439011"},"theme":{"%s":1}}\n' "$K"
  printf '{"userId":{"$oid":"507f1f77bcf86cd799439011"},"%s.x":1}\n' "$K"
} >"$tmp/utf8cut.jsonl"
"$odm" validate --strict chat_settings "$tmp/utf8cut.jsonl" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "utf8 cut: no crash, exit 1" "[ $rc -eq 1 ]"
check "utf8 cut: four lines" "[ \$(wc -l <\"$tmp/out\") -eq 4 ]"
check "utf8 cut: all lines JSON" "alljson \"$tmp/out\""
"$odm" validate chat_settings "$tmp/utf8cut.jsonl" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "utf8 cut (not strict): four JSON lines" "[ \$(wc -l <\"$tmp/out\") -eq 4 ] && alljson \"$tmp/out\""

# a line is one JSON value and nothing else (item 3)
for l in "$ok{\"rating\":99}" "$ok," "$ok{\"rating\":" "$ok x"; do
  printf '%s\n' "$l" | "$odm" validate chat_sessions >"$tmp/out" 2>/dev/null; rc=$?
  check "trailing text refused: $l" "[ $rc -eq 2 ] && grep -q '\"rule\" : \"json\"' \"$tmp/out\""
done

# integer literals never wrap (item 4): past int64 is an error naming the path
printf '{"name":"n","stats":{"messageCount": 18446744073709551619}}\n' | "$odm" validate chat_sessions >"$tmp/out" 2>/dev/null; rc=$?
check "int wrap: refused with path" "[ $rc -eq 2 ] && grep -qF '\"path\" : \"stats.messageCount\", \"rule\" : \"json\"' \"$tmp/out\""
printf '{"sessionId":"s","userId":{"$oid":"64b0000000000000000000a1"},"agentId":{"$oid":"64b0000000000000000000b1"},"name":"n","stats":{"messageCount": 1.8446744073709552e19}}\n' | "$odm" validate chat_sessions >"$tmp/out" 2>/dev/null
check "int wrap: the double form is read as that double" "grep -qF '\"\$numberDouble\" : \"18446744073709551616.0\"' \"$tmp/out\""

# malformed Extended JSON is refused with its path, never repaired (item 5)
for w in '{"$oid":"zzzzzzzzzzzzzzzzzzzzzzzz"}' '{"$oid":"64b0000000000000000000a"}' '{"$oid":"64b0000000000000000000a1g"}' \
         '{"$date":{}}' '{"$date":42}' '{"$date":"2024-02-30T00:00:00Z"}' '{"$numberDecimal":"1.2.3"}' '{"$numberInt":"2147483648"}' \
         '{"$numberLong":"9223372036854775808"}' '{"$numberDouble":"1x"}' '{"$binary":{"base64":"!!!!","subType":"00"}}' \
         '{"$binary":{"base64":"AA==","subType":"000"}}' '{"$regularExpression":{"pattern":"a","options":"z"}}' \
         '{"$timestamp":{"t":-1,"i":0}}' '{"$minKey":2}' '{"$oid":"64b0000000000000000000a1","x":1}' '{"$code":"a","$x":1}' \
         '{"$dbPointer":{"$ref":"c","$id":"x"}}' '{"$uuid":"not-a-uuid"}' '{"$symbol":5}' '{"$undefined":false}'; do
  printf '{"transactionId":"t","metadata":{"v":%s}}\n' "$w" | "$odm" validate transactions >"$tmp/out" 2>/dev/null; rc=$?
  check "extjson refused: $w" "[ $rc -eq 2 ] && grep -qF '\"path\" : \"metadata.v\", \"rule\" : \"json\"' \"$tmp/out\""
done
printf '{%s,"metadata":{"a":{"$numberDecimal":"1.5"},"b":{"$binary":{"base64":"AAEC","subType":"80"}},"c":{"$regularExpression":{"pattern":"x","options":"mi"}},"d":{"$timestamp":{"t":1,"i":2}},"e":{"$date":"2024-03-01T12:00:00.5+01:00"},"f":{"$numberLong":"-9223372036854775808"},"g":{"$code":"f()","$scope":{"x":1}},"h":{"$uuid":"00112233-4455-6677-8899-aabbccddeeff"}}}\n' "$tx" |
  "$odm" validate transactions >"$tmp/out" 2>/dev/null
check "extjson: well-formed wrappers read" "grep -qF '\"\$numberDecimal\" : \"1.5\"' \"$tmp/out\" && grep -qF '\"options\" : \"im\"' \"$tmp/out\" && grep -qF '\"\$numberLong\" : \"1709290800500\"' \"$tmp/out\""

# dates outside JavaScript's range are refused (item 6)
printf '{"name":"n","createdAt":{"$date":{"$numberLong":"8640000000000001"}}}\n' | "$odm" validate chat_sessions >"$tmp/out" 2>/dev/null; rc=$?
check "date range: refused" "[ $rc -eq 1 ] && grep -qF '\"path\" : \"createdAt\", \"rule\" : \"range\"' \"$tmp/out\""

# a dotted key is refused as the writer refuses it (item 7), also when it names a schema path
printf '{"name":"n","settings.temperature":1e9}\n' | "$odm" validate chat_sessions >"$tmp/out" 2>/dev/null; rc=$?
check "dotted key: refused, rule key" "[ $rc -eq 1 ] && grep -qF '\"path\" : \"settings.temperature\", \"rule\" : \"key\"' \"$tmp/out\""
printf '{%s,"metadata":{"a.b":1}}\n' "$tx" | "$odm" validate transactions >"$tmp/out" 2>/dev/null; rc=$?
check "dotted key in a mixed value: refused, rule key" "[ $rc -eq 1 ] && grep -qF '\"path\" : \"metadata.a.b\", \"rule\" : \"key\"' \"$tmp/out\""

# nesting: 100 levels read, 101 refused, 100,000 refused without a crash (issue 10 s2)
# deep N: a document of N levels (the top-level one included), the deepest inside metadata
deep() { python3 -c "import sys; n=int(sys.argv[1]); print('{' + sys.argv[2] + ',\"metadata\":' + '{\"a\":'*(n-1) + '1' + '}'*(n-1) + '}')" "$1" "$tx"; }
deep 100 | "$odm" validate transactions >"$tmp/out" 2>/dev/null; rc=$?
check "depth 100: read" "[ $rc -eq 0 ] && grep -q '\"valid\" : true' \"$tmp/out\""
deep 101 | "$odm" validate transactions >"$tmp/out" 2>/dev/null; rc=$?
check "depth 101: refused" "[ $rc -eq 2 ] && grep -q 'deeper than 100 levels' \"$tmp/out\""
deep 100000 | "$odm" validate transactions >"$tmp/out" 2>/dev/null; rc=$?
check "depth 100000: refused, one line" "[ $rc -eq 2 ] && [ \$(wc -l <\"$tmp/out\") -eq 1 ]"

# the odm command (item 17)
"$odm" --help >"$tmp/out" 2>"$tmp/err"; rc=$?
check "--help: stdout, exit 0" "[ $rc -eq 0 ] && grep -q '^usage: odm' \"$tmp/out\" && [ ! -s \"$tmp/err\" ]"
"$odm" validate --help >"$tmp/out" 2>/dev/null; rc=$?
check "validate --help: exit 0" "[ $rc -eq 0 ] && grep -q 'odm validate' \"$tmp/out\""
"$odm" --version >"$tmp/out"; rc=$?
check "--version" "[ $rc -eq 0 ] && grep -q '^odm [0-9]' \"$tmp/out\""
"$odm" frobnicate >/dev/null 2>"$tmp/err"; rc=$?
check "unknown command names itself" "[ $rc -eq 2 ] && grep -q 'unknown command \"frobnicate\"' \"$tmp/err\""
"$odm" validate chat_sessions --frob </dev/null >/dev/null 2>"$tmp/err"; rc=$?
check "unknown option names itself" "[ $rc -eq 2 ] && grep -q 'unknown option --frob' \"$tmp/err\""
printf '%s\n' "$ok" >"$tmp/one.jsonl"
"$odm" validate chat_sessions "$tmp/x.jsonl" --strict --now $NOW >"$tmp/out" 2>"$tmp/err"; rc=$?
check "options after the collection" "[ $rc -eq 1 ] && grep -q '\"rule\" : \"unknown\"' \"$tmp/out\""
"$odm" validate chat_sessions --update <"$tmp/one.jsonl" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "option after the collection is not a file" "[ $rc -eq 0 ] && ! grep -q -- '--update' \"$tmp/err\""
for c in "validate" "schema" "audit" "analytics run" "indexes"; do
  $odm $c </dev/null >/dev/null 2>"$tmp/err"; rc=$?
  check "missing argument ($c): same message" "[ $rc -eq 2 ] && grep -q '^odm: $c: missing ' \"$tmp/err\""
done
"$odm" validate chat_sessions --now 99999999999999999999 </dev/null >/dev/null 2>"$tmp/err"; rc=$?
check "--now overflow: an error" "[ $rc -eq 2 ] && grep -q 'expected milliseconds' \"$tmp/err\""
"$odm" validate chat_sessions --now </dev/null >/dev/null 2>"$tmp/err"; rc=$?
check "--now without a value" "[ $rc -eq 2 ] && grep -q -- '--now needs a value' \"$tmp/err\""
"$odm" analytics run transactions revenue --uri mongodb://127.0.0.1:1 --param from=yesterday >/dev/null 2>"$tmp/err"; rc=$?
check "bad --param says what is expected" "[ $rc -eq 2 ] && grep -q 'param from: must be a date: milliseconds since 1970' \"$tmp/err\""
"$odm" audit chat_sessions --uri 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300' >"$tmp/out" 2>"$tmp/err"; rc=$?
# (libmongoc's load-time "Falling back to malloc for counters" warning, printed before main
# when shared memory is unavailable, is the one line odm cannot silence)
grep -v 'Falling back to malloc for counters' "$tmp/err" >"$tmp/err2"
check "unreachable --uri: one clear error" "[ $rc -eq 2 ] && [ \$(wc -l <\"$tmp/err2\") -eq 1 ] && grep -q 'cannot reach a server at' \"$tmp/err2\" && ! grep -q DEBUG \"$tmp/err\""

# audit --filter is checked by default: refused before any server is contacted
"$odm" audit transactions --uri mongodb://127.0.0.1:1 --filter '{"$where": "sleep(1000)"}' >/dev/null 2>"$tmp/err"; rc=$?
check "audit --filter: server-side JavaScript refused" "[ $rc -eq 2 ] && grep -q 'server-side JavaScript' \"$tmp/err\""
"$odm" audit transactions --uri mongodb://127.0.0.1:1 --filter '{"stauts": "open"}' >/dev/null 2>"$tmp/err"; rc=$?
check "audit --filter: unknown path refused" "[ $rc -eq 2 ] && grep -q 'stauts: no such path' \"$tmp/err\""
"$odm" audit transactions --uri mongodb://127.0.0.1:1 --filter '{"status": ' >/dev/null 2>"$tmp/err"; rc=$?
check "audit --filter: malformed JSON refused" "[ $rc -eq 2 ] && grep -q -- '--filter' \"$tmp/err\""

echo "$pass passed, $fails failed"
[ $fails -eq 0 ]
