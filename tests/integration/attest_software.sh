#!/bin/bash
# Attestation without a TPM (software-only mode): the log is signed with a local ed25519
# key. The mode is reported as such everywhere (helper, quote, verify, daemon log); a
# policy refuses it unless it says 'software allow'; tampering is still detected (the
# key is outside the log), but a root attacker on the host could forge it (docs/attest.md).
# A configured TPM that does not answer falls back to software-only, loudly.
# Needs neither root nor BPF.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/attest.inc"

T=$(tmpdir)
N1=0102030405060708090a0b0c0d0e0f10
N2=1112131415161718191a1b1c1d1e1f20
sha() { sha256sum "$1" | cut -d' ' -f1; }
cp "$RF_BUILD/tests/helpers/cf291_client" "$T/client"
components() {
	cat <<EOF
daemon ringfence $RF_BIN $RF_BIN
client-exe fragile ${1:-$T/client} $T/client (running, pid 7)
EOF
}

mode=$(components | "$RF_MKLOG" "$T/st" software)
grep -q "^software: .*software-only: no TPM; a root attacker on this host can forge this log" <<<"$mode"
check "software-only mode says so when the log starts: $mode" test $? -eq 0
check "the software key is made in the state directory, secret 0600" \
	test "$(stat -c %a "$T/st/attest.sec")" = 600
err=$("$RF_BIN" attest quote --state "$T/st" --nonce "$N1" --out "$T/sw.q" 2>&1)
check "a software-only quote is made" test -s "$T/sw.q"
grep -q "software-only: no TPM; a root attacker on this host can forge this log" <<<"$err"
check "and 'attest quote' warns: $err" test $? -eq 0
grep -q "^# software-only: no TPM; a root attacker on this host can forge this log$" "$T/sw.q"
check "the quote file carries the warning" test $? -eq 0
is "the quote says mode software" "$(quote_field "$T/sw.q" mode)" software
KEY=$(quote_field "$T/sw.q" key)

cat > "$T/policy" <<EOF
ringfence-attest-policy 1
key software $KEY
allow daemon ringfence sha256 $(sha "$RF_BIN")
allow client-exe fragile sha256 $(sha "$T/client")
require client-exe fragile
EOF
{ cat "$T/policy"; echo "software allow"; } > "$T/policy-sw"
verify() { "$RF_BIN" attest verify "$1" --nonce "${2:-$N1}" --policy "${3:-$T/policy-sw}" 2>&1; }
detected() {
	local out rc
	out=$(verify "$2" "${4:-$N1}" "${5:-$T/policy-sw}")
	rc=$?
	if [ $rc -eq 1 ] && grep -q "^DEVIATION: .*$3" <<<"$out"; then
		ok "$1: $(grep -m1 "^DEVIATION: .*$3" <<<"$out" | cut -c1-140)"
	else
		fail "$1: want exit 1 and a DEVIATION naming '$3', got exit $rc: $out"
	fi
}

detected "a policy without 'software allow' refuses a software-only quote" "$T/sw.q" \
	"software-only, the policy requires a TPM" "$N1" "$T/policy"
out=$(verify "$T/sw.q")
rc=$?
check "with 'software allow' the software-only quote verifies: $(tr "\n" " " <<<"$out")" test $rc -eq 0
grep -q "^WARNING: software-only: no TPM; a root attacker on this host can forge this log$" <<<"$out"
check "and the verifier reports it as software-only" test $? -eq 0
grep -q "^OK: .*software-only.*weaker" <<<"$out"
check "its OK line says software-only and weaker" test $? -eq 0

# tampering is detected in this mode too
cp "$T/client" "$T/client.evil"; printf 'x' >> "$T/client.evil"
components "$T/client.evil" | "$RF_MKLOG" "$T/st2" software >/dev/null
"$RF_BIN" attest quote --state "$T/st2" --nonce "$N1" --out "$T/swapped.q" 2>/dev/null
detected "software-only: a swapped client binary" "$T/swapped.q" "client-exe fragile (entry 1): sha256"
awk -v g="$(sha "$T/client")" '$2 == "client-exe" { $4 = g } { print }' "$T/swapped.q" > "$T/edited.q"
detected "software-only: an edited entry" "$T/edited.q" "client-exe fragile (entry 1): log entry edited"
head -n -2 "$T/sw.q" | sed 's/^log 2$/log 1/' > "$T/trunc.q"; echo end >> "$T/trunc.q"
detected "software-only: a truncated log" "$T/trunc.q" "client-exe fragile: required by the policy but not in the log"
detected "software-only: a truncated log does not match the signed count" "$T/trunc.q" "log: 1 entries, but 2 were signed"
detected "software-only: a stale nonce" "$T/sw.q" "signed over another nonce" "$N2"
components | "$RF_MKLOG" "$T/other" software >/dev/null
"$RF_BIN" attest quote --state "$T/other" --nonce "$N1" --out "$T/other.q" 2>/dev/null
detected "software-only: a quote signed by a different key" "$T/other.q" "signed by key .* which the policy does not list"
sed "s/^key .*/key $KEY/" "$T/other.q" > "$T/rekeyed.q"
detected "software-only: another key's quote relabelled" "$T/rekeyed.q" "signature does not verify"

# a TPM that does not answer: software-only, with the reason
mode=$(components | RINGFENCE_TCTI="swtpm:host=127.0.0.1,port=1" "$RF_MKLOG" "$T/st3")
grep -q "^software: no TPM answers at 'swtpm:host=127.0.0.1,port=1'.*falling back to software-only" <<<"$mode"
check "a configured TPM that does not answer falls back to software-only, saying why: $mode" test $? -eq 0

# the daemon in software-only mode (no event source: nothing privileged)
SOCK=$T/d/ringfence.sock
mkdir -p "$T/d" "$T/conf/clients.d"
"$RF_BIN" daemon --socket "$SOCK" --config "$T/conf" --no-source --tcti none 2>"$T/daemon.log" &
DPID=$!
on_exit "kill -KILL $DPID"
if wait_for 10 test -S "$SOCK"; then
	grep -q "ATTESTATION SOFTWARE-ONLY: .*software-only: no TPM; a root attacker on this host can forge this log" "$T/daemon.log"
	check "the daemon logs software-only mode loudly" test $? -eq 0
	"$RF_BIN" attest quote --socket "$SOCK" --nonce "$N1" --out "$T/d.q" 2>/dev/null
	is "'attest quote --socket' finds the daemon's log (state beside the socket)" \
		"$(quote_field "$T/d.q" mode)" software
	grep -q "^0 daemon ringfence $(sha "$RF_BIN") " "$T/d.q"
	check "the daemon measured its own binary first" test $? -eq 0
	grep -q "^1 config daemon-options .* daemon%20--socket" "$T/d.q"
	check "then its options" test $? -eq 0
	kill -TERM "$DPID"; wait "$DPID"
	is "the daemon stops cleanly" $? 0
else
	fail "daemon did not start: $(tail -3 "$T/daemon.log")"
fi
done_testing
