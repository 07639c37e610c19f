#!/bin/sh
# Guest test for [modules] and [console] (run by rig.sh inside QEMU, as root, against the real
# kernel): real modules unloaded and loaded again through libkmod, refusals that name the holder
# module or the process holding a DRM node, and vtconsole unbind. Prints "@@T PASS|FAIL|INFO"
# lines and ends with "N passed, N failed".
. /hookd-test/lib.sh

T=/tmp/hookd-modules
AUD=0000:01:00.1 NIC=0000:02:00.0
mkdir -p $T
write_conf /etc/hookd/hookd.conf stderr
cat >$T/modvm.xml <<'EOF'
<domain type='kvm' id='1'>
  <name>modvm</name>
  <uuid>6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b3001</uuid>
  <memory unit='KiB'>1048576</memory>
  <vcpu placement='static'>2</vcpu>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
</domain>
EOF
ini() { printf '%s\n' "$@" >/etc/hookd/hooks.d/modvm.ini; chmod 0644 /etc/hookd/hooks.d/modvm.ini; }
hook() {
  env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    timeout 60 $HOOK modvm "$1" "$2" - <$T/modvm.xml >$T/out 2>$T/err
  RC=$?
}
loaded() { [ -e /sys/module/$1/initstate ]; }
# wait_drv BDF DRIVER: asynchronous probes (snd_hda_intel) get up to 5 s
wait_drv() { i=0; while [ "$(drv $1)" != "$2" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; [ "$(drv $1)" = "$2" ]; }
vtbinds() { for v in /sys/class/vtconsole/vtcon*; do printf '%s=%s ' "${v##*/}" "$(cat $v/bind)"; done; }

info "kernel $(uname -r); modules: $(lsmod | awk 'NR>1{print $1}' | sort | tr '\n' ' ')"
loaded e1000e && loaded snd_hda_intel || fail "setup: e1000e and snd_hda_intel must be loaded"
info "before: $NIC=$(drv $NIC) $AUD=$(drv $AUD); refcnt e1000e=$(cat /sys/module/e1000e/refcnt) snd_hda_intel=$(cat /sys/module/snd_hda_intel/refcnt)"

# ---------------------------------------------------------------- unload and reload real modules
ini '[modules]' 'unload = snd_hda_intel e1000e'
/usr/sbin/hookd plan modvm --xml $T/modvm.xml >$T/plan 2>&1; show $T/plan
hook prepare begin
if [ $RC = 0 ] && ! loaded snd_hda_intel && ! loaded e1000e && [ "$(drv $NIC)" = none ] && [ "$(drv $AUD)" = none ]; then
  pass "vm_modules_unload_real_modules (snd_hda_intel, e1000e gone; $NIC and $AUD unbound)"
else
  fail "vm_modules_unload_real_modules: rc=$RC $NIC=$(drv $NIC) $AUD=$(drv $AUD) e1000e:$(loaded e1000e && echo loaded) snd_hda_intel:$(loaded snd_hda_intel && echo loaded)"; show $T/err
fi
hook release end
if [ $RC = 0 ] && loaded snd_hda_intel && loaded e1000e && wait_drv $NIC e1000e && wait_drv $AUD snd_hda_intel; then
  pass "vm_modules_release_reloads_and_devices_bound_again ($NIC=e1000e $AUD=snd_hda_intel)"
else
  fail "vm_modules_release_reloads_and_devices_bound_again: rc=$RC $NIC=$(drv $NIC) $AUD=$(drv $AUD)"; show $T/err
fi
[ -e /run/hookd/6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b3001.journal ] && fail "vm_modules: journal left after release"

# ---------------------------------------------------------------- in use: holder module
ini '[modules]' 'unload = snd_pcm'
hook prepare begin
if [ $RC = 1 ] && grep -q "cannot unload module snd_pcm: used by module" $T/err && grep -q snd_hda_intel $T/err && loaded snd_pcm; then
  pass "vm_modules_in_use_refused_naming_holder"; show $T/err
else
  fail "vm_modules_in_use_refused_naming_holder: rc=$RC"; show $T/err
fi

# ---------------------------------------------------------------- in use: a process holds the DRM node
if [ -e /dev/dri/card0 ]; then
  DRM=$(basename "$(readlink /sys/class/drm/card0/device/driver/module)")
  sleep 600 </dev/dri/card0 &
  HOLDER=$!
  sleep 0.2
  ini '[modules]' "unload = $DRM"
  hook prepare begin
  if [ $RC = 1 ] && grep -q "pid $HOLDER (sleep) holds /dev/dri/card0 open" $T/err && loaded $DRM; then
    pass "vm_modules_dri_holder_refused_naming_process ($DRM)"; show $T/err
  else
    fail "vm_modules_dri_holder_refused_naming_process: rc=$RC"; show $T/err
  fi
  kill $HOLDER; wait $HOLDER 2>/dev/null
  hook release end
else
  fail "vm_modules_dri_holder_refused_naming_process: no /dev/dri/card0 in the guest"
fi

# ---------------------------------------------------------------- vtconsole unbind
for v in /sys/class/vtconsole/vtcon*; do info "${v##*/}: $(cat $v/name) bind=$(cat $v/bind)"; done
BEFORE=$(vtbinds)
BOUND=$(for v in /sys/class/vtconsole/vtcon*; do [ "$(cat $v/bind)" = 1 ] && echo "${v##*/}"; done)
ini '[console]' 'vtconsoles = yes' 'framebuffer = efi-framebuffer.0'
/usr/sbin/hookd plan modvm --xml $T/modvm.xml >$T/plan 2>&1; show $T/plan
hook prepare begin
AFTER=$(vtbinds)
ok=1; for v in $BOUND; do [ "$(cat /sys/class/vtconsole/$v/bind)" = 0 ] || ok=0; done
if [ -z "$BOUND" ]; then
  fail "vm_console_vtconsoles_unbound: no bound vtconsole to start with ($BEFORE)"
elif [ $RC = 0 ] && [ $ok = 1 ]; then
  pass "vm_console_vtconsoles_unbound ($BEFORE-> $AFTER; efi-framebuffer.0 absent under SeaBIOS: not an error)"
else
  fail "vm_console_vtconsoles_unbound: rc=$RC $BEFORE-> $AFTER"; show $T/err
fi
hook release end
FINAL=$(vtbinds)
# DESIGN.md §6: fbcon does not take a console back under SeaBIOS. hookd must say so, not pretend.
if [ "$FINAL" = "$BEFORE" ] && [ $RC = 0 ]; then
  pass "vm_console_release_rebinds_or_reports (rebound: $FINAL)"
elif [ $RC != 0 ] && grep -q "the kernel did not bind the console again" $T/err; then
  pass "vm_console_release_rebinds_or_reports (kernel kept them unbound: $FINAL; hookd reported it, exit $RC)"; show $T/err
else
  fail "vm_console_release_rebinds_or_reports: rc=$RC before $BEFORE now $FINAL"; show $T/err
fi

echo "$P passed, $F failed"
[ $F = 0 ]
