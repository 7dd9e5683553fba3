#!/bin/sh
# Install the Debian packages ringfence needs to build, test and benchmark.
# Idempotent: asks dpkg first, installs only what is missing, says what it installs.
# Usage: scripts/deps.sh [build|test|bench]   (default: build)
set -eu

build_pkgs="make clang llvm libclang-rt-14-dev bpftool libbpf-dev libelf-dev zlib1g-dev
  pkg-config libsodium-dev libseccomp-dev libyaml-dev libhyperscan-dev libcmocka-dev
  libcurl4-openssl-dev libsqlite3-dev libtss2-dev libssl-dev libmicrohttpd-dev libpq-dev"
test_pkgs="jq util-linux procps iproute2 valgrind bc swtpm swtpm-tools postgresql chromium nginx"
bench_pkgs="auditd bpftrace libbpf-tools hyperfine"

want=$build_pkgs
case "${1:-build}" in
  build) ;;
  test)  want="$build_pkgs $test_pkgs" ;;
  bench) want="$build_pkgs $test_pkgs $bench_pkgs" ;;
  *) echo "deps.sh: unknown set '$1' (build, test or bench)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "ringfence: missing Debian packages:$missing" >&2
  echo "ringfence: run 'make deps' as root (or: sudo apt-get install$missing)" >&2
  exit 1
fi
echo "ringfence: installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists; refresh them once if the install fails.
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends $missing
fi
