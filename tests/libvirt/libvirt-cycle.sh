#!/bin/bash
# hookd against a REAL libvirtd (Debian 12: libvirt 9.0, QEMU 7.2). Run as root.
#
# Installs the build tree's hook as /etc/libvirt/hooks/qemu (a symlink), points hookd at
# a SIMULATED root through a test hookd.conf, starts its own virtlogd + libvirtd (no
# systemd needed), drives disk-less TCG domains through start / destroy / daemon restart
# and checks what hookd did (exit status, error text, journal) and the order of libvirt's
# hook calls (DESIGN.md §1). Every case prints PASS/FAIL; the last line is
# "N passed, N failed". Exit 0 only when nothing failed; 77 = skipped (not root).
#
# Safety: the domains never contain a <hostdev> (libvirt would detach a real device);
# the VM's INI names the simulated devices instead. libvirt's own cgroup use is switched
# off for the daemon's lifetime, so nothing on this host's /sys, /proc or cgroups changes.
# Every change outside the work dir (hookd.conf, /etc/libvirt/hooks/qemu, qemu.conf,
# /dev/kvm's mode, the daemons) goes into an undo log and is reverted at exit, or by the
# next run if this one was killed. Refuses to run beside a libvirtd it did not start.
#
# The everything-case (libvirt_every_action_in_plan_order_root_restored) needs the simulated
# kernel IN the hook process (LD_PRELOAD=libsimkernel.so, HOOKD_SIM_ROOT) and a fake systemctl,
# which libvirtd's stripped hook environment cannot carry: /etc/libvirt/hooks/qemu is therefore a
# test-only wrapper script (see write_hook_wrapper) that runs the real hook unchanged for every
# other VM. That VM's root, conf, journal and fake systemd live under $W/full; it never acts on
# this machine: no <hostdev>/hugepage backing/numatune/cputune in its XML, and the wrapper refuses
# to run the hook for it unless the simulator, the sim root and the fake systemctl are in place.
#
# Usage: libvirt-cycle.sh --hook BUILD/qemu --apply BUILD/hookd-apply --cli BUILD/hookd
#                         --mkroot BUILD/tests/sim/sim-mkroot [--conf /etc/hookd/hookd.conf]
#                         [--reaper BUILD/tests/libvirt/lv-subreaper] [--keep]
#                         [--shim BUILD/tests/sim/libsimkernel.so --jsonflat BUILD/tests/sim/sim-jsonflat
#                          --mkroot-modules X --mkroot-console X --mkroot-cpus X
#                          --mkroot-hugepages X --mkroot-pin X]   (all or none: the everything-case)
# Env:   HOOKD_LV_WORKDIR  work dir (default: mktemp -d); kept with --keep or on failure.
set -uo pipefail

T_ALL=$(date +%s%N)
ms() { echo $(( $(date +%s%N) / 1000000 )); }
say() { echo "[libvirt-cycle $(date +%T)] $*"; }
die() { echo "[libvirt-cycle] ERROR: $*" >&2; exit 1; }

HOOK= APPLY= CLI= MKROOT= REAPER= KEEP=
SHIM= JSONFLAT= MK_MODULES= MK_CONSOLE= MK_CPUS= MK_HUGEPAGES= MK_PIN=
CONF=/etc/hookd/hookd.conf
while [ $# -gt 0 ]; do
  case $1 in
    --hook) HOOK=$2; shift ;;
    --apply) APPLY=$2; shift ;;
    --cli) CLI=$2; shift ;;
    --mkroot) MKROOT=$2; shift ;;
    --conf) CONF=$2; shift ;;
    --reaper) REAPER=$2; shift ;;
    --keep) KEEP=1 ;;
    --shim) SHIM=$2; shift ;;
    --jsonflat) JSONFLAT=$2; shift ;;
    --mkroot-modules) MK_MODULES=$2; shift ;;
    --mkroot-console) MK_CONSOLE=$2; shift ;;
    --mkroot-cpus) MK_CPUS=$2; shift ;;
    --mkroot-hugepages) MK_HUGEPAGES=$2; shift ;;
    --mkroot-pin) MK_PIN=$2; shift ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (drives the system libvirtd)"; exit 77; }
for v in HOOK APPLY CLI MKROOT; do
  [ -n "${!v}" ] && [ -x "${!v}" ] || die "--${v,,} must name an executable (got '${!v}')"
done
HOOK=$(readlink -f "$HOOK"); APPLY=$(readlink -f "$APPLY"); CLI=$(readlink -f "$CLI")
FULL_TOOLS="SHIM JSONFLAT MK_MODULES MK_CONSOLE MK_CPUS MK_HUGEPAGES MK_PIN"
for v in $FULL_TOOLS; do
  [ -n "${!v}" ] || continue
  [ -f "${!v}" ] || die "${v}: no such file '${!v}'"
  printf -v "$v" %s "$(readlink -f "${!v}")"
done
# The hook finds hookd-apply next to its own executable (through /proc/self/exe).
[ "$(dirname "$HOOK")" = "$(dirname "$APPLY")" ] || die "hook and hookd-apply are not in one directory"

export LIBVIRT_DEFAULT_URI=qemu:///system
HOOKS=/etc/libvirt/hooks
LOGGER=$HOOKS/qemu.d/99-hookd-libvirt-test
QEMU_CONF=/etc/libvirt/qemu.conf
PREFIX=hookd-lv-            # every domain this test defines is named so
VSH_T=120                   # libvirt has no hook timeout: bound every virsh call ourselves

# Process look-ups read /proc/PID/{comm,stat} (read only): a fresh Debian has no procps.
comm_of() { local c=; read -r c 2>/dev/null < "/proc/$1/comm"; echo "$c"; }
ppid_of() {                 # /proc/PID/stat: "pid (comm) state ppid ..."
  local st=; read -r st 2>/dev/null < "/proc/$1/stat"; set -- ${st##*) }; echo "${2:-}"; }
live_pids() {               # live_pids NAME: pids of NAME processes that are not zombies
  local d c st out=
  for d in /proc/[0-9]*; do
    read -r c 2>/dev/null < "$d/comm" && [ "$c" = "$1" ] || continue
    read -r st 2>/dev/null < "$d/stat" || continue
    st=${st##*) }; [ "${st%% *}" = Z ] || out=$out${out:+,}${d#/proc/}
  done
  echo "$out"
}
# stop_daemon PID NAME: only if PID is still a NAME process (a stale pid may be reused).
stop_daemon() {
  local p=$1 name=$2
  [ -n "$p" ] && [ "$(comm_of "$p")" = "$name" ] || return 0
  kill "$p" 2>/dev/null
  for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.05; done
  echo "WARNING: $name pid $p did not exit within 10 s" >&2; return 1
}
# Our domains only (by name): leftovers of an interrupted run, and whatever a failed case
# left running, so that one failure does not cascade into the next case.
drop_our_domains() {
  local d
  for d in $(timeout 20 virsh list --all --name 2>/dev/null | grep "^$PREFIX"); do
    timeout 30 virsh destroy "$d" >/dev/null 2>&1; timeout 30 virsh undefine "$d" >/dev/null 2>&1
  done
}

# ---- 0. undo log: every change outside the work dir, recorded BEFORE it is made -------
# Kept under /var/lib (not the work dir) so that a run killed with SIGKILL (a ctest
# timeout) is repaired by the next run. Lines, replayed newest first:
#   daemon PID NAME   a daemon this test started: our domains destroyed, then stopped
#   restore PATH      put back the copy in $UNDO_DIR (or delete PATH if there was none)
#   rm PATH | rmdir PATH | mode PATH UID:GID OCTAL
UNDO_DIR=/var/lib/hookd-libvirt-test UNDO=/var/lib/hookd-libvirt-test/undo
undo_all() {
  local op path arg b
  [ -f "$UNDO" ] || return 0
  tac "$UNDO" | while read -r op path arg; do
    b=$UNDO_DIR/$(echo "$path" | tr / _)
    case $op in
      daemon) if [ "$arg" = libvirtd ] && [ "$(comm_of "$path")" = libvirtd ]; then
                drop_our_domains; fi
              stop_daemon "$path" "$arg" ;;
      restore) rm -f "$path"
               if [ -e "$b" ] || [ -L "$b" ]; then cp -a "$b" "$path" || echo "WARNING: cannot restore $path from $b" >&2; fi ;;
      rm) rm -f "$path" ;;
      rmdir) rmdir "$path" 2>/dev/null ;;
      mode) chown "${arg% *}" "$path"; chmod "${arg#* }" "$path" ;;
    esac
  done
  rm -rf "$UNDO_DIR"
}
if [ -f "$UNDO" ]; then
  say "an earlier run was killed before restoring; undoing its changes:"; sed 's/^/    /' "$UNDO"
  undo_all
fi
# backup FILE: copy FILE (or symlink) aside, then remove it; at exit it comes back as it was.
backup() {
  local f=$1 b; b=$UNDO_DIR/$(echo "$1" | tr / _)
  if [ -e "$f" ] || [ -L "$f" ]; then cp -a "$f" "$b" || die "cannot back up $f"; fi
  echo "restore $f" >> "$UNDO"; sync "$UNDO"
  rm -f "$f"
}
mkdir_track() {             # mkdir -p that records each directory it creates
  [ -d "$1" ] && return 0
  mkdir_track "$(dirname "$1")"
  echo "rmdir $1" >> "$UNDO"; mkdir "$1"
}

# ---- 1. refuse to share the machine with a libvirt we did not start -------------------
for d in libvirtd virtqemud; do
  p=$(live_pids "$d")
  [ -z "$p" ] || die "a $d is already running (pid $p); this test starts and stops its own: stop it first"
done

# ---- 2. packages (a fresh Debian 12 has none of them) ---------------------------------
if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null \
   || ! command -v virtlogd >/dev/null || ! command -v qemu-system-x86_64 >/dev/null; then
  say "installing libvirt + qemu"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends \
    libvirt-daemon-system libvirt-clients qemu-system-x86 || die "apt-get install failed"
  # the package's postinst may have started a daemon through invoke-rc.d: not ours
  [ -z "$(live_pids libvirtd)" ] || die "installing libvirt started a libvirtd; stop it and rerun"
fi

W=${HOOKD_LV_WORKDIR:-$(mktemp -d /tmp/hookd-libvirt.XXXXXX)}
mkdir -p "$W"; chmod 0755 "$W"
ROOT=$W/root HOOKSD=$W/hooks.d STATE=$W/state CALLS=$W/hook-calls.log
mkdir -p "$HOOKSD" "$STATE"; : > "$CALLS"
say "work dir $W"
mkdir -p "$UNDO_DIR"; chmod 0700 "$UNDO_DIR"; : > "$UNDO"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
  undo_all
  if [ -z "$KEEP" ] && [ "$rc" = 0 ]; then rm -rf "$W"; else echo "work dir kept: $W" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "[libvirt-cycle] interrupted" >&2; exit 130' INT
trap 'echo "[libvirt-cycle] terminated (by the 540 s watchdog?)" >&2; exit 143' TERM
# Stay inside ctest's TIMEOUT (600 s): past 540 s, stop and restore rather than be killed.
# Polls so that it ends with this script (its parent changes) and never signals a reused pid.
( exec </dev/null >/dev/null 2>&1
  for _ in $(seq 540); do sleep 1; [ "$(ppid_of $BASHPID)" = $$ ] || exit 0; done
  kill -TERM $$ ) &
WATCHDOG=$!

# ---- 3. simulated root + hookd.conf ----------------------------------------------------
"$MKROOT" "$ROOT" --preset gpu > "$W/sim-mkroot.out" 2>&1 || { cat "$W/sim-mkroot.out"; die "sim-mkroot $ROOT failed"; }
for a in 0000:05:00.0 0000:05:00.1 0000:03:00.0 0000:04:00.0; do
  [ -e "$ROOT/sys/bus/pci/devices/$a" ] || die "simulated root lacks $a (sim-mkroot preset changed?)"
done
mkdir_track "$(dirname "$CONF")"
backup "$CONF"
cat > "$CONF" <<EOF
# written by tests/libvirt/libvirt-cycle.sh; the original is restored at exit
root = $ROOT
hooks_dir = $HOOKSD
state_dir = $STATE
timeout = 2
log = stderr
EOF
chmod 0644 "$CONF"

# ---- 4. the hook (before the daemon starts: libvirt looks for hooks only then) --------
# /etc/libvirt/hooks/qemu is a copy of this test-only wrapper (restored at exit like the rest).
# It exists ONLY because libvirtd runs hooks with nothing but LC_ALL, PATH and HOME: the
# everything-case VM needs the simulator loaded in the hook, its own hookd.conf and a fake
# systemctl first in PATH, and the environment is the only way to hand them to the hook. Every
# other VM gets the real hook exactly as the symlink the product installs would run it.
FULL=$W/full FULL_VM=${PREFIX}full
write_hook_wrapper() {
  cat <<EOF
#!/bin/bash
# TEST-ONLY libvirt hook wrapper written by tests/libvirt/libvirt-cycle.sh (the original
# /etc/libvirt/hooks/qemu comes back when the test ends). libvirtd strips the environment
# (LC_ALL, PATH, HOME only); this is the one place that adds what the simulated root needs.
if [ "\$1" != "$FULL_VM" ]; then exec -a "\$0" "$HOOK" "\$@"; fi
refuse() { echo "hookd libvirt test wrapper: \$*; refusing to run the hook" >&2; exit 1; }
# Never let the real hook act on this machine: the root must be the simulated one,
[ -f "$SHIM" ] && [ -d "$FULL/root/.sim" ] || refuse "no simulator ($SHIM) or sim root ($FULL/root)"
grep -qxF "root = $FULL/root" "$FULL/hookd.conf" 2>/dev/null || refuse "$FULL/hookd.conf does not name the sim root"
# [service] must find the fake systemctl, never this machine's.
export PATH="$FULL/bin:\$PATH"
[ "\$(command -v systemctl)" = "$FULL/bin/systemctl" ] || refuse "the fake systemctl is not first in PATH"
# hookd logs to stderr (libvirtd keeps it only on failure): keep a copy for the test.
exec 2> >(exec tee -a "$FULL/hook.stderr" >&2)
export HOOKD_CONF="$FULL/hookd.conf" HOOKD_SIM_ROOT="$FULL/root" LD_PRELOAD="$SHIM"
exec -a "\$0" "$HOOK" "\$@"      # stdin (the domain XML) passes through untouched
EOF
}
mkdir_track "$HOOKS/qemu.d"
backup "$HOOKS/qemu"
if [ -n "$SHIM" ]; then
  write_hook_wrapper > "$W/hook-wrapper"
  install -m 0755 -o root -g root "$W/hook-wrapper" "$HOOKS/qemu" || die "cannot install the hook wrapper"
else
  ln -s "$HOOK" "$HOOKS/qemu"
fi
# Logger: libvirt runs ./qemu first, then qemu.d/* in order, with the same argv and stdin.
echo "rm $LOGGER" >> "$UNDO"
cat > "$LOGGER" <<EOF
#!/bin/sh
# hookd libvirt test: record every call (removed at the end of the test)
n=\$(wc -c)
echo "\$1 \$2 \$3 \$4 stdin=\$n" >> $CALLS
exit 0
EOF
chmod 0755 "$LOGGER"

# ---- 5. host settings for the daemon's lifetime ---------------------------------------
# No cgroups: libvirt would otherwise create machine/ groups on this host's hierarchy.
backup "$QEMU_CONF"
{ cat "$UNDO_DIR/$(echo "$QEMU_CONF" | tr / _)" 2>/dev/null
  echo '# hookd libvirt test (restored at exit)'; echo 'cgroup_controllers = [ ]'; } > "$QEMU_CONF"
chmod 0600 "$QEMU_CONF"
# QEMU runs as libvirt-qemu (group kvm). Without udev /dev/kvm stays 0600 root and libvirt
# re-probes QEMU's capabilities on every API call (~7 s each), even for TCG domains.
# The domains are TCG (type qemu) everywhere: what hookd sees does not depend on the
# accelerator, and /dev/kvm may exist without running stock guests (kvm_pvm).
DOMTYPE=qemu
if [ -c /dev/kvm ] && getent group kvm >/dev/null; then
  echo "mode /dev/kvm $(stat -c '%u:%g %a' /dev/kvm)" >> "$UNDO"
  chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
fi

# ---- 6. daemons ------------------------------------------------------------------------
DENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
      "LIBVIRT_LOG_OUTPUTS=3:file:$W/libvirtd.log")
[ -n "$REAPER" ] && [ -x "$REAPER" ] || REAPER=
if [ -z "$(live_pids virtlogd)" ]; then    # a virtlogd already running is used as is
  "${DENV[@]}" virtlogd -d || die "virtlogd -d failed"
  echo "daemon $(cat /run/virtlogd.pid) virtlogd" >> "$UNDO"
fi
start_libvirtd() {
  local t0; t0=$(ms)
  setsid $REAPER "${DENV[@]}" libvirtd -d </dev/null >>"$W/libvirtd.out" 2>&1 &
  for _ in $(seq 1200); do timeout 5 virsh -q version >/dev/null 2>&1 && break; sleep 0.05; done
  [ -s /run/libvirtd.pid ] && echo "daemon $(cat /run/libvirtd.pid) libvirtd" >> "$UNDO"
  timeout 10 virsh -q version >/dev/null 2>&1 || { cat "$W/libvirtd.out" >&2; return 1; }
  say "libvirtd $(cat /run/libvirtd.pid) ready after $(( $(ms) - t0 )) ms"
}
stop_libvirtd() { stop_daemon "$(cat /run/libvirtd.pid 2>/dev/null)" libvirtd; }
T_DAEMON=$(ms)
start_libvirtd || die "libvirtd did not come up"
T_DAEMON=$(( $(ms) - T_DAEMON ))

# ---- 7. helpers for the cases ----------------------------------------------------------
# A case runs in a subshell with set -e: the first failing check ends it. fail() says why.
fail() { FAILED_WHY=1; echo "    FAIL: $*" >&2; return 1; }
# ...and a check that fails without fail() still says where.
on_err() { [ -n "${FAILED_WHY:-}" ] || { FAILED_WHY=1; echo "    FAIL at line $1: $2" >&2; }; }
define_vm() {               # define_vm NAME [VCPUS] -> prints the domain's uuid
  local name=$1 xml=$W/$1.xml
  cat > "$xml" <<XML
<domain type='$DOMTYPE'>
  <name>$name</name>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static'>${2:-1}</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <controller type='usb' model='none'/>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
  if grep -qi '<hostdev' "$xml"; then fail "refusing a domain XML with <hostdev>"; return 1; fi
  timeout $VSH_T virsh define "$xml" >/dev/null || { fail "virsh define $name"; return 1; }
  if timeout $VSH_T virsh dumpxml "$name" | grep -qi '<hostdev'; then
    fail "libvirt's XML for $name has a <hostdev>"; return 1; fi
  timeout $VSH_T virsh domuuid "$name" | sed -n 1p   # not head: SIGPIPE + pipefail
}
write_ini() {               # write_ini NAME <<< contents  (root-owned, 0644)
  install -m 0644 -o root -g root /dev/stdin "$HOOKSD/$1.ini"
}
state_of() { timeout $VSH_T virsh domstate "$1" 2>/dev/null | sed -n 1p; }
expect_state() { local s; s=$(state_of "$1"); [ "$s" = "$2" ] || fail "$1 is '$s', expected '$2'"; }
seq_of() { awk -v n="$1" '$1 == n { print $2" "$3 }' "$CALLS" | paste -sd'|'; }
# expect_calls NAME "op sub|op sub|..." : the order libvirt called the hook for NAME.
expect_calls() {
  local got; got=$(seq_of "$1")
  [ "$got" = "$2" ] || fail "hook calls for $1: '$got', expected '$2'"
}
# libvirt runs release after virsh returns in some paths: wait for the logger to see it.
wait_calls() {
  local n=$1 want=$2
  for _ in $(seq 100); do [ "$(seq_of "$n")" = "$want" ] && return 0; sleep 0.05; done
  expect_calls "$n" "$want"
}
# A hook failing at stopped/release/reconnect is ignored by libvirt: only its log shows it.
expect_no_late_hook_failure() {
  local bad
  bad=$(grep -a "hooks/qemu $1 \(start\|started\|stopped\|release\|reconnect\) .*unexpected exit status" \
          "$W/libvirtd.log" | sed 's/.*hooks\/qemu //' | sed -n 1p || true)
  [ -z "$bad" ] || fail "hook failed (libvirtd log): $bad"
}
journal_of() { echo "$STATE/$1.journal"; }
undefine_vm() { timeout $VSH_T virsh undefine "$1" >/dev/null || fail "virsh undefine $1"; }
START_OK="prepare begin|start begin|started begin"
STOP_SEQ="stopped end|release end"

# ---- 8. the cases ----------------------------------------------------------------------
case_libvirt_vm_without_ini_starts_and_stops() {
  local vm=${PREFIX}noini uuid t0
  uuid=$(define_vm $vm)
  t0=$(ms); timeout $VSH_T virsh start $vm >/dev/null || fail "virsh start $vm"
  say "  start (no INI) $(( $(ms) - t0 )) ms"
  expect_state $vm running
  [ ! -e "$(journal_of "$uuid")" ] || fail "a VM without INI got a journal"
  # a shutdown request reaches no hook (and a firmware-only guest ignores it)
  timeout $VSH_T virsh shutdown $vm >/dev/null || fail "virsh shutdown $vm"
  expect_calls $vm "$START_OK"
  t0=$(ms); timeout $VSH_T virsh destroy $vm >/dev/null || fail "virsh destroy $vm"
  say "  destroy $(( $(ms) - t0 )) ms"
  expect_state $vm "shut off"
  wait_calls $vm "$START_OK|$STOP_SEQ"
  expect_no_late_hook_failure $vm
  undefine_vm $vm
}

case_libvirt_invalid_ini_refuses_start_with_file_line() {
  local vm=${PREFIX}badini uuid out ini=$HOOKSD/${PREFIX}badini.ini
  uuid=$(define_vm $vm)
  printf '[vfio]\ndevices = 0000:05:00.0\nno_such_key = 1\n' | write_ini $vm   # line 3
  if out=$(timeout $VSH_T virsh start $vm 2>&1); then fail "virsh start succeeded with an invalid INI"; fi
  echo "    virsh: $(echo "$out" | grep -v '^$' | tail -1)"
  echo "$out" | grep -qF "$ini:3:" || fail "error does not name '$ini:3:'"
  echo "$out" | grep -q "unexpected exit status 1:" \
    || echo "    NOTE: the hook's exit status for a config error is not 1 (contract says 1)"
  expect_state $vm "shut off"
  wait_calls $vm "prepare begin|$STOP_SEQ"
  expect_no_late_hook_failure $vm
  [ ! -e "$(journal_of "$uuid")" ] || fail "journal left behind: $(journal_of "$uuid")"
  undefine_vm $vm
}

case_libvirt_failed_prepare_refused_and_journal_gone() {
  local vm=${PREFIX}nonviable uuid out
  uuid=$(define_vm $vm)
  printf '[vfio]\ndevices = 0000:03:00.0\n' | write_ini $vm
  if out=$(timeout $VSH_T virsh start $vm 2>&1); then fail "virsh start succeeded for a non-viable group"; fi
  echo "    virsh: $(echo "$out" | grep -v '^$' | tail -1)"
  echo "$out" | grep -qF "0000:04:00.0" || fail "error does not name the group member 0000:04:00.0"
  expect_state $vm "shut off"
  wait_calls $vm "prepare begin|$STOP_SEQ"           # libvirt's release call came
  expect_no_late_hook_failure $vm
  [ ! -e "$(journal_of "$uuid")" ] || fail "journal left after release: $(journal_of "$uuid")"
  undefine_vm $vm
}

case_libvirt_prepared_vm_has_journal_until_destroy() {
  local vm=${PREFIX}gpu uuid t0
  uuid=$(define_vm $vm)
  printf '[vfio]\ndevices = 0000:05:00.0\ncompanions = yes\n' | write_ini $vm
  t0=$(ms); timeout $VSH_T virsh start $vm >/dev/null || fail "virsh start $vm"
  say "  start (vfio INI) $(( $(ms) - t0 )) ms"
  expect_state $vm running
  [ -s "$(journal_of "$uuid")" ] || fail "no journal at $(journal_of "$uuid") while running"
  echo "    hookd status (informational):"
  timeout 20 "$CLI" --conf "$CONF" status 2>&1 | sed 's/^/      /' || true
  t0=$(ms); timeout $VSH_T virsh destroy $vm >/dev/null || fail "virsh destroy $vm"
  say "  destroy $(( $(ms) - t0 )) ms"
  wait_calls $vm "$START_OK|$STOP_SEQ"
  expect_no_late_hook_failure $vm
  [ ! -e "$(journal_of "$uuid")" ] || fail "journal still there after destroy"
  undefine_vm $vm
}

case_libvirt_reconnect_after_daemon_restart_keeps_journal() {
  local vm=${PREFIX}reconnect uuid j t0
  uuid=$(define_vm $vm); j=$(journal_of "$uuid")
  printf '[vfio]\ndevices = 0000:05:00.0\ncompanions = yes\n' | write_ini $vm
  timeout $VSH_T virsh start $vm >/dev/null || fail "virsh start $vm"
  expect_state $vm running
  [ -s "$j" ] || fail "no journal while running"
  t0=$(ms)
  stop_libvirtd || fail "libvirtd did not stop"
  start_libvirtd || fail "libvirtd did not restart"
  say "  daemon restart $(( $(ms) - t0 )) ms"
  expect_state $vm running
  wait_calls $vm "$START_OK|reconnect begin"
  [ -s "$j" ] || fail "journal gone after reconnect"
  timeout $VSH_T virsh destroy $vm >/dev/null || fail "virsh destroy $vm"
  wait_calls $vm "$START_OK|reconnect begin|$STOP_SEQ"
  expect_no_late_hook_failure $vm
  [ ! -e "$j" ] || fail "journal still there after destroy"
  undefine_vm $vm
}

# ---- the everything-case: every action, a real libvirtd, the simulated root ------------
# Fixture (one consistent host): the gpu preset with sim_* modules holding the GPU 01:00.0/.1,
# EFI consoles, 8 CPUs (4 cores x 2 threads, siblings N/N+4) with cgroups/IRQs/governors, the same
# topology for [pin] (1 node x 4 cores x 2 threads), one NUMA node of 2M/1G pools, and a FAKE QEMU
# (pid 90001, libvirt's pid file under the sim root's run/) for [pin]: the real QEMU's threads are
# never pinned (the simulator answers ESRCH for every tid outside the fixture).
FULL_QEMU_PID=90001
full_sim() {                # the environment the wrapper gives the hook, for the CLI
  env HOOKD_SIM_ROOT="$FULL/root" LD_PRELOAD="$SHIM" PATH="$FULL/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$@"; }
full_cli() { full_sim "$CLI" --conf "$FULL/hookd.conf" "$@"; }
# json_steps FILE PREFIX: one line per step "action|op|target|value|flag" from a hookd --json
# document (flag: revert_on_release of a plan, state of a journal record), through sim-jsonflat.
json_steps() {
  "$JSONFLAT" < "$1" | awk -v p="$2[" '
    index($0, p) == 1 {
      r = substr($0, length(p) + 1); i = index(r, "]"); n = substr(r, 1, i - 1) + 0
      kv = substr(r, i + 2); e = index(kv, "="); k = substr(kv, 1, e - 1); v = substr(kv, e + 1)
      if (k !~ /^(action|op|target|value|revert_on_release|state)$/) next
      if (v ~ /^".*"$/) v = substr(v, 2, length(v) - 2)
      f[n, k] = v; if (n + 1 > max) max = n + 1
    }
    END { for (i = 0; i < max; i++)
            print f[i, "action"] "|" f[i, "op"] "|" f[i, "target"] "|" f[i, "value"] "|" \
                  f[i, "revert_on_release"] f[i, "state"] }'
}
# What this machine's own kernel shows for the resources the actions touch (read only): it must
# not change while the everything-VM runs or after it.
# (Whichever of these files this machine has: cgroup v1 or v2, /proc/modules or not.)
host_snapshot() {
  local f v
  for f in /proc/sys/vm/nr_hugepages /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages \
           /sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages \
           /sys/fs/cgroup/cgroup.subtree_control /sys/fs/cgroup/*/cpuset.cpus \
           /sys/fs/cgroup/cpuset/cpuset.cpus /proc/irq/default_smp_affinity \
           /sys/devices/virtual/workqueue/cpumask /proc/modules; do
    [ -r "$f" ] || continue
    case $f in /proc/modules) v=$(cut -d' ' -f1 "$f" 2>/dev/null || echo '?') ;;
               *) v=$(cat "$f" 2>/dev/null || echo '?') ;; esac
    echo "$f: $v" | paste -sd' '
  done
  return 0
}
make_full_fixture() {
  local vm=$1 r=$FULL/root
  rm -rf "$FULL"; mkdir -p "$FULL/bin" "$FULL/hooks.d" "$FULL/state" "$FULL/systemd/units"
  { "$MKROOT" "$r" --preset gpu && "$MK_MODULES" "$r" && "$MK_CONSOLE" "$r" && "$MK_CPUS" "$r" \
    && "$MK_PIN" "$r" topology 1 4 2 && "$MK_HUGEPAGES" "$r" --nodes 1 \
    && "$MK_PIN" "$r" qemu "$vm" $FULL_QEMU_PID 2; } > "$FULL/mkroot.out" 2>&1 \
    || { cat "$FULL/mkroot.out" >&2; fail "building the fixture root"; return 1; }
  # fake systemctl: unit state in $FULL/systemd; stop/start also go to the shared event log
  cat > "$FULL/bin/systemctl" <<EOF
#!/bin/bash
# FAKE systemctl for the hookd libvirt test: this machine's systemd is never asked
S=$FULL/systemd
printf '%s\n' "\$*" >> "\$S/calls"
verb=\$1; shift
[ "\$verb" = is-active ] && [ "\${1-}" = --quiet ] && shift
case \$verb in
  is-active) [ -e "\$S/units/\$1.active" ] ;;
  stop) rm -f "\$S/units/\$1.active"; echo "systemctl stop \$1" >> $FULL/events ;;
  start) touch "\$S/units/\$1.active"; echo "systemctl start \$1" >> $FULL/events ;;
  *) echo "fake systemctl: unexpected: \$verb \$*" >&2; exit 2 ;;
esac
EOF
  cat > "$FULL/bin/exec-log" <<EOF
#!/bin/sh
# [exec] command of the hookd libvirt test: records its call in the shared event log
echo "exec \$HOOKD_VM \$HOOKD_PHASE \$*" >> $FULL/events
EOF
  chmod 0755 "$FULL/bin/systemctl" "$FULL/bin/exec-log"
  touch "$FULL/systemd/units/display-manager.service.active"
  if [ "$(PATH=$FULL/bin:$PATH command -v systemctl)" != "$FULL/bin/systemctl" ]; then
    fail "the fake systemctl would not be found first"; return 1; fi
  install -m 0644 -o root -g root /dev/stdin "$FULL/hookd.conf" <<EOF
# hookd libvirt test: the everything-case (the wrapper hook checks the root line)
root = $FULL/root
hooks_dir = $FULL/hooks.d
state_dir = $FULL/state
timeout = 2
log = $FULL/hook.log
EOF
  install -m 0644 -o root -g root /dev/stdin "$FULL/hooks.d/$vm.ini" <<EOF
[exec first]
prepare = $FULL/bin/exec-log first-prepare
release = $FULL/bin/exec-log first-release

[modules]
unload = sim_snd sim_nvidia_drm sim_nvidia-modeset sim_nvidia

[console]
vtconsoles = yes
framebuffer = efi-framebuffer.0

[service]
stop = display-manager.service

[vfio]
devices = 0000:01:00.0
companions = yes

[hugepages]
size = 2M
pages = 32
node = 0

[cpus]
host = 0,4
irqs = yes
workqueues = yes
governor = performance

[pin]
map = auto
host = 0,4

[exec last]
prepare = $FULL/bin/exec-log last-prepare
started = $FULL/bin/exec-log last-started
release = $FULL/bin/exec-log last-release
EOF
}
sim_driver() { local l; l=$(readlink "$FULL/root/sys/bus/pci/devices/$1/driver") && basename "$l"; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }
# expect_same_lines WHAT GOT_FILE WANT_FILE
expect_same_lines() {
  diff -u "$3" "$2" > "$2.diff" && return 0
  echo "    $1 differ (--- expected, +++ got):" >&2; sed 's/^/      /' "$2.diff" | head -40 >&2
  fail "$1 differ"
}

case_libvirt_every_action_in_plan_order_root_restored() {
  local vm=$FULL_VM uuid j t0 xml f tids t want got
  if [ -z "$SHIM" ]; then fail "run without --shim/--jsonflat/--mkroot-*: the everything-case needs them"; return 1; fi
  for t in $FULL_TOOLS; do [ -n "${!t}" ] || { fail "--${t,,} missing"; return 1; }; done
  uuid=$(define_vm $vm 2); j=$FULL/state/$uuid.journal; xml=$FULL/$vm.xml
  make_full_fixture $vm
  timeout $VSH_T virsh dumpxml $vm > "$xml" || fail "virsh dumpxml $vm"
  # libvirt itself must need no host resource for this domain: everything is in the INI
  if grep -Eqi '<(hostdev|hugepages|memoryBacking|numatune|cputune)' "$xml"; then
    fail "the domain XML asks libvirt for host resources"; return 1; fi

  # (1) the plan: every step of both phases, every action present, sections in INI order
  full_cli plan $vm --xml "$xml" --json > "$FULL/plan-prepare.json" || fail "hookd plan $vm"
  full_cli plan $vm --xml "$xml" --phase started --json > "$FULL/plan-started.json" \
    || fail "hookd plan $vm --phase started"
  json_steps "$FULL/plan-prepare.json" .steps > "$FULL/plan-prepare.steps"
  json_steps "$FULL/plan-started.json" .steps > "$FULL/plan-started.steps"
  got=$( { cut -d'|' -f1 "$FULL/plan-prepare.steps" | uniq; echo -; cut -d'|' -f1 "$FULL/plan-started.steps" | uniq; } | paste -sd' ')
  expect_eq "$got" "exec modules console service vfio hugepages cpus exec - pin exec" "actions in the plan, in order"
  echo "    plan: $(wc -l < "$FULL/plan-prepare.steps") steps at prepare, $(wc -l < "$FULL/plan-started.steps") at started"
  # what the journal must hold while the VM runs: the revertible steps of both phases, in order
  cat "$FULL/plan-prepare.steps" "$FULL/plan-started.steps" | awk -F'|' '$5 == "true" { print $1"|"$2"|"$3"|"$4 }' > "$FULL/plan.revertible"
  { sed 's/|.*//; s/^/prepare /' "$FULL/plan-prepare.steps"; sed 's/|.*//; s/^/started /' "$FULL/plan-started.steps"; } > "$FULL/plan.applied"

  "$MKROOT" --dump "$FULL/root" > "$FULL/dump.before" || fail "sim-mkroot --dump"
  host_snapshot > "$FULL/host.before"
  : > "$FULL/events"; : > "$FULL/hook.stderr"; : > "$FULL/hook.log"

  t0=$(ms); timeout $VSH_T virsh start $vm >/dev/null || fail "virsh start $vm"
  say "  start (every action) $(( $(ms) - t0 )) ms"
  expect_state $vm running
  expect_calls $vm "$START_OK"

  # (2) the order the hook performed them: the journal, in order, equals the plan's revertible steps
  [ -s "$j" ] || fail "no journal at $j while running"
  full_cli status --json > "$FULL/status.json" || fail "hookd status --json"
  "$JSONFLAT" < "$FULL/status.json" | grep -qxF ".vms[0].vm=\"$vm\"" || fail "status does not list $vm first"
  ! "$JSONFLAT" < "$FULL/status.json" | grep -q '^\.vms\[1\]' || fail "status lists more than one VM"
  json_steps "$FULL/status.json" '.vms[0].steps' > "$FULL/journal.steps"
  awk -F'|' '$5 != "done"' "$FULL/journal.steps" | grep -q . && fail "journal records not done: $(awk -F'|' '$5 != "done"' "$FULL/journal.steps")"
  cut -d'|' -f1-4 "$FULL/journal.steps" > "$FULL/journal.revertible"
  expect_same_lines "journal records vs the plan's revertible steps" "$FULL/journal.revertible" "$FULL/plan.revertible"
  echo "    journal: $(wc -l < "$FULL/journal.revertible") records, in plan order"
  # ...and every step, revertible or not, was applied in plan order (hookd's "applied [x]" and "applied [x LABEL]" log lines;
  # the hook's stderr stays for its one failure line, so the test points `log` at a file)
  sed -n "s/^hookd: $vm \(prepare\|started\): applied \[\([a-z]*\)[] ].*/\1 \2/p" "$FULL/hook.log" > "$FULL/applied"
  expect_same_lines "applied steps vs the plan" "$FULL/applied" "$FULL/plan.applied"
  # the simulated host really is prepared
  expect_eq "$(sim_driver 0000:01:00.0) $(sim_driver 0000:01:00.1)" "vfio-pci vfio-pci" "GPU and HDA drivers"
  [ ! -e "$FULL/root/sys/module/sim_nvidia/initstate" ] || fail "sim_nvidia still loaded"
  # fbcon's vtcon1 goes with the last framebuffer, as on a real kernel (issue 13, vm_console_ovmf)
  [ ! -e "$FULL/root/sys/class/vtconsole/vtcon1" ] || fail "vtcon1 still there with efi-framebuffer.0 unbound"
  expect_eq "$(readlink "$FULL/root/sys/devices/platform/efi-framebuffer.0/driver" 2>/dev/null)" "" "efi-framebuffer.0 unbound"
  expect_eq "$(cat "$FULL/root/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages")" 32 "node0 2M pool"
  [ ! -e "$FULL/systemd/units/display-manager.service.active" ] || fail "display-manager.service still running"
  for t in $(awk -F'|' '$1 == "pin" && $2 ~ /^vcpu/ { print $3"="$4 }' "$FULL/plan-started.steps"); do
    tids=${t%%=*}; want=${t#*=}
    got=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$FULL/root/proc/${tids%/*}/task/${tids#*/}/status")
    expect_eq "$got" "$want" "fake QEMU thread $tids affinity"
  done
  expect_eq "$(paste -sd'|' "$FULL/events")" \
    "exec $vm prepare first-prepare|systemctl stop display-manager.service|exec $vm prepare last-prepare|exec $vm started last-started" \
    "[exec] and [service] calls up to started"
  # this machine: untouched, and the real QEMU's threads unpinned (all with one affinity)
  host_snapshot > "$FULL/host.running"
  expect_same_lines "this machine's hugepages/cgroups/IRQs/modules while running" "$FULL/host.running" "$FULL/host.before"
  f=$(cat /run/libvirt/qemu/$vm.pid 2>/dev/null) || fail "no pid file of the real QEMU"
  got=$(for t in /proc/$f/task/*/status; do   # QEMU's worker threads come and go: no cat
           sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t" 2>/dev/null || true; done | sort -u | paste -sd' ')
  case $got in ''|*' '*) fail "the real QEMU's threads: affinities '$got' (expected one, unpinned)" ;; esac

  t0=$(ms); timeout $VSH_T virsh destroy $vm >/dev/null || fail "virsh destroy $vm"
  say "  destroy (every action) $(( $(ms) - t0 )) ms"
  wait_calls $vm "$START_OK|$STOP_SEQ"
  expect_no_late_hook_failure $vm
  grep -q "hookd: $vm release: " "$FULL/hook.log" || fail "no release lines from the hook"

  # (3) after destroy: nothing held, undone newest first, the root byte for byte as before
  [ ! -e "$j" ] || fail "journal still there after destroy: $j"
  [ -z "$(ls -A "$FULL/state/shared" 2>/dev/null)" ] || fail "shared baselines left: $(ls -A "$FULL/state/shared")"
  sed -n "s/^hookd: $vm release: reverted \[\([a-z]*\)\] \([^ ]*\) \([^ ]*\) .*/\1|\2|\3/p" "$FULL/hook.log" > "$FULL/reverted"
  cut -d'|' -f1-3 "$FULL/journal.revertible" | tac > "$FULL/reverted.want"
  expect_same_lines "steps reverted at release vs the journal newest first" "$FULL/reverted" "$FULL/reverted.want"
  expect_eq "$(paste -sd'|' "$FULL/events" | sed 's/.*last-started|//')" \
    "exec $vm release last-release|systemctl start display-manager.service|exec $vm release first-release" \
    "[exec] and [service] calls at release"
  [ -e "$FULL/systemd/units/display-manager.service.active" ] || fail "display-manager.service not running again"
  "$MKROOT" --dump "$FULL/root" > "$FULL/dump.after" || fail "sim-mkroot --dump"
  expect_same_lines "the simulated root after destroy (sim-mkroot --dump)" "$FULL/dump.after" "$FULL/dump.before"
  echo "    root: $(wc -l < "$FULL/dump.after") entries identical before start and after destroy"
  host_snapshot > "$FULL/host.after"
  expect_same_lines "this machine's hugepages/cgroups/IRQs/modules after destroy" "$FULL/host.after" "$FULL/host.before"
  undefine_vm $vm
}

CASES=(
  libvirt_vm_without_ini_starts_and_stops
  libvirt_invalid_ini_refuses_start_with_file_line
  libvirt_failed_prepare_refused_and_journal_gone
  libvirt_prepared_vm_has_journal_until_destroy
  libvirt_reconnect_after_daemon_restart_keeps_journal
  libvirt_every_action_in_plan_order_root_restored
)
drop_our_domains
PASSED=0 FAILED=0 T_CASES=$(ms)
for c in "${CASES[@]}"; do
  t0=$(ms)
  ( set -eE; trap 'on_err $LINENO "$BASH_COMMAND"' ERR; "case_$c" ); rc=$?
  drop_our_domains
  if [ $rc = 0 ]; then PASSED=$((PASSED + 1)); echo "PASS $c ($(( $(ms) - t0 )) ms)"
  else FAILED=$((FAILED + 1)); echo "FAIL $c ($(( $(ms) - t0 )) ms)"; fi
done
T_CASES=$(( $(ms) - T_CASES ))

echo "---- hook calls seen by libvirt's qemu.d logger (vm op sub extra stdin) ----"
cat "$CALLS"
if grep -q 'hooks/qemu.*unexpected exit' "$W/libvirtd.log" 2>/dev/null; then
  echo "---- hook failures in libvirtd's log (those at prepare are expected) ----"
  grep 'virCommandWait.*hooks/qemu.*unexpected exit' "$W/libvirtd.log" | sed 's/.*hooks\/qemu /  /' | cut -c1-200
fi
T_STOP=$(ms)
drop_our_domains
stop_libvirtd
[ -s /run/virtlogd.pid ] && grep -q "^daemon $(cat /run/virtlogd.pid) " "$UNDO" \
  && stop_daemon "$(cat /run/virtlogd.pid)" virtlogd
T_STOP=$(( $(ms) - T_STOP ))
say "times: libvirtd start ${T_DAEMON} ms, cases ${T_CASES} ms, daemons stop ${T_STOP} ms," \
    "whole cycle $(( ($(date +%s%N) - T_ALL) / 1000000 )) ms"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
