#!/bin/bash
# Attestation with a TPM (Debian's swtpm on loopback): a realistic measurement log (the
# daemon binary, its options, 2 BPF objects, 3 client manifests and binaries, 3 signed
# content bundles), measured into PCR 23 the way the daemon does, quoted with
# 'ringfence attest quote' and checked with 'ringfence attest verify' against a policy
# written here from sha256sum (independently of the code under test).
# Shows: a genuine endpoint verifies; a swapped client binary, a modified content bundle
# (pinned by hash, and one signed by a key the policy does not allow), an edited entry,
# a truncated log, a reordered log, a stale nonce, a quote from another TPM and a quote
# whose key was replaced are each detected, with the deviating component named.
# Needs neither root nor BPF; needs swtpm (scripts/deps.sh test).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/attest.inc"
source "$RF_TOP/tests/helpers/content_lib.sh"

T=$(tmpdir)
if ! swtpm_start "$T/tpmA"; then
	fail "swtpm did not start: $(cat "$T/tpmA/swtpm.err" 2>/dev/null) (scripts/deps.sh test installs it)"
	done_testing
	exit 1
fi
content_setup "$T" || { fail "set up content keys"; done_testing; exit 1; }
N1=00112233445566778899aabbccddeeff
N2=ffeeddccbbaa99887766554433221100
sha() { sha256sum "$1" | cut -d' ' -f1; }
TGT1=$(tgt_hex "$T/tgt1.pub")

# --- the components -----------------------------------------------------------------
mkdir -p "$T/conf" "$T/bin"
for c in detect fragile probe; do
	printf 'name = %s\nexecutable = %s/bin/%s\nstart = yes\n' "$c" "$T" "$c" > "$T/conf/$c.conf"
done
cp "$RF_BUILD/rf-detect" "$T/bin/detect"
cp "$RF_BUILD/tests/helpers/cf291_client" "$T/bin/fragile"
cp "$RF_BUILD/tests/helpers/rf_testclient" "$T/bin/probe"
printf 'daemon\0--config\0/etc/ringfence\0' > "$T/options"
fm_bundle 1 "$T/detect.rfb" "template t1 process_exec 0 7:int 10"
fm_bundle 2 "$T/fragile.rfb" "template t1 process_exec 0 7:int 11"
fm_bundle 3 "$T/probe.rfb" "template t1 process_exec 0 7:int 12"
# a bundle signed by the second targets key (not allowed for 'detect')
src=$(mktemp -d "$T/src.XXXXXX"); printf 'template t1 process_exec 0 7:int 13\n' > "$src/rules.fm"
"$RF_BIN" content build --type fieldmap --client detect --version 4 --key "$T/tgt2.sec" "$src" \
	-o "$T/detect-tgt2.rfb" >/dev/null
TGT2=$(tgt_hex "$T/tgt2.pub")

# lines: TYPE NAME FILE DETAIL (what the daemon measures, in its order)
components() {
	local fragile_exe=${1:-$T/bin/fragile} probe_bundle=${2:-$T/probe.rfb}
	local detect_bundle=${3:-$T/detect.rfb} detect_signer=${4:-$TGT1}
	cat <<EOF
daemon ringfence $RF_BIN $RF_BIN
config daemon-options $T/options daemon --config /etc/ringfence
client-manifest detect $T/conf/detect.conf $T/conf/detect.conf
client-manifest fragile $T/conf/fragile.conf $T/conf/fragile.conf
client-manifest probe $T/conf/probe.conf $T/conf/probe.conf
bpf sensor $RF_BUILD/gen/sensor.skel.h ELF object built into the daemon, loaded
bpf netpolicy $RF_BUILD/gen/netpolicy.skel.h ELF object built into the daemon, loaded
client-exe detect $T/bin/detect $T/bin/detect (running, pid 101)
content detect $detect_bundle version=1 signers=$detect_signer bundle=/var/lib/store/detect/a/bundle.rfb
client-exe fragile $fragile_exe $T/bin/fragile (running, pid 102)
content fragile $T/fragile.rfb version=2 signers=$TGT1 bundle=/var/lib/store/fragile/a/bundle.rfb
client-exe probe $T/bin/probe $T/bin/probe (running, pid 103)
content probe $probe_bundle version=3 signers=$TGT1 bundle=/var/lib/store/probe/a/bundle.rfb
EOF
}
# mklog STATE [components args]: a new log in STATE on the TPM of $RINGFENCE_TCTI
mklog() { local st=$1; shift; components "$@" | "$RF_MKLOG" "$st" >"$st.mode"; }
quote() { "$RF_BIN" attest quote --state "$1" --nonce "$2" --out "$3"; }
verify() { "$RF_BIN" attest verify "$1" --nonce "${2:-$N1}" --policy "${3:-$T/policy}" 2>&1; }

mklog "$T/st"
is "the log is measured into the TPM" "$(cat "$T/st.mode")" tpm
check "a quote is made" quote "$T/st" "$N1" "$T/genuine.q"
AK=$(quote_field "$T/genuine.q" key)
is "the quote is a TPM quote of PCR 23" "$(quote_field "$T/genuine.q" mode)/$(quote_field "$T/genuine.q" pcr)" tpm/23

cat > "$T/policy" <<EOF
ringfence-attest-policy 1
# the endpoint's attestation key (TPM), then what it may run
key tpm $AK
allow daemon ringfence sha256 $(sha "$RF_BIN")
allow config daemon-options sha256 $(sha "$T/options")
allow bpf sensor sha256 $(sha "$RF_BUILD/gen/sensor.skel.h")
allow bpf netpolicy sha256 $(sha "$RF_BUILD/gen/netpolicy.skel.h")
allow client-manifest * sha256 $(sha "$T/conf/detect.conf") $(sha "$T/conf/fragile.conf") $(sha "$T/conf/probe.conf")
allow client-exe detect sha256 $(sha "$T/bin/detect")
allow client-exe fragile sha256 $(sha "$T/bin/fragile")
allow client-exe probe sha256 $(sha "$T/bin/probe")
allow content detect signer $TGT1
allow content fragile signer $TGT1
allow content probe sha256 $(sha "$T/probe.rfb")
require daemon ringfence
require bpf sensor
require client-exe detect
require client-exe fragile
require client-exe probe
require content detect
require content fragile
require content probe
EOF

# detected DESCRIPTION QUOTE PATTERN [NONCE]: verify fails (exit 1) and names PATTERN
detected() {
	local out rc
	out=$(verify "$2" "${4:-$N1}")
	rc=$?
	if [ $rc -eq 1 ] && grep -q "^DEVIATION: .*$3" <<<"$out"; then
		ok "$1: $(grep -m1 "^DEVIATION: .*$3" <<<"$out" | cut -c1-140)"
	else
		fail "$1: want exit 1 and a DEVIATION naming '$3', got exit $rc: $out"
	fi
}

# --- a genuine endpoint verifies -------------------------------------------------------
out=$(verify "$T/genuine.q")
check "a genuine endpoint verifies (exit 0): $out" test $? -eq 0
grep -q "^OK: .*TPM quote of PCR 23, 13 measurements" <<<"$out"
check "and the verifier says it is a TPM quote of 13 measurements" test $? -eq 0
! grep -q "DEVIATION\|software-only" <<<"$out"
check "with no deviation and no software-only warning" test $? -eq 0

# --- a swapped client binary ------------------------------------------------------------
cp "$T/bin/fragile" "$T/fragile.evil"; printf 'x' >> "$T/fragile.evil"
mklog "$T/st" "$T/fragile.evil"
quote "$T/st" "$N1" "$T/swapped.q"
detected "a swapped client binary" "$T/swapped.q" "client-exe fragile (entry 9): sha256 .* not allowed"

# --- modified content bundles -------------------------------------------------------------
cp "$T/probe.rfb" "$T/probe.evil"; printf 'x' >> "$T/probe.evil"
mklog "$T/st" "" "$T/probe.evil"
quote "$T/st" "$N1" "$T/bundle.q"
detected "a modified content bundle (pinned by hash)" "$T/bundle.q" "content probe (entry 12): sha256"
mklog "$T/st" "" "" "$T/detect-tgt2.rfb" "$TGT2"
quote "$T/st" "$N1" "$T/signer.q"
detected "a content bundle signed by a key the policy does not allow" "$T/signer.q" \
	"content detect (entry 8): .*nor is any of its signers"

# --- the log, tampered with ----------------------------------------------------------------
# an edited entry: the endpoint runs the swapped binary (the TPM measured it); the log in
# its quote shows the allowed hash instead (the recorded chain left as it was)
awk -v g="$(sha "$T/bin/fragile")" '$2 == "client-exe" && $3 == "fragile" { $4 = g } { print }' \
	"$T/swapped.q" > "$T/edited.q"
detected "an edited log entry" "$T/edited.q" "client-exe fragile (entry 9): log entry edited"
detected "an edited log entry: and the log no longer matches the PCR" "$T/edited.q" "does not replay to the quoted PCR"
# the same with every recorded chain recomputed (an attacker who knows the format): the
# entries come from a software-only log of the genuine components. Every entry is allowed;
# only the PCR shows the lie, so no single entry can be named (docs/attest.md, limits)
components | "$RF_MKLOG" "$T/sw" software >/dev/null
"$RF_BIN" attest quote --state "$T/sw" --nonce "$N1" --out "$T/sw.q" 2>/dev/null
{ sed -n '1,/^log /p' "$T/swapped.q"; sed -n '/^log /,/^end$/p' "$T/sw.q" | sed '1d'; } > "$T/rechained.q"
detected "an edited entry with recomputed chains: the log does not replay to the quoted PCR" \
	"$T/rechained.q" "log: does not replay to the quoted PCR"
mklog "$T/st"
quote "$T/st" "$N1" "$T/genuine.q"
# a truncated log: the last entry cut off
head -n -2 "$T/genuine.q" | sed 's/^log 13$/log 12/' > "$T/truncated.q"; echo end >> "$T/truncated.q"
detected "a truncated log: the missing component is named" "$T/truncated.q" "content probe: required by the policy but not in the log"
detected "a truncated log: the log no longer matches the PCR" "$T/truncated.q" "does not replay to the quoted PCR"
# a reordered log: two entries swapped, sequence numbers and all
awk '$1 == "9" && $2 == "client-exe" { hold = $0; next } $1 == "10" && $2 == "content" { print; print hold; next } { print }' \
	"$T/genuine.q" > "$T/reordered.q"
detected "a reordered log (entries swapped)" "$T/reordered.q" "log entry 9 (content fragile): sequence number 10 out of order"
# reordered and renumbered: the first entry out of place is named by the chain
awk '$1 == "9" && $2 == "client-exe" { hold = $0; next } $1 == "10" && $2 == "content" { $1 = 9; print; sub(/^9 /, "10 ", hold); print hold; next } { print }' \
	"$T/genuine.q" > "$T/renumbered.q"
detected "a reordered and renumbered log" "$T/renumbered.q" "content fragile (entry 9): log entry edited, moved or removed"

# --- a stale nonce -------------------------------------------------------------------------
detected "a quote with a stale nonce (replayed)" "$T/genuine.q" "signed over another nonce" "$N2"
sed "s/^nonce .*/nonce $N2/" "$T/genuine.q" > "$T/renonced.q"
detected "a stale quote whose nonce line was rewritten" "$T/renonced.q" "signed over another nonce" "$N2"

# --- another key -----------------------------------------------------------------------------
if swtpm_start "$T/tpmB" TCTI_B; then
	components | RINGFENCE_TCTI=$TCTI_B "$RF_MKLOG" "$T/stB" >/dev/null
	RINGFENCE_TCTI=$TCTI_B quote "$T/stB" "$N1" "$T/other.q"
	check "the second TPM has another attestation key" test "$(quote_field "$T/other.q" key)" != "$AK"
	detected "a quote signed by a different key (another TPM)" "$T/other.q" "signed by key .* which the policy does not list"
	sed "s/^key .*/key $AK/" "$T/other.q" > "$T/rekeyed.q"
	detected "a quote from another TPM relabelled with the endpoint's key" "$T/rekeyed.q" "signature does not verify"
else
	fail "a second swtpm did not start"
fi

# --- the quote's own fields -----------------------------------------------------------------
attest=$(quote_field "$T/genuine.q" attest)
flip=$(printf '%s' "$attest" | sed 's/.$/0/'); [ "$flip" = "$attest" ] && flip=$(printf '%s' "$attest" | sed 's/.$/1/')
sed "s/^attest .*/attest $flip/" "$T/genuine.q" > "$T/attest.q"
detected "an altered TPMS_ATTEST" "$T/attest.q" "signature does not verify"
sed 's/^end$//' "$T/genuine.q" > "$T/noend.q"
detected "a quote file without its end line" "$T/noend.q" "malformed or missing 'end'"

check "a second quote with another nonce is made" quote "$T/st" "$N2" "$T/n2.q"
out=$(verify "$T/n2.q" "$N2")
check "and verifies with that nonce" test $? -eq 0
done_testing
