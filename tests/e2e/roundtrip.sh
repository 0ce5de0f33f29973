#!/usr/bin/env bash
# Round trip: images with holes, zero runs, random and compressible data and a
# size that is not a multiple of the block size come back byte-exact, sparse
# where the source had holes, from a 64 KiB-block repository and a default
# (512 KiB) one; list/show report the right size and source.
source "$(dirname "$0")/lib.sh"

MiB=1048576

# --- the sources ------------------------------------------------------------
# big: 24 MiB + 12345 bytes. Data intervals (everything else is a hole or real
# zeros) are recorded in big_data so the test knows which blocks hold data.
big=$T/big.img
big_size=$((24 * MiB + 12345))
img_new "$big" "$big_size"
img_rand "$big" 0 $((4 * MiB + 777)) big-r1      # random, ends mid-block
#                                                  4 MiB..8 MiB: hole
printf 'x' | write_at "$big" $((8 * MiB + 100))  # one byte alone in a block
img_text "$big" $((9 * MiB)) $((3 * MiB)) big-t1 # compressible text
img_zero "$big" $((12 * MiB)) $((2 * MiB))       # real zero bytes (allocated)
img_rand "$big" $((14 * MiB)) $((2 * MiB)) big-r2
#                                                  16 MiB..20 MiB: hole
img_text "$big" $((20 * MiB)) $((2 * MiB + 4000)) big-t2
img_rand "$big" $((22 * MiB + 4000)) $((big_size - 22 * MiB - 4000)) big-r3
big_data=("0 $((4 * MiB + 777))" "$((8 * MiB + 100)) $((8 * MiB + 101))"
  "$((9 * MiB)) $((12 * MiB))" "$((14 * MiB)) $((16 * MiB))"
  "$((20 * MiB)) $big_size")
big_holes=$((8 * MiB)) # bytes of hole in the source, in whole MiB-aligned runs
assert_eq "source image size" "$big_size" "$(fsize "$big")"

# odd: 5 MiB + 12345 bytes of the standard mixed layout.
odd=$T/odd.img
make_image "$odd" $((5 * MiB + 12345)) odd

# tiny: less than one block. zeros: all zero bytes (nothing to store).
tiny=$T/tiny.img
rand_stream tiny 1000 >"$tiny"
zeros=$T/zeros.img
img_new "$zeros" $((3 * MiB + 5))

# nonzero_block_bytes BLOCK_SIZE: the most bytes a sparse restore of $big may
# allocate: the blocks that hold any data byte, times the block size.
nonzero_block_bytes() {
  local bs=$1 iv a b i
  declare -A blocks=()
  for iv in "${big_data[@]}"; do
    read -r a b <<<"$iv"
    for ((i = a / bs; i <= (b - 1) / bs; i++)); do blocks[$i]=1; done
  done
  echo $((${#blocks[@]} * bs))
}

fs_sparse=1
if (($(fallocated "$big") > big_size - big_holes + 65536)); then
  log "the temporary file system does not keep holes ($(fallocated "$big") bytes allocated for $big_size); sparse checks skipped"
  fs_sparse=0
fi

# check_repo REPO BLOCK_SIZE [init flags...]
check_repo() {
  local repo=$1 bs=$2
  shift 2
  init_repo "$repo" "$@"

  local src id
  declare -A ids=()
  for src in "$big" "$odd" "$tiny" "$zeros"; do
    id=$(snap_create "$repo" "$src" --description "roundtrip $(basename "$src")")
    [[ "$id" =~ ^snap-[0-9a-f]{17}$ ]] || fail "snapshot id '$id' is not snap- followed by 17 hex digits"
    assert_eq "create --output json .size for $src" "$(fsize "$src")" "$(json .size)"
    assert_eq "create --output json .source for $src" "$src" "$(json .source)"
    ids[$src]=$id
  done

  # Everything restores byte-exact.
  for src in "$big" "$odd" "$tiny" "$zeros"; do
    restore_cmp "$repo" "${ids[$src]}" "$src"
  done

  # The restore of big is sparse where big had holes.
  if ((fs_sparse)); then
    local r=$T/big.restored limit alloc
    ok cairn -r "$repo" snapshot restore "${ids[$big]}" "$r"
    cmp "$big" "$r" || fail "restore of big differs"
    assert_eq "restored apparent size" "$big_size" "$(fsize "$r")"
    limit=$(($(nonzero_block_bytes "$bs") + 65536))
    alloc=$(fallocated "$r")
    ((alloc <= limit)) ||
      fail "restored file is not sparse: $alloc bytes allocated, expected at most $limit (the data blocks at block size $bs; apparent size $big_size, $big_holes bytes of holes in the source)"
    rm -f "$r"
    ok cairn -r "$repo" snapshot restore "${ids[$zeros]}" "$T/zeros.restored"
    alloc=$(fallocated "$T/zeros.restored")
    ((alloc <= 65536)) || fail "restore of an all-zero image allocated $alloc bytes, expected a hole (at most 64 KiB)"
    assert_eq "restored all-zero image size" "$(fsize "$zeros")" "$(fsize "$T/zeros.restored")"
    rm -f "$T/zeros.restored"
  fi

  # list --output json: every snapshot, with its size and source.
  ok cairn -r "$repo" --output json snapshot list
  local n
  n=$(json '(if type == "array" then . else .snapshots end) | length')
  assert_eq "number of snapshots in 'snapshot list --output json'" 4 "$n"
  for src in "$big" "$odd" "$tiny" "$zeros"; do
    id=${ids[$src]}
    local sel="(if type == \"array\" then . else .snapshots end) | map(select(.id == \"$id\")) | .[0]"
    [[ "$(jq -r "$sel" "$OUT")" != null ]] || fail "snapshot list --output json does not list $id: $(head -c 2000 "$OUT")"
    assert_eq "list: size of $id" "$(fsize "$src")" "$(json "$sel | .size")"
    assert_eq "list: source of $id" "$src" "$(json "$sel | .source")"
  done

  # list --source filters.
  ok cairn -r "$repo" --output json snapshot list --source "$odd"
  assert_eq "snapshot list --source $odd: ids" "${ids[$odd]}" \
    "$(json '(if type == "array" then . else .snapshots end) | map(.id) | join(",")')"

  # show --output json: size, source, block size, block count, description.
  ok cairn -r "$repo" --output json snapshot show "${ids[$big]}"
  local h='(.snapshot // .)'
  assert_eq "show: id" "${ids[$big]}" "$(json "$h.id")"
  assert_eq "show: size" "$big_size" "$(json "$h.size")"
  assert_eq "show: source" "$big" "$(json "$h.source")"
  assert_eq "show: block_size" "$bs" "$(json "$h.block_size")"
  assert_eq "show: block_count" $(((big_size + bs - 1) / bs)) "$(json "$h.block_count")"
  assert_eq "show: description" "roundtrip big.img" "$(json "$h.description")"

  # Text output of show names the snapshot too.
  ok cairn -r "$repo" snapshot show "${ids[$big]}"
  expect_stdout_contains "${ids[$big]}" "$big"

  check_clean "$repo" --read-data
}

repo64k=$(repo_url repo64k)
repo_default=$(repo_url repo-default)
check_repo "$repo64k" 65536 --block-size 64K
check_repo "$repo_default" 524288
check_repo "$(repo_url repo-plain)" 524288 --no-encryption

# The default repository's config says 512 KiB; the 64K one says 64 KiB.
assert_eq "config block_size (default)" 524288 "$(obj_cat "$repo_default" config | jq -r .block_size)"
assert_eq "config block_size (--block-size 64K)" 65536 "$(obj_cat "$repo64k" config | jq -r .block_size)"

# Bad block sizes are usage errors and create nothing.
bad1=$(repo_url bad1)
expect_exit 2 cairn -r "$bad1" repo init --block-size 100K
! obj_exists "$bad1" config || fail "repo init --block-size 100K (not a power of two) created a config"
bad2=$(repo_url bad2)
expect_exit 2 cairn -r "$bad2" repo init --block-size 16M
! obj_exists "$bad2" config || fail "repo init --block-size 16M (above 8 MiB) created a config"
