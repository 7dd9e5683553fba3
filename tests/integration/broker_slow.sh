#!/bin/bash
# A client that stops reading loses only its own events, counted exactly (daemon
# counters, per-class counters and the client's sequence gaps agree), while another
# client receives all of them.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
need_root "broker: clients identified by SO_PEERCRED as root"
broker_setup
N=20000
manifest slow "ring_size=64K"
manifest fast "ring_size=4M"
start_daemon --synthetic process_fork,process_exit --rate 10000 --count $N --wait-clients 2
client --name slow --classes process_fork,process_exit --pause "$T/go" --expect $N --idle-ms 1500 > "$T/slow.out" 2>"$T/slow.err" &
S=$!
client --name fast --classes process_fork,process_exit --expect $N --idle-ms 3000 > "$T/fast.out" 2>"$T/fast.err" &
F=$!
on_exit "kill $S $F 2>/dev/null"
# let the slow client's 64 KiB ring (about 800 events) overflow, then let it read
# while most events are still to come (1.7 s of them at 10,000/s), so that it sees
# the gap in the sequence numbers even on a loaded machine
wait_for 30 bash -c "[ \"\$('$RF_BIN' status --json --socket '$SOCK' | jq .source_events)\" -ge 3000 ]"
st=$(status_json)
slow_used=$(echo "$st" | jq '.clients[] | select(.name=="slow") | .ring_fill')
diag "slow client's ring fill while paused: $slow_used"
touch "$T/go"
wait $S; rs=$?
wait $F; rf=$?
s=$(cat "$T/slow.out"); f=$(cat "$T/fast.out")
diag "slow: $s"
diag "fast: $f"
is "slow client exited cleanly" "$rs" 0
is "fast client exited cleanly" "$rf" 0
is "fast client received every event" "$(kv read "$f"):$(kv dropped "$f"):$(kv gaps "$f")" "$N:0:0"
read_s=$(kv read "$s"); drop_s=$(kv dropped "$s"); gaps_s=$(kv gaps "$s")
check "slow client lost events (ring overflowed while it did not read)" test "${drop_s:-0}" -gt 0
is "slow client: read + dropped = all events" "$((read_s + drop_s))" $N
is "slow client: sequence gaps = dropped count" "$gaps_s" "$drop_s"
is "slow client: per-class drops add up" "$(( $(kv process_fork_dropped "$s") + $(kv process_exit_dropped "$s") ))" "$drop_s"
is "slow client: delivered = read" "$(kv delivered "$s")" "$read_s"
is "slow client: last sequence number is the last event" "$(kv last_seq "$s")" $N
check "daemon still running" kill -0 "$DPID"
done_testing
