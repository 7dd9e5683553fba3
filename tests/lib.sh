# shellcheck shell=bash
# Helpers for integration tests: TAP output, requirements, a watchdog, cleanup.
#   source "$(dirname "$0")/../lib.sh"
# Each test prints "ok N - what" / "not ok N - what"; call done_testing at the end.
set -u
RF_TOP=${RF_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
RF_BUILD=${RF_BUILD:-$RF_TOP/build}
RF_BIN=${RF_BIN:-$RF_BUILD/ringfence}
# third-party Sigma rules and specification (scripts/sigma-dir.sh; empty when missing)
RF_SIGMA_DIR=${RF_SIGMA_DIR:-$("$RF_TOP/scripts/sigma-dir.sh")}
_tap_n=0
_tap_failed=0
_cleanups=()

ok()   { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
fail() { _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1)); echo "not ok $_tap_n - $*"; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
# check DESCRIPTION CMD...: ok when CMD succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
# is DESCRIPTION GOT WANT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi
}
diag() { echo "# $*"; }
done_testing() { echo "1..$_tap_n"; [ $_tap_failed -eq 0 ]; }

# Skip the whole script (one visible skip line) unless we are root.
need_root() {
	if [ "$(id -u)" != 0 ]; then skip "${1:-this test}" "needs root"; done_testing; exit 0; fi
}

# Run cleanup commands at exit, last registered first.
on_exit() { _cleanups=("$*" "${_cleanups[@]}"); }
_run_cleanups() { local c; for c in "${_cleanups[@]}"; do eval "$c" >/dev/null 2>&1; done; }
trap _run_cleanups EXIT

# watchdog SECONDS PID: kill PID (and its process group if it leads one) after SECONDS.
watchdog() {
	local secs=$1 pid=$2
	( sleep "$secs"; kill -KILL "$pid" 2>/dev/null ) >/dev/null 2>&1 &
	on_exit "kill $! 2>/dev/null"
}

# tmpdir: a new directory, removed when the test ends. Usually called as d=$(tmpdir),
# in a subshell, where a cleanup would be lost: so every one lives under one parent
# directory that this (parent) shell made and removes.
_RF_TEST_TMP=$(mktemp -d /tmp/rf-test.XXXXXX)
chmod 755 "$_RF_TEST_TMP"
on_exit "rm -rf '$_RF_TEST_TMP'"
tmpdir() { mktemp -d "$_RF_TEST_TMP/t.XXXXXX"; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds or time runs out.
wait_for() {
	local end=$((SECONDS + $1)); shift
	while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.1; done
	"$@"
}
