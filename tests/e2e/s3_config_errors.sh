#!/usr/bin/env bash
# S3 errors a user meets, each with its own clear message and exit code
# (docs/s3.md), none of them retried for long, none hanging:
#   wrong secret (403 SignatureDoesNotMatch), unknown access key (403
#   InvalidAccessKeyId), no credentials at all, a missing bucket, an empty
#   prefix, an unreachable endpoint (connection refused: a few quick
#   retries), an endpoint that accepts connections but never answers
#   (bounded by the low-speed timeout), and a wrong region.
# The wrong region: RGW does not check the region of a SigV4 signature, not
# even with its zonegroup's api_name set to another region (tried with
# 16.2.15: api_name only checks CreateBucket's LocationConstraint, which
# cairn never sends). So the fault proxy, wrapping the real server, gives
# AWS's answer to a request signed for the wrong region: 400
# AuthorizationHeaderMalformed with <Region> and x-amz-bucket-region.
source "$(dirname "$0")/lib.sh"

s3_server_up
repo=$(s3_repo_url repo)
_s3_split "$repo"
bucket=$_b
img=$T/disk.img
make_image "$img" $((2 * 1048576)) s3-errors
init_repo "$repo"
snap=$(snap_create "$repo" "$img")

# elapsed_since T0: whole seconds since $SECONDS was T0.
elapsed_since() { echo $((SECONDS - $1)); }

# --- credentials -------------------------------------------------------------
# A wrong secret: 403, naming the repository, the key id and the S3 code; exit 1.
t0=$SECONDS
AWS_SECRET_ACCESS_KEY=wrong-secret expect_exit 1 cairn -r "$repo" snapshot list
expect_stderr_contains "access denied by $repo" "for key $AWS_ACCESS_KEY_ID" \
  "SignatureDoesNotMatch" "check the credentials"
assert_between "seconds to fail on a wrong secret (never retried)" 0 10 "$(elapsed_since $t0)"
# An access key the server does not know: its own code, the key named.
AWS_ACCESS_KEY_ID=NOSUCHACCESSKEY00001 expect_exit 1 cairn -r "$repo" snapshot list
expect_stderr_contains "access denied by $repo" "for key NOSUCHACCESSKEY00001" "InvalidAccessKeyId"
# The same on a write (the first PUT of a backup), and nothing is left behind.
AWS_SECRET_ACCESS_KEY=wrong-secret expect_exit 1 cairn -r "$repo" snapshot create "$img"
expect_stderr_contains "access denied" "SignatureDoesNotMatch"
ok cairn -r "$repo" --output json snapshot list
assert_eq "snapshots after the refused backup" "$snap" "$(json 'map(.id) | join(" ")')"
# No credentials at all: a usage error (2) that says what to set.
expect_exit 2 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE HOME="$T" \
  AWS_SHARED_CREDENTIALS_FILE="$T/none" "$CAIRN_BIN" -r "$repo" snapshot list
expect_stderr_contains "AWS_ACCESS_KEY_ID" "AWS_SECRET_ACCESS_KEY"
# Credentials from a profile of a credentials file work like the variables.
printf '[backup]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
  "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$T/credentials"
expect_exit 0 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$T" \
  AWS_SHARED_CREDENTIALS_FILE="$T/credentials" AWS_PROFILE=backup "$CAIRN_BIN" -r "$repo" snapshot list
expect_stdout_contains "$snap"

# --- where the repository is ---------------------------------------------------
# A missing bucket: exit 3 (repository not found), naming bucket and endpoint.
expect_exit 3 cairn -r "s3://no-such-bucket-$$/repo" snapshot list
expect_stderr_contains "bucket no-such-bucket-$$ does not exist at $AWS_ENDPOINT_URL"
# An empty prefix in an existing bucket: "no repository here", also exit 3.
expect_exit 3 cairn -r "s3://$bucket/$E2E_S3_PREFIX/elsewhere" snapshot list
expect_stderr_contains "no cairn repository at s3://$bucket/$E2E_S3_PREFIX/elsewhere" "repo init"
# A prefix that only starts like the repository's is another place.
expect_exit 3 cairn -r "${repo}x" snapshot list
# A bucket name S3 does not allow: a usage error before any request.
expect_exit 2 cairn -r "s3://No_Such/repo" snapshot list
expect_stderr_contains "No_Such"

# --- the endpoint ----------------------------------------------------------------
# Nothing listens: connection refused, a few quick retries, a clear error, exit 1.
dead=http://127.0.0.1:$(free_port)
t0=$SECONDS
AWS_ENDPOINT_URL=$dead expect_exit 1 cairn -v -r "$repo" snapshot list
took=$(elapsed_since $t0)
expect_stderr_contains "gave up after 4 attempts" "retrying opening $repo" "127.0.0.1"
expect_stderr_matches "connect"
assert_between "seconds to give up on an endpoint that refuses connections" 0 30 "$took"
log "connection refused: gave up after $took s"

# Accepts connections, never answers (a hung server or a black-holing
# firewall): each request ends at the low-speed timeout (30 s), the probe
# gives up after 4 attempts: bounded, if slow. (The 10 s connect timeout
# cannot be tested on loopback: connects never hang there.)
if [[ -z "${E2E_QUICK:-}" ]]; then
  hole_port=$(free_port)
  /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$hole_port" &
  hole_pid=$!
  track_pid "$hole_pid"
  for ((i = 0; i < 100; i++)); do port_free "$hole_port" || break; sleep 0.05; done
  t0=$SECONDS
  AWS_ENDPOINT_URL=http://127.0.0.1:$hole_port expect_exit 1 cairn -v -r "$repo" snapshot list
  took=$(elapsed_since $t0)
  expect_stderr_contains "gave up after" "retrying opening $repo"
  expect_stderr_matches "timeout|timed out|too slow|Operation too slow"
  assert_between "seconds to give up on an endpoint that never answers" 20 200 "$took"
  log "silent endpoint: gave up after $took s"
  kill "$hole_pid"
else
  log "E2E_QUICK set: the silent-endpoint case (about 2 minutes) is skipped"
fi

# --- the region ----------------------------------------------------------------------
# The bucket "is" in eu-west-1 (the proxy answers like AWS); cairn signs for
# us-east-1: exit 8 (refused: fix the settings), naming both regions and the
# variable to set; not retried.
proxy_start --region eu-west-1
t0=$SECONDS
AWS_ENDPOINT_URL=$PROXY_URL AWS_REGION=us-east-1 expect_exit 8 cairn -r "$repo" snapshot list
expect_stderr_contains "bucket $bucket is not in region us-east-1 but in eu-west-1" "AWS_REGION"
assert_between "seconds to fail on a wrong region (never retried)" 0 10 "$(elapsed_since $t0)"
assert_eq "requests answered 'wrong region' by the proxy (one: not retried)" 1 "$(proxy_count ' 400-region ')"
# Following the advice works.
AWS_ENDPOINT_URL=$PROXY_URL AWS_REGION=eu-west-1 ok cairn -r "$repo" snapshot list
expect_stdout_contains "$snap"
AWS_ENDPOINT_URL=$PROXY_URL AWS_DEFAULT_REGION=eu-west-1 ok env -u AWS_REGION "$CAIRN_BIN" -r "$repo" snapshot list
expect_stdout_contains "$snap"
proxy_stop

# --- a bucket out of space (RGW's 403 QuotaExceeded) -----------------------------------
# Not a credentials problem: cairn says the bucket is out of space (exit 9).
qbucket=cairn-quota-$$-$RANDOM
s3_mkbucket "$qbucket"
at_exit "s3_rm_prefix $qbucket '' >/dev/null 2>&1"
conf=${CAIRN_S3_DIR:-}/ceph.conf
[[ -f "$conf" ]] || fail "no ceph.conf of the test server at $conf (CAIRN_S3_DIR)"
radosgw-admin -c "$conf" quota set --quota-scope=bucket --bucket="$qbucket" --max-size=1048576 \
  >"$T/quota.log" 2>&1 && radosgw-admin -c "$conf" quota enable --quota-scope=bucket \
  --bucket="$qbucket" >>"$T/quota.log" 2>&1 || fail "radosgw-admin quota: $(cat "$T/quota.log")"
qrepo=s3://$qbucket/repo
init_repo "$qrepo"
make_image "$T/quota.img" $((8 * 1048576)) quota
expect_exit 9 cairn -r "$qrepo" snapshot create "$T/quota.img"
expect_stderr_contains "bucket $qbucket is out of space (quota)" "QuotaExceeded"
check_clean "$qrepo"

# Nothing above damaged the repository.
restore_cmp "$repo" "$snap" "$img"
check_clean "$repo" --read-data
