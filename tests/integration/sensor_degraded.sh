#!/bin/bash
# Degraded mode: with --no-bpf (and without privilege) the sensor says why and falls
# back to the process connector; every event and the summary say degraded.
source "$(dirname "$0")/../lib.sh"
need_root "process connector fallback"
d=$(tmpdir); chmod 755 "$d"
marker="$d/rf-degraded-marker-$$"
cp /usr/bin/sleep "$marker"; chmod 755 "$marker"
out="$d/events.json"

"$RF_BIN" events --no-bpf --json --for 30 >"$out" 2>"$d/err" &
rf=$!
on_exit "kill $rf 2>/dev/null"
for _ in $(seq 100); do /bin/sh -c "sleep 0.05 # rf-probe-$$"; grep -q "rf-probe-$$" "$out" && break; done
# a marker that lives long enough for /proc to be read
"$marker" 0.3 &
mpid=$!
wait $mpid
sleep 0.5
kill -INT $rf; wait $rf
is "events exits 0" "$?" 0
check "says why eBPF is not used" grep -q "eBPF sensor unavailable: --no-bpf given; falling back to the process connector" "$d/err"
check "summary says degraded" grep -q "sensor: DEGRADED" "$d/err"
ev=$(jq -c --argjson p $mpid 'select(.class=="process_exec" and .pid==$p)' "$out")
is "marker exec reported" "$(jq -r .exe <<<"$ev")" "$marker"
is "marker argv from /proc" "$(jq -c .args <<<"$ev")" "[\"$marker\",\"0.3\"]"
is "marker exec is marked degraded" "$(jq -r .degraded <<<"$ev")" true
is "parent known" "$(jq -r .ppid <<<"$ev")" "$$"
all=$(jq -s 'all(.[]; .degraded == true)' "$out")
is "every event is marked degraded" "$all" true
is "exit reported too" "$(jq -c --argjson p $mpid 'select(.class=="process_exit" and .pid==$p) | .exit_code' "$out")" 0
is "fork reported too" "$(jq -c --argjson p $mpid 'select(.class=="process_fork" and .child_pid==$p) | .pid' "$out")" "$$"

# without privilege: eBPF refused with the reason; the process connector (which this
# kernel offers to everyone) gives the degraded stream
setpriv --reuid=65534 --regid=65534 --clear-groups "$RF_BIN" events --json --for 1.5 >"$d/out2" 2>"$d/err2" &
up=$!
sleep 0.5; /bin/true; wait $up
rc=$?
if grep -q "cannot listen to the process connector" "$d/err2"; then
	is "unprivileged, no connector either: exits 1" "$rc" 1
else
	is "unprivileged events runs degraded" "$rc" 0
	check "unprivileged events are marked degraded" bash -c "[ -s '$d/out2' ] && jq -s -e 'all(.[]; .degraded)' '$d/out2' >/dev/null"
fi
check "says eBPF needs privilege" grep -q "no privilege to load eBPF: run as root" "$d/err2"
done_testing
