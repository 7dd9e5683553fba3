#!/usr/bin/env bash
# AUTH latency: exec and open of a file on a marked tmpfs with 0, 1 and 2 AUTH
# clients that answer at once (not cacheable), and with 2 clients whose verdicts
# are cached (cache hits), against no monitoring (no daemon). Prints p50/p99 of each
# operation and the p50/p99 added over no monitoring. Goals (issue 5): p99 added
# <= 100 us with 2 clients; a cache hit <= 10 us.
#   RF_AUTH_BENCH_EXECS (default 2000), RF_AUTH_BENCH_OPENS (default 20000)
# Runs in a private mount namespace (the marks go only on its own tmpfs), under a
# timeout. Needs root.
set -u
if [ -z "${RF_AUTH_IN_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "bench/auth.sh: needs root (fanotify); skipped"; exit 0; }
	RF_AUTH_IN_NS=1 exec timeout -k 5 600 unshare -m --propagation private bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
NE=${RF_AUTH_BENCH_EXECS:-2000}
NO=${RF_AUTH_BENCH_OPENS:-20000}
LAT=$RF_BUILD/tests/helpers/auth_lat
AC=$RF_BUILD/tests/helpers/rf_authclient
T=$BENCH_TMP
MNT=$T/mnt
mkdir -p "$MNT" "$T/conf/clients.d"
mount -t tmpfs -o size=32m rf-auth-bench "$MNT" || { echo "bench/auth.sh: cannot mount a tmpfs"; exit 1; }
bench_on_exit "umount -l '$MNT'"
cp /bin/true "$MNT/true"
echo data > "$MNT/f"
printf 'name = a\nexecutable = %s\nuser = root\nclasses = *\nmodes = auth\n' \
	"$(readlink -f "$AC")" > "$T/conf/clients.d/a.conf"
sleep 0.1 # files older than the cache's racy window

run() { # label: prints "exec p50 p99 open p50 p99" in ns
	local e o
	e=$("$LAT" exec "$MNT/true" "$NE") || return 1
	o=$("$LAT" open "$MNT/f" "$NO") || return 1
	echo "$(echo "$e" | sed 's/.*p50_ns=\([0-9]*\) p99_ns=\([0-9]*\)/\1 \2/') $(echo "$o" | sed 's/.*p50_ns=\([0-9]*\) p99_ns=\([0-9]*\)/\1 \2/')"
}

DPID=
start() { # NCLIENTS [client args]
	local n=$1 i; shift
	"$RF_BIN" daemon --socket "$T/s" --config "$T/conf" --no-source --auth-mount "$MNT" \
		--auth-miss-limit 0 2>"$T/d.log" &
	DPID=$!
	( sleep 300; kill -KILL $DPID ) >/dev/null 2>&1 & WD=$!
	for _ in $(seq 100); do [ -S "$T/s" ] && break; sleep 0.05; done
	CP=()
	for i in $(seq "$n"); do
		rm -f "$T/r$i"
		"$AC" --socket "$T/s" --name a --mode allow --classes auth_exec,auth_open --ready "$T/r$i" "$@" &
		CP+=($!)
		for _ in $(seq 100); do [ -e "$T/r$i" ] && break; sleep 0.05; done
	done
}
stop() {
	[ ${#CP[@]} -gt 0 ] && kill "${CP[@]}" 2>/dev/null
	kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null
	kill "$WD" 2>/dev/null
	rm -f "$T/s"
}

CP=()
read -r be50 be99 bo50 bo99 < <(run) || { echo "bench/auth.sh: baseline failed"; exit 1; }
printf "%-34s %10s %10s %10s %10s %12s %12s %12s %12s\n" "config" "exec p50" "exec p99" "open p50" "open p99" "+exec p50" "+exec p99" "+open p50" "+open p99"
row() {
	printf "%-34s %8.1fus %8.1fus %8.1fus %8.1fus %10.1fus %10.1fus %10.1fus %10.1fus\n" "$1" \
		"$(echo "$2/1000" | bc -l)" "$(echo "$3/1000" | bc -l)" "$(echo "$4/1000" | bc -l)" "$(echo "$5/1000" | bc -l)" \
		"$(echo "($2-$be50)/1000" | bc -l)" "$(echo "($3-$be99)/1000" | bc -l)" \
		"$(echo "($4-$bo50)/1000" | bc -l)" "$(echo "($5-$bo99)/1000" | bc -l)"
}
row "no monitoring" "$be50" "$be99" "$bo50" "$bo99"
for cfg in "0" "1" "2" "2 --cache"; do
	# shellcheck disable=SC2086
	start $cfg
	read -r e50 e99 o50 o99 < <(run) || { echo "bench/auth.sh: run failed ($cfg)"; stop; exit 1; }
	stop
	case $cfg in
	0) l="daemon, 0 AUTH clients" ;;
	"2 --cache") l="2 AUTH clients, cache hits" ;;
	*) l="$cfg AUTH client(s), answer at once" ;;
	esac
	row "$l" "$e50" "$e99" "$o50" "$o99"
done
echo "(each exec is two requests with both classes subscribed: exec, then open of the binary; the clients are asked about the exec only, its verdict covers the open: docs/auth.md)"
