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

declare -a _cleanup_loops=() _cleanup_mounts=() _cleanup_pids=()

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
track_pid() { _cleanup_pids+=("$1"); }
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
