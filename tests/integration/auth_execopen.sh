#!/usr/bin/env bash
# AUTH: an exec's open. The kernel asks about an exec of a marked file (auth_exec) and
# then about the open of the same file (auth_open). A client that allowed the exec is
# not asked about that open (the exec's verdict covers it, docs/auth.md); a client
# subscribed to auth_open but not to auth_exec is still asked; NOTIFY subscribers get
# the open's report with cached set; an exec that a client denies opens nothing; and a
# plain open of the same file by another process is asked about as usual.
# Needs root and fanotify.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
auth_enter_ns "$0" "$@"
auth_setup
manifest o modes=notify,auth
cp /bin/true "$MNT/denyme"

start_daemon --no-source --auth-mount "$MNT" --auth-miss-limit 0
authc --name a --mode allow --deny denyme --classes auth_exec,auth_open --ready "$T/ra" & on_exit "kill $!"
authc --name o --mode allow --classes auth_open --ready "$T/ro" & on_exit "kill $!"
authc --name r --mode notify --classes auth_exec,auth_open --ready "$T/rr" > "$T/rep" & on_exit "kill $!"
check "clients subscribed" ready "$T/ra"
ready "$T/ro"; ready "$T/rr"
asked() { aj ".clients[] | select(.name == \"$1\") | .auth.asked"; }

"$MNT/true"; is "exec runs" $? 0
is "two requests (exec, open)" "$(aj .auth.requests)" 2
is "exec+open client: asked about the exec only" "$(asked a)" 1
is "open-only client: asked about the open" "$(asked o)" 1
check "report: the exec, asked" wait_for 5 grep -q "class=auth_exec verdict=1 cached=0 path=$MNT/true" "$T/rep"
check "report: the open, covered (cached=1)" wait_for 5 grep -q "class=auth_open verdict=1 cached=1 path=$MNT/true" "$T/rep"

# execve(2) directly: a shell would open the file after the failed exec to look at it
perl -e 'exec($ARGV[0]) or exit($!{EPERM} ? 42 : 1)' "$MNT/denyme" 2>/dev/null
is "denied exec fails with EPERM" $? 42
is "denied exec: one request, no open" "$(aj .auth.requests)" 3
is "... the exec+open client was asked" "$(asked a)" 2
is "... the open-only client was not" "$(asked o)" 1

cat "$MNT/true" > /dev/null; is "plain open runs" $? 0
is "plain open of the executed file: the exec+open client is asked" "$(asked a)" 3
is "... and the open-only client" "$(asked o)" 2
is "no deadline misses" "$(aj .auth.deadline_misses)" 0
is "nothing pending" "$(aj .auth.pending)" 0
done_testing
