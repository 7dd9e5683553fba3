#!/bin/bash
# File and network events: each operation reported with its exact fields, and the
# negative cases (read-only opens, failed opens, excluded paths, unsubscribed classes,
# other families) not reported. Needs root (eBPF, tracefs).
source "$(dirname "$0")/../lib.sh"
need_root "file and network sensor"
d=$(tmpdir); chmod 755 "$d"
out="$d/events.json"
start_sensor() { # CLASSES
	"$RF_BIN" events --json --class "$1" --for 60 >"$out" 2>"$d/err" &
	rf=$!
	on_exit "kill $rf 2>/dev/null"
	for _ in $(seq 100); do /bin/sh -c ": probe-$$"; grep -q "probe-$$" "$out" 2>/dev/null && return; sleep 0.1; done
	fail "sensor did not report its probe file: $(cat "$d/err")"
}
stop_sensor() { sleep 0.3; kill -INT $rf; wait $rf; }
# only events about this test's directory: the machine is busy with other work
ev() { jq -c --arg d "$d" "select((.path // \"\") | startswith(\$d)) | select($1)" "$out"; }
field() { jq -r --arg d "$d" "select((.path // \"\") | startswith(\$d)) | select($1) | $2" "$out" | head -1; }

# --- files ---------------------------------------------------------------------
start_sensor file,process_exec
cd "$d"
echo one >"$d/new.txt"                       # create (shell: O_CREAT|O_TRUNC|O_WRONLY)
echo two >>"$d/new.txt"                      # open for write (append)
cat "$d/new.txt" >/dev/null                  # read-only: no event
cat "$d/missing" 2>/dev/null                 # failed open: no event
sh -c 'echo x > /proc/self/comm'             # excluded prefix /proc/: no event
mkdir "$d/sub" && cd "$d/sub"
mv ../new.txt renamed.txt                    # rename, relative paths against the cwd
ln -s ../target-text "$d/sub/sym"            # symlink: target kept as given
ln renamed.txt hard.txt                      # hard link
chmod 640 renamed.txt
chown 65534:65534 renamed.txt
rm sym hard.txt
cd "$d"; rm -r "$d/sub"
stop_sensor
check "no file events from ringfence itself" bash -c "! jq -e 'select(.exe==\"$RF_BIN\")' '$out' >/dev/null"
is "create: path"     "$(field '.class=="file_create" and .path=="'"$d"'/new.txt"' .path)" "$d/new.txt"
is "create: mode"     "$(field '.class=="file_create" and .path=="'"$d"'/new.txt"' .mode)" "$(printf %d 0$(umask -S >/dev/null; printf '%o' $((0666 & ~0$(umask)))))"
is "create: uid"      "$(field '.class=="file_create" and .path=="'"$d"'/new.txt"' .uid)" 0
is "create: exe"      "$(field '.class=="file_create" and .path=="'"$d"'/new.txt"' .exe)" "$(readlink /proc/$$/exe)"
is "create: O_WRONLY in flags" "$(( $(field '.class=="file_create" and .path=="'"$d"'/new.txt"' .open_flags) & 3 ))" 1
is "append: open_write"  "$(ev '.class=="file_open_write" and .path=="'"$d"'/new.txt"' | wc -l)" 1
is "append: O_APPEND in flags" "$(( $(field '.class=="file_open_write" and .path=="'"$d"'/new.txt"' .open_flags) & 02000 ))" 1024
is "read-only open not reported" "$(ev '(.path // "") | endswith("new.txt")' | jq -s 'map(select(.class=="file_open_write")) | length')" 1
is "failed open not reported" "$(ev '.path=="'"$d"'/missing"' | wc -l)" 0
is "excluded /proc/ not reported" "$(ev '(.path // "") | startswith("/proc/")' | wc -l)" 0
is "rename: source"   "$(field '.class=="file_rename"' .source_path)" "$d/sub/../new.txt"
is "rename: target"   "$(field '.class=="file_rename"' .path)" "$d/sub/renamed.txt"
is "rename: exe"      "$(field '.class=="file_rename"' .exe)" "/usr/bin/mv"
is "symlink: path"    "$(field '.class=="file_link" and .symlink' .path)" "$d/sub/sym"
is "symlink: target as given" "$(field '.class=="file_link" and .symlink' .target)" "../target-text"
is "hard link: path"  "$(field '.class=="file_link" and (.symlink|not)' .path)" "$d/sub/hard.txt"
is "hard link: target" "$(field '.class=="file_link" and (.symlink|not)' .target)" "$d/sub/renamed.txt"
is "chmod: path"      "$(field '.class=="file_chmod"' .path)" "$d/sub/renamed.txt"
is "chmod: mode"      "$(field '.class=="file_chmod"' .mode)" "$((8#640))"
is "chown: owner"     "$(field '.class=="file_chown"' '"\(.owner_uid):\(.owner_gid)"')" "65534:65534"
is "chown: path"      "$(field '.class=="file_chown"' .path)" "$d/sub/renamed.txt"
is "unlink: symlink"  "$(ev '.class=="file_unlink" and .path=="'"$d"'/sub/sym"' | wc -l)" 1
is "unlink: hard link" "$(field '.class=="file_unlink" and .path=="'"$d"'/sub/hard.txt"' .is_dir)" false
is "rmdir: is_dir"    "$(field '.class=="file_unlink" and .path=="'"$d"'/sub"' .is_dir)" true
is "unlinkat in rm -r: file" "$(ev '.class=="file_unlink" and .path=="'"$d"'/sub/renamed.txt"' | wc -l)" 1

# --- network -------------------------------------------------------------------
start_sensor net,process_exec
"$RF_BUILD/tests/helpers/net_ops" "$d/no-such.sock" >"$d/ops.out"
stop_sensor
kv() { sed -n "s/^$1=//p" "$d/ops.out"; }
lp=$(kv listen_port); cp=$(kv client_port)
p=$(jq -r 'select(.class=="net_listen") | .pid' "$out" | head -1)
n() { jq -c "select(.exe | endswith(\"net_ops\")) | select(.class | startswith(\"net_\")) | select($1)" "$out"; }
is "bind: 127.0.0.1 port 0" "$(n '.class=="net_bind" and .family==2' | jq -r '"\(.saddr):\(.sport):\(.result):\(.protocol)"')" "127.0.0.1:0:0:6"
is "listen: port"    "$(n '.class=="net_listen"' | jq -r '"\(.saddr):\(.sport):\(.result)"')" "127.0.0.1:$lp:0"
is "connect: remote" "$(n '.class=="net_connect" and .family==2 and .protocol==6' | jq -r '"\(.daddr):\(.dport)"')" "127.0.0.1:$lp"
is "connect: local"  "$(n '.class=="net_connect" and .family==2 and .protocol==6' | jq -r '"\(.saddr):\(.sport)"')" "127.0.0.1:$cp"
is "connect: initiated, result 0" "$(n '.class=="net_connect" and .family==2 and .protocol==6' | jq -r '"\(.initiated):\(.result)"')" "true:0"
is "accept: peer"    "$(n '.class=="net_accept"' | jq -r '"\(.daddr):\(.dport):\(.saddr):\(.sport):\(.initiated)"')" "127.0.0.1:$cp:127.0.0.1:$lp:false"
is "IPv6 refused connect reported" "$(n '.class=="net_connect" and .family==10' | jq -r '"\(.daddr):\(.dport):\(.result)"')" "::1:1:$(kv v6_result)"
check "IPv6 connect was refused" test "$(kv v6_result)" = -111
is "unix connect, missing path" "$(n '.class=="net_connect" and .family==1' | jq -r '"\(.unix_path):\(.result)"')" "$d/no-such.sock:-2"
is "unix abstract bind" "$(n '.class=="net_bind" and .family==1' | jq -r '"\(.unix_path):\(.result)"')" "@rf-abstract:0"
is "UDP connect" "$(n '.class=="net_connect" and .protocol==17' | jq -r '"\(.daddr):\(.dport):\(.sport)"')" "127.0.0.2:9:$(kv udp_port)"
is "socketpair: no event" "$(n '.family != 1 and .family != 2 and .family != 10' | wc -l)" 0
is "net events carry the process key" "$(n '.class=="net_listen"' | jq -r '.start_time > 0')" true
is "no file events when only net is subscribed" "$(jq -c 'select(.class | startswith("file"))' "$out" | wc -l)" 0
done_testing
