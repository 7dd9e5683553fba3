#!/bin/bash
# The Channel File 291 scenario through the real content store (src/content): both
# versions are signed bundles that pass verification and validation (the fieldmap
# validator checks rules.fm; the fragile client's template is outside what it
# checks, like the 2024 template instance the validator did not catch). v2 crashes
# the client; the supervisor's crash-loop detection rolls the store back with
# rf_content_rollback() and the client runs on v1 again.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/supervisor.inc"
source "$RF_TOP/tests/helpers/content_lib.sh"
need_root "supervisor: starts clients as other users"
sup_setup
sup_user fragile
content_setup "$T" || { fail "set up keys and trusted root"; done_testing; exit 1; }
bundle() { # VERSION MATCH_FIELD
	local src=$T/src$1
	content_version "$T" "src$1" "$2"
	printf '%s\n' "template t1 process_exec 0 7:int 10" > "$src/rules.fm"
	"$RF_BIN" content build --type fieldmap --client fragile --version "$1" \
		--key "$T/tgt1.sec" "$src" -o "$T/v$1.rfb" >/dev/null
}
bundle 1 20
bundle 2 21
q() { "$@" >/dev/null 2>&1; }
check "v1 installs" q "$RF_BIN" content install --store "$STORE" --no-shadow "$T/v1.rfb"
check "v1 marked good" q "$RF_BIN" content mark-good --store "$STORE" fragile
check "v2 (field 21) passes verification and validation and installs" \
	q "$RF_BIN" content install --store "$STORE" --no-shadow "$T/v2.rfb"
is "v2 is current" "$(state_field current)" 2
chmod -R a+rX "$T"
cat > "$T/conf/clients.d/fragile.conf" <<EOF
name = fragile
executable = $CF291_EXE
user = auto
start = yes
classes = process_fork
args = --name fragile --content {content} --socket {socket}
content_store = $STORE
healthy_after = 30
EOF
start_daemon --synthetic process_fork --rate 1000
check "the crash loop rolls the store back" wait_for 15 grep -q "rolled back to last known good (store version 1" "$DLOG"
healthy_again() { grep -q "client 'fragile' healthy again" "$DLOG"; }
check "the fragile client is healthy again" wait_for 10 healthy_again
is "store: v1 is current again" "$(state_field current)" 1
is "one rollback" "$(sup_field fragile .supervisor.rollbacks)" 1
is "running" "$(sup_field fragile .supervisor.state)" running
check "the daemon is still running" kill -0 "$DPID"
diag "recovery through the store: $(sup_field fragile .supervisor.recover_ms) ms"
kill -TERM "$DPID"; wait "$DPID"
is "daemon stops cleanly" "$?" 0
done_testing
