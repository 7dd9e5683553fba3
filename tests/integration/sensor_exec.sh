#!/bin/bash
# The eBPF sensor reports a marker program's exec with exactly its argv, cwd, user,
# executable and parent; fork and exit of the same process are reported too.
# Needs root (eBPF).
source "$(dirname "$0")/../lib.sh"
need_root "eBPF process sensor"

d=$(tmpdir); chmod 755 "$d"
mkdir -p "$d/work dir"; chmod 755 "$d/work dir"
marker="$d/rf-marker-$$"
cp /usr/bin/true "$marker"; chmod 755 "$marker"
out="$d/events.json"

"$RF_BIN" events --json --class process --for 30 >"$out" 2>"$d/err" &
rf=$!
on_exit "kill $rf 2>/dev/null"
# wait until the sensor is up: it reports our own probe exec
for _ in $(seq 100); do /bin/sh -c ": rf-probe-$$"; sleep 0.1; grep -q "rf-probe-$$" "$out" && break; done
check "sensor started and reports execs" grep -q "rf-probe-$$" "$out"

# the marker: a subshell of this script that changes directory and becomes nobody
( cd "$d/work dir" && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$marker" a "b c" --x=1 ) &
mpid=$!
wait $mpid
sleep 0.5
kill -INT $rf; wait $rf; rc=$?
is "events exits 0 on SIGINT" "$rc" 0
check "summary on stderr names the counts" grep -q "events (process_exec" "$d/err"

ev=$(jq -c --arg m "$marker" 'select(.class=="process_exec" and .exe==$m)' "$out")
if [ -z "$ev" ]; then
	fail "marker exec reported"; done_testing; exit 1
fi
ok "marker exec reported"
j() { jq -r "$@" <<<"$ev"; }
is "pid is the marker's"           "$(j .pid)" "$mpid"
is "argv exactly"                  "$(j -c .args)" "[\"$marker\",\"a\",\"b c\",\"--x=1\"]"
is "cmdline is argv joined"        "$(j .cmdline)" "$marker a b c --x=1"
is "argc"                          "$(j .argc)" 4
is "cwd"                           "$(j .cwd)" "$d/work dir"
is "uid"                           "$(j .uid)" 65534
is "euid"                          "$(j .euid)" 65534
is "user name"                     "$(j .user)" "$(getent passwd 65534 | cut -d: -f1)"
is "parent is this script"         "$(j .ppid)" "$$"
is "parent_exe"                    "$(j .parent_exe)" "$(readlink /proc/$$/exe)"
is "parent_cmdline"                "$(j .parent_cmdline)" "$(tr '\0' ' ' </proc/$$/cmdline | sed 's/ $//')"
is "not truncated"                 "$(j .args_truncated)" false
is "no flags"                      "$(j -c .flags)" "[]"
check "has a start time"           test "$(j .start_time)" -gt 0
check "timestamp is RFC 3339 UTC"  bash -c "[[ '$(j .ts)' =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z$ ]]"
# the same process's fork (from this script) and exit
fork=$(jq -c --argjson p "$mpid" 'select(.class=="process_fork" and .child_pid==$p)' "$out" | head -1)
is "fork reported with this script as parent" "$(jq -r .pid <<<"$fork")" "$$"
is "fork's child start time is the exec's start time" "$(jq -r .child_start_time <<<"$fork")" "$(j .start_time)"
exit_ev=$(jq -c --argjson p "$mpid" 'select(.class=="process_exit" and .pid==$p)' "$out" | head -1)
is "exit reported with code 0" "$(jq -r .exit_code <<<"$exit_ev")" 0
# sequence numbers: contiguous, per stream
seqs_ok=$(jq -s '[.[].seq] as $s | ($s == [range($s[0]; $s[0] + ($s|length))])' "$out")
is "global sequence numbers contiguous" "$seqs_ok" true

# limits: argv beyond RF_ARGV_MAX is cut and flagged; a path deeper than
# RF_PATH_DEPTH_MAX components keeps its last components and is flagged partial
deep="$d"; for i in $(seq 70); do deep="$deep/d"; done
mkdir -p "$deep"; cp /usr/bin/true "$deep/rf-deep-$$"
long=$(head -c 5000 /dev/zero | tr '\0' x)
"$RF_BIN" events --json --class process_exec --for 20 >"$out" 2>/dev/null &
rf=$!
for _ in $(seq 100); do /bin/sh -c ": rf-probe3-$$"; sleep 0.1; grep -q "rf-probe3-$$" "$out" && break; done
"$marker" "$long"
"$deep/rf-deep-$$"
sleep 0.5; kill -INT $rf; wait $rf
ev=$(jq -c --arg m "$marker" 'select(.exe==$m)' "$out" | head -1)
is "long argv: args_truncated" "$(j .args_truncated)" true
is "long argv: flagged truncated" "$(j -c '.flags | index("truncated") != null')" true
is "long argv: argc still counts both" "$(j .argc)" 2
is "long argv: 4095 bytes kept" "$(j '.args | join(" ") | length')" 4095
ev=$(jq -c --arg n "rf-deep-$$" 'select(.exe | endswith($n))' "$out" | head -1)
is "deep path: flagged path_partial" "$(j -c '.flags | index("path_partial") != null')" true
check "deep path: keeps its last components" bash -c "[[ '$(j .exe)' == */d/d/d/rf-deep-$$ ]]"

# exit codes and signals
"$RF_BIN" events --json --class process_exit,process_exec --for 20 >"$out" 2>/dev/null &
rf=$!
for _ in $(seq 100); do /bin/sh -c ": rf-probe2-$$"; sleep 0.1; grep -q "rf-probe2-$$" "$out" && break; done
bash -c 'exit 7' & p1=$!; wait $p1
bash -c 'kill -TERM $$' & p2=$!; wait $p2
sleep 0.5; kill -INT $rf; wait $rf
is "exit code 7 reported"  "$(jq -r --argjson p $p1 'select(.class=="process_exit" and .pid==$p) | .exit_code' "$out")" 7
is "SIGTERM death reported" "$(jq -r --argjson p $p2 'select(.class=="process_exit" and .pid==$p) | .signal' "$out")" 15
done_testing
