#!/usr/bin/env bash
# S3 against a real server: starts a throw-away Ceph RADOS Gateway
# (scripts/s3-server.sh), runs the Backend conformance suite on S3Backend,
# then a repository in s3://bucket/repo: init, snapshot create, restore
# byte-exact, check --read-data; a wrong secret, a missing bucket and an
# unreachable endpoint each fail with their own clear error. Skips (77) only
# when RGW cannot be installed here.
source "$(dirname "$0")/lib.sh"

root=$(cd "$_lib_dir/../.." && pwd)
server=$root/scripts/s3-server.sh
conformance=$(dirname "$CAIRN_BIN")/src/storage/backend_conformance_test
[[ -x "$conformance" ]] || fail "no conformance test binary at $conformance (build target backend_conformance_test)"

if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null ||
  ! command -v ceph-osd >/dev/null || ! command -v radosgw-admin >/dev/null; then
  log "installing Ceph (ceph-mon ceph-osd radosgw ceph-common)"
  bash "$root/scripts/setup.sh" ceph-mon ceph-osd radosgw ceph-common >"$T/setup.log" 2>&1 ||
    skip "Ceph RGW cannot be installed here: $(tail -n 3 "$T/setup.log")"
fi
command -v curl >/dev/null || skip "curl is not installed"

# Free ports, so a developer's own server (or a stale one) is never reused.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p i
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 20000))
    port_taken "$p" || { echo "$p"; return; }
  done
  fail "no free port found"
}
export CAIRN_S3_PORT=$(pick_port) CAIRN_S3_MON_PORT=$(pick_port)

start=$(date +%s.%N)
env_line=$("$server" start "$T/rgw" 2>"$T/server.err") ||
  fail "scripts/s3-server.sh start failed: $(cat "$T/server.err"; tail -n 20 "$T"/rgw/log/*.out 2>/dev/null)"
for f in "$T"/rgw/run/*.pid.cairn; do track_pid "$(<"$f")"; done
eval "$env_line"
log "RGW up in $(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo '?') s at $AWS_ENDPOINT_URL"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 CAIRN_S3_PATH_STYLE AWS_CA_BUNDLE || true

# --- the Backend conformance suite on S3 -------------------------------------
export CAIRN_TEST_S3_BUCKET=cairn-conformance
CAIRN_TEST_S3=1 "$conformance" --gtest_filter='*S3*' >"$T/conformance.log" 2>&1 ||
  fail "conformance suite on S3 failed: $(grep -E 'FAILED|Failure|error' "$T/conformance.log" | head -n 30)"
log "conformance on S3: $(grep -E '^\[  PASSED  \]' "$T/conformance.log")"

# --- a repository in a bucket --------------------------------------------------
bucket=cairn-e2e
empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
code=$(curl -s -o "$T/mkbucket.out" -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
  --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $empty_sha" \
  "$AWS_ENDPOINT_URL/$bucket")
[[ "$code" == 200 ]] || fail "creating bucket $bucket: HTTP $code $(cat "$T/mkbucket.out")"

repo=s3://$bucket/repo
img=$T/disk.img
make_image "$img" $((6 * 1048576 + 4321)) s3
init_repo "$repo" --block-size 64K
snap=$(snap_create "$repo" "$img")
[[ -n "$snap" && "$snap" != null ]] || fail "snapshot create printed no id"
restore_cmp "$repo" "$snap" "$img"
check_clean "$repo" --read-data
ok cairn -r "$repo" snapshot list
expect_stdout_contains "$snap"
# What cairn wrote is really in the bucket, under the prefix.
listing=$(curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" \
  --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $empty_sha" \
  "$AWS_ENDPOINT_URL/$bucket?list-type=2&prefix=repo%2Fconfig") || fail "listing $bucket failed"
grep -q '<Key>repo/config</Key>' <<<"$listing" || fail "no repo/config object in $bucket: $listing"

# --- errors ---------------------------------------------------------------------
# A wrong secret: 403, naming the key id and the bucket; exit 1 (docs/cli.md).
AWS_SECRET_ACCESS_KEY=wrong-secret expect_exit 1 cairn -r "$repo" snapshot list
expect_stderr_contains "access denied by s3://$bucket/repo" "for key $AWS_ACCESS_KEY_ID" \
  "SignatureDoesNotMatch"
# A missing bucket: exit 3 (repository not found), saying which bucket.
expect_exit 3 cairn -r "s3://no-such-bucket/repo" snapshot list
expect_stderr_contains "bucket no-such-bucket does not exist at $AWS_ENDPOINT_URL"
# An empty prefix in an existing bucket is "no repository here", also exit 3.
expect_exit 3 cairn -r "s3://$bucket/elsewhere" snapshot list
expect_stderr_contains "no cairn repository at s3://$bucket/elsewhere"
# An unreachable endpoint: a few quick retries, then a clear error, exit 1.
t0=$(date +%s)
AWS_ENDPOINT_URL=http://127.0.0.1:$(pick_port) expect_exit 1 cairn -v -r "$repo" snapshot list
expect_stderr_contains "gave up after 4 attempts" "retrying opening s3://$bucket/repo"
expect_stderr_matches "connect"
assert_between "seconds to give up on an unreachable endpoint" 0 30 $(($(date +%s) - t0))
# No credentials at all: a usage error that says what to set.
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$T" \
  "$CAIRN_BIN" -r "$repo" snapshot list >"$OUT" 2>"$ERR" && fail "cairn ran without credentials"
expect_stderr_contains "AWS_ACCESS_KEY_ID"

# --- retries through a faulty proxy --------------------------------------------
# A small HTTP proxy in front of RGW answers every FAIL_EVERY-th request with
# 503 SlowDown itself (0: every request). Host is passed through unchanged,
# so the signatures still hold.
py=$(command -v /usr/bin/python3 || command -v python3 || true)
if [[ -z "$py" ]]; then
  log "no python3: the retry part is skipped"
else
  cat >"$T/proxy.py" <<'PY'
import http.client, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
upstream_port, fail_every = int(sys.argv[2]), int(sys.argv[3])
lock, count = threading.Lock(), [0]
SLOWDOWN = b"<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>injected</Message></Error>"
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def relay(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        with lock:
            count[0] += 1
            fail = fail_every == 0 or count[0] % fail_every == 0
        if fail:
            self.send_response(503)
            self.send_header("Content-Length", str(len(SLOWDOWN)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(SLOWDOWN)
            return
        c = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
        c.request(self.command, self.path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()
    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = relay
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
  rgw_port=${AWS_ENDPOINT_URL##*:}
  start_proxy() {
    proxy_port=$(pick_port)
    "$py" "$T/proxy.py" "$proxy_port" "$rgw_port" "$1" >"$T/proxy.log" 2>&1 &
    proxy_pid=$!
    track_pid "$proxy_pid"
    local i
    for ((i = 0; i < 50; i++)); do port_taken "$proxy_port" && return; sleep 0.1; done
    fail "the fault proxy did not start: $(cat "$T/proxy.log")"
  }
  # Every 4th request fails: a backup and a restore still come out byte-exact,
  # and -v shows the retries.
  start_proxy 4
  make_image "$T/disk2.img" $((3 * 1048576 + 99)) s3-retry
  AWS_ENDPOINT_URL=http://127.0.0.1:$proxy_port expect_exit 0 \
    cairn -v -r "$repo" --output json snapshot create "$T/disk2.img"
  expect_stderr_contains "retrying put " "HTTP 503 SlowDown: injected"
  snap2=$(json .snapshot_id)
  log "backup through the proxy: $(grep -c '^retrying' "$ERR") retries"
  AWS_ENDPOINT_URL=http://127.0.0.1:$proxy_port restore_cmp "$repo" "$snap2" "$T/disk2.img"
  kill "$proxy_pid"
  # Every request fails: a clear error within bounded time, exit 1.
  start_proxy 0
  t0=$(date +%s)
  AWS_ENDPOINT_URL=http://127.0.0.1:$proxy_port expect_exit 1 cairn -r "$repo" snapshot list
  expect_stderr_contains "gave up after" "HTTP 503 SlowDown"
  assert_between "seconds to give up on a server answering 503" 0 60 $(($(date +%s) - t0))
  kill "$proxy_pid"
fi

"$server" stop "$T/rgw" || fail "scripts/s3-server.sh stop failed"
