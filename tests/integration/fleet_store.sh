#!/bin/bash
# The controller's store, same tests on both back ends: SQLite (a file) and
# PostgreSQL (a private cluster this test creates with initdb in its own temporary
# directory, starts on a unix socket there as the postgres user, and stops).
# Needs root (to run the server as postgres) and Debian's postgresql package.
source "$(dirname "$0")/../lib.sh"

H=$RF_BUILD/tests/helpers/fleet_store
T=$(tmpdir)
"$H" "sqlite:$T/fleet.db" 17000 | sed 's/^\(ok\|not ok\) [0-9]* - /\1 - sqlite: /'
[ "${PIPESTATUS[0]}" = 0 ] || fail "sqlite store tests"

need_root "PostgreSQL store"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$pgbin" ] || ! id postgres >/dev/null 2>&1; then
	fail "PostgreSQL is not installed (scripts/deps.sh test installs postgresql)"
	done_testing; exit 1
fi
chmod 755 "$T"
mkdir "$T/pg" && chown postgres: "$T/pg"
if ! runuser -u postgres -- "$pgbin/initdb" -D "$T/pg/data" -A trust -U postgres >"$T/initdb.log" 2>&1; then
	fail "initdb: $(tail -3 "$T/initdb.log")"; done_testing; exit 1
fi
ok "initdb of a private cluster"
if runuser -u postgres -- "$pgbin/pg_ctl" -D "$T/pg/data" -l "$T/pg/server.log" -w -t 60 \
	-o "-k $T/pg -c listen_addresses= -p 5499 -c fsync=off" start >/dev/null 2>&1; then
	ok "PostgreSQL started on a unix socket in the test's directory"
	on_exit "runuser -u postgres -- '$pgbin/pg_ctl' -D '$T/pg/data' -m immediate -w stop"
else
	fail "pg_ctl start: $(tail -5 "$T/pg/server.log")"; done_testing; exit 1
fi
url="postgresql:///postgres?host=$T/pg&port=5499&user=postgres"
"$H" "$url" 17000 | sed 's/^\(ok\|not ok\) [0-9]* - /\1 - postgresql: /'
[ "${PIPESTATUS[0]}" = 0 ] || fail "postgresql store tests"

# the controller itself on PostgreSQL (a database of its own): reports go in, state
# survives a restart
runuser -u postgres -- "$pgbin/createdb" -h "$T/pg" -p 5499 ctl || fail "createdb"
url="postgresql:///ctl?host=$T/pg&port=5499&user=postgres"
P=
serve() {
	rm -f "$T/port"; mkdir -p "$T/repo/targets"
	"$RF_BIN" fleet serve --repo "$T/repo" --listen 127.0.0.1:0 --port-file "$T/port" \
		--store "$url" >>"$T/serve.log" 2>&1 &
	SRV=$!
	on_exit "kill $SRV 2>/dev/null"
	watchdog 60 $SRV
	wait_for 10 test -s "$T/port" && P=$(cat "$T/port")
}
serve
out=$("$RF_BUILD/tests/helpers/fleet_load" --port "$P" --hosts 300 --once --client detect --version 1)
[[ $out == *"HTTP 200: 300"* ]] && ok "controller on PostgreSQL accepts 300 reports" || fail "reports: $out"
sleep 1.5
kill "$SRV"; wait "$SRV" 2>/dev/null
n=$(runuser -u postgres -- "$pgbin/psql" -h "$T/pg" -p 5499 -Atc "select count(*) from hosts" ctl)
is "300 hosts in PostgreSQL" "$n" 300
serve
grep -q "postgresql store: 300 hosts loaded" "$T/serve.log" && ok "restart loads 300 hosts from PostgreSQL" ||
	fail "restart: $(tail -3 "$T/serve.log")"
kill "$SRV"; wait "$SRV" 2>/dev/null
done_testing
