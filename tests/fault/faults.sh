#!/bin/bash
# Fault injection: fifteen hostile or broken clients (tests/helpers/rf_faulty.c), all
# started and sandboxed by the supervisor at once, beside a healthy reference client.
# For each fault: the action is refused or contained (the client is killed, limited or
# disconnected; no forbidden action succeeds) and the daemon stays up; the reference
# client loses no event over the whole run. Prints the matrix: fault, contained,
# how, whether the daemon reported it (crash, kill) or only the client saw the refusal,
# CONTAIN_MS: time from the fault to the daemon reaping the client (0: refused at once),
# and the final supervisor state (quarantined after a crash loop, or still running).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../integration/broker.inc"
source "$(dirname "$0")/../integration/supervisor.inc"
need_root "supervisor: starts clients as other users"
sup_setup
FAULTS=(segv abort loop silent alloc forkbomb fds garbage ring ptrace shadow readetc bpf kill socket)
FAULTY=$(readlink -f "$RF_BUILD/tests/helpers/rf_faulty")
N=12000
for f in "${FAULTS[@]}"; do
	sup_user "f-$f"
	cat > "$T/conf/clients.d/f-$f.conf" <<EOF
name = f-$f
executable = $FAULTY
user = auto
start = yes
classes = process_fork
args = --name f-$f --fault $f --socket {socket}
ring_size = 64K
memory = 64M
nofile = 32
nproc = 4
stall_timeout = 2
crash_loop = 3/60
EOF
done
echo "heartbeat = 1" >> "$T/conf/clients.d/f-silent.conf"
manifest ref "ring_size=4M"
start_daemon --synthetic process_fork --rate 1000 --count $N --wait-clients $(( ${#FAULTS[@]} + 1 ))
"$RF_TESTCLIENT" --socket "$SOCK" --name ref --classes process_fork --expect $N --idle-ms 20000 > "$T/ref.out" 2>&1 &
REF=$!
on_exit "kill -KILL $REF 2>/dev/null"
wait "$REF"; rc=$?
out=$(cat "$T/ref.out")
diag "reference client: $out"
is "reference client finished" "$rc" 0
is "reference client read every event over the whole suite" "$(kv read "$out")" "$N"
is "reference client: no drops" "$(kv dropped "$out")" 0
is "reference client: no sequence gaps" "$(kv gaps "$out")" 0
# the slowest fault (loop: three stalls of 2 s) settles within the run; give it a margin
settled() {
	local f s
	for f in loop silent alloc ring segv abort; do
		s=$(sup_field "f-$f" .supervisor.state)
		[ "$s" = quarantined ] || return 1
	done
}
check "crash-looping clients end quarantined" wait_for 15 settled
check "the daemon is still running" kill -0 "$DPID"
# the sandbox of a client that is still running
pid=$(sup_field f-shadow .pid)
st=/proc/$pid/status
is "sandbox: runs as its own user" "$(stat -c %U "/proc/$pid")" ringfence-f-shadow
is "sandbox: no_new_privs" "$(awk '/^NoNewPrivs/ {print $2}' "$st")" 1
is "sandbox: seccomp filter" "$(awk '/^Seccomp:/ {print $2}' "$st")" 2
is "sandbox: no effective capabilities" "$(awk '/^CapEff/ {print $2}' "$st")" 0000000000000000
is "sandbox: empty bounding set" "$(awk '/^CapBnd/ {print $2}' "$st")" 0000000000000000
check "sandbox: own mount namespace (private /tmp)" test "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)"
check "sandbox: /tmp is a tmpfs of its own" grep -q " /tmp tmpfs " "/proc/$pid/mounts"
is "sandbox: RLIMIT_AS from the manifest" "$(awk '/^Max address space/ {print $4}' "/proc/$pid/limits")" 67108864
is "sandbox: RLIMIT_NOFILE from the manifest" "$(awk '/^Max open files/ {print $4}' "/proc/$pid/limits")" 32
is "sandbox: no core dumps" "$(awk '/^Max core file size/ {print $5}' "/proc/$pid/limits")" 0
cg=$(grep '^0::' "/proc/$pid/cgroup" | cut -d: -f3)
if [ -d /sys/fs/cgroup/unified ]; then
	check "sandbox: in a cgroup of the daemon's ($cg)" sh -c "echo '$cg' | grep -q '/ringfence-$DPID/f-shadow'"
fi
diag "cgroup limits: $(status_json | jq -c .sandbox)"
status_json > "$T/status.json"
if grep -q "sandbox denials of clients are reported" "$DLOG"; then
	ll_audit=yes
else
	ll_audit=no ll_why=$(grep -o "sandbox denials of clients are NOT reported: .*" "$DLOG")
fi
printf "# %-9s %-9s %-44s %-9s %9s  %s\n" FAULT CONTAINED HOW REPORTED "CONTAIN_MS" STATE
for f in "${FAULTS[@]}"; do
	line=$(grep "rf_faulty: fault=$f " "$DLOG")
	t0=$(grep -m1 -o "fault=$f t_ns=[0-9]*" "$DLOG" | sed 's/.*t_ns=//')
	crash=$(grep -m1 "supervisor: client 'f-$f' (pid [0-9]*) .*; crash 1, .*t_ns=" "$DLOG")
	t1=$(echo "$crash" | grep -o 't_ns=[0-9]*' | sed 's/t_ns=//')
	state=$(jq -r --arg n "f-$f" '[.clients[] | select(.name == $n)][0].supervisor.state' "$T/status.json")
	crashes=$(jq -r --arg n "f-$f" '[.clients[] | select(.name == $n)][0].supervisor.crashes' "$T/status.json")
	contained=yes how="" reported=no ms="-"
	if echo "$line" | grep -q SUCCEEDED || [ -z "$t0" ]; then
		contained=no how=${t0:+"the forbidden action succeeded"}
		how=${how:-"fault never ran"}
	elif [ -n "$crash" ]; then
		how=$(echo "$crash" | sed -e "s/.*(pid [0-9]*) //" -e 's/; crash.*//')
		r=$(echo "$line" | grep -o -E '(denied|limited|contained)[^;]*' | head -1)
		[ -n "$r" ] && how="$r; then $how"
		reported=yes
		ms=$(( (t1 - t0) / 1000000 ))
	else
		how=$(echo "$line" | grep -o -E '(denied|limited|contained).*' | head -1)
		[ -n "$how" ] || { contained=no; how="no refusal seen"; }
		# refused by the kernel without a crash: the daemon's incident report
		if grep -q "supervisor: incident: client 'f-$f'" "$DLOG"; then
			reported=yes
		else
			reported=no
		fi
		ms=0
	fi
	printf '# %-9s %-9s %-44.44s %-9s %9s  %s (crashes %s)\n' "$f" "$contained" "$how" "$reported" "$ms" "$state" "$crashes"
	is "fault $f contained" "$contained" yes
	is "fault $f reported by the daemon" "$reported" yes
done
check "one incident per denial (the open report and Landlock's merged)" \
	test "$(grep -c "incident: client 'f-readetc'" "$DLOG")" -eq 1
for f in shadow readetc; do
	check "the $f denial names what was refused" \
		grep -q -E "incident: client 'f-$f' .*(tried to open /etc/|Landlock fs.read_file\): /etc/)" "$DLOG"
done
is "incidents are counted in the status (f-readetc)" \
	"$(jq -r '[.clients[] | select(.name == "f-readetc")][0].supervisor.incidents' "$T/status.json")" 1
diag "Landlock audit: $ll_audit ${ll_why:-}"
check "no forbidden action succeeded" sh -c "! grep -q SUCCEEDED '$DLOG'"
is "clients that refuse-and-continue are still running" \
	"$(jq -r '[.clients[] | select(.name == "f-shadow" or .name == "f-garbage" or .name == "f-fds")] | map(.supervisor.state) | unique | join(",")' "$T/status.json")" running
diag "daemon log: $DLOG"
cp "$DLOG" /tmp/rf-faults-last.log 2>/dev/null
kill -TERM "$DPID"; wait "$DPID"
is "daemon stops cleanly" "$?" 0
done_testing
