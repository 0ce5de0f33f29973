#!/usr/bin/env bash
# A flaky network costs retries, never a corrupt repository or a stuck job.
# Between cairn and the real RGW sits tests/tools/s3_fault_proxy.py, which
# answers a seeded share of the requests with 500 InternalError or 503
# SlowDown, drops the connection without an answer, or tears the response
# off half-way (after the server did the work):
#   at 10% a backup, a restore, check --read-data and (when the command
#   exists) a snapshot copy to S3 succeed, byte-exact, and report as many
#   retries as the proxy injected faults;
#   at 100% -- from the start, or switched on in the middle of a backup,
#   a restore, a copy -- each fails within a bounded time with a clear
#   error (exit 1), and the repository still checks and restores.
source "$(dirname "$0")/lib.sh"

s3_server_up
MiB=1048576
repo=$(s3_repo_url repo)
img=$T/disk.img
# 40 MiB: random, text, hole, zeros, ... (about 25 MiB of data: 2 packs).
make_image "$img" $((40 * MiB + 1234)) s3-faults
init_repo "$repo"
base=$(snap_create "$repo" "$img")
cp --sparse=always "$img" "$T/img.base"
# Packs of several parts, so faults hit multipart uploads too (settings of
# the S3 backend; ignored by a build without multipart).
export CAIRN_S3_MULTIPART_THRESHOLD=5M CAIRN_S3_PART_SIZE=5M

# injected: faults the proxy injected so far (all kinds).
injected() { proxy_count ' (500|503|drop|reset)-injected '; }

# expect_retries WHAT: the last command's JSON reports retries, as many as
# the proxy injected since the mark (each failed attempt is retried once).
expect_retries() {
  local got want
  got=$(json .retries)
  want=$(($(injected) - mark))
  log "$1: $want faults injected, $got retries reported"
  ((want > 0)) || fail "$1: the proxy injected no fault at 10% (seeded): the test proves nothing"
  assert_eq "$1: retries in the JSON summary (one per injected fault)" "$want" "$got"
}

# --- 10%: everything succeeds --------------------------------------------------
proxy_start --fail 0.1 --faults 500,503,drop,reset --seed 3
via_proxy() { AWS_ENDPOINT_URL=$PROXY_URL "$@"; }

rand_stream s3-faults-new $((12 * MiB)) | write_at "$img" $((8 * MiB))
mark=$(injected)
via_proxy expect_exit 0 cairn -v -r "$repo" --output json snapshot create "$img"
snap=$(json .snapshot_id)
expect_retries "backup through the proxy at 10%"
expect_stderr_contains "retrying "
assert_eq "parent of the backup made through the proxy" "$base" "$(json .parent)"

mark=$(injected)
via_proxy expect_exit 0 cairn -r "$repo" --output json snapshot restore "$snap" "$T/restored"
expect_retries "restore through the proxy at 10%"
cmp "$img" "$T/restored" || fail "restore through the faulty proxy differs from the image"
rm -f "$T/restored"

mark=$(injected)
via_proxy expect_exit 0 cairn -r "$repo" --output json repo check --read-data
assert_eq "check --read-data through the proxy: errors" 0 "$(json .errors)"
assert_eq "check --read-data through the proxy: warnings" 0 "$(json .warnings)"
expect_retries "check --read-data through the proxy at 10%"

have_copy=0
export CAIRN_TO_PASSWORD=$CAIRN_PASSWORD # destinations share the passphrase
if "$CAIRN_BIN" help snapshot copy >/dev/null 2>&1; then have_copy=1; fi
if ((have_copy)); then
  local_repo=$T/local
  init_repo "$local_repo"
  lsnap=$(snap_create "$local_repo" "$img" --description "copied through faults")
  dst=$(s3_repo_url copy-dst)
  init_repo "$dst"
  mark=$(injected)
  via_proxy expect_exit 0 cairn -r "$local_repo" --output json snapshot copy "$lsnap" --to "$dst"
  expect_retries "copy local -> S3 through the proxy at 10%"
  restore_cmp "$dst" "$lsnap" "$img"
  check_clean "$dst" --read-data
else
  log "this build has no 'snapshot copy': the copy cases are skipped"
fi

# --- 100% from the start: a quick, clear failure -----------------------------------
proxy_set '{"fail": 1.0, "faults": ["503"]}'
t0=$SECONDS
via_proxy expect_exit 1 cairn -r "$repo" snapshot list
expect_stderr_contains "gave up after 4 attempts" "HTTP 503 SlowDown" "$repo"
assert_between "seconds to give up when every request fails" 0 15 $((SECONDS - t0))

# --- 100% switched on in the middle ----------------------------------------------------
# break_midway WHAT REGEX CMD...: runs CMD through the proxy, which relays
# everything until the first request matching REGEX went through and then
# fails every request (all four kinds); CMD must fail (exit 1) within a
# bounded time, saying it gave up. --connections 2 keeps most of the work
# behind the breaking point.
break_midway() {
  local what=$1 re=$2
  shift 2
  proxy_set "{\"trip\": \"$re\", \"faults\": [\"500\", \"503\", \"drop\", \"reset\"]}"
  : >"$PROXY_LOG"
  local t0=$SECONDS rc=0
  AWS_ENDPOINT_URL=$PROXY_URL "$@" >"$OUT" 2>"$ERR" </dev/null || rc=$?
  local took=$((SECONDS - t0))
  _LAST_CMD="$*"
  log "$what: exit $rc after $took s, $(proxy_count ' 200 ') requests relayed, $(injected) failed: $(grep -m1 'error' "$ERR")"
  assert_eq "$what: exit code when every request after the first $re fails (stderr: $(head -c 1500 "$ERR"))" 1 "$rc"
  expect_stderr_contains "gave up after"
  expect_stderr_matches "attempts in [0-9.]+ ?s"
  assert_between "$what: seconds until it failed" 0 120 "$took"
}

big=$T/big.img
rand_stream s3-faults-big $((48 * MiB)) >"$big"
sbig=$(snap_create "$repo" "$big") # 3 packs to restore
rand_stream s3-faults-big2 $((48 * MiB)) >"$T/big2.img"
break_midway "backup" 'PUT [^ ]*/packs/' \
  "$CAIRN_BIN" --connections 2 -r "$repo" snapshot create "$T/big2.img"
break_midway "restore" 'GET [^ ]*/packs/' \
  "$CAIRN_BIN" --connections 2 -r "$repo" snapshot restore "$sbig" "$T/broken.img"
if ((have_copy)); then
  broken_dst=$(s3_repo_url copy-broken)
  init_repo "$broken_dst"
  break_midway "copy" 'PUT [^ ]*/packs/' \
    "$CAIRN_BIN" --connections 2 -r "$repo" snapshot copy "$sbig" --to "$broken_dst"
fi
proxy_stop

# --- afterwards, without the proxy: nothing was damaged -------------------------------
ok cairn -r "$repo" repo check --read-data
ok cairn -r "$repo" --output json snapshot list
assert_eq "snapshots after the broken runs (the failed backup committed nothing)" \
  "$(printf '%s\n' "$base" "$snap" "$sbig" | sort | paste -sd' ')" "$(json 'map(.id) | sort | join(" ")')"
restore_cmp "$repo" "$base" "$T/img.base"
restore_cmp "$repo" "$snap" "$img"
# The next backup completes, and gc removes what the broken one left.
s4=$(snap_create "$repo" "$T/big2.img")
restore_cmp "$repo" "$s4" "$T/big2.img"
restore_cmp "$repo" "$sbig" "$big"
ok cairn -r "$repo" repo gc --grace-period 0
check_clean "$repo" --read-data
