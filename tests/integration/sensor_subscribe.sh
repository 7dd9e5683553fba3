#!/bin/bash
# Classes are switched on and off at run time on a live sensor: events start and
# stop, the kernel stops emitting an unsubscribed class (in-kernel filtering), and the
# programs are not reloaded (same program id). Needs root (eBPF).
source "$(dirname "$0")/../lib.sh"
need_root "run-time subscription"
d=$(tmpdir)
"$RF_BUILD/tests/helpers/sensor_toggle" "$d" >"$d/out" 2>"$d/err"
is "toggle helper ran" "$?" 0
cat "$d/out" | sed 's/^/# /'
get() { sed -n "s/^$1 .*$2=\([0-9]*\).*/\1/p" "$d/out"; }
is "unsubscribed: nothing delivered"        "$(get off delivered)" 0
is "unsubscribed: nothing emitted by the kernel" "$(get off emitted)" 0
is "subscribed: every creation delivered"   "$(get on delivered)" 10
check "subscribed: the kernel emitted them" test "$(get on emitted)" -ge 10
is "unsubscribed again: nothing delivered"  "$(get off-again delivered)" 0
is "unsubscribed again: nothing emitted"    "$(get off-again emitted)" 0
id1=$(get off prog); id2=$(get on prog); id3=$(get off-again prog)
check "the open program has an id" test "${id1:-0}" -gt 0
check "same program throughout: no reload" test "$id1" = "$id2" -a "$id2" = "$id3"
done_testing
