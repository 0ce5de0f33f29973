#!/usr/bin/env bash
# The single entry point.
#
#   bash scripts/run.sh demo    install packages, build, run the demo
#   bash scripts/run.sh test    install packages, build, run every test (ctest)
#   bash scripts/run.sh build   install packages, build ./build/cairn
#   bash scripts/run.sh bench   install packages, build, run bench/backup_bench.sh
#
# Environment: CMAKE_BUILD_TYPE (default RelWithDebInfo), CTEST_PARALLEL (default 2).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_dir="$root/build"

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# step NAME CMD...: run CMD; on failure say which step failed and exit with its code.
step() {
  local name=$1
  shift
  echo "==> $name" >&2
  local rc=0
  "$@" || rc=$?
  if ((rc != 0)); then
    echo "run.sh: step '$name' failed (exit $rc): $*" >&2
    exit "$rc"
  fi
}

configure() {
  local build_type=${CMAKE_BUILD_TYPE:-RelWithDebInfo}
  local fresh=()
  # A build dir made with another generator cannot be reused by Ninja.
  if [[ -f "$build_dir/CMakeCache.txt" ]] &&
    ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$build_dir/CMakeCache.txt"; then
    fresh=(--fresh)
  fi
  cmake -S "$root" -B "$build_dir" -G Ninja "${fresh[@]}" \
    -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
}

# build [TARGET...]: packages, configure, build (everything when no target given).
build() {
  local targets=()
  if (($# > 0)); then targets=(--target "$@"); fi
  step "setup (Debian packages)" bash "$root/scripts/setup.sh" ${extra_packages[@]+"${extra_packages[@]}"}
  step "configure (cmake)" configure
  step "build (ninja)" cmake --build "$build_dir" ${targets[@]+"${targets[@]}"}
}
extra_packages=()

cmd=${1:-}
[[ -n "$cmd" ]] || usage
shift

case "$cmd" in
  build)
    build
    ;;
  demo)
    build cairn
    step "demo" env CAIRN_BIN="$build_dir/cairn" bash "$root/scripts/demo.sh" "$@"
    ;;
  test)
    build
    step "test (ctest)" ctest --test-dir "$build_dir" --output-on-failure \
      --no-tests=error -j"${CTEST_PARALLEL:-2}" "$@"
    ;;
  bench)
    extra_packages=(restic borgbackup)
    build cairn
    step "bench" env CAIRN_BIN="$build_dir/cairn" bash "$root/bench/backup_bench.sh" "$@"
    ;;
  -h | --help | help)
    usage
    ;;
  *)
    echo "run.sh: unknown command '$cmd'" >&2
    usage
    ;;
esac
echo "==> $cmd: ok" >&2
