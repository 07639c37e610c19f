#!/bin/bash
# `hookd new VM [--xml FILE] [--stdout]`: test_new.sh CASE HOOKS_D (one ctest test per case).
# The host: sim-mkroot (gpu preset), sim-mkroot-modules (the NVIDIA GPU 01:00.0, boot VGA, on sim_nvidia
# with sim_nvidia_modeset and sim_nvidia_drm stacked on it), sim-mkroot-console (efi-framebuffer.0),
# sim-mkroot-cpus, sim-mkroot-hugepages: the composed root of the examples test.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_MKROOT_MODULES:?}" "${SIM_MKROOT_CONSOLE:?}" "${SIM_MKROOT_CPUS:?}" "${SIM_MKROOT_HUGEPAGES:?}"
HOOKS_D=${2:?usage: test_new.sh CASE HOOKS_D}

setup() {
	mkroot_composed
	mkdir -p "$T/hooks.d" "$T/state"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\nlog = none\n' "$R" "$T/hooks.d" "$T/state" >"$T/hookd.conf"
	chmod 0644 "$T/hookd.conf"
}
# sections VM: the INI's section headers, one line
sections() { grep '^\[' "$T/hooks.d/$1.ini" | tr '\n' ' ' | sed 's/ $//'; }
# domain NAME BUS: a domain passing BUS:00.0, nothing else
domain() {
	printf "<domain type='kvm'><name>%s</name><memory unit='GiB'>4</memory><devices><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x%s' slot='0x00' function='0x0'/></source></hostdev></devices></domain>\n" \
		"$1" "$2" >"$T/$1.xml"
}
new_and_check() { # VM XML
	hookd new "$1" --xml "$2"
	expect_rc 0 "new $1"
	expect_in "$OUT" "Wrote $T/hooks.d/$1.ini. Next: hookd plan $1" "says where and what next"
	expect_eq "$(stat -c %a "$T/hooks.d/$1.ini")" 644 "$1.ini is 0644"
	hookd check "$1"
	expect_rc 0 "what new wrote for $1 passes check"
	# every key is commented with why
	expect_eq "$(grep -E '^[a-z_]+ *=' "$T/hooks.d/$1.ini" | grep -vc ' ; ')" 0 "every key of $1.ini has a comment"
}

case_every_example_domain_passes_check() {
	setup
	local x n=0
	for x in "$HOOKS_D"/*.domain.xml; do
		new_and_check "ex$n" "$x"
		n=$((n + 1))
	done
	((n >= 2)) && ok "$n example domains" || fail "expected at least 2 example domains in $HOOKS_D"
	expect_same_tree "new reads the host, never changes it"
}

case_single_gpu_gets_its_sections_in_order() {
	setup
	new_and_check win11 "$HOOKS_D/win11.domain.xml"
	expect_eq "$(sections win11)" "[service] [console] [modules] [vfio] [hugepages] [cpus] [pin]" "single-GPU order"
	expect_in "$(cat "$T/hooks.d/win11.ini")" "unload = sim_nvidia_drm sim_nvidia_modeset sim_nvidia ;" "the GPU driver's module stack, holders first"
	expect_in "$(cat "$T/hooks.d/win11.ini")" "framebuffer = efi-framebuffer.0 ;" "the host's firmware framebuffer"
	expect_in "$(cat "$T/hooks.d/win11.ini")" "stop = display-manager.service ;" "the display manager"
}

case_dual_gpu_gets_vfio_only() {
	setup
	domain second 05
	new_and_check second "$T/second.xml"
	expect_eq "$(sections second)" "[vfio]" "a GPU that is not the host's display: [vfio] only"
}

case_isolated_cpus_get_hugepages_cpus_and_pin() {
	setup
	new_and_check iso "$HOOKS_D/isolate.domain.xml"
	expect_eq "$(sections iso)" "[hugepages] [cpus] [pin]" "hugepages and pinned vCPUs"
}

case_never_overwrites_an_ini() {
	setup
	printf '[vfio]\ndevices = 0000:05:00.0 ; mine\n' >"$T/hooks.d/win11.ini"
	chmod 0644 "$T/hooks.d/win11.ini"
	cp "$T/hooks.d/win11.ini" "$T/mine"
	hookd new win11 --xml "$HOOKS_D/win11.domain.xml"
	expect_rc 2 "an existing INI"
	expect_eq "$ERR" "hookd: new: $T/hooks.d/win11.ini exists already: edit it with \`hookd edit win11\`" "says so"
	cmp -s "$T/mine" "$T/hooks.d/win11.ini" && ok "the INI is unchanged" || fail "the INI changed"
	expect_eq "$(ls "$T/hooks.d")" "win11.ini" "no temporary file left"
	hookd new win11 --xml "$HOOKS_D/win11.domain.xml" --stdout
	expect_rc 0 "--stdout prints even so"
	expect_in "$OUT" "[vfio]" "the INI on stdout"
	cmp -s "$T/mine" "$T/hooks.d/win11.ini" && ok "still unchanged" || fail "--stdout changed the INI"
}

"case_$1"
finish
