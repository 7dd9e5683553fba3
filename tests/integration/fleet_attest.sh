#!/bin/bash
# Fleet reports carry a fresh quote and the controller counts a host that cannot attest
# as unhealthy (issue 10, part 4). One daemon (software-only attestation, --tcti none)
# with its fleet agent against `fleet serve --attest-policy` in a network namespace of
# its own. The policy is made from a quote of this very daemon: its reports verify
# (no attestation failures while it reports). Then its client binary is swapped and the
# client restarted: the new binary is measured, every later report fails attestation,
# the controller logs the deviating component and counts the failures.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/supervisor.inc"
source "$(dirname "$0")/fleet.inc"
source "$RF_TOP/tests/helpers/content_lib.sh"
need_root "fleet attestation: network namespace, supervised clients"
command -v jq >/dev/null || { skip "fleet attestation" "jq not installed"; done_testing; exit 0; }
# the client runs from a directory of its own (T/bin), so that it can be swapped
fleet_one_endpoint attfrag rf-fa bin/attfrag
mkdir -p "$T/bin"
cp "$CF291_EXE" "$T/bin/attfrag"
chmod -R a+rX "$T/bin"
printf 'poll_s = 1\nsilence_polls = 3\n' > "$T/fleet.conf"
CTL=http://127.0.0.1:8080
start_controller() { # [--attest-policy FILE]
	ip netns exec "$NS" "$RF_BIN" fleet serve --repo "$REPO" --listen 127.0.0.1:8080 \
		--config "$T/fleet.conf" --admin-token-file "$T/admin.token" --scan-s 1 "$@" \
		2>>"$T/controller.log" &
	CPID=$!
	on_exit "kill -KILL $CPID 2>/dev/null"
	watchdog 90 "$CPID"
}
status() { ip netns exec "$NS" "$RF_BIN" fleet status --controller "$CTL" 2>/dev/null; }
field() { status | jq -r "$1"; }
accepted_ge() { [ "$(field .accepted)" -ge "$1" ]; }

# 1. a controller without a policy, so that the daemon runs as it will; its quote makes
# the policy (the daemon's options, manifest and client binary as they are now)
start_controller
check "the controller answers" wait_for 10 q status
ip netns exec "$NS" "$RF_BIN" daemon --socket "$SOCK" --config "$T/conf" --state "$T/state" \
	--synthetic process_fork --rate 100 --tcti none --fleet "$CTL" \
	--fleet-repo http://127.0.0.1:8081 --fleet-host h1 --fleet-poll 1 2>"$T/daemon.log" &
DPID=$!
SUP_DPIDS+=("$DPID")
on_exit "kill -KILL $DPID 2>/dev/null"
watchdog 120 "$DPID"
check "the daemon's reports are accepted" wait_for 15 accepted_ge 2
client_measured() { grep -q " client-exe attfrag " "$T/state/attest.log"; }
check "the client's executable is in the measurement log" wait_for 10 client_measured
check "a quote of the daemon's log" q "$RF_BIN" attest quote --state "$T/state" \
	--nonce 00112233445566778899aabbccddeeff --out "$T/golden.q"
{ "$RF_BIN" attest policy "$T/golden.q" && echo "software allow"; } > "$T/policy"
check "a policy from it" grep -q "client-exe" "$T/policy"
kill -TERM "$CPID"; wait "$CPID" 2>/dev/null

# 2. the controller with the policy: the genuine daemon attests in every report
start_controller --attest-policy "$T/policy"
check "the controller with a policy answers" wait_for 10 q status
check "the controller says reports must attest" grep -q "reports must attest" "$T/controller.log"
check "the daemon reports to it" wait_for 30 accepted_ge 5
is "no attestation failure while the endpoint is genuine" "$(field .attest_failed)" 0

# 3. swap the client binary under the daemon and restart the client: it is measured,
# and from then on the endpoint cannot attest
cp "$T/bin/attfrag" "$T/bin/attfrag.new"; printf 'x' >> "$T/bin/attfrag.new"
chmod a+rx "$T/bin/attfrag.new"; mv "$T/bin/attfrag.new" "$T/bin/attfrag"
pid=$(sup_field attfrag .pid)
kill -KILL "$pid"
swapped() { [ "$(grep -c " client-exe attfrag " "$T/state/attest.log")" -ge 2 ]; }
check "the swapped binary is measured at the client's restart" wait_for 15 swapped
failing() { [ "$(field .attest_failed)" -ge 2 ]; }
check "the controller counts failed attestations" wait_for 20 failing
diag "$(grep -m1 "attestation failed" "$T/controller.log")"
check "the controller names the deviating component" \
	grep -q "host h1: attestation failed: .*client-exe attfrag" "$T/controller.log"
check "the daemon is still running" kill -0 "$DPID"
kill -TERM "$DPID"; wait "$DPID"
is "daemon stops cleanly" "$?" 0
done_testing
