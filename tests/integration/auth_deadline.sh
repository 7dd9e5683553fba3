#!/usr/bin/env bash
# AUTH deadlines: a client that never answers: the exec completes with the default
# verdict (allow) within the deadline plus 50 ms and the miss is counted; a fail-closed
# path with the same hung client is denied; a client that keeps missing is demoted to
# NOTIFY (after which nobody is asked). Needs root and fanotify.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
auth_enter_ns "$0" "$@"
auth_setup
mkdir -p "$MNT/secure"
cp /bin/true "$MNT/secure/true"
DL=100

start_daemon --no-source --auth-mount "$MNT" --auth-deadline-exec $DL \
	--auth-fail-closed "$MNT/secure" --auth-miss-limit 3
authc --name a --mode hang --classes auth_exec --ready "$T/ra" & H=$!; on_exit "kill $H"
check "hung client subscribed" ready "$T/ra"

t0=$EPOCHREALTIME
"$MNT/true"; rc=$?
ms=$(ms_since "$t0")
is "hung client: exec completes with the default verdict (allow)" $rc 0
diag "exec with a hung client took $ms ms (deadline $DL ms)"
# the daemon's own clock, from reading the request to answering the kernel: tells a
# late answer from a machine that did not run the exec's process in time
dms=$(( $(aj .auth.rt.exec.max_ns) / 1000000 ))
diag "the daemon answered $dms ms after reading the request"
check "... the daemon answered by the deadline plus 50 ms ($dms ms)" test "$dms" -le $((DL + 50))
check "... within the deadline plus 50 ms ($ms ms <= $((DL + 50)) ms)" test "$ms" -le $((DL + 50))
check "... and not before the deadline ($ms ms >= $((DL - 5)) ms)" test "$ms" -ge $((DL - 5))
is "the miss is counted for the client" "$(aj '.clients[0].deadline_misses')" 1

"$MNT/secure/true" 2>"$T/err"; rc=$?
is "fail-closed path, hung client: denied (126)" $rc 126
check "... with EPERM" grep -q "Operation not permitted" "$T/err"
is "two misses counted" "$(aj .auth.deadline_misses)" 2
is "one denial" "$(aj .auth.denied)" 1

"$MNT/true"
check "third miss: the client is demoted" wait_for 5 grep -q "missed 3 deadlines in a row: demoted to NOTIFY" "$DLOG"
is "status shows it demoted" "$(aj '.clients[0].auth.demoted')" true
is "... with mode notify" "$(aj '.clients[0].modes[0]')" notify
t0=$EPOCHREALTIME
"$MNT/true"; rc=$?
is "after the demotion an exec is not held" $rc 0
before=$(aj .auth.deadline_misses)
is "... and no further miss is counted" "$before" 3
is "nothing pending" "$(aj .auth.pending)" 0

# the other miss policy: disconnect after 2 misses in a row
kill $H; kill "$DPID"; wait "$DPID" 2>/dev/null
start_daemon --no-source --auth-mount "$MNT" --auth-deadline-exec 20 --auth-miss-limit 2 \
	--auth-miss-policy disconnect
authc --name a --mode hang --classes auth_exec --ready "$T/rc" & H=$!; on_exit "kill $H"
ready "$T/rc"
"$MNT/true"; "$MNT/true"
check "policy disconnect: the client is disconnected" wait_for 5 grep -q "missed 2 deadlines in a row: disconnected" "$DLOG"
is "... no client left" "$(aj '.clients | length')" 0
"$MNT/true"; is "... and execs run unasked" $? 0
done_testing
