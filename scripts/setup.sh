#!/usr/bin/env bash
# Installs every Debian package cairn needs to build, test, run the demo and
# the benchmark. Idempotent and non-interactive; a fast no-op when everything
# is already installed. Works as root or through sudo.
#
#   bash scripts/setup.sh                      # the project's packages
#   bash scripts/setup.sh restic borgbackup    # ... plus extra ones
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ccache
  # libraries (see DESIGN.md "Dependencies")
  libssl-dev libzstd-dev libcurl4-openssl-dev libext2fs-dev libarchive-dev
  libsqlite3-dev libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev
  # tools used by the tests, the demo and the benchmark
  e2fsprogs zstd util-linux time xxd jq openssl curl
  # setfattr/getfattr for the xattrs of tests/e2e/snapshot_export.sh
  attr
  # the throw-away S3 server of tests/e2e/s3_conformance.sh (scripts/s3-server.sh)
  ceph-mon ceph-osd radosgw ceph-common
  # an independent S3 client for cross-checks (Debian's; /usr/bin/aws)
  awscli
  # the fault-injecting S3 proxy of the tests (tests/tools/s3_fault_proxy.py)
  python3
  # real NBD clients and the reference server (volume tests and benchmark)
  qemu-utils libnbd-bin nbdkit fio fuse3
  # images for the fs/ tests: partition tables, xattrs, a non-ext filesystem
  fdisk attr xfsprogs
)
packages+=("$@")

# One dpkg-query for all packages (one call each would cost ~0.5 s).
declare -A installed=()
while read -r name state; do
  if [[ "$state" == "install ok installed" ]]; then installed[${name%%:*}]=1; fi
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null || true)

missing=()
for p in "${packages[@]}"; do
  [[ -n "${installed[$p]:-}" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup: missing packages (${missing[*]}) and neither root nor sudo available" >&2
  exit 1
fi

"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
