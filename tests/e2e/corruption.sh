#!/usr/bin/env bash
# Corruption: one flipped bit in a pack, an index object or a snapshot
# manifest is caught: check exits 6 naming the object, restore exits 6 naming
# the snapshot, the block and its byte offset. Each case runs on a fresh copy
# of the same repository.
source "$(dirname "$0")/lib.sh"

MiB=1048576
bs=524288
img=$T/disk.img
# 8 MiB: random, then text, then random (16 non-zero blocks).
img_new "$img" $((8 * MiB))
img_rand "$img" 0 $((3 * MiB)) corr-a
img_text "$img" $((3 * MiB)) $((2 * MiB)) corr-b
img_rand "$img" $((5 * MiB)) $((3 * MiB)) corr-c

pristine=$(repo_url pristine)
init_repo "$pristine"
snap=$(snap_create "$pristine" "$img")
ok cairn -r "$pristine" repo check --read-data

plain=$(repo_url pristine-plain)
init_repo "$plain" --no-encryption
psnap=$(snap_create "$plain" "$img")

# fresh NAME [SRC]: a copy of the pristine repository; prints its URL.
fresh() {
  local dst
  dst=$(repo_url "$1")
  repo_copy "${2:-$pristine}" "$dst"
  echo "$dst"
}
# one_pack REPO: the key of its first pack (packs/<hh>/<pack-id>).
one_pack() { obj_keys "$1" packs/ | head -n1; }

# expect_names WHAT TEXT...: stdout+stderr of the last command name each TEXT.
expect_names() {
  log "$1"
  shift
  expect_output_contains "$@"
}

# expect_block_named: stderr of the last restore names a block index and its
# byte offset (index × block size), in any of the usual spellings.
expect_block_named() {
  local i
  i=$(grep -oiE 'block[ #:=]*[0-9]+' "$ERR" | head -n1 | grep -oE '[0-9]+$' || true)
  [[ -n "$i" ]] || fail "restore error does not name the block (expected 'block N'); stderr:
$(head -n 20 "$ERR")"
  ((i < 16)) || fail "restore error names block $i, but the snapshot has 16 blocks; stderr: $(head -n 20 "$ERR")"
  local off=$((i * bs))
  grep -qE "(^|[^0-9])$off([^0-9]|$)" "$ERR" || grep -qiE "offset[ :=]*(0x)?$(printf '%x' "$off")([^0-9a-f]|$)" "$ERR" ||
    fail "restore error names block $i but not its byte offset $off; stderr:
$(head -n 20 "$ERR")"
}

# ---- (a) a bit in a chunk inside a pack ------------------------------------
r=$(fresh a)
pack=$(one_pack "$r")
pack_id=$(basename "$pack")
[[ "$pack_id" =~ ^[0-9a-f]{64}$ ]] || fail "pack file name '$pack_id' is not 64 hex digits (docs/format.md)"
[[ "$(basename "$(dirname "$pack")")" == "${pack_id:0:2}" ]] || fail "pack $pack is not under packs/<first two hex digits>/"
assert_eq "pack name is the SHA-256 of its bytes" "$pack_id" "$(obj_sha256 "$r" "$pack")"
obj_flip_bit "$r" "$pack" 1000 3 # inside the first blob's ciphertext
expect_exit 6 cairn -r "$r" repo check --read-data
expect_names "check --read-data of a pack with a flipped bit" "$pack_id"
expect_exit 6 cairn -r "$r" repo check --read-data-subset 100%
expect_names "check --read-data-subset 100% of a pack with a flipped bit" "$pack_id"
expect_exit 6 cairn -r "$r" snapshot restore "$snap" "$T/a.restored"
expect_stderr_contains "$snap"
expect_block_named

# (a2) a bit in the pack's header (just before header_len and the magic).
r=$(fresh a2)
pack=$(one_pack "$r")
pack_id=$(basename "$pack")
obj_flip_bit "$r" "$pack" $(($(obj_size "$r" "$pack") - 12 - 20)) 0
expect_exit 6 cairn -r "$r" repo check --read-data
expect_names "check --read-data of a pack with a flipped bit in its header" "$pack_id"

# (a3) the same in an unencrypted repository (no AEAD: the chunk id catches it).
r=$(fresh a3 "$plain")
pack=$(one_pack "$r")
pack_id=$(basename "$pack")
obj_flip_bit "$r" "$pack" 1000 5
expect_exit 6 cairn -r "$r" repo check --read-data
expect_names "check --read-data of an unencrypted pack with a flipped bit" "$pack_id"
expect_exit 6 cairn -r "$r" snapshot restore "$psnap" "$T/a3.restored"
expect_stderr_contains "$psnap"
expect_block_named

# ---- (b) a bit in an index object --------------------------------------------
r=$(fresh b)
idx=$(obj_keys "$r" index/ | head -n1)
[[ -n "$idx" ]] || fail "no index object under $r/index"
idx_id=$(basename "$idx")
obj_flip_bit "$r" "$idx" $(($(obj_size "$r" "$idx") / 2)) 1
expect_exit 6 cairn -r "$r" repo check
expect_names "check of an index object with a flipped bit" "$idx_id"
expect_exit 6 cairn -r "$r" repo check --read-data
# The index is rebuildable from pack headers; afterwards all is well again.
ok cairn -r "$r" repo rebuild-index
ok cairn -r "$r" repo check --read-data
restore_cmp "$r" "$snap" "$img"

# ---- (c) a bit in a snapshot manifest ------------------------------------------
r=$(fresh c)
man=snapshots/$snap
obj_exists "$r" "$man" || fail "no manifest at snapshots/$snap (docs/format.md)"
obj_flip_bit "$r" "$man" $(($(obj_size "$r" "$man") - 10)) 2 # in the sealed block map
expect_exit 6 cairn -r "$r" repo check
expect_names "check of a manifest with a flipped bit in its map" "$snap"
expect_exit 6 cairn -r "$r" snapshot restore "$snap" "$T/c.restored"
expect_stderr_contains "$snap"

# (c2) a bit in the manifest's sealed header.
r=$(fresh c2)
man=snapshots/$snap
obj_flip_bit "$r" "$man" 40 4
expect_exit 6 cairn -r "$r" repo check
expect_names "check of a manifest with a flipped bit in its header" "$snap"

# The pristine repository was never touched.
ok cairn -r "$pristine" repo check --read-data
restore_cmp "$pristine" "$snap" "$img"
