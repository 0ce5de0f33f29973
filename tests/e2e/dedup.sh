#!/usr/bin/env bash
# Dedup across sources: a second source with the same content stores nothing,
# one sharing half stores only the other half, one shifted by a whole block
# stores only the new block; `repo stats` counts it all exactly.
source "$(dirname "$0")/lib.sh"

MiB=1048576
KiB=1024
bs=524288
repo=$(repo_url repo)
init_repo "$repo"

# a: 32 MiB mixed (eighths of 4 MiB: random, text, hole, zeros, random, hole,
# text, random): 20 MiB of data in 40 distinct blocks, 24 zero blocks.
a=$T/a.img
make_image "$a" $((32 * MiB)) dedup-a
# b: a copy of a under another name.
b=$T/b.img
cp --sparse=always "$a" "$b"
# c: a's first half, then 16 MiB of new random data.
c=$T/c.img
cp --sparse=always "$a" "$c"
img_rand "$c" $((16 * MiB)) $((16 * MiB)) dedup-c
# d: one new random block, then all of a (shifted by exactly one block).
d=$T/d.img
rand_stream dedup-d "$bs" >"$d"
dd if="$a" of="$d" bs=1M seek="$bs" oflag=seek_bytes conv=notrunc,sparse status=none
assert_eq "size of d" $((32 * MiB + bs)) "$(fsize "$d")"

packs_bytes() { obj_bytes "$repo" packs/; }
packs_count() { obj_count "$repo" packs/; }

sa=$(snap_create "$repo" "$a")
assert_eq "a: bytes_new (its 40 data blocks)" $((20 * MiB)) "$(json .bytes_new)"
assert_eq "a: chunks_new" 40 "$(json .chunks_new)"
p_after_a=$(packs_bytes)

sb=$(snap_create "$repo" "$b")
assert_eq "b (same content as a, other source): parent" null "$(json .parent)"
assert_eq "b: bytes_new" 0 "$(json .bytes_new)"
assert_eq "b: chunks_new" 0 "$(json .chunks_new)"
assert_between "b: bytes_stored" 0 4096 "$(json .bytes_stored)"
assert_eq "bytes in packs/ after b (nothing new)" "$p_after_a" "$(packs_bytes)"

sc=$(snap_create "$repo" "$c")
assert_eq "c (half shared): bytes_new" $((16 * MiB)) "$(json .bytes_new)"
assert_eq "c: chunks_new" 32 "$(json .chunks_new)"
stored_c=$(json .bytes_stored)
# 16 MiB of random data does not compress: stored is the data plus overhead.
assert_between "c: bytes_stored (16 MiB of random data, sealed)" $((16 * MiB)) $((16 * MiB + 256 * KiB)) "$stored_c"

sd=$(snap_create "$repo" "$d")
assert_eq "d (a shifted by one block): bytes_new" "$bs" "$(json .bytes_new)"
assert_eq "d: chunks_new" 1 "$(json .chunks_new)"
assert_between "d: bytes_stored" "$bs" $((bs + 64 * KiB)) "$(json .bytes_stored)"

for pair in "$sa $a" "$sb $b" "$sc $c" "$sd $d"; do
  read -r s f <<<"$pair"
  restore_cmp "$repo" "$s" "$f"
done

# repo stats counts snapshots, chunks, packs, bytes exactly.
ok cairn -r "$repo" --output json repo stats
assert_eq "stats: snapshots" 4 "$(json .snapshots)"
assert_eq "stats: chunks (40 + 32 + 1 distinct non-zero blocks)" 73 "$(json .chunks)"
assert_eq "stats: packs (objects under packs/)" "$(packs_count)" "$(json .packs)"
assert_eq "stats: stored_bytes (bytes of the objects under packs/)" "$(packs_bytes)" "$(json .stored_bytes)"
assert_eq "stats: logical_bytes (sum of snapshot sizes)" $((3 * 32 * MiB + 32 * MiB + bs)) "$(json .logical_bytes)"
assert_eq "stats: unique_raw_bytes" $((20 * MiB + 16 * MiB + bs)) "$(json .unique_raw_bytes)"
ratio=$(json .dedup_ratio)
# logical / unique = 128.5 / 36.5 ≈ 3.5; with compression it can only grow.
awk -v r="$ratio" 'BEGIN { exit !(r + 0 >= 3.0 && r + 0 < 1000) }' ||
  fail "stats: dedup_ratio expected ≥ 3.0 (128.5 MiB logical over 36.5 MiB unique), got '$ratio'"

# Text stats work too and mention the numbers.
ok cairn -r "$repo" repo stats
[[ -s "$OUT" ]] || fail "repo stats printed nothing"

check_clean "$repo" --read-data
