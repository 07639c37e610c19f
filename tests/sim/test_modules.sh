#!/bin/bash
# hookd's [modules] action against the simulated kernel: test_modules.sh CASE.
# The shim intercepts libkmod's init_module/finit_module/delete_module (tests/sim/simkernel_modules.c);
# every module call it sees is logged in $R/.sim/module_log.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_MKROOT_MODULES:?}"
UUID=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a03
GPU=0000:01:00.0 HDA=0000:01:00.1

# setup INI_BODY [--hold NODE]...: fixture root with sim_* modules, hookd.conf, win11.ini, domain XML.
setup() {
	local body=$1
	shift
	rm -rf "$R"
	"$SIM_MKROOT" "$R" --preset gpu
	"$SIM_MKROOT_MODULES" "$R" "$@"
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	mkdir -p "$T/hooks.d" "$T/state"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 2\nlog = none\n' "$R" "$T/hooks.d" "$T/state" >"$T/hookd.conf"
	printf '%b' "$body" >"$T/hooks.d/win11.ini"
	chmod 0644 "$T/hookd.conf" "$T/hooks.d/win11.ini"
	domain_xml win11 "$UUID" >"$T/win11.xml"
}

run() { hookd run "${2:-win11}" "$1" --xml "$T/${2:-win11}.xml"; }

loaded() { [[ -e "$R/sys/module/$1/initstate" ]]; }
expect_loaded() { local m; for m; do if loaded "$m"; then ok "$m loaded"; else fail "$m not loaded"; fi; done; }
expect_unloaded() { local m; for m; do if loaded "$m"; then fail "$m still loaded"; else ok "$m unloaded"; fi; done; }
# The module calls the simulator saw, in order. libkmod decides whether a dependency is loaded
# already by reading the real /sys/module, where no sim_* module is: it inserts it anyway and, like
# after a race, ignores the EEXIST. Those tries are left out here.
modlog() { grep -v 'refused (File exists)' "$R/.sim/module_log" 2>/dev/null | tr '\n' ';' || true; }

STACK='[modules]\nunload = sim_snd sim_nvidia_drm sim_nvidia-modeset sim_nvidia\n'

case_unload_stack_and_reload_in_reverse_order() {
	setup "$STACK"
	run prepare
	expect_rc 0 prepare
	expect_unloaded sim_snd sim_nvidia_drm sim_nvidia_modeset sim_nvidia
	expect_eq "$(driver $GPU)" "" "GPU unbound when its driver's module went"
	expect_eq "$(driver $HDA)" "" "HDA unbound when its driver's module went"
	expect_nofile sys/bus/pci/drivers/sim_nvidia
	expect_eq "$(modlog)" "delete sim_snd;delete sim_nvidia_drm;delete sim_nvidia_modeset;delete sim_nvidia;" \
		"unloaded in the order given"
	: >"$R/.sim/module_log"
	run release
	expect_rc 0 release
	expect_eq "$(modlog)" "insert sim_nvidia;insert sim_nvidia_modeset;insert sim_nvidia_drm;insert sim_snd;" \
		"loaded again in reverse order"
	expect_eq "$(driver $GPU)" sim_nvidia "GPU probed by sim_nvidia again"
	expect_eq "$(driver $HDA)" sim_snd "HDA probed by sim_snd again"
	expect_nofile "../state/$UUID.journal"
	expect_same_tree "after release"
	finish
}

case_load_only_what_was_not_loaded() {
	setup '[modules]\nload = sim_extra sim_snd\n'
	run prepare
	expect_rc 0 prepare
	expect_loaded sim_extra sim_snd
	expect_eq "$(modlog)" "insert sim_extra;" "only sim_extra was inserted (sim_snd was loaded)"
	run release
	expect_rc 0 release
	expect_unloaded sim_extra
	expect_loaded sim_snd
	expect_eq "$(modlog)" "insert sim_extra;delete sim_extra;" "release unloads only what hookd loaded"
	expect_same_tree "after release"
	finish
}

case_plan_shows_steps_and_touches_nothing() {
	setup '[modules]\nunload = sim_nvidia_drm sim_builtin\nload = sim_extra\n'
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 0 plan
	expect_in "$OUT" "1. [modules] unload module sim_nvidia_drm through libkmod" "plan: unload step"
	expect_in "$OUT" "2. [modules] module sim_builtin is built into the kernel: it cannot be unloaded, nothing to do" \
		"plan: built-in module reported"
	expect_in "$OUT" "3. [modules] load module sim_extra through libkmod; unloaded again on release" "plan: load step"
	hookd plan win11 --xml "$T/win11.xml" --json
	expect_in "$OUT" '"action": "modules", "op": "unload", "target": "sim_nvidia_drm"' "plan --json: unload step"
	expect_eq "$(modlog)" "" "plan made no module call"
	expect_same_tree "after plan"
	finish
}

case_bad_values_are_refused_with_file_line() {
	local ini
	for ini in '[modules]\nunload = sim/evil\n' '[modules]\nload = \n' '[modules]\nload = a a\n' \
		'[modules]\nload = sim_extra\nunload = sim_extra\n' '[modules]\nreload = x\n' '[modules]\n'; do
		setup "$ini"
		hookd check win11
		expect_rc 2 "check refuses $(printf '%b' "$ini" | tr '\n' ' ')"
		expect_in "$ERR" "win11.ini:" "error names the file and line"
		expect_in "$ERR" "[modules]" "error names the section"
	done
	setup '[modules]\nunload = sim/evil\n'
	hookd check win11
	expect_in "$ERR" "win11.ini:2: [modules] unload: 'sim/evil' is not a module name" "bad name: file:line and reason"
	finish
}

case_in_use_by_module_and_process_is_refused_and_rolled_back() {
	# sim_nvidia_modeset stays loaded and Xorg holds /dev/nvidia0: unloading sim_nvidia must fail
	# at once, naming both, after sim_snd went: the rollback brings sim_snd back.
	setup '[modules]\nunload = sim_snd sim_nvidia\n' --hold nvidia0
	run prepare
	expect_rc 1 "prepare with sim_nvidia in use"
	expect_in "$ERR" "cannot unload module sim_nvidia: used by modules sim_nvidia_drm, sim_nvidia_modeset" \
		"refusal names the holder modules"
	expect_in "$ERR" "pid 4242 (Xorg) holds /dev/nvidia0 open" "refusal names the process holding /dev/nvidia0"
	expect_in "$ERR" "rolled back" "prepare rolled back"
	expect_eq "$(modlog)" "delete sim_snd;insert sim_snd;" "sim_snd unloaded, then loaded again by the rollback"
	expect_loaded sim_nvidia sim_snd
	expect_same_tree "after the refused prepare"
	finish
}

case_dri_node_holder_is_named() {
	# The card belongs to sim_nvidia's PCI driver; sim_nvidia_drm sits on sim_nvidia.
	setup '[modules]\nunload = sim_nvidia_drm sim_nvidia_modeset sim_nvidia\n' --hold dri/card0
	run prepare
	expect_rc 1 "prepare with /dev/dri/card0 open"
	expect_in "$ERR" "cannot unload module sim_nvidia_drm: pid 4242 (Xorg) holds /dev/dri/card0 open (refcount 1)" \
		"refusal names the process and the refcount"
	expect_eq "$(modlog)" "" "no module call was made"
	expect_same_tree "after the refused prepare"
	finish
}

case_builtin_module_is_reported_not_failed() {
	setup '[modules]\nunload = sim_builtin\n'
	run prepare
	expect_rc 0 "prepare with a built-in module"
	expect_eq "$(modlog)" "" "no module call for a built-in module"
	expect_file sys/module/sim_builtin
	run release
	expect_rc 0 release
	expect_same_tree "after release"
	finish
}

case_unknown_module_is_refused_before_any_change() {
	setup '[modules]\nunload = sim_snd\nload = sim_nosuch\n'
	run prepare
	expect_rc 1 "prepare with an unknown module"
	expect_in "$ERR" "module sim_nosuch not found in $R/lib/modules/" "refusal names the module and where it looked"
	expect_in "$ERR" "win11.ini:1" "refusal names the section's file and line"
	expect_eq "$(modlog)" "" "nothing was unloaded"
	expect_same_tree "after the refused prepare"
	finish
}

case_second_vm_keeps_module_until_last_release() {
	local uuid2=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a04
	setup '[modules]\nload = sim_extra\nunload = sim_snd\n'
	cp "$T/hooks.d/win11.ini" "$T/hooks.d/win10.ini"
	domain_xml win10 "$uuid2" >"$T/win10.xml"
	run prepare win11
	expect_rc 0 "win11 prepare"
	run prepare win10
	expect_rc 0 "win10 prepare (same modules)"
	run release win11
	expect_rc 0 "win11 release"
	expect_loaded sim_extra
	expect_unloaded sim_snd
	run release win10
	expect_rc 0 "win10 release"
	expect_unloaded sim_extra
	expect_loaded sim_snd
	expect_eq "$(modlog)" "delete sim_snd;insert sim_extra;delete sim_extra;insert sim_snd;" \
		"each module changed once, restored by the last release (newest step first)"
	expect_same_tree "after both releases"
	finish
}

case_without_interception_nothing_reaches_the_kernel() {
	# HOOKD_SIM_ROOT without the shim in front: hookd must refuse rather than call the kernel.
	setup '[modules]\nunload = sim_snd\n'
	set +e
	HOOKD_SIM_ROOT="$R" "$HOOKD_BIN" --conf "$T/hookd.conf" run win11 prepare --xml "$T/win11.xml" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	ERR=$(cat "$T/err")
	expect_rc 1 "prepare without the simulator"
	expect_in "$ERR" "hookd changes modules only in the running kernel (root = /)" "refusal says why"
	expect_same_tree "after the refused prepare"
	finish
}

"case_$1"
