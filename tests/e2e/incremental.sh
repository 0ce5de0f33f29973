#!/usr/bin/env bash
# Incremental: after rewriting ~1% of the blocks of a 64 MiB image at scattered
# offsets, the next snapshot stores about 1% new data, names the first as its
# parent, both restore byte-exact, and `snapshot diff` lists exactly the
# changed blocks.
source "$(dirname "$0")/lib.sh"

MiB=1048576
size=$((64 * MiB))

# diff_blocks BLOCK_SIZE: the changed block indices in $OUT (the JSON of
# `snapshot diff`: {"ranges": [{"first_block", "last_block", "offset",
# "length"}...], "changed_blocks", ...}), one per line, sorted. Checks that
# each range's offset is first_block × BLOCK_SIZE and that changed_blocks
# agrees with the ranges.
diff_blocks() {
  local bs=$1
  jq -r --argjson bs "$bs" '
    if (.changed_blocks != ([.ranges[] | range(.first_block; .last_block + 1)] | length)) then error("changed_blocks \(.changed_blocks) disagrees with the ranges") else . end |
    .ranges[] |
    if .offset != .first_block * $bs then error("range \(tojson): offset is not first_block × block size") else . end |
    range(.first_block; .last_block + 1)' "$OUT" 2>"$T/.jqerr" | sort -n ||
    fail "cannot read changed blocks from 'snapshot diff --output json': $(cat "$T/.jqerr"); output was:
$(head -c 3000 "$OUT")"
}

# run_case BLOCK_SIZE_FLAG BLOCK_SIZE BLOCKS...: BLOCKS are the indices of the
# blocks to change (one small write each at an odd offset inside the block).
run_case() {
  local flag=$1 bs=$2
  shift 2
  local changed=("$@")
  local repo img=$T/img-$bs
  repo=$(repo_url "repo-$bs")
  log "block size $bs: changing ${#changed[@]} of $((size / bs)) blocks"
  make_image "$img" "$size" "inc-$bs"
  if [[ -n "$flag" ]]; then init_repo "$repo" --block-size "$flag"; else init_repo "$repo"; fi

  local s1 s2 s3 s4
  s1=$(snap_create "$repo" "$img")
  [[ "$(json .parent)" == null ]] || fail "first snapshot has a parent: $(json .parent)"
  cp --sparse=always "$img" "$T/img1"

  local b i=0
  for b in "${changed[@]}"; do
    # 4000 random bytes at an odd offset inside block b.
    rand_stream "change-$bs-$b" 4000 | write_at "$img" $((b * bs + 1000 + 37 * i))
    i=$((i + 1))
  done
  cmp -s "$img" "$T/img1" && fail "the rewrite did not change the image"

  s2=$(snap_create "$repo" "$img")
  assert_eq "parent of the second snapshot (default: newest of the same source)" "$s1" "$(json .parent)"
  assert_eq "bytes_read of the second snapshot is at most the size" 1 "$(($(json .bytes_read) <= size))"
  local new stored want lo hi
  new=$(json .bytes_new)
  stored=$(json .bytes_stored)
  want=$((${#changed[@]} * bs))
  lo=$((size / 200))
  hi=$((size / 50))
  log "bytes_new $new, bytes_stored $stored for ${#changed[@]} changed blocks ($want bytes)"
  assert_between "bytes_new after changing ~1% of the blocks (0.5%..2% of $size)" "$lo" "$hi" "$new"
  assert_eq "bytes_new (changed blocks × block size)" "$want" "$new"
  assert_eq "chunks_new" "${#changed[@]}" "$(json .chunks_new)"
  assert_between "bytes_stored (sealed, compressed) of the changed blocks" 1 $((want + want / 8 + 65536)) "$stored"

  restore_cmp "$repo" "$s1" "$T/img1"
  restore_cmp "$repo" "$s2" "$img"

  # The parent is also in show.
  ok cairn -r "$repo" --output json snapshot show "$s2"
  assert_eq "show: parent of $s2" "$s1" "$(json '(.snapshot // .) | .parent')"

  # diff lists exactly the changed blocks.
  ok cairn -r "$repo" --output json snapshot diff "$s1" "$s2"
  local got wantlist
  got=$(diff_blocks "$bs" | tr '\n' ' ')
  wantlist=$(printf '%s\n' "${changed[@]}" | sort -n | tr '\n' ' ')
  assert_eq "changed blocks reported by 'snapshot diff $s1 $s2'" "$wantlist" "$got"
  ok cairn -r "$repo" --output json snapshot diff "$s2" "$s2"
  assert_eq "changed blocks of a snapshot against itself" "" "$(diff_blocks "$bs" | tr '\n' ' ')"
  # The text output names the ranges too (at least one line per range).
  ok cairn -r "$repo" snapshot diff "$s1" "$s2"
  [[ -s "$OUT" ]] || fail "snapshot diff (text) printed nothing for two different snapshots"

  # Nothing changed: nothing new.
  s3=$(snap_create "$repo" "$img")
  assert_eq "parent of an unchanged snapshot" "$s2" "$(json .parent)"
  assert_eq "bytes_new of a snapshot of an unchanged image" 0 "$(json .bytes_new)"
  # Without a parent every block is read and hashed, but every chunk is
  # already in the repository: still nothing new.
  s4=$(snap_create "$repo" "$img" --no-parent)
  assert_eq "parent with --no-parent" null "$(json .parent)"
  assert_eq "bytes_new of --no-parent snapshot of stored data" 0 "$(json .bytes_new)"
  # An explicit --parent is honoured.
  snap_create "$repo" "$img" --parent "$s1" >/dev/null
  assert_eq "parent with --parent $s1" "$s1" "$(json .parent)"
  restore_cmp "$repo" "$s4" "$img"
  rm -f "$img" "$T/img1"
}

# 512 KiB blocks: 128 blocks, 2 changed (1.6%). 64 KiB blocks: 1024 blocks, 10
# changed (1%), spread over random, text, hole and zero regions.
run_case "" 524288 5 93
run_case 64K 65536 3 130 200 300 390 511 640 700 850 1020
