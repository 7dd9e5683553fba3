#!/usr/bin/env bash
# AUTH in safe mode: the daemon asks no client, not even an admitted platform client
# that would deny; every request gets the default verdict at once (allow, or deny under
# a fail-closed prefix), and the log says so. Needs root and fanotify.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
auth_enter_ns "$0" "$@"
auth_setup
manifest p modes=notify,auth vendor=platform
cp /bin/true "$MNT/denyme"
mkdir -p "$MNT/fc"
cp /bin/true "$MNT/fc/tool"

start_daemon --no-source --safe-mode --auth-mount "$MNT" --auth-fail-closed "$MNT/fc"
check "the log says AUTH answers the default in safe mode" \
	grep -q "SAFE MODE: AUTH asks no client" "$DLOG"
authc --name p --mode allow --deny denyme --classes auth_exec --ready "$T/rp" & on_exit "kill $!"
check "a platform AUTH client is admitted in safe mode" ready "$T/rp"
"$MNT/denyme"; is "the client would deny, but is not asked: exec allowed" $? 0
"$MNT/fc/tool" 2>"$T/err"; rc=$?
is "fail-closed prefix: the default denies (126)" $rc 126
check "... with EPERM" grep -q "Operation not permitted" "$T/err"
is "the client was asked nothing" \
	"$(aj '.clients[] | select(.name == "p") | .auth.asked')" 0
is "both requests answered unasked" "$(aj .auth.unasked)" 2
is "one default denial" "$(aj .auth.denied)" 1
is "nothing pending" "$(aj .auth.pending)" 0
done_testing
