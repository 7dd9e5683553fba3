#!/usr/bin/env bash
# AUTH verdict cache: a cacheable verdict is reused for the same file (hit, the client
# is not asked again), a changed file is asked about again (invalidation), and a
# verdict the client did not mark cacheable is never reused. Needs root and fanotify.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
auth_enter_ns "$0" "$@"
auth_setup
cp /bin/true "$MNT/nocache"
sleep 0.1 # older than the racy window (RF_AUTH_CACHE_RACY_NS): cacheable

start_daemon --no-source --auth-mount "$MNT" --auth-miss-limit 0 --auth-no-kernel-cache
authc --name a --mode allow --cache --deny nocache-deny --classes auth_exec --ready "$T/ra" &
C=$!; on_exit "kill $C"
check "client subscribed" ready "$T/ra"
asked() { aj '.clients[0].auth.asked'; }

"$MNT/true"
is "first exec: a miss" "$(aj .auth.cache_misses)" 1
is "... the client was asked" "$(asked)" 1
"$MNT/true"
is "second exec: a hit" "$(aj .auth.cache_hits)" 1
is "... the client was not asked again" "$(asked)" 1
printf 'x' >> "$MNT/true"
sleep 0.1
"$MNT/true"; is "changed file still runs" $? 0
is "changed file: the cached verdict is invalidated" "$(aj .auth.cache_invalidated)" 1
is "... and the client asked again" "$(asked)" 2
"$MNT/true"
is "changed file, again: a hit" "$(aj .auth.cache_hits)" 2
kill $C; wait $C 2>/dev/null

# the same client without --cache: never cached
authc --name a --mode allow --classes auth_exec --ready "$T/rb" & C=$!; on_exit "kill $C"
ready "$T/rb"
hits=$(aj .auth.cache_hits)
"$MNT/nocache"; "$MNT/nocache"; "$MNT/true"
is "non-cacheable verdicts: no hit" "$(aj .auth.cache_hits)" "$hits"
is "... the client was asked each time" "$(asked)" 3
kill $C; wait $C 2>/dev/null

# both classes subscribed: an exec is two requests (exec, then open of the binary);
# the open is covered by the exec's verdict (docs/auth.md), and the exec verdict
# comes from the cache the second time, so a second exec asks nobody
cp /bin/true "$MNT/both"
sleep 0.1
authc --name a --mode allow --cache --classes auth_exec,auth_open --ready "$T/rc" & C=$!; on_exit "kill $C"
ready "$T/rc"
hits=$(aj .auth.cache_hits)
req=$(aj .auth.requests)
"$MNT/both"
is "exec with both classes: two requests" "$(($(aj .auth.requests) - req))" 2
is "... the client was asked once (the exec; its open is covered)" "$(asked)" 1
"$MNT/both"
is "second exec: the exec is a cache hit" "$(($(aj .auth.cache_hits) - hits))" 1
is "... and the client was not asked again" "$(asked)" 1
# a covered open is not cached: a plain open of the file asks the client
cat "$MNT/both" > /dev/null
is "a plain open of the executed file asks the client" "$(asked)" 2
done_testing
