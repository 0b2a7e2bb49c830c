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

echo "$pass passed, $fails failed"
[ $fails -eq 0 ]
