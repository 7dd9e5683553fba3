#!/bin/bash
# Two clients subscribed to different classes receive exactly their own events;
# unknown, misidentified and unentitled clients are refused with the documented error.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
need_root "broker: clients identified by SO_PEERCRED as root"
broker_setup
manifest fork-only "classes=process_fork" "modes=notify,auth"
manifest exit-exec "classes=process_exit,process_exec"
manifest wrong-user "user=nobody"
cat > "$T/conf/clients.d/wrong-exe.conf" <<EOC
name = wrong-exe
executable = /usr/bin/true
user = root
classes = *
EOC
start_daemon --synthetic process_fork,process_exit,process_exec --count 3000 --wait-clients 2

out=$(client --name nobody-here 2>/dev/null); is "unknown client refused" "$(kv refused "$out")" RF_E_UNKNOWN_CLIENT
out=$(client --name wrong-user 2>/dev/null); is "client with the wrong uid refused" "$(kv refused "$out")" RF_E_IDENTITY
out=$(client --name wrong-exe 2>/dev/null); is "client with the wrong executable refused" "$(kv refused "$out")" RF_E_IDENTITY
out=$(client --name fork-only --classes process_exit 2>/dev/null)
is "subscription outside the entitlements refused" "$(kv refused "$out")" RF_E_NOT_ENTITLED
out=$(client --name fork-only --classes process_fork --modes auth 2>/dev/null)
is "AUTH subscription of a class without AUTH refused" "$(kv refused "$out")" RF_E_UNSUPPORTED
out=$(client --name exit-exec --classes process_exit --modes auth 2>/dev/null)
is "AUTH outside the manifest's modes refused" "$(kv refused "$out")" RF_E_NOT_ENTITLED

client --name fork-only --classes process_fork --expect 1000 > "$T/a.out" 2>"$T/a.err" &
A=$!
client --name exit-exec --classes process_exit,process_exec --expect 2000 > "$T/b.out" 2>"$T/b.err" &
B=$!
on_exit "kill $A $B 2>/dev/null"
wait $A; ra=$?
wait $B; rb=$?
a=$(cat "$T/a.out"); b=$(cat "$T/b.out")
diag "fork-only: $a"
diag "exit-exec: $b"
is "fork client exited cleanly" "$ra" 0
is "exit/exec client exited cleanly" "$rb" 0
is "fork client read all its events" "$(kv read "$a")" 1000
is "fork client got only process_fork" "$(kv process_fork "$a"):$(kv process_exit "$a"):$(kv process_exec "$a")" "1000::"
is "exit/exec client read all its events" "$(kv read "$b")" 2000
is "exit/exec client got exactly its classes" "$(kv process_fork "$b"):$(kv process_exit "$b"):$(kv process_exec "$b")" ":1000:1000"
is "no gaps, no sequence errors (fork)" "$(kv gaps "$a"):$(kv seqerr "$a"):$(kv last_seq "$a")" "0:0:1000"
is "no gaps, no sequence errors (exit/exec)" "$(kv gaps "$b"):$(kv seqerr "$b"):$(kv last_seq "$b")" "0:0:2000"
# SIGHUP reads the manifests again: a new one is accepted, a broken one is ignored
manifest late "classes=process_fork"
kill -HUP "$DPID"
check "SIGHUP reload logged" wait_for 5 grep -q "SIGHUP: 5 client manifests" "$DLOG"
echo "this is not a manifest" > "$T/conf/clients.d/broken.conf"
kill -HUP "$DPID"
check "a broken manifest on SIGHUP keeps the loaded ones" wait_for 5 grep -q "SIGHUP: bad manifest, keeping the 5" "$DLOG"
out=$(client --name late --classes process_fork --idle-ms 100 2>&1)
is "client of the new manifest accepted" "$(kv refused "$out")" ""
st=$(status_json)
is "status counts the refused connections" "$(echo "$st" | jq .refused)" 3
is "status shows the source's events" "$(echo "$st" | jq .source_events)" 3000
is "status: the synthetic source lost nothing" "$(echo "$st" | jq .source_dropped)" 0
check "daemon still running" kill -0 "$DPID"
done_testing
