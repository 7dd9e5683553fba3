#!/bin/bash
# The daemon's own measurements, with a TPM (swtpm on loopback): the daemon measures
# itself, its options, the manifests, each supervised client's executable as it runs
# (/proc/PID/exe after exec) and content activation and rollback (the Channel File 291
# scenario through the content store: v2 crashes the client, the supervisor rolls back
# to v1). 'ringfence attest quote' (as root) quotes the daemon's live log; the quote
# verifies against a policy computed here from sha256sum; a client binary swapped
# while the daemon runs is measured at its restart and named by the verifier.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/supervisor.inc"
source "$(dirname "$0")/attest.inc"
source "$RF_TOP/tests/helpers/content_lib.sh"
need_root "supervisor: starts clients as other users"
sup_setup
sup_user fragile
swtpm_start "$T/tpm" || { fail "swtpm did not start: $(cat "$T/tpm/swtpm.err" 2>/dev/null)"; done_testing; exit 1; }
content_setup "$T" || { fail "set up keys and trusted root"; done_testing; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
N1=a1a2a3a4a5a6a7a8a9aaabacadaeafb0
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
check "v2 (crashes the client) installs" q "$RF_BIN" content install --store "$STORE" --no-shadow "$T/v2.rfb"
mkdir -p "$T/bin"
cp "$CF291_EXE" "$T/bin/fragile"
chmod -R a+rX "$T"
cat > "$T/conf/clients.d/fragile.conf" <<EOF
name = fragile
executable = $T/bin/fragile
user = auto
start = yes
classes = process_fork
args = --name fragile --content {content} --socket {socket}
content_store = $STORE
healthy_after = 30
EOF
start_daemon --synthetic process_fork --rate 1000 --tcti "$RINGFENCE_TCTI"
grep -q "attestation: measurements extended into TPM PCR 23" "$DLOG"
check "the daemon extends its measurements into the TPM" test $? -eq 0
check "the crash loop rolls the store back" wait_for 15 grep -q "rolled back to last known good (store version 1" "$DLOG"
check "the client is healthy again on v1" wait_for 10 grep -q "client 'fragile' healthy again" "$DLOG"

check "'attest quote' quotes the daemon's live log" \
	q "$RF_BIN" attest quote --socket "$SOCK" --nonce "$N1" --out "$T/live.q"
is "a TPM quote" "$(quote_field "$T/live.q" mode)" tpm
# what the log must hold, computed independently
OPTS=$(printf 'daemon\0--socket\0%s\0--config\0%s\0--synthetic\0process_fork\0--rate\0001000\0--tcti\0%s\0' \
	"$SOCK" "$T/conf" "$RINGFENCE_TCTI" | sha256sum | cut -d' ' -f1)
has() { grep -qE "^[0-9]+ $1 $2 $3 " "$T/live.q"; }
check "entry: the daemon binary" has daemon ringfence "$(sha "$RF_BIN")"
check "entry: the daemon's options" has config daemon-options "$OPTS"
check "entry: the client's manifest" has client-manifest fragile "$(sha "$T/conf/clients.d/fragile.conf")"
check "entry: the client's executable (as it runs)" has client-exe fragile "$(sha "$T/bin/fragile")"
check "entry: content v2 activated" has content fragile "$(sha "$T/v2.rfb")"
check "entry: the rollback to v1" has content-rollback fragile "$(sha "$T/v1.rfb")"
check "entry: content v1 activated again" has content fragile "$(sha "$T/v1.rfb")"
grep -qE "^[0-9]+ content fragile [0-9a-f]+ [0-9a-f]+ version=2%20signers=$(tgt_hex "$T/tgt1.pub")" "$T/live.q"
check "content entries carry the version and the signer key" test $? -eq 0
restarts=$(grep -c "^[0-9]* client-exe fragile " "$T/live.q")
is "restarts of an unchanged client add no entries" "$restarts" 1

AK=$(quote_field "$T/live.q" key)
policy() { # CONTENT-RULE
	cat <<EOF
ringfence-attest-policy 1
key tpm $AK
allow daemon ringfence sha256 $(sha "$RF_BIN")
allow config daemon-options sha256 $OPTS
allow client-manifest fragile sha256 $(sha "$T/conf/clients.d/fragile.conf")
allow client-exe fragile sha256 $(sha "$T/bin/fragile")
$1
require client-exe fragile
require content fragile
EOF
}
policy "allow content fragile signer $(tgt_hex "$T/tgt1.pub")" > "$T/policy"
policy "allow content fragile sha256 $(sha "$T/v1.rfb")" > "$T/policy-v1"
out=$("$RF_BIN" attest verify "$T/live.q" --nonce "$N1" --policy "$T/policy" 2>&1)
rc=$?
check "the live quote verifies: $(tr '\n' ' ' <<<"$out")" test $rc -eq 0
out=$("$RF_BIN" attest verify "$T/live.q" --nonce "$N1" --policy "$T/policy-v1" 2>&1)
rc=$?
grep -q "^DEVIATION: content fragile (entry [0-9]*): sha256 $(sha "$T/v2.rfb" | cut -c1-16)" <<<"$out"
g=$?
check "a policy pinning v1 names the v2 activation: $(grep -m1 DEVIATION <<<"$out")" test $g -eq 0 -a $rc -eq 1

# swap the binary under the running daemon; the restart runs (and measures) the new one
cp "$T/bin/fragile" "$T/bin/fragile.new"; printf 'x' >> "$T/bin/fragile.new"; chmod a+rx "$T/bin/fragile.new"
mv "$T/bin/fragile.new" "$T/bin/fragile.swapped"
EVIL=$(sha "$T/bin/fragile.swapped")
mv "$T/bin/fragile.swapped" "$T/bin/fragile"
pid=$(sup_field fragile .pid)
kill -KILL "$pid"
swapped() { grep -q "^[0-9]* client-exe fragile $EVIL " "$STATE_LOG"; }
STATE_LOG=$T/state/attest.log
check "the restarted client's new executable is measured" wait_for 10 swapped
"$RF_BIN" attest quote --socket "$SOCK" --nonce "$N1" --out "$T/swapped.q" 2>/dev/null
out=$("$RF_BIN" attest verify "$T/swapped.q" --nonce "$N1" --policy "$T/policy" 2>&1)
rc=$?
grep -q "^DEVIATION: client-exe fragile (entry [0-9]*): sha256 $(cut -c1-16 <<<"$EVIL")... not allowed" <<<"$out"
g=$?
check "the verifier names the swapped client binary: $(grep -m1 DEVIATION <<<"$out")" test $g -eq 0 -a $rc -eq 1
check "the daemon is still running" kill -0 "$DPID"
kill -TERM "$DPID"; wait "$DPID"
is "daemon stops cleanly" "$?" 0

# the live sensor: its BPF object is measured when loaded (software-only here: one TPM
# user at a time is enough for this check)
SOCK2=$T/d2/ringfence.sock
mkdir -p "$T/d2" "$T/conf2/clients.d"
"$RF_BIN" daemon --socket "$SOCK2" --config "$T/conf2" --tcti none 2>"$T/daemon2.log" &
D2=$!
on_exit "kill -KILL $D2"
watchdog 60 "$D2"
if wait_for 20 test -S "$SOCK2"; then
	"$RF_BIN" attest quote --socket "$SOCK2" --nonce "$N1" --out "$T/sensor.q" 2>/dev/null
	if grep -q "sensor DEGRADED" "$T/daemon2.log"; then
		skip "the sensor's BPF object is measured when loaded" "the sensor runs without BPF here"
	else
		grep -qE "^[0-9]+ bpf sensor [0-9a-f]{64} [0-9a-f]{64} ELF%20object" "$T/sensor.q"
		check "the sensor's BPF object is measured when loaded" test $? -eq 0
	fi
	kill -TERM "$D2"; wait "$D2"
else
	fail "the second daemon did not start: $(tail -3 "$T/daemon2.log")"
fi
done_testing
