#!/usr/bin/env bash
# AUTH verdict cache: a verdict given while the set of AUTH clients changed is not
# cached (in neither level) and grants nothing to the exec's open. Client a answers
# after 1 s; client b connects while a's request is pending (the verdict it gives
# never heard of b); the next exec must ask b. Needs root and fanotify.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
auth_enter_ns "$0" "$@"
auth_setup
manifest b modes=notify,auth
sleep 0.1 # older than the racy window (RF_AUTH_CACHE_RACY_NS): cacheable

start_daemon --no-source --auth-mount "$MNT" --auth-miss-limit 0 --auth-deadline-exec 5000
authc --name a --mode allow --cache --delay-ms 1000 --classes auth_exec --ready "$T/ra" > "$T/a.out" &
on_exit "kill $!"
check "client a subscribed" ready "$T/ra"
asked() { aj ".clients[] | select(.name == \"$1\") | .auth.asked"; }

"$MNT/true" & X=$!
check "a was asked about the exec" wait_for 5 grep -q asked "$T/a.out"
authc --name b --mode allow --cache --classes auth_exec --ready "$T/rb" & on_exit "kill $!"
check "client b subscribed" ready "$T/rb"
is "... while the exec was still pending" "$(aj .auth.pending)" 1
wait $X; is "the exec ran" $? 0
is "b was not asked about it (it was not there when it was asked)" "$(asked b)" 0
is "nothing went into the kernel's cache" "$(aj .auth.kcache.added)" 0
"$MNT/true"
is "the next exec asks b: the verdict without b was not cached" "$(asked b)" 1
is "... and a" "$(asked a)" 2
is "no deadline misses" "$(aj .auth.deadline_misses)" 0
done_testing
