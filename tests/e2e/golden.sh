#!/usr/bin/env bash
# golden: a repository written by cairn 0.1 (format version 1, encrypted,
# 64 KiB blocks) is kept in tests/testdata/golden-v1. This build must still
# open it, check it clean and restore its snapshot to the exact bytes recorded
# when it was made. A change to the format breaks this test on purpose: then
# either keep reading version 1 or bump the version and say so in
# docs/format.md.
source "$(dirname "$0")/lib.sh"

golden=$_lib_dir/../testdata/golden-v1
snap=snap-44da73694f9df2bc2
want_sha=e295af7f20923f851fddf825748b9475101fb0416316ce5672f51685b647e2e8
want_size=481072

# cairn writes lock objects while it works: use a copy, never the original
# (on S3: the same objects under a prefix, so the format reads the same there).
repo=$(repo_url golden)
repo_upload "$golden" "$repo"
export CAIRN_PASSWORD=golden-v1

ok cairn -r "$repo" repo check --read-data
ok cairn -r "$repo" --output json snapshot show "$snap"
assert_eq "description of the golden snapshot" "golden v1" "$(jq -r .description "$OUT")"
assert_eq "tag format of the golden snapshot" "1" "$(jq -r .tags.format "$OUT")"
assert_eq "size of the golden snapshot" "$want_size" "$(jq -r .size "$OUT")"

ok cairn -r "$repo" snapshot restore "$snap" "$T/out.raw"
assert_eq "sha256 of the restored golden image" "$want_sha" "$(sha256sum "$T/out.raw" | cut -d' ' -f1)"

expect_exit 4 env CAIRN_PASSWORD=not-the-passphrase "$CAIRN_BIN" -r "$repo" snapshot list
log "golden v1 repository opens, checks clean and restores byte-exact"
