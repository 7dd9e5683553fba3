#!/usr/bin/env bash
# AUTH: a client that crashes while 100 requests are pending: all are answered at
# once (the default verdict stands in for it), long before their deadline, and the
# 100 misses are counted. Needs root and fanotify.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
auth_enter_ns "$0" "$@"
auth_setup
DL=5000
for i in $(seq 100); do echo "$i" > "$MNT/f$i"; done

start_daemon --no-source --auth-mount "$MNT" --auth-deadline-open $DL --auth-miss-limit 0
authc --name a --mode crash --crash-after 100 --classes auth_open --ready "$T/ra" 2>"$T/client.err" &
C=$!; on_exit "kill $C"
check "client subscribed" ready "$T/ra"

pids=()
for i in $(seq 100); do cat "$MNT/f$i" > "$T/out$i" 2>&1 & pids+=($!); done
on_exit "kill ${pids[*]}"
wait $C
crash=$EPOCHREALTIME
check "the client crashed with its requests unanswered" grep -q "crashing with 100 requests unanswered" "$T/client.err"
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
ms=$(ms_since "$crash")
diag "the 100 opens finished $ms ms after the crash (deadline $DL ms)"
check "all 100 opens answered at once, not at the deadline ($ms ms < 2000 ms)" test "$ms" -lt 2000
is "all 100 opens allowed (default verdict)" $bad 0
is "opened files read correctly" "$(cat "$T/out1" "$T/out100" | tr '\n' ' ')" "1 100 "
is "100 misses counted" "$(aj .auth.deadline_misses)" 100
is "nothing pending" "$(aj .auth.pending)" 0
check "the daemon is alive" kill -0 "$DPID"
done_testing
