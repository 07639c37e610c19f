#!/bin/sh
# Guest test for the single-GPU flow (run by rig.sh inside QEMU, as root, booted through OVMF):
# [console] unbinds the vtconsoles and the firmware framebuffer, [vfio] takes the boot GPU, and
# release gives all of it back: the framebuffer bound to its driver again and every vtconsole
# bound again, read from /sys/class/vtconsole/*/bind and the framebuffer's driver link.
# Two cases in one boot (rig.sh runs with modprobe.blacklist=bochs): first efifb drives the
# console from the boot VGA (as on an NVIDIA host before nvidia-drm loads); then bochs is loaded,
# which takes the VGA and removes the firmware framebuffer, and the same flow runs with fbcon on
# the DRM driver. The framebuffer is efi-framebuffer.0 (efifb), or simple-framebuffer.0 where
# the kernel registers the firmware framebuffer for simpledrm. Prints "@@T PASS|FAIL|INFO" lines, ends "N passed, N failed".
. /hookd-test/lib.sh
T=/tmp/hookd-console
GPU=0000:01:00.0 AUD=0000:01:00.1
VM=gpuvm UUID=6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b4001
mkdir -p $T
write_conf /etc/hookd/hookd.conf $T/hookd.log   # the hook's info lines (stderr has errors only)
domain_xml $VM $UUID >$T/dom.xml
hook() {
  env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    timeout 60 $HOOK $VM "$1" "$2" - <$T/dom.xml >$T/out 2>$T/err
  RC=$?
}
pdrv() { if [ -e /sys/bus/pci/devices/$1/driver ]; then basename "$(readlink /sys/bus/pci/devices/$1/driver)"; else echo none; fi; }
fbdrv() {
  if [ ! -e /sys/bus/platform/devices/$1 ]; then echo gone
  elif [ -e /sys/bus/platform/devices/$1/driver ]; then basename "$(readlink /sys/bus/platform/devices/$1/driver)"
  else echo none; fi
}
vts() { for v in /sys/class/vtconsole/vtcon*; do printf '%s=%s(%s) ' "${v##*/}" "$(cat $v/bind)" "$(cut -c1-12 $v/name)"; done; }
state() { echo "$GPU=$(pdrv $GPU) $AUD=$(pdrv $AUD) $FB=$(fbdrv $FB) vt: $(vts)fb: $(tr '\n' ';' </proc/fb)"; }

FB=efi-framebuffer.0
[ -e /sys/bus/platform/devices/simple-framebuffer.0 ] && FB=simple-framebuffer.0
info "kernel $(uname -r) efi=$([ -d /sys/firmware/efi ] && echo yes || echo no) cmdline: $(cat /proc/cmdline)"
info "platform framebuffers: $(ls /sys/bus/platform/devices | grep -i framebuffer | tr '\n' ' ')"

# flow CASE [VFIO]: [console] (+ [vfio] when VFIO=vfio) prepare, then release; checks name CASE
flow() {
  BEFORE=$(vts) FB0=$(fbdrv $FB) GPU0=$(pdrv $GPU) AUD0=$(pdrv $AUD)
  info "$1 before: $(state)"
  printf '[console]\nvtconsoles = yes\nframebuffer = %s\n' "$FB" >/etc/hookd/hooks.d/$VM.ini
  [ "${2:-}" = vfio ] && printf '[vfio]\ndevices = auto\n' >>/etc/hookd/hooks.d/$VM.ini
  chmod 0644 /etc/hookd/hooks.d/$VM.ini
  $CLI plan $VM --xml $T/dom.xml >$T/plan 2>&1; show $T/plan
  : >$T/hookd.log
  hook prepare begin
  info "$1 after prepare (rc=$RC): $(state)"
  bound=$(for v in /sys/class/vtconsole/vtcon*; do [ "$(cat $v/bind)" = 1 ] && grep -q 'frame buffer' $v/name && echo ${v##*/}; done)
  want=$GPU0; [ "${2:-}" = vfio ] && want=vfio-pci
  if [ $RC = 0 ] && [ "$(pdrv $GPU)" = $want ] && [ -z "$bound" ] && [ "$(fbdrv $FB)" != "$FB0" -o "$FB0" = gone ]; then
    pass "vm_console_${1}_prepare_frees_the_gpu"
  else
    fail "vm_console_${1}_prepare_frees_the_gpu: rc=$RC fbcon still bound: '$bound'"; show $T/err
  fi
  hook release end
  sleep 0.5   # fbcon takes the console over from a workqueue once the framebuffer registers
  info "$1 after release (rc=$RC): $(state)"
  if [ $RC = 0 ] && [ "$(fbdrv $FB)" = "$FB0" ] && [ "$(pdrv $GPU)" = "$GPU0" ] && [ "$(pdrv $AUD)" = "$AUD0" ] &&
     [ "$(vts)" = "$BEFORE" ]; then
    pass "vm_console_${1}_release_gives_console_back ($FB=$FB0, vt: $BEFORE)"
  elif [ $RC = 0 ] && [ "$FB0" != gone ] && [ "$(fbdrv $FB)" = gone ] && [ "$(pdrv $GPU)" = "$GPU0" ] &&
       [ "$(pdrv $AUD)" = "$AUD0" ] && grep -q "framebuffer $FB is gone: the kernel removed it" $T/hookd.log &&
       grep -q "vtcon1 is gone with its framebuffer" $T/hookd.log && [ "$(vts)" = "vtcon0=1((S) dummy de) " ]; then
    # vfio-pci took the boot VGA: the kernel unregistered the firmware framebuffer for good
    pass "vm_console_${1}_release_completes_and_says_the_framebuffer_is_gone (vt: $(vts))"; grep gone $T/hookd.log | show
  else
    fail "vm_console_${1}_release_gives_console_back: rc=$RC want $FB=$FB0 $GPU=$GPU0 $AUD=$AUD0 vt: $BEFORE"; show $T/err $T/hookd.log
  fi
  [ -e /run/hookd/$UUID.journal ] && { fail "vm_console_${1}: journal left after release"; $CLI restore $VM >/dev/null 2>&1; }
}

if [ "$(fbdrv $FB)" = gone ] || [ "$(pdrv $GPU)" != none ]; then
  fail "setup: expected $FB driving the console and no driver on $GPU (modprobe.blacklist=bochs): $(state)"
else
  flow fbonly
  flow efifb vfio
fi

# bochs takes the VGA: the firmware framebuffer is removed before any hook runs
modprobe bochs || fail "setup: modprobe bochs"
i=0; while [ ! -e /sys/bus/pci/devices/$GPU/driver ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
sleep 0.5
if [ "$(pdrv $GPU)" = bochs-drm ] && [ "$(fbdrv $FB)" = gone ]; then
  # after the efifb flow: the GPU's own driver brings fbcon back, vtcon bound, without hookd
  case "$(vts)" in
    *"=1((M) frame bu)"*) pass "vm_console_efifb_console_returns_with_the_gpu_driver ($(vts))" ;;
    *) fail "vm_console_efifb_console_returns_with_the_gpu_driver: $(state)" ;;
  esac
  flow drm vfio
else
  fail "setup: bochs-drm should have the GPU and $FB be gone: $(state)"
fi

echo "$P passed, $F failed"
[ $F = 0 ]
