#!/bin/sh
# bench_smoke (ctest): odm_bench's document-set modes run to the end on every set, and the
# mixed set is the same bytes twice. Fails on a crash or a non-zero exit, never on numbers.
set -eu
bench=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for s in full min mixed; do
  "$bench" --dump-set "$s" "$dir/$s.jsonl"
  test -s "$dir/$s.jsonl"
done
"$bench" --dump-set mixed "$dir/again.jsonl"
cmp "$dir/mixed.jsonl" "$dir/again.jsonl"
test "$(wc -l < "$dir/mixed.jsonl")" -ge 1000
"$bench" --sets --quick --json > "$dir/sets.jsonl"
"$bench" --scaling --quick --json > "$dir/scaling.jsonl"
test -s "$dir/sets.jsonl" && test -s "$dir/scaling.jsonl"
echo "bench smoke: sets dumped, deterministic, --sets and --scaling ran"
