#!/bin/bash
# The two builds of the open programs (plain loads through bpf_rdonly_cast where the
# kernel has it, bpf_probe_read_kernel otherwise; RINGFENCE_PATH_WALK=probe forces the
# latter) report the same paths: nested directories, a path across a mount point, a
# relative open, and a path deeper than RF_PATH_DEPTH_MAX (kept tail, path_partial).
# The connect program has the same two builds: both give the same connect events
# (IPv4, IPv6, unix, UDP). Needs root (eBPF, tracefs, a tmpfs mount).
source "$(dirname "$0")/../lib.sh"
need_root "path walk variants"
d=$(tmpdir); chmod 755 "$d"
mkdir -p "$d/a/b/c" "$d/mnt"
mount -t tmpfs rf-walk "$d/mnt" || { fail "cannot mount a tmpfs under $d"; done_testing; exit; }
on_exit "umount '$d/mnt'"
deep="$d/deep"; mkdir -p "$deep"; p="$deep"
for _ in $(seq 70); do p="$p/x"; done
mkdir -p "$p"

run() { # MODE OUT: one sensor run with the open operations, events to OUT
	local out=$2 rf
	RINGFENCE_PATH_WALK=$1 "$RF_BIN" events --json --class file_create,file_open_write,net_connect,process_exec \
		--for 60 >"$out" 2>"$out.err" &
	rf=$!
	for _ in $(seq 100); do /bin/sh -c ": probe-$$-$1"; grep -q "probe-$$-$1" "$out" 2>/dev/null && break; sleep 0.1; done
	echo 1 >"$d/a/b/c/f-$1"
	echo 1 >"$d/mnt/m-$1"
	(cd "$d/a/b" && echo 1 >"rel-$1")
	echo 1 >"$p/deep-$1"
	"$RF_BUILD/tests/helpers/net_ops" "$d/no-such.sock" >"$d/ops-$1.out"
	sleep 0.3; kill -INT $rf; wait $rf
}
paths() { # OUT MODE: "class path partial" for this test's files, the mode's suffix removed
	# this test's files only (the machine is busy): under $d, or the deep file's cut path
	jq -r --arg d "$d" --arg m "$2" 'select(.class=="file_create") |
		select((.path // "") as $p | ($p | startswith($d + "/")) and ($p | endswith("-" + $m)) or
			($p | endswith("/x/deep-" + $m))) |
		"\(.path) \(.flags | index("path_partial") != null)"' "$1" | sed "s/-$2\$//; s/-$2 / /" | sort
}
conns() { # OUT: net_ops's connects, without what differs between runs (ports it chose)
	jq -r 'select(.class=="net_connect" and (.exe | endswith("net_ops"))) |
		"\(.family) \(.protocol) \(.saddr) \(.daddr) \(.result) \(.unix_path) \(.sport > 0) \(.initiated)"' "$1" | sort
}
run default "$d/btf.json"
run probe "$d/probe.json"
grep -q "sensor: eBPF" "$d/btf.json.err" || fail "the sensor did not run with eBPF: $(cat "$d/btf.json.err")"
pb=$(paths "$d/btf.json" default); pp=$(paths "$d/probe.json" probe)
diag "default: $(echo "$pb" | tr '\n' ';')"
is "nested path"        "$(echo "$pb" | grep -c "^$d/a/b/c/f false$")" 1
is "across a mount"     "$(echo "$pb" | grep -c "^$d/mnt/m false$")" 1
is "relative open, resolved" "$(echo "$pb" | grep -c "^$d/a/b/rel false$")" 1
is "too deep: partial, ends with the file" "$(echo "$pb" | grep -c "/x/x/deep true$")" 1
check "too deep: the start is cut" bash -c "! echo '$pb' | grep -q '^$d/deep/x.* true$'"
is "probe-read walk gives the same paths" "$pp" "$pb"
check "the probe-read run did report" test -n "$pp"
cb=$(conns "$d/btf.json"); cp=$(conns "$d/probe.json")
diag "connects: $(echo "$cb" | tr '\n' ';')"
is "connects reported (IPv4 TCP, IPv6, unix, UDP)" "$(echo "$cb" | grep -c .)" 4
is "IPv4 TCP connect: local address and port from the socket" "$(echo "$cb" | grep -c '^2 6 127.0.0.1 127.0.0.1 0  true true$')" 1
is "probe-read connect program gives the same connects" "$cp" "$cb"
done_testing
