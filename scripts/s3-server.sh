#!/usr/bin/env bash
# A throw-away S3 server for tests: a single-node Ceph cluster (1 mon, 1 osd
# on memstore, no mgr, no systemd) with one RADOS Gateway on 127.0.0.1.
# Starts in about 4 s; all state lives in one directory (data in RAM, about
# 2.4x the bytes stored), so it is gone after `stop`. For data that does not
# fit in RAM (benchmarks), CAIRN_S3_STORE=bluestore puts the osd on a sparse
# file DIR/osd-block.img of CAIRN_S3_BLUESTORE_BYTES (default 64 GiB) instead
# (about 8 s to start). Deleted objects go back to the store within seconds
# (rgw gc runs every 10 s, not every hour), so long test runs do not fill it.
#
#   eval "$(scripts/s3-server.sh start [DIR])"   # prints `export AWS_...`
#   scripts/s3-server.sh stop DIR                 # SIGKILLs it, removes DIR
#
# Packages: bash scripts/setup.sh ceph-mon ceph-osd radosgw ceph-common
# Ports: CAIRN_S3_PORT (RGW, default 17480) and CAIRN_S3_MON_PORT (default
# 13300); it refuses to start when one is taken (a stale mon once answered a
# new cluster). The user "cairn" has fixed test keys (below); no bucket is
# created. Logs: DIR/log/. See docs/s3.md and ../shared/notes/machine-facts.md.
set -euo pipefail

readonly ACCESS_KEY=CAIRNTESTACCESSKEY01
readonly SECRET_KEY=cairnTestSecretKey0000000000000000000001
readonly MARKER=.cairn-s3-server

starting_dir=  # set while `start` runs: a failed start kills what it spawned

die() {
  echo "s3-server: $*" >&2
  if [[ -n "$starting_dir" ]]; then
    local f
    for f in "$starting_dir"/run/*.pid.cairn; do
      [[ -f "$f" ]] && kill -9 "$(<"$f")" 2>/dev/null
    done
  fi
  exit 1
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits up to $2 seconds for `$1` (a shell command) to succeed.
wait_for() {
  local cmd=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    if eval "$cmd" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Dead or a zombie (PID 1 here reaps slowly).
pid_gone() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
  [[ -z "$state" || "$state" == Z* ]]
}

stop() {
  local dir=$1 pidfile pid
  [[ -f "$dir/$MARKER" ]] || die "$dir was not made by s3-server.sh start; not touching it"
  for pidfile in "$dir"/run/*.pid.cairn; do
    [[ -f "$pidfile" ]] || continue
    pid=$(<"$pidfile")
    kill -9 "$pid" 2>/dev/null || true
  done
  for pidfile in "$dir"/run/*.pid.cairn; do
    [[ -f "$pidfile" ]] || continue
    pid=$(<"$pidfile")
    wait_for "pid_gone $pid" 10 || echo "s3-server: pid $pid did not exit" >&2
  done
  rm -rf "$dir"
}

# Starts "$@" detached, logging to $dir/log/$name.out, its pid in run/.
spawn() {
  local name=$1
  shift
  setsid "$@" >"$dir/log/$name.out" 2>&1 </dev/null &
  echo $! >"$dir/run/$name.pid.cairn"
}

start() {
  local dir=${1:-}
  local port=${CAIRN_S3_PORT:-17480} mon_port=${CAIRN_S3_MON_PORT:-13300}
  local tool
  for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool uuidgen curl; do
    command -v "$tool" >/dev/null ||
      die "$tool not found: run bash scripts/setup.sh ceph-mon ceph-osd radosgw ceph-common"
  done
  port_taken "$port" && die "port $port (RGW) is taken; set CAIRN_S3_PORT or stop what uses it"
  port_taken "$mon_port" && die "port $mon_port (mon) is taken; set CAIRN_S3_MON_PORT or stop what uses it"
  if [[ -z "$dir" ]]; then
    dir=$(mktemp -d /tmp/cairn-s3.XXXXXX)
  else
    mkdir -p "$dir"
    [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
  fi
  dir=$(cd "$dir" && pwd)
  touch "$dir/$MARKER"
  starting_dir=$dir
  mkdir -p "$dir"/{mon,osd,rgw,run,log}
  local conf=$dir/ceph.conf fsid store_conf
  fsid=$(uuidgen)
  case "${CAIRN_S3_STORE:-memstore}" in
    memstore)
      store_conf="osd objectstore = memstore
memstore device bytes = ${CAIRN_S3_MEMSTORE_BYTES:-4294967296}"
      ;;
    bluestore)
      store_conf="osd objectstore = bluestore
bluestore block path = $dir/osd-block.img
bluestore block create = true
bluestore block size = ${CAIRN_S3_BLUESTORE_BYTES:-68719476736}
bluestore fsck on mkfs = false
bluestore fsck on mount = false"
      ;;
    *) die "CAIRN_S3_STORE must be memstore or bluestore, not '${CAIRN_S3_STORE}'" ;;
  esac
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
keyring = $dir/admin.keyring
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail crit = 0
mon data avail warn = 0
mon max pg per osd = 1000
paxos propose interval = 0.05
paxos min wait = 0.01
[mon]
mon data = $dir/mon
[osd]
osd data = $dir/osd
keyring = $dir/osd/keyring
$store_conf
[client.rgw.cairn]
keyring = $dir/rgw.keyring
rgw data = $dir/rgw
rgw frontends = beast endpoint=127.0.0.1:$port tcp_nodelay=1
rgw gc obj min wait = 5
rgw gc processor period = 10
CONF
  {
    ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *'
    ceph-authtool --create-keyring "$dir/admin.keyring" --gen-key -n client.admin \
      --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *'
    ceph-authtool "$dir/mon.keyring" --import-keyring "$dir/admin.keyring"
    monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap"
    ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring"
  } >"$dir/log/setup.out" 2>&1 || die "creating the mon failed; see $dir/log/setup.out"
  spawn mon ceph-mon -c "$conf" -i a -f
  local ceph=(ceph -c "$conf" --connect-timeout 20)
  local osd_uuid osd_secret osd_id
  osd_uuid=$(uuidgen)
  osd_secret=$(ceph-authtool --gen-print-key)
  osd_id=$(echo "{\"cephx_secret\": \"$osd_secret\"}" |
    "${ceph[@]}" osd new "$osd_uuid" -i - 2>>"$dir/log/setup.out") ||
    die "ceph osd new failed; see $dir/log/"
  {
    ceph-authtool --create-keyring "$dir/osd/keyring" --name "osd.$osd_id" --add-key "$osd_secret"
    ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid"
  } >>"$dir/log/setup.out" 2>&1 || die "creating the osd failed; see $dir/log/setup.out"
  spawn osd ceph-osd -c "$conf" -i "$osd_id" -f
  "${ceph[@]}" auth get-or-create client.rgw.cairn mon 'allow rw' osd 'allow rwx' \
    -o "$dir/rgw.keyring" >>"$dir/log/setup.out" 2>&1 || die "rgw key failed; see $dir/log/"
  spawn rgw radosgw -c "$conf" -n client.rgw.cairn -f
  if ! wait_for "curl -sf -o /dev/null http://127.0.0.1:$port/" 90; then
    die "RGW did not answer on 127.0.0.1:$port within 90 s; see $dir/log/ (stop with: $0 stop $dir)"
  fi
  radosgw-admin -c "$conf" user create --uid cairn --display-name cairn \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >>"$dir/log/setup.out" 2>&1 ||
    die "radosgw-admin user create failed; see $dir/log/setup.out"
  starting_dir=
  echo "export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=$ACCESS_KEY" \
    "AWS_SECRET_ACCESS_KEY=$SECRET_KEY AWS_REGION=us-east-1 CAIRN_S3_DIR=$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop)
    [[ -n "${2:-}" ]] || die "usage: $0 stop DIR"
    stop "$2"
    ;;
  *) echo "usage: $0 start [DIR] | $0 stop DIR" >&2; exit 2 ;;
esac
