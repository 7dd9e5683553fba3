#!/bin/bash
# A client that corrupts its ring (publishes an impossible tail) is disconnected and
# counted; a well-behaved client at the same time loses nothing.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
need_root "broker: clients identified by SO_PEERCRED as root"
broker_setup
manifest bad
manifest good
start_daemon --synthetic process_fork,process_exit --rate 10000 --count 40000 --wait-clients 2
client --name good --classes process_fork,process_exit --pause "$T/go" --expect 40000 --idle-ms 3000 > "$T/good" 2>&1 &
G=$!
client --name bad --classes process_fork --corrupt-tail > "$T/bad" 2>&1 &
B=$!
on_exit "kill $G $B 2>/dev/null"
wait $B
st=$(status_json)
touch "$T/go"
wait $G
g=$(cat "$T/good")
diag "good: $g"
diag "bad: $(cat "$T/bad")"
check "daemon logged the corrupt ring" grep -q "corrupted its ring: disconnected" "$DLOG"
is "status counts one forced disconnection" "$(echo "$st" | jq .disconnected)" 1
is "status lists only the good client" "$(echo "$st" | jq -c '[.clients[].name]')" '["good"]'
is "the good client received every event" "$(kv read "$g"):$(kv dropped "$g"):$(kv gaps "$g")" "40000:0:0"
check "the bad client saw its connection end" grep -q "after_corrupt_next=-32" "$T/bad"
check "daemon still running" kill -0 "$DPID"
done_testing
