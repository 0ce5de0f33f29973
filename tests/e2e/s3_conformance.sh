#!/usr/bin/env bash
# S3 against a real server (Ceph RGW, the suite's shared one or its own):
# the Backend conformance suite on S3Backend (bare and through OpenBackend +
# RetryingBackend), then a repository in s3://bucket/prefix: init, snapshot
# create, restore byte-exact, check --read-data, and what cairn wrote is
# really in the bucket under the prefix (listed with curl, an independent
# client). Errors, faults, awscli checks and concurrent gc have their own
# scripts (s3_config_errors.sh, s3_faults.sh, s3_awscli.sh, s3_gc_concurrent.sh).
source "$(dirname "$0")/lib.sh"

conformance=$(dirname "$CAIRN_BIN")/src/storage/backend_conformance_test
[[ -x "$conformance" ]] || fail "no conformance test binary at $conformance (build target backend_conformance_test)"
s3_server_up

# --- the Backend conformance suite on S3 -------------------------------------
# A bucket of its own (the suite creates it and a fresh prefix per test),
# emptied afterwards.
export CAIRN_TEST_S3_BUCKET=cairn-conf-$$-$RANDOM
at_exit "s3_rm_prefix $CAIRN_TEST_S3_BUCKET '' >/dev/null 2>&1"
t0=$SECONDS
CAIRN_TEST_S3=1 "$conformance" --gtest_filter='*S3*' >"$T/conformance.log" 2>&1 ||
  fail "conformance suite on S3 failed: $(grep -E 'FAILED|Failure|error' "$T/conformance.log" | head -n 30)"
grep -qE '^\[  PASSED  \] [1-9]' "$T/conformance.log" ||
  fail "the conformance suite ran no S3 test (filter '*S3*'): $(tail -n 5 "$T/conformance.log")"
log "conformance on S3 in $((SECONDS - t0)) s: $(grep -E '^\[  PASSED  \]' "$T/conformance.log")"

# --- a repository in a bucket --------------------------------------------------
repo=$(s3_repo_url repo)
img=$T/disk.img
make_image "$img" $((6 * 1048576 + 4321)) s3
init_repo "$repo" --block-size 64K
snap=$(snap_create "$repo" "$img")
[[ -n "$snap" && "$snap" != null ]] || fail "snapshot create printed no id"
restore_cmp "$repo" "$snap" "$img"
check_clean "$repo" --read-data
ok cairn -r "$repo" snapshot list
expect_stdout_contains "$snap"

# What cairn wrote is really in the bucket, under the prefix, and nothing
# outside it: config, one key, packs, an index, the manifest.
_s3_split "$repo"
s3_list "$_b" "$_p/" >"$T/listing"
grep -q "^$_p/config " "$T/listing" || fail "no $_p/config object in bucket $_b: $(head -n 20 "$T/listing")"
grep -q "^$_p/snapshots/$snap " "$T/listing" || fail "no manifest $_p/snapshots/$snap in bucket $_b"
assert_between "pack objects under $_p/packs/" 1 10 "$(grep -c "^$_p/packs/" "$T/listing")"
assert_eq "objects of this run outside its prefix" 0 \
  "$(s3_list "$_b" "$E2E_S3_PREFIX/" | grep -vc "^$_p/" || true)"
