#!/bin/bash
# The example client (examples/rf_tail.c, built by `make examples`) connects, reads
# exec events and prints their executables.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
need_root "broker: clients identified by SO_PEERCRED as root"
broker_setup
EX=$RF_BUILD/examples/rf_tail
CLIENT_EXE=$(readlink -f "$EX")
manifest rf-tail "classes=process_exec"
start_daemon --synthetic process_exec --count 80 --wait-clients 1
RINGFENCE_SOCKET=$SOCK timeout 10 "$EX" rf-tail 80 > "$T/out" 2>"$T/err" &
E=$!
on_exit "kill $E 2>/dev/null"
wait_for 10 bash -c "[ \$(wc -l < $T/out) -ge 80 ]"
is "example printed one line per exec" "$(wc -l < "$T/out")" 80
is "lines name the executables" "$(grep -c ' /opt/rf-synth/bin[0-7]$' "$T/out")" 80
wait $E; rc=$?
is "example exits 0 after COUNT events" "$rc" 0
check "example reports its statistics" grep -q "delivered 80, dropped 0" "$T/err"
done_testing
