#!/bin/bash
# Fleet rollout figures (docs/fleet.md). Prints figures; pass/fail is not its business,
# except that the simulator says whether its goals are met.
#   bench/fleet.sh [BUILD_DIR]        (run by bench/run.sh)
# 1. `ringfence fleet sim` with FLEET_ENDPOINTS (default 1,000,000) simulated endpoints
#    through the real rollout core: a good update and a Channel-File-291-like bad one
#    (time to full rollout, time to halt, blast radius, endpoints left on bad content).
# 2. `ringfence fleet serve` absorbing reports over HTTP keep-alive from FLEET_CONNS
#    connections (default 64) with FLEET_HOSTS (default 1,000,000) distinct host ids
#    (tests/helpers/fleet_load), goal 17,000 reports/s (a million endpoints at one a
#    minute): first every report ed25519-signed for FLEET_SIGNED_SECONDS (10), then with
#    the session MAC: a signed set-up report per host (timed on its own), then
#    FLEET_SECONDS (45) of steady state. The controller's CPU time per report comes from
#    /proc (user + system), so it is comparable under other load.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${RF_BUILD:-build}}
case $build in /*) ;; *) build=$top/$build ;; esac
RF_BIN=$build/ringfence
LOAD=$build/tests/helpers/fleet_load
ENDPOINTS=${FLEET_ENDPOINTS:-1000000}
HOSTS=${FLEET_HOSTS:-1000000}
CONNS=${FLEET_CONNS:-64}
SECS=${FLEET_SECONDS:-45}
SIGNED_SECS=${FLEET_SIGNED_SECONDS:-10}
[ -x "$RF_BIN" ] && [ -x "$LOAD" ] || { echo "bench/fleet.sh: run make first" >&2; exit 1; }

T=$(mktemp -d /tmp/rf-bench-fleet.XXXXXX)
SRV=
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
echo "== simulator: $ENDPOINTS endpoints, default configuration (canary 1 %, early 10 %, bake 30/60/60 min)"
for sc in good bad; do
	/usr/bin/time -f "sim: $sc: %e s wall, %U s user, %M KiB peak" \
		"$RF_BIN" fleet sim --endpoints "$ENDPOINTS" --scenario "$sc" --quiet 2>&1 | grep -v '^sim: decision'
done
echo "-- bad update without internal hosts (the canary is the hashed 1 %), and one that crashes only 30 % of its hosts"
"$RF_BIN" fleet sim --endpoints "$ENDPOINTS" --scenario bad --internal-fraction 0 --quiet 2>&1 | grep -e 'halt' -e 'blast' -e 'left' -e 'goal'
"$RF_BIN" fleet sim --endpoints "$ENDPOINTS" --scenario bad --bad-fraction 0.3 --quiet 2>&1 | grep -e 'halt' -e 'blast' -e 'left' -e 'goal' 

echo "== controller: reports/s from $HOSTS host ids over $CONNS keep-alive connections (goal 17,000/s)"
mkdir -p "$T/repo/targets"
"$RF_BIN" fleet serve --repo "$T/repo" --listen 127.0.0.1:0 --port-file "$T/port" \
	--store "sqlite:$T/fleet.db" --threads "$(nproc)" >"$T/serve.log" 2>&1 &
SRV=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
P=$(cat "$T/port")
cpu() { awk '{ print $14 + $15 }' "/proc/$SRV/stat"; } # clock ticks
tck=$(getconf CLK_TCK)
run() { # LABEL ARGS...: fleet_load, then the controller's CPU per report
	local label=$1 c0 c1 out n; shift
	c0=$(cpu)
	out=$("$LOAD" --port "$P" --conns "$CONNS" --client detect --version 1 "$@")
	c1=$(cpu)
	echo "$out"
	n=$(echo "$out" | sed -n 's/^fleet_load: .*: \([0-9]*\) reports in .*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	awk -v c=$((c1 - c0)) -v t="$tck" -v n="$n" -v l="$label" \
		'BEGIN { if (n) printf "controller CPU: %.1f us per report (%s, all phases of this run)\n", 1e6 * c / t / n, l }'
}
run "every report signed" --hosts "$HOSTS" --seconds "$SIGNED_SECS"
run "session MAC, set-up included" --hosts "$HOSTS" --first "$HOSTS" --session --seconds "$SECS"
echo "controller: $(curl -s "http://127.0.0.1:$P/v1/status" | jq -r '"\(.hosts) hosts known, \(.accepted) reports accepted"' 2>/dev/null)"
sleep 2
echo "store: $(sqlite3 "$T/fleet.db" 'select count(*) from hosts') host rows in SQLite after the run"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
