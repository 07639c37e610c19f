#!/bin/bash
# libsimkernel.so reacts to sysfs writes the way the kernel does, and injects faults.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
mkroot
D=sys/bus/pci/drivers
GPU=0000:01:00.0 HDA=0000:01:00.1 NIC=0000:02:00.0

# expect_fail ERRNO_TEXT WHAT REL VALUE: the write must fail with that strerror text
expect_fail() {
	local err
	if err=$(swrite "$3" "$4" 2>&1); then
		fail "$2: write succeeded"
	elif [[ "$err" == *"$1"* ]]; then
		ok "$2: $1"
	else
		fail "$2: want '$1', got: $err"
	fi
}

# the shim is inert without HOOKD_SIM_ROOT
env LD_PRELOAD="$SIM_SHIM" "$SIM_WRITE" "$R/sys/bus/pci/devices/$GPU/driver_override" vfio-pci
expect_eq "$(override $GPU)" "vfio-pci" "without HOOKD_SIM_ROOT the write is a plain file write"
printf '(null)\n' >"$R/sys/bus/pci/devices/$GPU/driver_override"

# GPU to vfio-pci the way libvirt does it: override, unbind, drivers_probe
swrite sys/bus/pci/devices/$GPU/driver_override $'vfio-pci\n'
expect_eq "$(override $GPU)" "vfio-pci" "driver_override stored without its newline"
swrite $D/nvidia/unbind $GPU
expect_eq "$(driver $GPU)" "" "unbind removes the device's driver link"
expect_nofile $D/nvidia/$GPU
swrite sys/bus/pci/drivers_probe $GPU
expect_eq "$(driver $GPU)" "vfio-pci" "drivers_probe honours driver_override"
expect_file $D/vfio-pci/$GPU
expect_file dev/vfio/2
expect_eq "$(readlink "$R/sys/devices/pci0000:00/0000:00:01.0/$GPU/driver")" "../../../../bus/pci/drivers/vfio-pci" \
	"driver link is relative, like the kernel's"
swrite sys/bus/pci/drivers_probe $GPU # already bound: nothing happens
expect_eq "$(driver $GPU)" "vfio-pci" "drivers_probe on a bound device changes nothing"

# the companion too; /dev/vfio/2 stays while any group member is on vfio-pci
swrite sys/bus/pci/devices/$HDA/driver_override vfio-pci
swrite $D/snd_hda_intel/unbind $HDA
swrite sys/bus/pci/drivers_probe $HDA
expect_eq "$(driver $HDA)" "vfio-pci" "companion on vfio-pci"

# errors
expect_fail "No such device" "unbind from a driver the device is not bound to" $D/nvidia/unbind $NIC
expect_fail "No such device" "unbind of an unknown device" $D/nvidia/unbind 0000:09:00.0
expect_fail "Device or resource busy" "bind of a bound device" $D/vfio-pci/bind $GPU
expect_fail "No such device" "drivers_probe of an unknown device" sys/bus/pci/drivers_probe 0000:09:00.0
expect_fail "No such device" "bind against the override" $D/e1000e/bind $GPU

# back: clear the override, unbind, bind to the native driver
swrite sys/bus/pci/devices/$GPU/driver_override $'\n'
expect_eq "$(override $GPU)" "(null)" "writing a newline clears driver_override"
swrite $D/vfio-pci/unbind $GPU
expect_file dev/vfio/2
expect_fail "No such device" "bind to a driver that does not match (no override)" $D/e1000e/bind $GPU
swrite $D/nvidia/bind $GPU
expect_eq "$(driver $GPU)" "nvidia" "bind to the native driver"
swrite sys/bus/pci/devices/$HDA/driver_override ""
expect_eq "$(override $HDA)" "(null)" "an empty write clears driver_override"
swrite $D/vfio-pci/unbind $HDA
expect_nofile dev/vfio/2
swrite sys/bus/pci/drivers_probe $HDA
expect_eq "$(driver $HDA)" "snd_hda_intel" "drivers_probe without override binds the native driver"
expect_same_tree "after the round trip"

# override naming a driver that does not exist: probe succeeds, device stays unbound
swrite sys/bus/pci/devices/$NIC/driver_override nosuchdrv
swrite $D/e1000e/unbind $NIC
swrite sys/bus/pci/drivers_probe $NIC && ok "drivers_probe with a missing override driver succeeds"
expect_eq "$(driver $NIC)" "" "and leaves the device unbound"
swrite sys/bus/pci/devices/$NIC/driver_override ""

# new_id binds matching unbound devices; remove_id forgets the id
swrite $D/vfio-pci/new_id "8086 10d3"
expect_eq "$(driver $NIC)" "vfio-pci" "new_id attaches a matching unbound device"
expect_file dev/vfio/3
expect_fail "File exists" "new_id twice" $D/vfio-pci/new_id "8086 10d3"
swrite $D/vfio-pci/remove_id "8086 10d3"
expect_fail "No such device" "remove_id of an unknown id" $D/vfio-pci/remove_id "8086 10d3"
swrite $D/vfio-pci/unbind $NIC
expect_nofile dev/vfio/3
swrite sys/bus/pci/drivers_probe $NIC
expect_eq "$(driver $NIC)" "e1000e" "back on e1000e after remove_id"

# refuse_bind: probe leaves it unbound, bind fails
touch "$R/.sim/faults/$NIC.refuse_bind"
swrite $D/e1000e/unbind $NIC
swrite sys/bus/pci/drivers_probe $NIC
expect_eq "$(driver $NIC)" "" "refuse_bind: drivers_probe leaves the device unbound"
expect_fail "No such device" "refuse_bind: bind fails" $D/e1000e/bind $NIC
rm "$R/.sim/faults/$NIC.refuse_bind"
swrite $D/e1000e/bind $NIC
expect_eq "$(driver $NIC)" "e1000e" "bind works once the fault is gone"

# stuck_unbind: the write never returns; only SIGKILL ends it; the device stays bound
touch "$R/.sim/faults/$HDA.stuck_unbind"
start=$SECONDS
set +e
timeout -s TERM -k 2 1 env LD_PRELOAD="$SIM_SHIM" HOOKD_SIM_ROOT="$R" \
	"$SIM_WRITE" "$R/$D/snd_hda_intel/unbind" $HDA >"$T/out" 2>&1
rc=$?
set -e
expect_eq "$rc" 137 "stuck unbind ignores SIGTERM and dies only by SIGKILL"
expect_eq "$(cat "$T/out")" "" "stuck unbind never returned"
((SECONDS - start <= 6)) && ok "timeout bounded the wait" || fail "took $((SECONDS - start)) s"
expect_eq "$(driver $HDA)" "snd_hda_intel" "device still bound after the stuck unbind"
swrite sys/bus/pci/devices/$GPU/driver_override "" && ok "the simulator lock was released by the stuck writer"
rm "$R/.sim/faults/$HDA.stuck_unbind"

# crash_at: the Nth special write happens, then the writer's process group is SIGKILLed
n=$(cat "$R/.sim/write_count")
echo $((n + 2)) >"$R/.sim/faults/crash_at"
set +e
setsid env LD_PRELOAD="$SIM_SHIM" HOOKD_SIM_ROOT="$R" bash -c \
	'"$SIM_WRITE" "$1/driver_override" vfio-pci; "$SIM_WRITE" "$3" "$2"; echo survived' \
	_ "$R/sys/bus/pci/devices/$GPU" $GPU "$R/$D/nvidia/unbind" >"$T/out" 2>&1
rc=$?
set -e
expect_eq "$rc" 137 "crash_at kills the writer"
expect_eq "$(cat "$T/out")" "" "writer did not survive the crash"
expect_eq "$(driver $GPU)" "" "the crashing write was performed first"
expect_eq "$(cat "$R/.sim/write_count")" $((n + 2)) "write_count counts special writes"
rm "$R/.sim/faults/crash_at"

# stdio writes (fopen + fprintf) are stores too
sim "$SIM_WRITE" --stdio "$R/sys/bus/pci/devices/$GPU/driver_override" $'\n' && ok "stdio write to driver_override"
sim "$SIM_WRITE" --stdio "$R/$D/nvidia/bind" $GPU
expect_eq "$(driver $GPU)" "nvidia" "stdio write to bind is a store"
if err=$(sim "$SIM_WRITE" --stdio "$R/$D/nvidia/bind" $GPU 2>&1); then
	fail "stdio bind of a bound device succeeded"
else
	[[ "$err" == *"Device or resource busy"* ]] && ok "stdio write reports EBUSY at fclose" || fail "stdio: $err"
fi
expect_same_tree "after faults"

# fopen of an ordinary file as a process's first interposed call (libselinux does this at load)
sim "$SIM_WRITE" --stdio "$T/plain" hello && expect_eq "$(cat "$T/plain")" hello "stdio write to a plain file"

# safety net: with the shim active, the real /sys is never opened for writing
if err=$(sim "$SIM_WRITE" --stdio /sys/hookd-sim-guard-probe x 2>&1); then
	fail "opening a real /sys path for writing was allowed"
elif [[ "$err" == *"simkernel: refusing to open the real /sys/hookd-sim-guard-probe"* ]]; then
	ok "real /sys write refused"
else
	fail "guard message missing: $err"
fi
finish
