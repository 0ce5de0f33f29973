# Shared helpers for the end-to-end tests. Each test is one bash script that
# sources this file, drives the real `cairn` binary and exits 0 (pass),
# 77 (skipped: cannot run here, with the reason) or anything else (fail).
#
#   CAIRN_BIN   the binary under test (set by ctest; default ../../build/cairn)
#   KEEP=1      keep the test's temporary directory for inspection
#   E2E_TMP     where to create temporary directories (default $TMPDIR or /tmp)
#
# Conventions: every helper that fails calls `fail` with what was expected and
# what happened; `expect_exit` leaves the last command's stdout/stderr in
# $OUT / $ERR (files) so a test can assert on them.

set -euo pipefail
export LC_ALL=C
export PATH="$PATH:/usr/sbin:/sbin"

E2E_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CAIRN_BIN=${CAIRN_BIN:-$_lib_dir/../../build/cairn}

# ---------------------------------------------------------------- reporting

log() { echo "[$E2E_NAME] $*" >&2; }

fail() {
  echo "[$E2E_NAME] FAIL: $*" >&2
  if [[ -n "${T:-}" && -s "$T/.lastcmd" ]]; then
    echo "[$E2E_NAME]   last command run by expect_exit: $(cat "$T/.lastcmd")" >&2
  fi
  exit 1
}

skip() {
  echo "[$E2E_NAME] SKIP: $*" >&2
  exit 77
}

[[ -x "$CAIRN_BIN" ]] || fail "no executable cairn binary at CAIRN_BIN=$CAIRN_BIN"

# ------------------------------------------------------------ temp + cleanup

T=$(mktemp -d "${E2E_TMP:-${TMPDIR:-/tmp}}/cairn-e2e-$E2E_NAME.XXXXXX")
OUT=$T/.out
ERR=$T/.err
: >"$OUT"
: >"$ERR"

declare -a _cleanup_loops=() _cleanup_mounts=() _cleanup_pids=() _cleanup_cmds=()

_cleanup() {
  local rc=$?
  set +e
  local p
  for p in "${_cleanup_pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill -CONT "$p" 2>/dev/null
      kill -KILL "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
  local l
  for l in "${_cleanup_loops[@]}"; do
    losetup -d "$l" 2>/dev/null
  done
  local m
  for m in "${_cleanup_mounts[@]}"; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
  local c
  for c in "${_cleanup_cmds[@]}"; do
    eval "$c"
  done
  if [[ -n "${KEEP:-}" ]]; then
    echo "[$E2E_NAME] kept $T" >&2
  else
    rm -rf "$T"
  fi
  if ((rc == 0)); then
    echo "[$E2E_NAME] PASS" >&2
  fi
  exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# track_pid PID / track_loop DEV / track_mount DIR: undone by the cleanup.
# at_exit CMD: a shell command the cleanup evals (after pids, loops, mounts).
track_pid() { _cleanup_pids+=("$1"); }
at_exit() { _cleanup_cmds+=("$1"); }
track_loop() { _cleanup_loops+=("$1"); }
track_mount() { _cleanup_mounts+=("$1"); }

# -------------------------------------------------------------------- cairn

export CAIRN_PASSWORD=${E2E_PASSWORD:-correct horse battery staple}
unset CAIRN_REPOSITORY CAIRN_PASSWORD_FILE CAIRN_NEW_PASSWORD || true

# cairn ARGS...: the binary under test with the test's passphrase. Does not
# capture anything; use expect_exit to assert on the exit code.
cairn() {
  "$CAIRN_BIN" "$@"
}

# expect_exit CODE CMD...: runs CMD (stdout → $OUT, stderr → $ERR), fails the
# test unless it exits with CODE. On failure prints both streams.
expect_exit() {
  local want=$1
  shift
  _LAST_CMD="$*"
  printf '%s\n' "$*" >"$T/.lastcmd"
  local rc=0
  "$@" >"$OUT" 2>"$ERR" </dev/null || rc=$?
  if [[ "$rc" != "$want" ]]; then
    {
      echo "[$E2E_NAME] FAIL: expected exit $want, got $rc from: $*"
      echo "----- stdout (first 60 lines)"
      head -n 60 "$OUT"
      echo "----- stderr (first 60 lines)"
      head -n 60 "$ERR"
      echo "-----"
    } >&2
    exit 1
  fi
}

# ok CMD...: expect_exit 0.
ok() { expect_exit 0 "$@"; }

# _expect_in WHAT GREPFLAGS FILE... -- TEXT...: every TEXT occurs (fixed
# string) in the FILEs; otherwise fails, showing WHAT of the last command.
_expect_in() {
  local what=$1 flags=$2 files=() s
  shift 2
  while [[ "$1" != "--" ]]; do files+=("$1"); shift; done
  shift
  for s in "$@"; do
    if ! grep -q"$flags"F -- "$s" "${files[@]}"; then
      fail "expected the $what of '$_LAST_CMD' to contain '$s'; it was:
$(cat "${files[@]}" | head -n 40)"
    fi
  done
}

# expect_stderr_contains TEXT...: every TEXT occurs in $ERR (case-insensitive,
# fixed string). Call right after expect_exit.
expect_stderr_contains() { _expect_in stderr i "$ERR" -- "$@"; }

# expect_stderr_matches REGEX: $ERR matches the extended regex (case-insensitive).
expect_stderr_matches() {
  if ! grep -qiE -- "$1" "$ERR"; then
    fail "expected stderr of '$_LAST_CMD' to match /$1/; stderr was:
$(head -n 40 "$ERR")"
  fi
}

# expect_stdout_contains TEXT...: every TEXT occurs in $OUT (case-sensitive).
expect_stdout_contains() { _expect_in stdout "" "$OUT" -- "$@"; }

# expect_output_contains TEXT...: every TEXT occurs in stdout or stderr of
# the last command (case-insensitive): for findings cairn may print on either.
expect_output_contains() { _expect_in "stdout+stderr" i "$OUT" "$ERR" -- "$@"; }

# json EXPR: jq -r EXPR over $OUT (the last command's stdout), failing the
# test with the document when it is not JSON (a missing field prints "null").
json() {
  local v
  if ! v=$(jq -r "$1" "$OUT" 2>&1); then
    fail "jq '$1' failed on stdout of '$_LAST_CMD' ($v); stdout was:
$(head -c 3000 "$OUT")"
  fi
  printf '%s\n' "$v"
}

# init_repo DIR [ARGS...]: cairn repo init, asserting success.
init_repo() {
  local dir=$1
  shift
  ok cairn -r "$dir" repo init "$@"
}

# snap_create REPO SOURCE [ARGS...]: creates a snapshot with --output json;
# prints the snapshot id. The JSON stays in $OUT.
snap_create() {
  local repo=$1 src=$2
  shift 2
  ok cairn -r "$repo" --output json snapshot create "$src" "$@"
  json .snapshot_id
}

# restore_cmp REPO SNAP SOURCE: restores SNAP to a new file and cmp's it with
# SOURCE (the bytes the snapshot must hold).
restore_cmp() {
  local repo=$1 snap=$2 want=$3
  local target
  target=$(mktemp -u "$T/restore.XXXXXX")
  ok cairn -r "$repo" snapshot restore "$snap" "$target"
  if ! cmp "$want" "$target" >"$T/.cmp" 2>&1; then
    fail "restore of $snap differs from $want: $(cat "$T/.cmp") (sizes: want $(stat -c %s "$want"), got $(stat -c %s "$target"))"
  fi
  rm -f "$target"
}

# check_clean REPO [ARGS...]: repo check --output json exits 0 with no error
# and no warning finding (e.g. no leftovers of an interrupted backup).
check_clean() {
  local repo=$1
  shift
  ok cairn -r "$repo" --output json repo check "$@"
  local e w
  e=$(json .errors)
  w=$(json .warnings)
  if [[ "$e" != 0 || "$w" != 0 ]]; then
    fail "repo check $* on $repo: expected no findings, got $e errors and $w warnings: $(jq -c .findings "$OUT" | head -c 3000)"
  fi
}

# ----------------------------------------------------------------- numbers

# fsize FILE: apparent size in bytes. fallocated FILE: bytes allocated.
fsize() { stat -c %s "$1"; }
fallocated() { echo $(($(stat -c %b "$1") * $(stat -c %B "$1"))); }
dir_bytes() { du -sb --apparent-size "$1" | cut -f1; }
dir_allocated() { du -s -B1 "$1" | cut -f1; }

# assert_eq WHAT WANT GOT / assert_between WHAT LO HI GOT (integers, inclusive)
assert_eq() {
  [[ "$2" == "$3" ]] || fail "$1: expected '$2', got '$3'"
}
assert_between() {
  local what=$1 lo=$2 hi=$3 got=$4
  [[ "$got" =~ ^-?[0-9]+$ ]] || fail "$what: expected an integer in [$lo, $hi], got '$got'"
  ((got >= lo && got <= hi)) || fail "$what: expected in [$lo, $hi], got $got"
}

# ----------------------------------------------------------------- images
# All generators are deterministic given their seed, so failures reproduce.

# rand_stream SEED BYTES: BYTES pseudo-random bytes (AES-128-CTR keystream).
rand_stream() {
  local key
  key=$(printf '%s' "cairn-e2e-$1" | sha256sum | cut -c1-32)
  head -c "$2" /dev/zero | openssl enc -aes-128-ctr -nosalt -K "$key" -iv 00000000000000000000000000000000
}

# text_stream SEED BYTES: BYTES of compressible, non-repeating text.
text_stream() {
  awk -v s="$1" -v n="$2" 'BEGIN {
    srand(length(s) * 7919 + n % 100003)
    for (i = 0; n > 0; i++) {
      line = sprintf("%08d log line %d of run %s: status=%s value=%d\n", i, i * 7, s, (rand() < 0.5 ? "ok" : "retry"), int(rand() * 1000))
      if (length(line) > n) line = substr(line, 1, n)
      printf "%s", line
      n -= length(line)
    }
  }'
}

# write_at FILE OFFSET: writes stdin into FILE at byte OFFSET (no truncation).
write_at() {
  dd of="$1" bs=1M seek="$2" oflag=seek_bytes conv=notrunc status=none
}

# img_new FILE SIZE: a FILE of SIZE bytes that is one hole.
img_new() { rm -f "$1" && truncate -s "$2" "$1"; }
# img_rand FILE OFFSET LEN SEED / img_text FILE OFFSET LEN SEED /
# img_zero FILE OFFSET LEN (real zero bytes, allocated, not a hole)
img_rand() { rand_stream "$4" "$3" | write_at "$1" "$2"; }
img_text() { text_stream "$4" "$3" | write_at "$1" "$2"; }
img_zero() { head -c "$3" /dev/zero | write_at "$1" "$2"; }

# make_image FILE SIZE SEED: a mixed image of SIZE bytes. Per eighth of the
# image: random, text, hole, real zeros, random, hole, text, random, then a
# random tail so the last (partial) block has data.
make_image() {
  local f=$1 size=$2 seed=$3
  local e=$((size / 8))
  img_new "$f" "$size"
  img_rand "$f" 0 "$e" "$seed-a"
  img_text "$f" "$e" "$e" "$seed-b"
  img_zero "$f" $((3 * e)) "$e"
  img_rand "$f" $((4 * e)) "$e" "$seed-c"
  img_text "$f" $((6 * e)) "$e" "$seed-d"
  img_rand "$f" $((7 * e)) $((size - 7 * e)) "$seed-e"
}

# flip_bit FILE OFFSET [BIT]: inverts one bit of the byte at OFFSET in place.
flip_bit() {
  local f=$1 off=$2 bit=${3:-0}
  local b
  b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
  [[ -n "$b" ]] || fail "flip_bit: offset $off is beyond the end of $f ($(fsize "$f") bytes)"
  printf "$(printf '\\%03o' $((b ^ (1 << bit))))" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
  local nb
  nb=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
  [[ "$nb" == "$((b ^ (1 << bit)))" ]] || fail "flip_bit: byte at $off of $f is $nb after flipping, expected $((b ^ (1 << bit)))"
}

# ----------------------------------------------------------------- processes

# wait_dead PID [TIMEOUT_S]: waits until PID is gone (a zombie counts as gone).
wait_dead() {
  local pid=$1 t=${2:-10} i
  for ((i = 0; i < t * 20; i++)); do
    local st
    st=$(ps -o stat= -p "$pid" 2>/dev/null || true)
    [[ -z "$st" || "$st" == Z* ]] && return 0
    sleep 0.05
  done
  return 1
}

need_root() {
  [[ $(id -u) -eq 0 ]] || skip "needs root ($1)"
}

# ----------------------------------------------------------------- backends
# The same scenario runs against a local directory or an S3 repository:
#
#   CAIRN_E2E_BACKEND=local|s3   (default local; ctest's e2e_s3_<name> sets s3)
#   CAIRN_E2E_S3_ENV=FILE        the shared server's settings, written by
#                                tests/tools/s3_fixture.sh (the ctest fixture);
#                                unset: the script starts its own RGW
#                                (scripts/s3-server.sh) and stops it at exit
#
# A scenario names its repositories with `repo_url NAME` and touches their
# objects only through the obj_* helpers below, never through paths. ctest
# registers a script on S3 too (e2e_s3_<name>) when it uses repo_url or
# local_only. On S3 every repository lives under one prefix unique to the
# run, s3://$E2E_S3_BUCKET/$E2E_S3_PREFIX/NAME, removed at exit unless KEEP=1.
# The helpers use curl (it signs SigV4 itself), never cairn's own code.

E2E_BACKEND=${CAIRN_E2E_BACKEND:-local}
case "$E2E_BACKEND" in
  local | s3) ;;
  *) fail "CAIRN_E2E_BACKEND must be 'local' or 's3', not '$E2E_BACKEND'" ;;
esac
E2E_S3_BUCKET=${E2E_S3_BUCKET:-cairn-e2e}
E2E_S3_PREFIX=
_s3_own_server=
_s3_empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# local_only REASON: skips the scenario on the S3 backend, saying why.
local_only() {
  [[ "$E2E_BACKEND" == local ]] || skip "not applicable to S3 repositories: $1"
}

# port_free PORT: nothing listens on 127.0.0.1:PORT. free_port: picks one.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 20000))
    port_free "$p" && { echo "$p"; return; }
  done
  fail "no free TCP port found on 127.0.0.1"
}

# s3_server_up: makes AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_REGION point at a running RGW with the bucket $E2E_S3_BUCKET: the shared
# one (CAIRN_E2E_S3_ENV), or one started now and stopped at exit; picks this
# run's prefix E2E_S3_PREFIX, removed at exit. Skips (77) when the fixture
# reports that Ceph cannot be installed here. Idempotent. Runs when lib.sh is
# sourced on the S3 backend; a script that needs S3 on both backends (or an
# s3_*.sh run by hand) calls it first. Never call it in $(...): what it sets
# would be lost with the subshell.
s3_server_up() {
  [[ -n "$E2E_S3_PREFIX" ]] && return 0
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 CAIRN_S3_PATH_STYLE AWS_CA_BUNDLE \
    AWS_DEFAULT_REGION || true
  if [[ -n "${CAIRN_E2E_S3_ENV:-}" && -f "${CAIRN_E2E_S3_ENV}" ]]; then
    # shellcheck disable=SC1090
    source "$CAIRN_E2E_S3_ENV"
    [[ -z "${CAIRN_E2E_S3_UNAVAILABLE:-}" ]] || skip "no S3 server: $CAIRN_E2E_S3_UNAVAILABLE"
  elif [[ -n "${CAIRN_E2E_S3_ENV:-}" && "$E2E_BACKEND" == s3 ]]; then
    fail "CAIRN_E2E_S3_ENV=$CAIRN_E2E_S3_ENV does not exist: did the fixture e2e_s3_server_start run?"
  else
    local server=$_lib_dir/../../scripts/s3-server.sh env_line
    if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null; then
      log "installing Ceph (ceph-mon ceph-osd radosgw ceph-common)"
      bash "$_lib_dir/../../scripts/setup.sh" ceph-mon ceph-osd radosgw ceph-common \
        >"$T/setup.log" 2>&1 || skip "Ceph RGW cannot be installed here: $(tail -n 3 "$T/setup.log")"
    fi
    env_line=$(CAIRN_S3_PORT=$(free_port) CAIRN_S3_MON_PORT=$(free_port) \
      "$server" start "$T/rgw" 2>"$T/rgw-start.err") ||
      fail "scripts/s3-server.sh start failed: $(cat "$T/rgw-start.err")"
    _s3_own_server=$T/rgw
    eval "$env_line"
    log "started RGW at $AWS_ENDPOINT_URL for this script"
  fi
  E2E_S3_PREFIX=$E2E_NAME-$(date +%s)-$$-$RANDOM
  # The cleanup may run inside a command's `AWS_...=x cmd` scope (a failed
  # assertion exits there): it uses the settings as they are now.
  _s3_settings=$(declare -p AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION)
  at_exit _s3_cleanup
  s3_mkbucket "$E2E_S3_BUCKET"
}

# s3_curl ARGS...: curl signing with the test credentials (SigV4 by curl).
# Sends x-amz-content-sha256 (RGW needs it on every request) as UNSIGNED-PAYLOAD.
s3_curl() {
  curl -sS --aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:s3" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

# s3_mkbucket NAME: creates the bucket (fine when this user already owns it).
s3_mkbucket() {
  local code
  code=$(s3_curl -o "$T/.mkbucket" -w '%{http_code}' -X PUT "$AWS_ENDPOINT_URL/$1") ||
    fail "creating bucket $1 at $AWS_ENDPOINT_URL: curl failed"
  [[ "$code" == 200 ]] || grep -q BucketAlreadyOwnedByYou "$T/.mkbucket" ||
    fail "creating bucket $1 at $AWS_ENDPOINT_URL: HTTP $code $(cat "$T/.mkbucket")"
}

# _s3_cleanup: removes this run's objects, then the server this script started.
_s3_cleanup() {
  eval "$_s3_settings"
  if [[ -n "$E2E_S3_PREFIX" && -z "${KEEP:-}" ]]; then
    s3_rm_prefix "$E2E_S3_BUCKET" "$E2E_S3_PREFIX/" ||
      echo "[$E2E_NAME] could not remove s3://$E2E_S3_BUCKET/$E2E_S3_PREFIX/" >&2
  elif [[ -n "$E2E_S3_PREFIX" ]]; then
    echo "[$E2E_NAME] kept s3://$E2E_S3_BUCKET/$E2E_S3_PREFIX/ at $AWS_ENDPOINT_URL" >&2
  fi
  if [[ -n "$_s3_own_server" && -z "${KEEP:-}" ]]; then
    "$_lib_dir/../../scripts/s3-server.sh" stop "$_s3_own_server" >/dev/null 2>&1
  fi
}

# repo_url NAME: where the scenario's repository NAME lives: $T/NAME, or
# s3://BUCKET/PREFIX/NAME on the S3 backend. s3_repo_url NAME: always the
# S3 one (REQUIRES: s3_server_up ran).
repo_url() {
  if [[ "$E2E_BACKEND" == local ]]; then
    echo "$T/$1"
  else
    s3_repo_url "$1"
  fi
}
s3_repo_url() {
  [[ -n "$E2E_S3_PREFIX" ]] || fail "s3_repo_url $1: call s3_server_up first (not inside \$(...))"
  echo "s3://$E2E_S3_BUCKET/$E2E_S3_PREFIX/$1"
}

# _s3_split URL: sets _b (bucket) and _p (prefix, no trailing slash) of s3://b/p.
_s3_split() {
  local rest=${1#s3://}
  _b=${rest%%/*}
  _p=
  [[ "$rest" == */* ]] && _p=${rest#*/}
  _p=${_p%/}
}

# _obj_url REPO KEY: the object's http URL (S3) or file path (local).
_obj_url() {
  if [[ "$1" == s3://* ]]; then
    local _b _p
    _s3_split "$1"
    echo "$AWS_ENDPOINT_URL/$_b/${_p:+$_p/}$2"
  else
    echo "$1/$2"
  fi
}

# s3_list BUCKET PREFIX: "key size etag" per object under PREFIX (full keys,
# ListObjectsV2 with continuation tokens), sorted by key.
s3_list() {
  local bucket=$1 prefix=$2 token='' page q enc_prefix
  enc_prefix=$(printf '%s' "$prefix" | jq -sRr @uri)
  page=$T/.s3list
  while :; do
    q="list-type=2&prefix=$enc_prefix"
    [[ -n "$token" ]] && q="continuation-token=$(printf '%s' "$token" | jq -sRr @uri)&$q"
    s3_curl -f -o "$page" "$AWS_ENDPOINT_URL/$bucket?$q" ||
      fail "listing s3://$bucket/$prefix at $AWS_ENDPOINT_URL failed"
    grep -oP '<Contents>.*?</Contents>' "$page" |
      sed -E 's|.*<Key>([^<]*)</Key>.*<ETag>(&quot;)?([^&<]*)(&quot;)?</ETag>.*<Size>([0-9]+)</Size>.*|\1 \5 \3|' || true
    grep -q '<IsTruncated>true</IsTruncated>' "$page" || break
    token=$(grep -oP '(?<=<NextContinuationToken>)[^<]*' "$page") ||
      fail "listing s3://$bucket/$prefix: truncated page without a continuation token"
  done | sort
}

# s3_rm_prefix BUCKET PREFIX: deletes every object under PREFIX (one curl, one
# connection, one DELETE per object).
s3_rm_prefix() {
  local urls=() k _s _e
  while read -r k _s _e; do
    urls+=("$AWS_ENDPOINT_URL/$1/$k")
  done < <(s3_list "$1" "$2")
  ((${#urls[@]} == 0)) && return 0
  s3_curl -f -X DELETE "${urls[@]}" >/dev/null
}

# obj_list REPO [SUB]: "key size" per object of the repository (keys relative
# to it; only those starting with SUB), sorted by key. Lock objects included.
obj_list() {
  local repo=$1 sub=${2:-}
  if [[ "$repo" == s3://* ]]; then
    local _b _p k s e
    _s3_split "$repo"
    s3_list "$_b" "${_p:+$_p/}$sub" | while read -r k s e; do
      echo "${k#"${_p:+$_p/}"} $s"
    done
  else
    [[ -d "$repo" ]] || return 0
    (cd "$repo" && find . -type f -printf '%P %s\n' | grep -E "^$sub" | sort || true)
  fi
}

# obj_size REPO KEY: the object's size in bytes (empty when it does not exist).
obj_size() { obj_list "$1" "$2" | awk -v k="$2" '$1 == k { print $2 }'; }

# obj_keys REPO [SUB]: the keys only. obj_count REPO [SUB]: how many.
# obj_bytes REPO [SUB]: their total size.
obj_keys() { obj_list "$@" | cut -d' ' -f1; }
obj_count() { obj_list "$@" | wc -l; }
obj_bytes() { obj_list "$@" | awk '{ s += $2 } END { print s + 0 }'; }

# obj_get REPO KEY FILE / obj_put REPO KEY FILE / obj_rm REPO KEY /
# obj_cat REPO KEY (to stdout) / obj_exists REPO KEY (status only).
obj_get() {
  if [[ "$1" == s3://* ]]; then
    s3_curl -f -o "$3" "$(_obj_url "$1" "$2")" 2>"$T/.objerr" ||
      fail "obj_get $1 $2: $(cat "$T/.objerr")"
  else
    cp "$1/$2" "$3" || fail "obj_get $1 $2 failed"
  fi
}
obj_put() {
  if [[ "$1" == s3://* ]]; then
    s3_curl -f -X PUT --data-binary "@$3" -o /dev/null "$(_obj_url "$1" "$2")" 2>"$T/.objerr" ||
      fail "obj_put $1 $2: $(cat "$T/.objerr")"
  else
    { mkdir -p "$(dirname "$1/$2")" && cp "$3" "$1/$2"; } || fail "obj_put $1 $2 failed"
  fi
}
obj_rm() {
  if [[ "$1" == s3://* ]]; then
    s3_curl -f -X DELETE -o /dev/null "$(_obj_url "$1" "$2")" 2>"$T/.objerr" ||
      fail "obj_rm $1 $2: $(cat "$T/.objerr")"
  else
    rm "$1/$2" || fail "obj_rm $1 $2 failed"
  fi
}
obj_cat() {
  if [[ "$1" == s3://* ]]; then
    s3_curl -f "$(_obj_url "$1" "$2")" 2>"$T/.objerr" || fail "obj_cat $1 $2: $(cat "$T/.objerr")"
  else
    cat "$1/$2" || fail "obj_cat $1 $2 failed"
  fi
}
obj_exists() {
  if [[ "$1" == s3://* ]]; then
    s3_curl -f -I -o /dev/null "$(_obj_url "$1" "$2")" 2>/dev/null
  else
    [[ -f "$1/$2" ]]
  fi
}

# obj_flip_bit REPO KEY OFFSET [BIT] / obj_truncate REPO KEY SIZE: damage one
# object in place (read, change, write back).
obj_flip_bit() {
  local tmp=$T/.obj
  obj_get "$1" "$2" "$tmp"
  flip_bit "$tmp" "$3" "${4:-0}"
  obj_put "$1" "$2" "$tmp"
  rm -f "$tmp"
}
obj_truncate() {
  local tmp=$T/.obj
  obj_get "$1" "$2" "$tmp"
  truncate -s "$3" "$tmp"
  obj_put "$1" "$2" "$tmp"
  rm -f "$tmp"
}

# obj_sha256 REPO KEY: the hex SHA-256 of the object's bytes.
obj_sha256() { obj_cat "$1" "$2" | sha256sum | cut -d' ' -f1; }

# repo_copy SRC DST: a copy of every object (S3: server-side copies).
repo_copy() {
  local src=$1 dst=$2 k
  if [[ "$src" == s3://* ]]; then
    local _b _p sb sp
    _s3_split "$src"
    sb=$_b sp=$_p
    for k in $(obj_keys "$src"); do
      s3_curl -f -X PUT -H "x-amz-copy-source: /$sb/${sp:+$sp/}$k" -o /dev/null \
        "$(_obj_url "$dst" "$k")" || fail "repo_copy: copying $k from $src to $dst failed"
    done
  else
    rm -rf "$dst"
    cp -a "$src" "$dst" || fail "repo_copy $src $dst failed"
  fi
}

# repo_upload DIR REPO: puts every file under the local directory DIR into
# REPO (for S3: the same keys under its prefix; for local: a copy).
repo_upload() {
  local dir=$1 repo=$2 k
  if [[ "$repo" == s3://* ]]; then
    for k in $(cd "$dir" && find . -type f -printf '%P\n' | sort); do
      obj_put "$repo" "$k" "$dir/$k"
    done
  else
    rm -rf "$repo"
    cp -a "$dir" "$repo" || fail "repo_upload $dir $repo failed"
  fi
}

# repo_state REPO: one line per object (locks/ aside) with its size and a
# content hash, so "changes nothing" can be asserted exactly.
repo_state() {
  local repo=$1
  if [[ "$repo" == s3://* ]]; then
    local _b _p k s e
    _s3_split "$repo"
    s3_list "$_b" "${_p:+$_p/}" | while read -r k s e; do
      k=${k#"${_p:+$_p/}"}
      [[ "$k" == locks/* ]] || echo "$k $s $e"
    done
  else
    (cd "$repo" && find . -type f ! -path './locks/*' -printf '%P %s\n' | sort |
      while read -r p s; do echo "$p $s $(sha256sum <"$p" | cut -c1-16)"; done)
  fi
}

if [[ "$E2E_BACKEND" == s3 ]]; then
  s3_server_up
fi

# ------------------------------------------------------------- fault proxy
# proxy_start [ARGS...]: starts tests/tools/s3_fault_proxy.py in front of
# $AWS_ENDPOINT_URL (ARGS: --fail 0.1 --faults 500,503,drop,reset --seed N
# --delay-ms N --region R ...); sets PROXY_URL (point AWS_ENDPOINT_URL of a
# cairn command at it), PROXY_PID, PROXY_LOG (one line per request: time,
# method, path, status or injected fault, bytes in, bytes out) and
# PROXY_CONTROL. proxy_set JSON changes its settings while it runs (keys
# fail, faults, delay_ms, jitter_ms, region). proxy_stop ends it.
# proxy_count REGEX: requests in PROXY_LOG whose line matches REGEX.
proxy_start() {
  local py=/usr/bin/python3
  [[ -x "$py" ]] || py=$(command -v python3) || skip "python3 is not installed (scripts/setup.sh)"
  [[ -n "${AWS_ENDPOINT_URL:-}" ]] || fail "proxy_start: no AWS_ENDPOINT_URL (call s3_server_up first)"
  local n=$((${_proxy_n:-0} + 1))
  _proxy_n=$n
  PROXY_LOG=$T/proxy$n.log
  PROXY_CONTROL=$T/proxy$n.control.json
  local portfile=$T/proxy$n.port
  : >"$PROXY_LOG"
  "$py" "$_lib_dir/../tools/s3_fault_proxy.py" --upstream "$AWS_ENDPOINT_URL" \
    --port-file "$portfile" --log "$PROXY_LOG" --control "$PROXY_CONTROL" "$@" \
    >"$T/proxy$n.out" 2>&1 &
  PROXY_PID=$!
  track_pid "$PROXY_PID"
  local i
  for ((i = 0; i < 200; i++)); do
    if [[ -s "$portfile" ]]; then
      PROXY_URL=http://127.0.0.1:$(<"$portfile")
      return 0
    fi
    kill -0 "$PROXY_PID" 2>/dev/null || fail "the fault proxy exited: $(cat "$T/proxy$n.out")"
    sleep 0.05
  done
  fail "the fault proxy did not start within 10 s: $(cat "$T/proxy$n.out")"
}
proxy_set() {
  printf '%s\n' "$1" >"$PROXY_CONTROL.tmp"
  mv "$PROXY_CONTROL.tmp" "$PROXY_CONTROL"
}
proxy_stop() {
  [[ -n "${PROXY_PID:-}" ]] || return 0
  kill "$PROXY_PID" 2>/dev/null || true
  wait "$PROXY_PID" 2>/dev/null || true
  PROXY_PID=
}
proxy_count() { grep -cE -- "$1" "$PROXY_LOG" || true; }
