#!/bin/bash
# The Channel File 291 scenario, contained. A deliberately fragile client
# (tests/helpers/cf291_client.c) runs under the supervisor; its content update names
# input field 21 when events supply 20, and its interpreter reads it without a bounds
# check. Checks: the daemon stays up; a healthy reference client attached at the same
# time loses no event; the fragile client crashes, is restarted, the crash loop rolls
# its content back to last known good, and it runs again on it. Prints the time from
# the first crash to healthy on last known good (measured by the daemon; the goal is
# at most 2 s; a figure, not a pass/fail criterion).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/supervisor.inc"
need_root "supervisor: starts clients as other users"
sup_setup
sup_user cf291
N=10000
C=$T/content
content_version "$C" v1 20
content_version "$C" v2 21
ln -s v1 "$C/last-good"
ln -s v2 "$C/current"
chmod -R a+rX "$C"
manifest ref "ring_size=4M"
cat > "$T/conf/clients.d/cf291.conf" <<EOF
name = cf291
executable = $CF291_EXE
user = auto
start = yes
classes = process_fork
args = --name cf291 --content {content} --socket {socket}
content = $C
crash_loop = 3/60
healthy_after = 30
EOF
start_daemon --synthetic process_fork --rate 2000 --count $N --wait-clients 2
"$RF_TESTCLIENT" --socket "$SOCK" --name ref --classes process_fork --expect $N --idle-ms 15000 > "$T/ref.out" 2>&1 &
REF=$!
on_exit "kill -KILL $REF 2>/dev/null"
check "the crash loop rolls the content back" wait_for 15 grep -q "rolled back to last known good" "$DLOG"
healthy_again() { grep -q "client 'cf291' healthy again" "$DLOG"; }
check "the fragile client is healthy again" wait_for 10 healthy_again
wait "$REF"; rc=$?
out=$(cat "$T/ref.out")
diag "reference client: $out"
is "reference client finished" "$rc" 0
is "reference client read every event" "$(kv read "$out")" "$N"
is "reference client: no drops" "$(kv dropped "$out")" 0
is "reference client: no sequence gaps" "$(kv gaps "$out")" 0
check "the daemon is still running" kill -0 "$DPID"
is "current content is last known good again" "$(readlink "$C/current")" v1
crashes=$(sup_field cf291 .supervisor.crashes)
check "the fragile client crashed at least 3 times (got $crashes)" test "$crashes" -ge 3
is "one crash loop" "$(sup_field cf291 .supervisor.crash_loops)" 1
is "one rollback" "$(sup_field cf291 .supervisor.rollbacks)" 1
is "running again" "$(sup_field cf291 .supervisor.state)" running
is "last crash was SIGSEGV (the out-of-bounds read)" "$(sup_field cf291 .supervisor.last_signal)" 11
pid=$(sup_field cf291 .pid)
check "running on v1 (its process was given the v1 content)" grep -q -- "--content $(readlink -f "$C/v1")" <(tr '\0' ' ' < "/proc/$pid/cmdline")
check "it reads events again" wait_for 5 test "$(sup_field cf291 .delivered)" -gt 0
ms=$(sup_field cf291 .supervisor.recover_ms)
diag "CF291 recovery: first crash -> healthy on last known good: $ms ms (goal <= 2000 ms)"
echo "# figure cf291_recover_ms=$ms"
"$RF_BIN" status --socket "$SOCK" | sed 's/^/# /'
kill -TERM "$DPID"; wait "$DPID"
is "daemon stops cleanly" "$?" 0
check "the supervised client was stopped with the daemon" sh -c "! kill -0 $pid 2>/dev/null"
done_testing
