#!/bin/bash
# hookd import over a corpus of qemu.d trees shaped like users' (import-corpus.sh). Each tree runs under
# the bash dispatcher (qemu-dispatcher.sh) and, after `hookd import`, under hookd's hook with the
# dispatcher chained, as `hookd install --chain` leaves it: the same scripts with the same argv, each
# once, and the same outcome for every libvirt call. The scripts run as stubs (each body replaced by a
# line that logs its id and argv; #! or its absence, sourced helpers, assignments and exit codes kept).
source "$SIM_LIB"
case_name=$1
mkroot
HERE=$(dirname "$SIM_LIB")
bash "$HERE/import-corpus.sh" "$T/corpus"
TREES=$(ls "$T/corpus")

conf() { # FILE HOOKS_DIR [chain]
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 5\nlog = none\n' "$R" "$2" "$T/state" >"$1"
	[[ -z "${3-}" ]] || printf 'chain = %s\n' "$3" >>"$1"
	chmod 0644 "$1"
}

# stub_one FILE ID: FILE's body becomes a logging stub; its mode and its #! line (or none) stay.
stub_one() {
	local f=$1 id=$2 first rc body mode
	[[ -s "$f" ]] || return 0
	first=$(head -n1 "$f")
	rc=$(grep -E '^exit [0-9]+$' "$f" | tail -1 | cut -d' ' -f2 || true)
	body=$(grep -E '^(source|\.) "\$\(dirname "\$0"\)|^[A-Za-z_][A-Za-z0-9_]*=[^$`(]*$' "$f" || true)
	mode=$(stat -c %a "$f")
	{
		if [[ "$first" == '#!'* ]]; then echo "$first"; else echo "# stub of a script without a #! line"; fi
		[[ -z "$body" ]] || echo "$body"
		if grep -qvE '^[A-Za-z_][A-Za-z0-9_]*=|^#|^$' "$f"; then
			echo "echo \"$id \$* \${GPU_VIDEO-}\" >>$T/calls"
		fi
		echo "exit ${rc:-0}"
	} >"$f.stub"
	mv "$f.stub" "$f"
	chmod "$mode" "$f"
}
stubify() { # DIR
	local f n=0
	while IFS= read -r -d '' f; do
		n=$((n + 1))
		stub_one "$f" "s$n"
	done < <(find "$1" -type f -print0 | sort -z)
}

# cycle HOOK VM: libvirt's calls for a start and a stop (release alone after a failed prepare); prints
# the prepare's exit status; the stubs' log is in $T/calls.
cycle() {
	local hook=$1 vm=$2 rc=0 op
	rm -f "$T/calls"
	call() { sim env HOOKD_CONF="$T/hookd.conf" "$hook" "$vm" "$@" - <"$T/$vm.xml" >/dev/null 2>>"$T/cycle.err"; }
	call prepare begin || rc=$?
	if ((rc == 0)); then
		call start begin || true
		call started begin || true
		call stopped end || true
	fi
	call release end || true
	touch "$T/calls"
	echo "$rc"
}

# tree_agrees TREE: the dispatcher's run of a copy, then import into hookd + the chained dispatcher.
tree_agrees() {
	local tree=$1 vm i=0 want got links
	rm -rf "$T/A" "$T/B" "$T/hooks.d" "$T/state"
	mkdir -p "$T/A" "$T/B" "$T/hooks.d"
	cp -a "$T/stubbed/$tree/qemu.d" "$T/A/"
	cp -a "$T/stubbed/$tree/qemu.d" "$T/B/"
	install -m 0755 "$HERE/qemu-dispatcher.sh" "$T/A/qemu"
	install -m 0755 "$HERE/qemu-dispatcher.sh" "$T/B/qemu"
	for vm in $(ls "$T/A/qemu.d"); do
		i=$((i + 1))
		echo "<domain><name>$vm</name><uuid>00000000-0000-4000-8000-00000000000$i</uuid></domain>" >"$T/$vm.xml"
		conf "$T/hookd.conf" "$T/hooks.d"
		cycle "$T/A/qemu" "$vm" >"$T/rc.dispatcher.$vm"
		mv "$T/calls" "$T/calls.dispatcher.$vm"
	done
	conf "$T/hookd.conf" "$T/hooks.d" "$T/B/qemu"
	hookd import "$T/B/qemu.d"
	expect_rc 0 "$tree: import"
	links=$(grep -o 'qemu.d/[^/]*/[a-z]*: a link to' "$T/err" | cut -d/ -f2,3 | cut -d: -f1 || true)
	hookd check
	expect_rc 0 "$tree: check accepts what import wrote"
	for vm in $(ls "$T/A/qemu.d"); do
		got=$(cycle "$HOOKD_HOOK" "$vm")
		expect_eq "$got" "$(cat "$T/rc.dispatcher.$vm")" "$tree/$vm: the prepare's outcome"
		for l in $links; do # the dispatcher ran a linked directory's scripts once more: import said so
			[[ "${l%/*}" != "$vm" ]] || sed -i "/ $vm ${l#*/} /d" "$T/calls.dispatcher.$vm"
		done
		want=$(sort "$T/calls.dispatcher.$vm" | tr '\n' '|')
		expect_eq "$(sort "$T/calls" | tr '\n' '|')" "$want" "$tree/$vm: the same scripts and argv, each once"
		CALLS=$((CALLS + $(wc -l <"$T/calls")))
	done
}

case "$case_name" in
dispatcher_and_hookd_agree)
	cp -a "$T/corpus" "$T/stubbed"
	stubify "$T/stubbed"
	n=0 CALLS=0
	for tree in $TREES; do
		tree_agrees "$tree"
		n=$((n + 1))
	done
	expect_eq "$n" 14 "trees in the corpus"
	((CALLS >= 30)) && ok "$CALLS script runs compared" || fail "only $CALLS script runs: the stubs did not log"
	;;
native_sections_cite_their_lines)
	conf "$T/hookd.conf" "$T/hooks.d"
	mkdir -p "$T/hooks.d"
	native() { hookd import "$T/corpus/$1/qemu.d" --stdout --native; expect_rc 0 "$1: import --native --stdout"; }
	native single-gpu-nvidia
	for want in "stop = display-manager.service" "vtconsoles = yes" "framebuffer = efi-framebuffer.0" \
		"unload = nvidia_drm nvidia_modeset nvidia_uvm nvidia" "load = vfio-pci" \
		"devices = 0000:01:00.0 0000:01:00.1" "; prepare/begin/start.sh:9: modprobe -r nvidia_drm" \
		"; release/end/revert.sh:13: modprobe nvidia (its undo: hookd does it on release by itself)" \
		"release/end/revert.sh:8: nvidia-xconfig" "[exec release/end/revert.sh]" \
		"start.sh:8: sleep 3 (not needed"; do
		expect_in "$OUT" "$want" "single-gpu-nvidia: $want"
	done
	[[ "$OUT" != *"[exec prepare/begin/start.sh]"* ]] && ok "a fully mapped script is no [exec] step" || fail "$OUT"
	native single-gpu-amd-nohashbang
	expect_in "$OUT" "virsh nodedev-detach \$VIRSH_GPU_VIDEO (not mapped: a variable" "a variable is not guessed at"
	expect_in "$OUT" "[exec prepare/begin/start.sh]" "so that script stays an [exec] step"
	native numbered-isolation
	for want in "host = 0,1,8,9" "irqs = yes" "governor = performance" "pages = 8192" \
		"cpupower frequency-set -g schedutil (its undo"; do
		expect_in "$OUT" "$want" "numbered-isolation: $want"
	done
	[[ "$OUT" != *"[exec "* ]] && ok "numbered-isolation: nothing left for [exec]" || fail "$OUT"
	native subop-files
	expect_in "$OUT" "size = 2048k" "subop-files: the 2 MiB pool"
	expect_in "$OUT" "pages = 1024" "subop-files: its pages"
	native multi-vm
	expect_in "$OUT" "taskset -a -p -c 2-7" "a command hookd has no section for stays"
	# every tree's --native INI passes check; the copies keep a valid script around the no-ops
	for tree in $TREES; do
		hookd import "$T/corpus/$tree/qemu.d" --native --force
		expect_rc 0 "$tree: import --native"
		hookd check
		expect_rc 0 "$tree: check accepts the native INI"
	done
	rest=$T/hooks.d/win10.d/release/end/revert.sh # from single-gpu-nvidia, written first, not replaced
	hookd import "$T/corpus/single-gpu-nvidia/qemu.d.imported" --native --force
	expect_in "$(cat "$rest")" ": # now [vfio] devices (hookd import --native): virsh nodedev-reattach pci_0000_01_00_1" "the mapped line is a no-op in the copy"
	expect_in "$(cat "$rest")" $'\nnvidia-xconfig --query-gpu-info' "the unmapped line stays"
	bash -n "$rest" && ok "the copy is still valid bash" || fail "syntax"
	;;
# The --native INI of a single-GPU tree prepares and releases a simulated single-GPU host: the native
# sections do what the recognised lines did, the residual [exec] steps run what was left, once.
native_ini_runs_on_a_single_gpu_host)
	rm -rf "$R"
	"$SIM_MKROOT" "$R" --preset gpu
	"$SIM_MKROOT_CONSOLE" "$R"
	"$SIM_MKROOT_MODULES" "$R"
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	mkdir -p "$T/hooks.d" "$T/bin" "$T/units" "$T/q/win11/prepare/begin" "$T/q/win11/release/end"
	conf "$T/hookd.conf" "$T/hooks.d"
	# fakes first in PATH: this machine's systemctl never runs; notify-me is the line no section does
	printf '#!/bin/bash\necho "$*" >>%s/systemctl.calls\ncase $1 in is-active) [[ -e %s/units/$3 ]] ;; stop) rm -f %s/units/$2 ;; start) touch %s/units/$2 ;; esac\n' \
		"$T" "$T" "$T" "$T" >"$T/bin/systemctl"
	printf '#!/bin/bash\necho "notify $* $(readlink %s/sys/bus/pci/devices/0000:01:00.0/driver | xargs basename 2>/dev/null)" >>%s/notify.calls\n' \
		"$R" "$T" >"$T/bin/notify-me"
	chmod 0755 "$T/bin/systemctl" "$T/bin/notify-me"
	touch "$T/units/display-manager.service"
	cat >"$T/q/win11/prepare/begin/start.sh" <<-'EOF'
		#!/bin/bash
		notify-me starting
		systemctl stop display-manager
		echo 0 > /sys/class/vtconsole/vtcon1/bind
		echo 0 > /sys/class/vtconsole/vtcon2/bind
		echo efi-framebuffer.0 > /sys/bus/platform/drivers/efi-framebuffer/unbind
		modprobe -r sim_nvidia_drm sim_nvidia_modeset sim_nvidia
		virsh nodedev-detach pci_0000_01_00_0
		virsh nodedev-detach pci_0000_01_00_1
	EOF
	cat >"$T/q/win11/release/end/revert.sh" <<-'EOF'
		#!/bin/bash
		virsh nodedev-reattach pci_0000_01_00_1
		virsh nodedev-reattach pci_0000_01_00_0
		modprobe sim_nvidia
		modprobe sim_nvidia_modeset
		modprobe sim_nvidia_drm
		echo efi-framebuffer.0 > /sys/bus/platform/drivers/efi-framebuffer/bind
		echo 1 > /sys/class/vtconsole/vtcon1/bind
		echo 1 > /sys/class/vtconsole/vtcon2/bind
		systemctl start display-manager
		notify-me stopped
	EOF
	chmod 0755 "$T/q/win11/prepare/begin/start.sh" "$T/q/win11/release/end/revert.sh"
	echo "<domain><name>win11</name><uuid>00000000-0000-4000-8000-000000000001</uuid></domain>" >"$T/win11.xml"
	hookd import "$T/q" --native
	expect_rc 0 "import --native"
	ini=$(cat "$T/hooks.d/win11.ini")
	for want in "[exec release/end/revert.sh]" "[exec prepare/begin/start.sh]" "stop = display-manager.service" \
		"vtconsoles = yes" "framebuffer = efi-framebuffer.0" "unload = sim_nvidia_drm sim_nvidia_modeset sim_nvidia" \
		"devices = 0000:01:00.0 0000:01:00.1"; do
		expect_in "$ini" "$want" "native INI: $want"
	done
	run() { sim env PATH="$T/bin:$PATH" "$HOOKD_BIN" --conf "$T/hookd.conf" run win11 "$1" --xml "$T/win11.xml" >"$T/out" 2>"$T/err"; }
	run prepare && ok "prepare" || fail "prepare: $(cat "$T/err")"
	expect_eq "$(driver 0000:01:00.0) $(driver 0000:01:00.1)" "vfio-pci vfio-pci" "the GPU and its audio are on vfio-pci"
	vt() { cat "$R/sys/class/vtconsole/$1/bind" 2>/dev/null || echo gone; }
	expect_eq "$(vt vtcon1) $(vt vtcon2)" "gone 0" "fbcon's vtcon1 left with the framebuffer, vtcon2 unbound"
	[[ ! -e "$R/sys/module/sim_nvidia" ]] && ok "sim_nvidia unloaded" || fail "sim_nvidia still loaded"
	[[ ! -e "$T/units/display-manager.service" ]] && ok "display manager stopped" || fail "display manager runs"
	expect_eq "$(cat "$T/notify.calls")" "notify starting sim_nvidia" "the residual script ran its own line once, first"
	run release && ok "release" || fail "release: $(cat "$T/err")"
	expect_eq "$(driver 0000:01:00.0)" sim_nvidia "the GPU is back on its driver"
	[[ -e "$T/units/display-manager.service" ]] && ok "display manager started again" || fail "not started"
	expect_eq "$(tail -1 "$T/notify.calls")" "notify stopped sim_nvidia" "the release script's own line ran last"
	expect_same_tree "after release"
	;;
*) fail "unknown case $case_name" ;;
esac
finish
