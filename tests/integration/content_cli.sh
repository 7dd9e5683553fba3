#!/bin/bash
# The content pipeline end to end through the CLI: a good update goes live, every
# refusal reason has its own code, content that passes validation but crashes its
# client in the shadow run never goes live, rollback and recovery work.
# Needs neither root nor BPF.
source "$(dirname "$0")/../lib.sh"
source "$RF_TOP/tests/helpers/content_lib.sh"

T=$(tmpdir)
content_setup "$T" || { fail "set up keys and trusted root"; done_testing; exit 1; }
CAP=$RF_SHADOW_CAPTURE
test -r "$CAP" || { fail "shadow capture $CAP missing"; done_testing; exit 1; }
SHADOW="$RF_SHADOW_CLIENT {content} {capture}"
install() { "$RF_BIN" content install --store "$STORE" --shadow "$SHADOW" --capture "$CAP" "$@"; }

# refused DESCRIPTION CODE BUNDLE [install|verify]: the command exits 1 and names CODE
refused() {
	local d=$1 code=$2 b=$3 verb=${4:-install} out rc
	if [ "$verb" = verify ]; then
		out=$("$RF_BIN" content verify --store "$STORE" "$b" 2>&1)
	else
		out=$(install "$b" 2>&1)
	fi
	rc=$?
	if [ $rc -eq 1 ] && grep -q "refused ($code)" <<<"$out"; then
		ok "$d: refused ($code)"
	else
		fail "$d: want exit 1 and 'refused ($code)', got exit $rc: $out"
	fi
}

# --- a good update goes live ----------------------------------------------------
fm_bundle 1 "$T/v1.rfb" "template t1 process_exec 0 7:int 10"
out=$("$RF_BIN" content install --store "$STORE" "$T/v1.rfb" 2>&1)
is "install without --shadow or --no-shadow is a usage error" $? 2
grep -q -- "--no-shadow" <<<"$out"
check "and the message names --no-shadow" test $? -eq 0
out=$(install "$T/v1.rfb" 2>&1)
check "good v1 installs: $out" test $? -eq 0
is "v1 is current" "$(state_field current)" 1
check "current payload path is given" test -f "$("$RF_BIN" content current --store "$STORE" fragile)/rules.fm"
"$RF_BIN" content mark-good --store "$STORE" fragile
is "v1 marked known good" "$(state_field good)" 1
"$RF_BIN" content list --store "$STORE" | grep -q "^fragile .* good$"
check "list shows fragile as good" test $? -eq 0

# --- refusals: signatures, expiry, rollback, length, hash, critical fields ------------
fm_bundle 2 "$T/v2.rfb" "template t1 process_exec 0 7:int 11"
cp "$T/v2.rfb" "$T/badsig.rfb"
# the targets envelope ends with the signature; it sits just before the payload
meta_len=$(od -An -tu4 -j76 -N4 "$T/badsig.rfb" | tr -d ' ')
pos=$((160 + meta_len - 1))
# flip the byte (writing a fixed value would change nothing when the byte already had it)
b=$(od -An -tu1 -j$pos -N1 "$T/badsig.rfb" | tr -d ' ')
printf "\\$(printf '%03o' $(( (b ^ 255) & 255 )))" | dd of="$T/badsig.rfb" bs=1 seek=$pos conv=notrunc status=none
refused "flipped signature byte" BAD_SIGNATURE "$T/badsig.rfb" verify

src=$(mktemp -d "$T/src.XXXXXX"); printf 'template t1 process_exec 1\n' > "$src/rules.fm"
"$RF_BIN" content build --type fieldmap --client fragile --version 2 "$src" -o "$T/unsigned.rfb" >/dev/null
refused "unsigned bundle" TOO_FEW_SIGNATURES "$T/unsigned.rfb"
"$RF_BIN" content build --type fieldmap --client fragile --version 2 --key "$T/root1.sec" "$src" -o "$T/wrongrole.rfb" >/dev/null
refused "signed by the root key instead of a targets key" TOO_FEW_SIGNATURES "$T/wrongrole.rfb"

fm_bundle 2 "$T/expired.rfb" "template t1 process_exec 1" --expires-at $(( $(date +%s) - 60 ))
refused "expired targets metadata (freeze attack)" EXPIRED "$T/expired.rfb"

fm_bundle 1 "$T/v1again.rfb" "template t1 process_exec 2"
refused "same version again" ROLLBACK "$T/v1again.rfb"
fm_bundle 0 "$T/v0.rfb" "template t1 process_exec 2" --targets-version 9
refused "older content version (rollback attack)" ROLLBACK "$T/v0.rfb"

cp "$T/v2.rfb" "$T/long.rfb"; head -c 1000 /dev/zero >> "$T/long.rfb"
refused "extra bytes after the payload (endless data)" LENGTH_MISMATCH "$T/long.rfb"
head -c $(( $(stat -c %s "$T/v2.rfb") - 3 )) "$T/v2.rfb" > "$T/short.rfb"
refused "truncated payload" LENGTH_MISMATCH "$T/short.rfb"

cp "$T/v2.rfb" "$T/hash.rfb"
size=$(stat -c %s "$T/hash.rfb")
printf 'X' | dd of="$T/hash.rfb" bs=1 seek=$((size - 20)) conv=notrunc status=none
refused "payload byte changed" HASH_MISMATCH "$T/hash.rfb"
# mix-and-match: the metadata of v2 with the payload of another bundle of the same size
fm_bundle 2 "$T/other.rfb" "template t1 process_exec 0 7:int 12"
other_meta=$(od -An -tu4 -j76 -N4 "$T/other.rfb" | tr -d ' ')
{ head -c $((160 + meta_len)) "$T/v2.rfb"; tail -c +$((160 + other_meta + 1)) "$T/other.rfb"; } > "$T/mix.rfb"
refused "payload of another bundle (mix-and-match)" HASH_MISMATCH "$T/mix.rfb"

cp "$T/v2.rfb" "$T/crit.rfb"
printf '\x01' | dd of="$T/crit.rfb" bs=1 seek=12 conv=notrunc status=none
refused "unknown critical header flag" UNKNOWN_CRITICAL "$T/crit.rfb"
cp "$T/v2.rfb" "$T/client.rfb"
printf 'victim\0\0' | dd of="$T/client.rfb" bs=1 seek=32 conv=notrunc status=none
refused "header names another client than the signed target" HEADER_MISMATCH "$T/client.rfb"

# --- refusals by the validator (run sandboxed) -------------------------------------
fm_bundle 2 "$T/f21.rfb" "template t291 process_fork 0 9"
out=$(install "$T/f21.rfb" 2>&1)
if [ $? -eq 1 ] && grep -q "refused (INVALID).*template 't291': field 9 out of range: event class process_fork supplies 9 fields" <<<"$out"; then
	ok "field past the class's last field refused with rule, field and reason"
else
	fail "field past the end: $out"
fi
fm_bundle 2 "$T/type.rfb" "template t process_exec 7:path"
refused "field read with an incompatible type" INVALID "$T/type.rfb"
src=$(mktemp -d "$T/src.XXXXXX"); echo "title: x" > "$src/rule.yml"
"$RF_BIN" content build --type sigma --client detect --version 1 --key "$T/tgt1.sec" "$src" -o "$T/sigma.rfb" >/dev/null
out=$(install "$T/sigma.rfb" 2>&1)
if [ $? -eq 1 ] && grep -q "refused (INVALID).*rule.yml:1:1: .*no 'logsource'" <<<"$out"; then
	ok "invalid sigma rule refused by rf-detect's compiler, with file, line and reason"
else
	fail "invalid sigma content: $out"
fi
# a rule naming a field the event schema does not have: the 21-versus-20 class of bug
mkdir -p "$src/schema"; cat >"$src/schema/r.yml" <<'RULE'
title: names a field the schema lacks
id: 11111111-2222-3333-4444-555555555555
logsource:
  product: linux
  category: process_creation
detection:
  sel:
    NoSuchField: x
  condition: sel
RULE
out=$("$RF_BIN" content validate --type sigma "$src/schema" 2>&1)
if [ $? -eq 1 ] && grep -q "r.yml:8:5: rule 11111111-2222-3333-4444-555555555555: field 'NoSuchField' does not exist in the event schema" <<<"$out"; then
	ok "sigma rule naming a field the schema lacks: refused with rule, field and reason"
else
	fail "schema check: $out"
fi
out=$("$RF_BIN" content validate --type sigma "$RF_TOP/rules/default" 2>&1)
is "the default rule pack validates as sigma content" "$?" 0
"$RF_BIN" content build --type nosuch --client other --version 1 --key "$T/tgt1.sec" "$src" -o "$T/type2.rfb" >/dev/null
refused "unknown content type" UNKNOWN_TYPE "$T/type2.rfb"
is "after all refusals v1 is still current" "$(state_field current)" 1

# --- the shadow canary -------------------------------------------------------------
# field 25 exists in process_exec (the validator accepts it) but the client only
# supplies 20 fields: the shadow run crashes and the update never goes live
fm_bundle 2 "$T/crashy.rfb" "template t1 process_exec 0 25"
out=$(install "$T/crashy.rfb" 2>&1)
if [ $? -eq 1 ] && grep -q "refused (SHADOW).*crashed" <<<"$out"; then
	ok "content that crashes its client in the shadow run is refused"
else
	fail "crashing content: $out"
fi
is "crashing content never went live" "$(state_field current)" 1
fm_bundle 2 "$T/spin.rfb" "template spin process_exec 0"
out=$(install --shadow-cpu 1 "$T/spin.rfb" 2>&1)
if [ $? -eq 1 ] && grep -q "refused (SHADOW).*CPU budget" <<<"$out"; then
	ok "content that burns its client's CPU budget is refused"
else
	fail "spinning content: $out"
fi
out=$("$RF_BIN" content install --store "$STORE" --shadow "$RF_SHADOW_CLIENT {content} $T/nonexistent" "$T/v2.rfb" 2>&1)
if [ $? -eq 1 ] && grep -q "refused (SHADOW).*status 1" <<<"$out"; then
	ok "a shadow client that exits non-zero refuses the update"
else
	fail "non-zero shadow exit: $out"
fi

# --- good update, rollback, recovery ------------------------------------------------------
out=$(install "$T/v2.rfb" 2>&1)
check "good v2 goes live after the refused ones: $out" test $? -eq 0
is "v2 current" "$(state_field current)" 2
is "v1 still known good" "$(state_field good)" 1
"$RF_BIN" content check --store "$STORE" fragile >/dev/null
check "store consistent" test $? -eq 0
out=$("$RF_BIN" content rollback --store "$STORE" fragile 2>&1)
check "rollback: $out" test $? -eq 0
is "rollback made v1 current" "$(state_field current)" 1
grep -q "template t1 process_exec 0 7:int 10" "$("$RF_BIN" content current --store "$STORE" fragile)/rules.fm"
check "current payload is v1's after rollback" test $? -eq 0
"$RF_BIN" content rollback --store "$STORE" fragile >/dev/null 2>&1
is "a second rollback has nothing to go back to" $? 1
refused "the rolled-back v2 cannot come back as v2" ROLLBACK "$T/v2.rfb"

fm_bundle 3 "$T/v3.rfb" "template t1 process_exec 0 7:int 13"
install "$T/v3.rfb" >/dev/null 2>&1
is "v3 current" "$(state_field current)" 3
for i in 1 2 3; do "$RF_BIN" content recover --store "$STORE" fragile >/dev/null; done
is "three unproven starts keep v3" "$(state_field current)" 3
out=$("$RF_BIN" content recover --store "$STORE" fragile)
is "the fourth start without mark-good rolls back to v1" "$(state_field current)" 1
fm_bundle 4 "$T/v4.rfb" "template t1 process_exec 0 7:int 14"
install "$T/v4.rfb" >/dev/null 2>&1 && "$RF_BIN" content mark-good --store "$STORE" fragile
is "v4 installed and marked good" "$(state_field good)" 4
test ! -e "$STORE/fragile/attempting"
check "mark-good removed the attempting marker" test $? -eq 0

# --- root rotation through the CLI ----------------------------------------------------
( cd "$T" && "$RF_BIN" content root --version 2 --root-key root2.pub --targets-key tgt2.pub -o root-v2.rfm &&
  "$RF_BIN" content sign --key root1.sec --key root2.sec root-v2.rfm )
src=$(mktemp -d "$T/src.XXXXXX"); printf 'template t1 process_exec 1\n' > "$src/rules.fm"
"$RF_BIN" content build --type fieldmap --client fragile --version 5 --root "$T/root-v2.rfm" --key "$T/tgt2.sec" "$src" -o "$T/v5.rfb" >/dev/null
out=$(install "$T/v5.rfb" 2>&1)
check "bundle signed by a rotated-in targets key installs with its root chain: $out" test $? -eq 0
fm_bundle 6 "$T/v6-oldkey.rfb" "template t1 process_exec 2"
refused "the old targets key is no longer trusted after rotation" TOO_FEW_SIGNATURES "$T/v6-oldkey.rfb"

done_testing
