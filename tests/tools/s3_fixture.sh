#!/usr/bin/env bash
# The S3 server shared by one ctest run (fixture "s3_server"): ctest runs
# `start` before the first test that needs S3 and `stop` after the last.
#
#   s3_fixture.sh start DIR   start RGW (scripts/s3-server.sh) on free ports,
#                             create the bucket cairn-e2e, write DIR/env
#   s3_fixture.sh stop DIR    stop it and remove DIR
#
# DIR/env is sourced by tests/e2e/lib.sh (CAIRN_E2E_S3_ENV): the AWS_*
# variables of the server. When Ceph cannot be installed here, `start` still
# succeeds but DIR/env sets CAIRN_E2E_S3_UNAVAILABLE, and every S3 scenario
# skips (77) with that reason. A server left over by an interrupted run in
# DIR is stopped first. Extra settings for the server: CAIRN_S3_MEMSTORE_BYTES.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
server=$root/scripts/s3-server.sh
bucket=cairn-e2e

die() {
  echo "s3_fixture: $*" >&2
  exit 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 20000))
    port_free "$p" && { echo "$p"; return; }
  done
  die "no free TCP port on 127.0.0.1"
}

stop() {
  local dir=$1
  if [[ -d "$dir/rgw" ]]; then
    "$server" stop "$dir/rgw" || echo "s3_fixture: stopping the server in $dir/rgw failed" >&2
  fi
  rm -rf "$dir"
}

start() {
  local dir=$1
  [[ -n "$dir" ]] || die "usage: $0 start DIR"
  stop "$dir"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null ||
    ! command -v ceph-osd >/dev/null || ! command -v radosgw-admin >/dev/null; then
    echo "s3_fixture: installing Ceph (ceph-mon ceph-osd radosgw ceph-common)" >&2
    if ! bash "$root/scripts/setup.sh" ceph-mon ceph-osd radosgw ceph-common >"$dir/setup.log" 2>&1; then
      local why
      why="Ceph RGW cannot be installed here: $(tail -n 2 "$dir/setup.log" | tr '\n' ' ')"
      printf 'CAIRN_E2E_S3_UNAVAILABLE=%q\n' "$why" >"$dir/env"
      echo "s3_fixture: $why; S3 scenarios will skip" >&2
      return 0
    fi
  fi
  local t0=$SECONDS env_line
  # Deleted objects' tails go back to the (RAM) store within seconds, so a
  # whole suite fits in the memstore; see scripts/s3-server.sh.
  env_line=$(CAIRN_S3_PORT=$(free_port) CAIRN_S3_MON_PORT=$(free_port) \
    CAIRN_S3_MEMSTORE_BYTES=${CAIRN_S3_MEMSTORE_BYTES:-8589934592} \
    "$server" start "$dir/rgw") || die "scripts/s3-server.sh start failed (logs: $dir/rgw/log/)"
  eval "$env_line"
  local code
  code=$(curl -sS -o "$dir/mkbucket.out" -w '%{http_code}' -X PUT \
    --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$AWS_ENDPOINT_URL/$bucket") ||
    die "creating bucket $bucket at $AWS_ENDPOINT_URL: curl failed"
  [[ "$code" == 200 ]] || die "creating bucket $bucket: HTTP $code $(cat "$dir/mkbucket.out")"
  {
    echo "# written by tests/tools/s3_fixture.sh start $dir"
    echo "$env_line"
    echo "export E2E_S3_BUCKET=$bucket"
  } >"$dir/env.tmp"
  mv "$dir/env.tmp" "$dir/env"
  echo "s3_fixture: RGW at $AWS_ENDPOINT_URL (bucket $bucket) up in $((SECONDS - t0)) s; env in $dir/env" >&2
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop)
    [[ -n "${2:-}" ]] || die "usage: $0 stop DIR"
    stop "$2"
    ;;
  *)
    echo "usage: $0 start DIR | $0 stop DIR" >&2
    exit 2
    ;;
esac
