# shellcheck shell=bash
# Shared set-up for tests/integration/content_*.sh and bench/content.sh: keys, a
# trusted root, and bundle building. Source after tests/lib.sh.
#   content_setup DIR   -> keys and root.rfm in DIR, store DIR/store initialised
#   fm_bundle DIR VERSION OUT 'template ...' [extra build options...]
RF_SHADOW_CLIENT=${RF_SHADOW_CLIENT:-$RF_BUILD/tests/helpers/shadow_client}
# recorded events for the shadow run: a small capture (12 events, process_exec among
# them) made with this build, so it always matches the event schema
if [ -z "${RF_SHADOW_CAPTURE:-}" ]; then
	RF_SHADOW_CAPTURE=$(mktemp /tmp/rf-shadow.XXXXXX)
	on_exit "rm -f '$RF_SHADOW_CAPTURE'" # tests/lib.sh, sourced first
	"$RF_BUILD/tests/helpers/make_capture" "$RF_SHADOW_CAPTURE" >/dev/null || exit 1
fi

content_setup() {
	local d=$1
	W=$d
	STORE=$d/store
	(
		cd "$d" || exit 1
		"$RF_BIN" content keygen root1 >/dev/null &&
		"$RF_BIN" content keygen root2 >/dev/null &&
		"$RF_BIN" content keygen tgt1 >/dev/null &&
		"$RF_BIN" content keygen tgt2 >/dev/null &&
		"$RF_BIN" content root --version 1 --root-key root1.pub --targets-key tgt1.pub \
			-o root.rfm &&
		"$RF_BIN" content sign --key root1.sec root.rfm &&
		"$RF_BIN" content init --store "$d/store" root.rfm >/dev/null
	)
}

# fm_bundle VERSION OUT TEXT [build options]: a fieldmap bundle for client 'fragile'
fm_bundle() {
	local v=$1 out=$2 text=$3; shift 3
	local src
	src=$(mktemp -d "$W/src.XXXXXX")
	printf '%s\n' "$text" > "$src/rules.fm"
	"$RF_BIN" content build --type fieldmap --client fragile --version "$v" \
		--key "$W/tgt1.sec" "$@" "$src" -o "$out" >/dev/null
}

# current_version [STORE]: the current content version of 'fragile'
state_field() { awk -v k="$1" '$1 == k { print $3 }' "${2:-$STORE}/fragile/state"; }
