#!/bin/bash
# Muting and inverted muting, done by the daemon (docs/client-api.md): by process, by
# executable path (literal and prefix) and by target path; inverted sets become allow
# lists; classes without the field a set looks at are not affected.
# The synthetic source makes event i of class classes[i % 2] with pid 1000 + (i/2) % 8,
# executable /opt/rf-synth/bin<pid-1000>, target /tmp/rf-synth/file<pid-1000>.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
need_root "broker: clients identified by SO_PEERCRED as root"
broker_setup
N=1600 # 100 events per (class, pid)
for n in a b c d e; do manifest "mute-$n"; done
start_daemon --synthetic process_exec,file_create --count $N --wait-clients 5
C=process_exec,file_create
client --name mute-a --classes $C --expect $((N - 200)) --mute-pid 1003 > "$T/a" 2>&1 &
P1=$!
client --name mute-b --classes $C --expect 700 --mute-exe /opt/rf-synth/bin1 --mute-target-prefix /tmp/rf-synth/ > "$T/b" 2>&1 &
P2=$!
client --name mute-c --classes $C --expect 400 --mute-pid 1002 --mute-pid 1005 --invert process > "$T/c" 2>&1 &
P3=$!
client --name mute-d --classes $C --expect 400 --mute-exe-prefix /opt/rf-synth/bin7 --mute-target /tmp/rf-synth/file6 --invert exe > "$T/d" 2>&1 &
P4=$!
client --name mute-e --classes process_fork,process_exec --expect 800 --mute-target-prefix /nothing --invert target > "$T/e" 2>&1 &
P5=$!
on_exit "kill $P1 $P2 $P3 $P4 $P5 2>/dev/null"
wait $P1 $P2 $P3 $P4 $P5
a=$(cat "$T/a"); b=$(cat "$T/b"); c=$(cat "$T/c"); d=$(cat "$T/d"); e=$(cat "$T/e")
for x in a b c d e; do diag "$x: $(cat "$T/$x")"; done
is "mute process 1003: everything else arrives" "$(kv read "$a"):$(kv pids "$a")" "1400:0xf7"
is "mute process: muted events counted" "$(kv muted "$a")" 200
is "mute process: no sequence gaps (muted events take no number)" "$(kv gaps "$a"):$(kv last_seq "$a")" "0:1400"
is "mute exe literal + target prefix: exec events of other executables only" \
	"$(kv read "$b"):$(kv process_exec "$b"):$(kv file_create "$b"):$(kv pids "$b")" "700:700::0xfd"
is "inverted process muting: only the listed processes" "$(kv read "$c"):$(kv pids "$c")" "400:0x24"
# d: exe set inverted = only bin7 (both classes carry an executable); target
# file6 muted (not inverted) removes nothing of pid 7
is "inverted exe muting: only the listed executable prefix" \
	"$(kv read "$d"):$(kv pids "$d"):$(kv process_exec "$d"):$(kv file_create "$d")" "200:0x80:100:100"
# e: target set inverted with no match, but process_exec has no target path: unaffected
is "inverted target muting leaves classes without a target path alone" "$(kv read "$e"):$(kv process_exec "$e")" "800:800"
check "daemon still running" kill -0 "$DPID"
done_testing
