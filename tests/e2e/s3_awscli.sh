#!/usr/bin/env bash
# Debian's AWS CLI (/usr/bin/aws, an independent S3 client) checks what cairn
# does in a bucket of the real RGW:
#   - after a backup, every object under the prefix has a name of
#     docs/format.md's layout, packs and index objects hash to their names,
#     the sizes add up to what `repo stats` reports, no lock is left;
#   - every object cairn reads (GET/HEAD, seen by a recording proxy) is one
#     cairn wrote itself, and every listing stays inside its prefix, while
#     foreign objects sit next to it (repo-old/, repox/, the bucket's root);
#   - a bucket policy denying s3:PutObject makes a backup fail with cairn's
#     clear 403 error (exit 1, naming bucket, key and the S3 code), writing
#     nothing; without the policy the same backup works;
#   - a full backup of 512 MiB of incompressible data writes at most 70
#     objects per GiB.
source "$(dirname "$0")/lib.sh"

aws_bin=/usr/bin/aws # another `aws` may come first on PATH: Debian's is the one meant
[[ -x "$aws_bin" ]] || skip "Debian's awscli is not installed at $aws_bin (bash scripts/setup.sh)"
s3_server_up
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" AWS_CONFIG_FILE=$T/aws-config
# awscli ARGS...: the AWS CLI against the test server.
awscli() { "$aws_bin" --endpoint-url "$AWS_ENDPOINT_URL" --output json "$@"; }
# aws_list PREFIX: "key size" of every object under PREFIX in $bucket.
aws_list() {
  awscli s3api list-objects-v2 --bucket "$bucket" --prefix "$1" >"$T/aws-list.json" ||
    fail "aws s3api list-objects-v2 --bucket $bucket --prefix $1 failed"
  jq -r '(.Contents // [])[] | "\(.Key) \(.Size)"' "$T/aws-list.json" | sort
}

MiB=1048576
bucket=cairn-awscli-$$-$RANDOM
awscli s3api create-bucket --bucket "$bucket" >/dev/null 2>"$T/aws.err" ||
  fail "aws s3api create-bucket $bucket: $(cat "$T/aws.err")"
at_exit "s3_rm_prefix $bucket '' >/dev/null 2>&1"

# Foreign objects next to the repository, written by awscli: cairn must
# neither read nor list them.
echo "not cairn's" >"$T/foreign"
for k in repo-old/config repo-old/packs/00/foreign repox/config config locks/foreign; do
  awscli s3api put-object --bucket "$bucket" --key "$k" --body "$T/foreign" >/dev/null ||
    fail "aws s3api put-object $k failed"
done

# Everything cairn does in this bucket goes through a proxy that only records.
proxy_start --fail 0
repo=s3://$bucket/repo
img=$T/disk.img
make_image "$img" $((40 * MiB + 4321)) s3-awscli
AWS_ENDPOINT_URL=$PROXY_URL init_repo "$repo"
snap=$(AWS_ENDPOINT_URL=$PROXY_URL snap_create "$repo" "$img")
AWS_ENDPOINT_URL=$PROXY_URL restore_cmp "$repo" "$snap" "$img"
AWS_ENDPOINT_URL=$PROXY_URL check_clean "$repo" --read-data
AWS_ENDPOINT_URL=$PROXY_URL ok cairn -r "$repo" --output json repo stats
cp "$OUT" "$T/stats.json"
proxy_stop

# --- names and sizes, as awscli sees them ------------------------------------------
aws_list repo/ >"$T/objects"
log "awscli lists $(wc -l <"$T/objects") objects under repo/"
bad=$(cut -d' ' -f1 "$T/objects" | grep -vE '^repo/(config|keys/[0-9a-f]+|packs/[0-9a-f]{2}/[0-9a-f]{64}|index/[0-9a-f]{64}|snapshots/snap-[0-9a-f]{17})$' || true)
[[ -z "$bad" ]] || fail "objects under repo/ whose names are not in docs/format.md's layout (or locks left behind):
$bad"
count_of() { grep -cE "^repo/$1" "$T/objects" || true; }
assert_eq "config objects" 1 "$(count_of 'config ')"
assert_eq "key objects (one passphrase)" 1 "$(count_of 'keys/')"
assert_eq "index objects after one backup" 1 "$(count_of 'index/')"
assert_eq "manifests" 1 "$(count_of "snapshots/$snap ")"
assert_eq "pack objects listed by awscli vs repo stats .packs" "$(jq -r .packs "$T/stats.json")" "$(count_of 'packs/')"
assert_eq "bytes of the pack objects listed by awscli vs repo stats .stored_bytes" \
  "$(jq -r .stored_bytes "$T/stats.json")" "$(grep '^repo/packs/' "$T/objects" | awk '{ s += $2 } END { print s + 0 }')"
# Download with awscli: sizes match the listing; packs sit under their first
# two hex digits and, like index objects, hash to their names.
awscli s3 cp --recursive --quiet "s3://$bucket/repo/" "$T/dl/" ||
  fail "aws s3 cp --recursive s3://$bucket/repo/ failed"
while read -r key size; do
  f=$T/dl/${key#repo/}
  assert_eq "size of $key downloaded by awscli vs listed" "$size" "$(fsize "$f")"
  case $key in
    repo/packs/* | repo/index/*)
      name=$(basename "$key")
      assert_eq "SHA-256 of $key (its name)" "$name" "$(sha256sum <"$f" | cut -d' ' -f1)"
      ;;
  esac
  case $key in repo/packs/*) [[ "$(basename "$(dirname "$key")")" == "${name:0:2}" ]] ||
    fail "pack $key is not under packs/<its first two hex digits>/" ;; esac
done <"$T/objects"
assert_eq "config block_size as read by awscli" 524288 "$(jq -r .block_size "$T/dl/config")"
assert_eq "config format" cairn-repository "$(jq -r .format "$T/dl/config")"
tail -c 8 "$T/dl/$(grep -m1 '^repo/packs/' "$T/objects" | cut -d' ' -f1 | sed 's|^repo/||')" |
  grep -q CAIRNPK1 || fail "a pack downloaded by awscli does not end with the magic CAIRNPK1"

# --- cairn reads only what it wrote, lists only its prefix --------------------------
# PROXY_LOG lines: time METHOD /bucket/key?query status in out.
path_of() { awk -v m="$1" '$2 == m { split($3, a, "?"); print a[1] }' "$PROXY_LOG" | sort -u; }
path_of PUT >"$T/written"
path_of POST >>"$T/written" # multipart uploads complete with a POST on the key
sort -u -o "$T/written" "$T/written"
{ path_of GET; path_of HEAD; } | grep -vE "^/$bucket/?\$" | sort -u >"$T/read" || true
unwritten=$(comm -23 "$T/read" "$T/written")
[[ -z "$unwritten" ]] || fail "cairn read objects it had not written (foreign or missing):
$unwritten"
assert_between "distinct objects cairn read back" 3 100000 "$(wc -l <"$T/read")"
grep -vq "^/$bucket/repo/" "$T/written" && fail "cairn wrote outside s3://$bucket/repo/: $(grep -v "^/$bucket/repo/" "$T/written" | head)"
# Every listing request names a prefix inside the repository's.
awk '$2 == "GET" && $3 ~ /list-type=2/ { print $3 }' "$PROXY_LOG" >"$T/listings"
assert_between "listing requests seen" 1 100000 "$(wc -l <"$T/listings")"
outside=$(grep -v 'prefix=repo%2F' "$T/listings" || true)
[[ -z "$outside" ]] || fail "cairn listed outside its prefix repo/ (would see repo-old/, repox/, locks/foreign):
$outside"
# The foreign objects are untouched.
for k in repo-old/config repox/config config locks/foreign; do
  grep -q "^$k " <(aws_list "$k") || fail "the foreign object $k is gone"
done

# --- a bucket policy that denies writes ------------------------------------------------
cat >"$T/deny.json" <<JSON
{"Version": "2012-10-17",
 "Statement": [{"Sid": "DenyWrites", "Effect": "Deny", "Principal": "*",
                "Action": "s3:PutObject", "Resource": "arn:aws:s3:::$bucket/*"}]}
JSON
awscli s3api put-bucket-policy --bucket "$bucket" --policy "file://$T/deny.json" 2>"$T/aws.err" ||
  fail "aws s3api put-bucket-policy failed: $(cat "$T/aws.err")"
aws_list repo/ >"$T/before-denied"
rand_stream s3-awscli-new $((4 * MiB)) | write_at "$img" 0
t0=$SECONDS
expect_exit 1 cairn -r "$repo" snapshot create "$img"
expect_stderr_contains "access denied by $repo for key $AWS_ACCESS_KEY_ID" "writing $repo/" \
  "HTTP 403" "AccessDenied" "bucket policy"
assert_between "seconds to fail on a denied write (never retried)" 0 15 $((SECONDS - t0))
log "denied by the bucket policy: $(grep -m1 -i error "$ERR")"
aws_list repo/ >"$T/after-denied"
diff "$T/before-denied" "$T/after-denied" >/dev/null ||
  fail "a backup denied by the bucket policy changed the bucket: $(diff "$T/before-denied" "$T/after-denied" | head)"
# Reading is still allowed.
ok cairn -r "$repo" snapshot list
expect_stdout_contains "$snap"
awscli s3api delete-bucket-policy --bucket "$bucket" || fail "aws s3api delete-bucket-policy failed"
snap2=$(snap_create "$repo" "$img")
restore_cmp "$repo" "$snap2" "$img"

# --- objects per GiB of a full backup --------------------------------------------------
# 512 MiB of random data (incompressible: every byte is new and stored).
big=$T/big.img
rand_stream s3-awscli-big $((512 * MiB)) >"$big"
repo2=s3://$bucket/objects-per-gib
init_repo "$repo2"
n0=$(aws_list objects-per-gib/ | wc -l)
ok cairn -r "$repo2" --output json snapshot create "$big"
new=$(json .bytes_new)
assert_eq "bytes_new of the full backup" $((512 * MiB)) "$new"
n1=$(aws_list objects-per-gib/ | wc -l)
per_gib=$(((n1 - n0) * 1073741824 / new))
log "a full backup of 512 MiB wrote $((n1 - n0)) objects: $per_gib per GiB"
assert_between "objects per GiB written by a full backup" 1 70 "$per_gib"
rm -f "$big"
