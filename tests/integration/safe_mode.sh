#!/bin/bash
# Safe mode, entered and left. A daemon that is killed before it reaches healthy
# --safe-mode-after times in a row comes up in safe mode: it says so in its log and
# in status, starts no third-party client, refuses third-party connections, admits
# `vendor = platform` clients and rolls content back to last known good. Once it has
# run --healthy-after seconds the counter is reset and the next start is normal.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/supervisor.inc"
need_root "supervisor: starts clients as other users"
sup_setup
sup_user sm3p
C=$T/content
content_version "$C" v1 3
content_version "$C" v2 4
ln -s v1 "$C/last-good"
ln -s v2 "$C/current"
chmod -R a+rX "$C"
manifest third "ring_size=1M"
manifest plat "ring_size=1M" "vendor=platform"
cat > "$T/conf/clients.d/sm3p.conf" <<EOF
name = sm3p
executable = $CF291_EXE
user = auto
start = yes
classes = process_fork
args = --name sm3p --content {content} --socket {socket}
content = $C
EOF
OPTS=(--synthetic process_fork --rate 200 --healthy-after 2 --safe-mode-after 3)
starts() { cat "$T/state/failed-starts" 2>/dev/null || echo 0; }
for i in 1 2 3; do
	start_daemon "${OPTS[@]}"
	sleep 0.3
	kill -KILL "$DPID"; wait "$DPID" 2>/dev/null; rm -f "$SOCK"
	is "start $i killed before healthy: failed-starts counts it" "$(starts)" "$i"
done
check "the supervised client of the killed daemons is gone (PDEATHSIG)" wait_for 5 sh -c "! pgrep -u ringfence-sm3p >/dev/null"
start_daemon "${OPTS[@]}"
check "4th start: SAFE MODE in the log" grep -q "SAFE MODE: 3 starts in a row did not reach healthy" "$DLOG"
is "status reports safe mode" "$(status_json | jq .safe_mode)" true
check "status text says SAFE MODE" sh -c "'$RF_BIN' status --socket '$SOCK' | grep -q 'SAFE MODE'"
is "third-party supervised client not started" "$(sup_field sm3p .supervisor.state)" stopped
is "its content rolled back to last known good" "$(readlink "$C/current")" v1
out=$(client --name third --classes process_fork --expect 10 2>/dev/null)
is "a third-party client is refused" "$(kv refused "$out")" RF_E_STATE
out=$(client --name plat --classes process_fork --expect 10 2>/dev/null)
is "a platform client is admitted and reads events" "$(kv read "$out")" 10
check "safe mode start reaches healthy" wait_for 5 grep -q "daemon healthy after 2 s; SAFE MODE ends" "$DLOG"
is "failed-starts reset" "$(starts)" 0
kill -TERM "$DPID"; wait "$DPID"; rm -f "$SOCK"
start_daemon "${OPTS[@]}"
is "next start: not in safe mode" "$(status_json | jq .safe_mode)" false
check "no SAFE MODE in the log" sh -c "! grep -q 'SAFE MODE' '$DLOG'"
sm_running() { [ "$(sup_field sm3p .supervisor.state)" = running ] && [ "$(sup_field sm3p .delivered)" -gt 0 ]; }
check "the supervised client runs again" wait_for 5 sm_running
out=$(client --name third --classes process_fork --expect 10 2>/dev/null)
is "the third-party client is admitted again" "$(kv read "$out")" 10
kill -TERM "$DPID"; wait "$DPID"
is "daemon stops cleanly" "$?" 0
done_testing
