#!/bin/sh
# bench_smoke (ctest): odm_bench runs to the end in every mode (its default mode also
# proves the hand-written baselines equivalent to the generated code), and the mixed set is
# the same bytes twice and covers every collection. Fails on a crash, a non-zero exit or a
# baseline that does not do the same work; never on numbers.
set -eu
bench=$1
specs=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for s in full min mixed; do
  "$bench" --dump-set "$s" "$dir/$s.jsonl"
  test -s "$dir/$s.jsonl"
done
"$bench" --dump-prepared "$dir/mixed.jsonl" "$dir/mixed.prepared.jsonl"
test "$(wc -l < "$dir/mixed.prepared.jsonl")" -eq "$(wc -l < "$dir/mixed.jsonl")"
"$bench" --dump-set mixed "$dir/again.jsonl"
cmp "$dir/mixed.jsonl" "$dir/again.jsonl"
test "$(wc -l < "$dir/mixed.jsonl")" -ge 1000
# every collection that has a spec is in the mixed set
want=$(ls "$specs"/*.json | wc -l)
have=$(sed 's/^{"collection": "\([a-z_]*\)".*/\1/' "$dir/mixed.jsonl" | sort -u | wc -l)
if [ "$have" -ne "$want" ]; then
  echo "bench smoke: the mixed set covers $have collections of $want" >&2
  exit 1
fi
# the default mode first proves each hand-written baseline equivalent to the generated
# code (and stops when it is not), then times it briefly
"$bench" --quick > "$dir/default.txt"
"$bench" --sets --quick --json > "$dir/sets.jsonl"
"$bench" --scaling --quick --json > "$dir/scaling.jsonl"
test -s "$dir/sets.jsonl" && test -s "$dir/scaling.jsonl"
echo "bench smoke: sets dumped, deterministic, --sets and --scaling ran"
