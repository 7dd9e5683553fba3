#!/usr/bin/env bash
# AUTH kernel-level verdict cache (fanotify ignore marks, docs/auth.md): a cached allow
# is answered by the kernel (the daemon sees no request, the client is not asked);
# writing the file invalidates it (the client is asked again); a client connecting or
# disconnecting and a mute change flush it; denials, fail-closed prefixes, verdicts
# without a muted client's and classes with NOTIFY subscribers are never cached in the
# kernel; at RF_AUTH_KMARKS_MAX marks the cache is flushed and starts over.
# Needs root and fanotify.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
auth_enter_ns "$0" "$@"
auth_setup
manifest b modes=notify,auth
manifest nb modes=notify
cp /bin/true "$MNT/denyme"
mkdir -p "$MNT/fc" "$MNT/m" "$MNT/k"
cp /bin/true "$MNT/fc/tool"
cp /bin/true "$MNT/m/tool"
cp /bin/true "$MNT/both"
echo data > "$MNT/data"
KMAX=$(awk '/define RF_AUTH_KMARKS_MAX/ {sub("u", "", $3); print $3}' "$RF_TOP/include/ringfence/limits.h")
for ((i = 0; i <= KMAX; i++)); do : > "$MNT/k/$i"; done # before anyone subscribes
sleep 0.1 # older than the racy window (RF_AUTH_CACHE_RACY_NS): cacheable

start_daemon --no-source --auth-mount "$MNT" --auth-fail-closed "$MNT/fc" --auth-miss-limit 0
authc --name a --mode allow --cache --deny denyme --classes auth_exec,auth_open \
	--mute-on-usr1 "$MNT/nothing-here" --clear-on-usr2 --ready "$T/ra" > "$T/a.out" &
A=$!; on_exit "kill $A"
check "client subscribed" ready "$T/ra"
is "the kernel cache is on" "$(aj .auth.kcache.on)" true
asked() { aj ".clients[] | select(.name == \"${1:-a}\") | .auth.asked"; }
req() { aj .auth.requests; }
flushed_since() { [ "$(aj .auth.kcache.flushes)" -gt "$1" ]; }

"$MNT/true"
is "first exec: two requests (the exec, and its open, covered)" "$(req)" 2
is "... the client was asked once" "$(asked)" 1
is "... an ignore mark for the exec went into the kernel" "$(aj .auth.kcache.added)" 1
"$MNT/true"
is "second exec: the exec is not asked about (a kernel hit); its open is" "$(req)" 3
is "... the open was a plain open to the client" "$(asked)" 2
"$MNT/true"; "$MNT/true"
is "later execs: no request reaches the daemon" "$(req)" 3
is "... the client was not asked" "$(asked)" 2
is "... and the daemon counted no hit (it never saw them)" "$(aj .auth.cache_hits)" 0

# rf_client_clear_cache: a client whose policy changed has both levels forgotten
f=$(aj .auth.kcache.flushes); n=$(req); a0=$(asked)
kill -USR2 "$A"
check "CLEAR_CACHE answered" wait_for 5 grep -q "^cleared" "$T/a.out"
is "... the kernel cache was flushed" "$(($(aj .auth.kcache.flushes) - f))" 1
"$MNT/true"
is "... the next exec reaches the daemon again (exec and its open)" "$(($(req) - n))" 2
is "... and the client is asked again" "$(($(asked) - a0))" 1
"$MNT/true"; n=$(req)
"$MNT/true"
is "... after which it is cached again" "$(req)" "$n"

n=$(req); a0=$(asked)
printf 'x' >> "$MNT/true"
sleep 0.1
"$MNT/true"; is "a written file still runs" $? 0
is "written file: the kernel asks again (exec and open)" "$(($(req) - n))" 2
is "... and so does the daemon: the client was asked" "$(($(asked) - a0))" 1
is "... the daemon's entry was invalidated too" "$(aj .auth.cache_invalidated)" 1
"$MNT/true" # the exec is cached again; its open (invalidated in the daemon) asked
n=$(req)
"$MNT/true"; "$MNT/true"
is "written file, cached again: no request" "$(req)" "$n"

truncate -s +1 "$MNT/true"; sleep 0.1
n=$(req); a0=$(asked)
"$MNT/true"
is "truncated file: asked again" "$(($(asked) - a0))" 1

cat "$MNT/data" > /dev/null; cat "$MNT/data" > /dev/null
n=$(req)
cat "$MNT/data" > /dev/null; cat "$MNT/data" > /dev/null
is "plain opens of a cached file: no request" "$(req)" "$n"

# denials are never cached in the kernel (the daemon's cache answers them)
perl -e 'exec($ARGV[0]) or exit($!{EPERM} ? 42 : 1)' "$MNT/denyme" 2>/dev/null
is "denied exec fails with EPERM" $? 42
n=$(req); h=$(aj .auth.cache_hits)
perl -e 'exec($ARGV[0]) or exit($!{EPERM} ? 42 : 1)' "$MNT/denyme" 2>/dev/null
is "denied again (EPERM)" $? 42
is "... the request reached the daemon" "$(($(req) - n))" 1
is "... and was a hit in the daemon's cache" "$(($(aj .auth.cache_hits) - h))" 1

# a fail-closed prefix: never in the kernel
"$MNT/fc/tool"; "$MNT/fc/tool"
n=$(req)
"$MNT/fc/tool"
is "fail-closed prefix: every exec reaches the daemon (exec, covered open)" "$(($(req) - n))" 2

# a client connecting flushes the kernel cache; both clients are asked
f=$(aj .auth.kcache.flushes)
authc --name b --mode allow --cache --mute "$MNT/m" --classes auth_exec --ready "$T/rb" & B=$!
on_exit "kill $B"
ready "$T/rb"
check "a client connecting flushes the kernel cache" flushed_since "$f"
is "... no marks left" "$(aj .auth.kcache.marks)" 0
a0=$(asked a); n=$(req)
"$MNT/true"
is "after the flush the exec reaches the daemon" "$(($(req) - n))" 2
is "... and the first client is asked again" "$(($(asked a) - a0))" 1
is "... and the new one" "$(asked b)" 1

# a client that muted the file: the verdict is not complete, never cached
"$MNT/m/tool"
a0=$(asked a)
"$MNT/m/tool"
is "file muted by one client: the other is asked about every exec" "$(($(asked a) - a0))" 1
is "... the muting client never" "$(asked b)" 1

# a client disconnecting flushes it
"$MNT/true"; n=$(req)
"$MNT/true"
is "cached again with two clients" "$(req)" "$n"
f=$(aj .auth.kcache.flushes)
kill $B; wait $B 2>/dev/null
check "a client disconnecting flushes the kernel cache" wait_for 5 flushed_since "$f"
a0=$(asked a)
"$MNT/true"
is "after the flush the client is asked again" "$(($(asked a) - a0))" 1

# a mute change flushes it
"$MNT/true"; n=$(req)
"$MNT/true"; is "cached again" "$(req)" "$n"
f=$(aj .auth.kcache.flushes)
kill -USR1 $A
check "the client muted a path" wait_for 5 grep -q '^muted' "$T/a.out"
check "a mute change flushes the kernel cache" wait_for 5 flushed_since "$f"
"$MNT/true"
is "after the mute change the exec reaches the daemon" "$(($(req) - n))" 2

# a NOTIFY subscriber of auth_exec needs every request: no kernel cache for exec
authc --name r --mode notify --classes auth_exec --ready "$T/rr" > "$T/rep" & R=$!
on_exit "kill $R"
ready "$T/rr"
"$MNT/true"; "$MNT/true"; n=$(req)
"$MNT/true"
is "with a NOTIFY subscriber every exec reaches the daemon" "$(($(req) - n))" 2
check "... and is reported" wait_for 5 test "$(grep -c "class=auth_exec verdict=1 .*path=$MNT/true\$" "$T/rep")" -ge 3
kill $R; wait $R 2>/dev/null

# the bound: KMAX+1 distinct files opened (by one child shell: this one started the
# daemon, it is exempt as the daemon's supervisor) fill it up
f=$(aj .auth.kcache.full)
bash -c 'for ((i = 0; i <= $1; i++)); do : < "$2/k/$i"; done' - "$KMAX" "$MNT"
is "RF_AUTH_KMARKS_MAX marks: the cache was flushed and started over" "$(($(aj .auth.kcache.full) - f))" 1
check "... it holds few marks now" test "$(aj .auth.kcache.marks)" -le 16
n=$(req)
bash -c ': < "$1"' - "$MNT/k/0"
is "a flushed file reaches the daemon again" "$(($(req) - n))" 1
n=$(req)
bash -c ': < "$1"' - "$MNT/k/0"
is "... which put it back into the kernel" "$(req)" "$n"

# a client without AUTH in its manifest may not make every request a round trip again
authc --name nb --mode notify --classes auth_exec --clear-on-usr2 --ready "$T/rn" > "$T/nb.out" & NB=$!
check "NOTIFY-only client subscribed" ready "$T/rn"
f=$(aj .auth.kcache.flushes)
kill -USR2 "$NB"
is "CLEAR_CACHE from a client without AUTH: refused (EACCES)" \
	"$(wait_for 5 grep -q "^clear failed" "$T/nb.out"; sed -n 's/^clear failed err=//p' "$T/nb.out")" 13
is "... and nothing was flushed" "$(aj .auth.kcache.flushes)" "$f"
kill $NB; wait $NB 2>/dev/null

is "no deadline misses" "$(aj .auth.deadline_misses)" 0
is "nothing pending" "$(aj .auth.pending)" 0
done_testing
