#!/bin/bash
# Tamper classes: credentials, capset, ptrace, BPF program loads, memfd, mount, umount,
# signals to other processes and executable anonymous memory, each performed by the
# tamper_ops helper with raw syscalls and asserted field by field; plus the negative
# cases (signals to itself and signal 0, file-backed and non-executable mappings,
# unsubscribed classes) and module loads on a kernel without modules.
# Needs root (eBPF, tracefs, mount, ptrace).
source "$(dirname "$0")/../lib.sh"
need_root "tamper sensor"

T="$RF_BUILD/tests/helpers/tamper_ops"
d=$(tmpdir); chmod 755 "$d"; mkdir "$d/mnt"
# tmpdir's own cleanup is registered in the $(...) subshell and lost: register it here
on_exit "umount -l '$d/mnt' 2>/dev/null; rm -rf '$d'"
out="$d/events.json"
start_sensor() { # CLASSES PROBE-OP...: start, then run the probe until it is reported
	local cls=$1; shift
	"$RF_BIN" events --json --class "$cls" --for 60 >"$out" 2>"$d/err" &
	rf=$!
	on_exit "kill $rf 2>/dev/null"
	for _ in $(seq 300); do
		"$T" "$@" >/dev/null
		grep -q '"exe":"'"$T"'"' "$out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "sensor did not report its probe: $(cat "$d/err")"
	done_testing; exit 1
}
# SIGINT skips the final drain of the ring: give the reader time to catch up first
stop_sensor() { sleep 0.6; kill -INT $rf; wait $rf; }
run() { # OUTFILE OP...: run the helper in $d, its pid in $p
	local o=$1; shift
	(cd "$d" && exec "$T" "$@") >"$o" &
	p=$!; wait $p
}
# ev PID JQ-FILTER: events of the helper process PID that match
ev() { jq -c --argjson p "$1" "select(.pid==\$p) | select($2)" "$out"; }
# one FIELDS-EXPR of the single event of PID matching FILTER ("" when none, "many" when more)
one() {
	local e; e=$(ev "$1" "$2")
	if [ "$(grep -c . <<<"$e")" -gt 1 ]; then echo many; return; fi
	[ -n "$e" ] && jq -r "$3" <<<"$e"
}
kv() { sed -n "s/^$2 .*$3=\([-0-9]*\).*/\1/p" "$1" | head -1; } # FILE OP KEY

# a target that outlives the signals it is sent
( trap '' USR1 USR2; exec sleep 60 ) &
t=$!
on_exit "kill -9 $t 2>/dev/null"
start_ticks=$(awk '{print $22}' /proc/$t/stat)

start_sensor cred,ptrace,bpf_prog_load,memfd_create,mount,umount,signal_send,mem_exec,module_load \
	memfd "rf-probe-$$" 0

# --- one root process: everything that needs privileges, then gives some up ----------
run "$d/a.out" memfd "rf-memfd-$$" 3 \
	mmapx mprotectx mmaprw mmapfile /bin/true mprotectfile /bin/true \
	bpf rf_tamper bpfbad rf_bad \
	kill $t 10 tkill $t 12 tgkill $t $t 10 sigqueue $t 12 tgsigqueue $t $t 10 pidfd $t 12 \
	killself 28 kill $t 0 \
	attach $t seize $t 1 traceme \
	mount "rf-src-$$" "$d/mnt" tmpfs 6 umount mnt 2 \
	newmount "rf-new-$$" mnt tmpfs umount "$d/mnt" 0 \
	setgid 4321 setregid 4322 4323 setresgid 1 2 3 setfsgid 77 \
	capdrop 21 mount none "$d/mnt" tmpfs 0
pa=$p
# --- the uid calls, each from root in its own process; failures once unprivileged -----
run "$d/u1.out" setuid 65534 setuid 0 capraise 21 attach 1 kill 1 15
pu1=$p
run "$d/u2.out" setreuid 65534 65533
pu2=$p
run "$d/u3.out" setresuid 1 2 3
pu3=$p
run "$d/u4.out" setfsuid 4242
pu4=$p
# a cwd deeper than the path walk goes (RF_PATH_DEPTH_MAX): the target is flagged
deep="$d"; for _ in $(seq 70); do deep="$deep/d"; done; mkdir -p "$deep"
(cd "$deep" && exec "$T" umount rf-deep 0) >"$d/u5.out" &
pu5=$!; wait $pu5
stop_sensor
check "helper ran to its end" grep -q "capdrop result=0" "$d/a.out"

# memfd_create
is "memfd: name, flags, fd" "$(one $pa '.class=="memfd_create"' '"\(.name) \(.memfd_flags) \(.fd) \(.uid)"')" \
	"rf-memfd-$$ 3 $(kv "$d/a.out" memfd result) 0"
is "memfd: exe from the process table" "$(one $pa '.class=="memfd_create"' .exe)" "$T"

# mem_exec
is "mmap anonymous PROT_EXEC: addr, len, prot, flags" \
	"$(one $pa '.class=="mem_exec" and .syscall=="mmap"' '"\(.addr) \(.len) \(.prot) \(.map_flags) \(.result)"')" \
	"$(kv "$d/a.out" mmapx result) 8192 5 34 0"
is "mprotect of anonymous memory to PROT_EXEC" \
	"$(one $pa '.class=="mem_exec" and .syscall=="mprotect"' '"\(.addr) \(.len) \(.prot) \(.map_flags) \(.result)"')" \
	"$(kv "$d/a.out" mprotectx addr) 4096 5 0 0"
is "not reported: file mappings with PROT_EXEC, anonymous without it" \
	"$(ev $pa '.class=="mem_exec"' | wc -l)" 2

# bpf_prog_load
is "bpf load: type, insns, name, id, fd, result" \
	"$(one $pa '.class=="bpf_prog_load" and .result==0' '"\(.prog_type) \(.insn_cnt) \(.name) \(.prog_id) \(.fd)"')" \
	"1 2 rf_tamper $(kv "$d/a.out" bpf prog_id) $(sed -n 's/^bpf prog_id=[0-9]* bpf result=//p' "$d/a.out")"
check "bpf load: the kernel's id is real" test "$(kv "$d/a.out" bpf prog_id)" -gt 0
is "bpf load refused by the verifier: reported with -EACCES" \
	"$(one $pa '.class=="bpf_prog_load" and .result!=0' '"\(.result) \(.insn_cnt) \(.name) \(.prog_id) \(.fd)"')" \
	"-13 1 rf_bad 0 -1"

# signal_send
sig() { one $pa ".class==\"signal_send\" and .syscall==\"$1\"" '"\(.target_pid) \(.target_tid) \(.signal) \(.result)"'; }
is "kill"              "$(sig kill)" "$t 0 10 0"
is "tkill"             "$(sig tkill)" "$t 0 12 0"
is "tgkill"            "$(sig tgkill)" "$t $t 10 0"
is "rt_sigqueueinfo"   "$(sig rt_sigqueueinfo)" "$t 0 12 0"
is "rt_tgsigqueueinfo" "$(sig rt_tgsigqueueinfo)" "$t $t 10 0"
is "pidfd_send_signal: the pid behind the fd" "$(sig pidfd_send_signal)" "$t 0 12 0"
is "not reported: signals to itself (kill, tgkill, its own pidfd) and signal 0" \
	"$(ev $pa '.class=="signal_send"' | jq -r .syscall | sort | tr '\n' ' ')" \
	"kill pidfd_send_signal rt_sigqueueinfo rt_tgsigqueueinfo tgkill tkill "
is "failed kill (EPERM, as nobody) reported" \
	"$(one $pu1 '.class=="signal_send"' '"\(.target_pid) \(.signal) \(.result) \(.uid)"')" "1 15 -1 65534"

# ptrace
start_ns=$(one $pa '.class=="ptrace" and .request==16' .target_start_time)
is "ptrace attach" "$(one $pa '.class=="ptrace" and .request==16' '"\(.tracer_pid) \(.target_pid) \(.options) \(.result)"')" \
	"$pa $t 0 0"
check "ptrace attach: target start time matches /proc (10 ms ticks)" \
	test $(( (${start_ns:-0} / 10000000) - start_ticks )) -ge 0 -a $(( (${start_ns:-0} / 10000000) - start_ticks )) -le 1
is "ptrace seize with options" "$(one $pa '.class=="ptrace" and .request==16902' '"\(.tracer_pid) \(.target_pid) \(.options) \(.result)"')" \
	"$pa $t 1 0"
child=$(sed -n 's/^traceme child=\([0-9]*\).*/\1/p' "$d/a.out")
is "ptrace traceme: the parent traces the caller" \
	"$(one "${child:-0}" '.class=="ptrace"' '"\(.request) \(.tracer_pid) \(.target_pid) \(.result)"')" "0 $pa $child 0"
is "failed ptrace attach to pid 1 (EPERM, as nobody) reported" \
	"$(one $pu1 '.class=="ptrace"' '"\(.request) \(.target_pid) \(.result) \(.target_start_time)"')" "16 1 -1 0"

# mount, umount
is "mount: source, target, fstype, flags, result" \
	"$(one $pa '.class=="mount" and .result==0 and .syscall=="mount"' '"\(.source) \(.target) \(.fstype) \(.mount_flags)"')" \
	"rf-src-$$ $d/mnt tmpfs 6"
is "new mount API (fsopen, fsmount, move_mount): device name, type, target, flags" \
	"$(one $pa '.class=="mount" and .syscall=="move_mount"' '"\(.source) \(.target) \(.fstype) \(.mount_flags) \(.result)"')" \
	"rf-new-$$ $d/mnt tmpfs 4 0"
check "new mount API: mounted" grep -q "newmount result=0" "$d/a.out"
is "umount of a relative path: made absolute against the cwd" \
	"$(one $pa '.class=="umount" and .umount_flags==2' '"\(.target) \(.umount_flags) \(.result) \(.flags | length)"')" "$d/mnt 2 0 0"
is "umount below a too deep cwd: reported, failed, path flagged partial" \
	"$(one $pu5 '.class=="umount"' '"\(.result) \(.flags) \(.target | endswith("/d/d/rf-deep"))"')" '-2 ["path_partial"] true'
is "a fully resolved target is not flagged" "$(one $pa '.class=="mount" and .syscall=="mount" and .result==0' '.flags')" '[]'
is "failed mount (no CAP_SYS_ADMIN after capset) reported" \
	"$(one $pa '.class=="mount" and .result!=0' '"\(.source) \(.target) \(.result)"')" "none $d/mnt -1"

# capset
is "capset drop CAP_SYS_ADMIN: the requested sets" \
	"$(one $pa '.class=="cred_capset"' '"effective=\(.effective) permitted=\(.permitted) inheritable=\(.inheritable) \(.version) \(.target_pid) \(.result)"')" \
	"$(sed -n 's/^capset \(effective=[0-9]* permitted=[0-9]* inheritable=[0-9]*\) capdrop.*/\1/p' "$d/a.out") 537396514 0 0"
is "failed capset (raise as nobody) reported" \
	"$(one $pu1 '.class=="cred_capset"' '"\(.effective) \(.permitted) \(.result) \(.uid)"')" "2097152 2097152 -1 65534"

# set*id: args, ids before and after, result
ids() { one "$1" ".class==\"cred_setid\" and .syscall==\"$2\" ${3:-}" \
	'"\(.arg1) \(.arg2) \(.arg3) | \(.old_real) \(.old_effective) \(.old_saved) \(.old_fs) | \(.new_real) \(.new_effective) \(.new_saved) \(.new_fs) | \(.result) \(.uid)"'; }
N=4294967295
is "setgid"    "$(ids $pa setgid)"    "4321 $N $N | 0 0 0 0 | 4321 4321 4321 4321 | 0 0"
is "setregid"  "$(ids $pa setregid)"  "4322 4323 $N | 4321 4321 4321 4321 | 4322 4323 4323 4323 | 0 0"
is "setresgid" "$(ids $pa setresgid)" "1 2 3 | 4322 4323 4323 4323 | 1 2 3 2 | 0 0"
is "setfsgid"  "$(ids $pa setfsgid)"  "77 $N $N | 1 2 3 2 | 1 2 3 77 | 0 0"
is "setuid"    "$(ids $pu1 setuid 'and .result==0')" "65534 $N $N | 0 0 0 0 | 65534 65534 65534 65534 | 0 0"
is "failed setuid(0) as nobody reported" \
	"$(ids $pu1 setuid 'and .result!=0')" "0 $N $N | 65534 65534 65534 65534 | 65534 65534 65534 65534 | -1 65534"
is "setreuid"  "$(ids $pu2 setreuid)"  "65534 65533 $N | 0 0 0 0 | 65534 65533 65533 65533 | 0 0"
is "setresuid" "$(ids $pu3 setresuid)" "1 2 3 | 0 0 0 0 | 1 2 3 2 | 0 0"
is "setfsuid"  "$(ids $pu4 setfsuid)"  "4242 $N $N | 0 0 0 0 | 0 0 0 4242 | 0 0"
check "tamper events carry the Image (exe)" \
	bash -c "[ \$(jq -s --argjson p $pa 'map(select(.pid==\$p and .exe==\"$T\")) | length' '$out') -ge 20 ]"

# module_load: a kernel without modules has nothing to load; the sensor must say so
if [ ! -e /proc/modules ]; then
	check "module_load: programs reported unavailable on a kernel without modules" \
		grep -q "could not be attached.*tp/module/module_load" "$d/err"
else
	check "module_load: programs attached on a kernel with modules" \
		bash -c "! grep -q 'could not be attached.*module_load' '$d/err'"
fi

# --- an unsubscribed class is not emitted -----------------------------------------------
start_sensor mem_exec mmapx
run "$d/b.out" memfd rf-unsub 0 bpf rf_unsub kill $t 10 setfsgid 0 mmapx
stop_sensor
is "only the subscribed class arrives" "$(jq -r '.class' "$out" | sort -u | tr '\n' ' ')" "mem_exec "
is "subscribed class still reported" "$(ev $p '.class=="mem_exec"' | wc -l)" 1
done_testing
