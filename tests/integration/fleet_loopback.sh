#!/bin/bash
# One daemon against the real controller (`ringfence fleet serve`) on the loopback
# of a network namespace of its own: the endpoint's identity and report sequence.
# The controller learns the host with its key (trust on first use); a restarted
# daemon with the same state directory goes on being accepted (its sequence skips
# ahead, never back); a daemon with another key for the same host id is refused
# (409, counted as a key conflict) and keeps running its content; a controller that
# goes away is retried with back-off and reached again.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/supervisor.inc"
source "$(dirname "$0")/fleet.inc"
source "$RF_TOP/tests/helpers/content_lib.sh"
# a client name of its own (user ringfence-loopfrag): other tests create and remove
# ringfence-fragile while this one may run
state_field() { awk -v k="$1" '$1 == k { print $3 }' "$STORE/loopfrag/state"; }
need_root "fleet loopback: network namespace, supervised clients"
command -v jq >/dev/null || { skip "fleet loopback" "jq not installed"; done_testing; exit 0; }
fleet_one_endpoint loopfrag rf-fl "$CF291_EXE"
name = loopfrag
executable = $CF291_EXE
user = auto
start = yes
classes = process_fork
args = --name loopfrag --content {content} --socket {socket}
content_store = $STORE
healthy_after = 2
EOF2
printf 'poll_s = 1\nsilence_polls = 3\n' > "$T/fleet.conf"
CTL=http://127.0.0.1:8080
start_controller() {
	ip netns exec "$NS" "$RF_BIN" fleet serve --repo "$REPO" --listen 127.0.0.1:8080 \
		--config "$T/fleet.conf" --admin-token-file "$T/admin.token" --scan-s 1 \
		2>>"$T/controller.log" &
	CPID=$!
	on_exit "kill -KILL $CPID 2>/dev/null"
	watchdog 90 "$CPID"
}
status() { ip netns exec "$NS" "$RF_BIN" fleet status --controller "$CTL" 2>/dev/null; }
start_controller
check "the controller answers" wait_for 10 q status
daemon() { # STATE-DIR LOG: start a daemon for host h1 on the namespace's loopback
	ip netns exec "$NS" "$RF_BIN" daemon --socket "$SOCK" --config "$T/conf" --state "$1" \
		--synthetic process_fork --rate 100 --fleet "$CTL" --fleet-repo http://127.0.0.1:8081 \
		--fleet-host h1 --fleet-poll 1 2>"$2" &
	DPID=$!
	SUP_DPIDS+=("$DPID")
	on_exit "kill -KILL $DPID 2>/dev/null"
	watchdog 90 "$DPID"
	wait_for 10 test -S "$SOCK"
}
stop_daemon() { kill -TERM "$DPID"; wait "$DPID"; }
field() { status | jq -r "$1"; }
accepted_ge() { [ "$(field .accepted)" -ge "$1" ]; }

daemon "$T/state" "$T/d1.log"
check "the daemon's reports are accepted" wait_for 10 accepted_ge 3
is "the controller knows one host" "$(field .hosts)" 1
check "the controller counts the host's client on v1" \
	eval '[ "$(field "[.tracks[0].versions[] | select(.version == 1) | .hosts] | add")" = 1 ]'
seq1=$(cat "$T/state/fleet.seq")
stop_daemon
is "daemon stops cleanly" "$?" 0

n=$(field .accepted)
daemon "$T/state" "$T/d2.log"
check "restarted with the same key: accepted again" wait_for 10 accepted_ge $((n + 2))
is "... without a sequence conflict" "$(field .seq_conflicts)" 0
check "... its sequence went on above the last one ($seq1)" test "$(cat "$T/state/fleet.seq")" -gt "$seq1"
stop_daemon

daemon "$T/state-other" "$T/d3.log"
kc_ge() { [ "$(field .key_conflicts)" -ge 1 ]; }
check "another key for the same host id is refused (409)" wait_for 10 kc_ge
check "... the agent logs the refusal" wait_for 5 grep -q "controller answered 409" "$T/d3.log"
check "... and the client keeps running" eval '[ "$(sup_field loopfrag .supervisor.state)" = running ]'
stop_daemon

daemon "$T/state" "$T/d4.log"
n=$(field .accepted)
kill -TERM "$CPID"; wait "$CPID" 2>/dev/null
check "a controller that is gone: the failure is logged" wait_for 10 grep -q "report [0-9]* failed" "$T/d4.log"
start_controller
check "the controller is reached again after back-off" wait_for 15 grep -q "controller reachable again" "$T/d4.log"
is "the content never changed" "$(state_field current)" 1
check "the daemon is still running" kill -0 "$DPID"
stop_daemon
is "daemon stops cleanly" "$?" 0
if [ "$_tap_failed" -gt 0 ]; then
	tail -20 "$T/controller.log" | sed 's/^/# controller: /'
	for l in d1 d2 d3 d4; do grep fleet "$T/$l.log" | tail -5 | sed "s/^/# $l: /"; done
fi
done_testing
