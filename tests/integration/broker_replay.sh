#!/bin/bash
# The daemon replays a capture file (recorded live here with `ringfence record`):
# looped to --count, every event reaches the subscribed client with its own sequence
# numbers; a corrupt capture file is refused at start with the reader's reason.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
need_root "live recording (eBPF) and SO_PEERCRED identity as root"
broker_setup
manifest replay "classes=process_exec"
"$RF_BIN" record "$T/cap.rfcap" --class process_exec --count 20 --for 20 2>"$T/rec.log" &
R=$!
on_exit "kill $R 2>/dev/null"
# exec until the recorder has its 20 events (the sensor may take seconds to load on a
# busy machine)
for i in $(seq 2000); do /bin/true; [ -e "/proc/$R" ] || break; sleep 0.01; done
wait $R; rc=$?
is "recorded a capture file" "$rc" 0
start_daemon --replay "$T/cap.rfcap" --count 500 --wait-clients 1
out=$(client --name replay --classes process_exec --expect 500)
diag "$out"
is "all replayed events arrive (the 20-event file looped to 500)" "$(kv read "$out"):$(kv process_exec "$out"):$(kv gaps "$out")" "500:500:0"
kill -TERM "$DPID"; wait "$DPID"
head -c 100 "$T/cap.rfcap" > "$T/short.rfcap"
"$RF_BIN" daemon --socket "$T/sock2" --config "$T/conf" --replay "$T/short.rfcap" 2>"$T/bad.log"
is "a truncated capture file is refused at start" "$?" 1
diag "$(cat "$T/bad.log")"
check "the refusal names the file problem" grep -qi "daemon:.*\(offset\|truncated\|short\|byte\)" "$T/bad.log"
done_testing
