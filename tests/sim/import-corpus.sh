#!/bin/bash
# import-corpus.sh OUT: writes qemu.d script trees shaped like the ones users keep (single-GPU guides,
# the PassthroughPOST numbered layout, dotfiles), one per directory OUT/<tree>/qemu.d. The scripts are
# the project's own; they are only ever read by `hookd import` and run as stubs (test_import_corpus.sh
# replaces each body by a line that logs its argv), never as they are: they would act on this machine.
set -euo pipefail
OUT=$1
rm -rf "$OUT"
mkdir -p "$OUT"

# put TREE REL MODE: the script on stdin into OUT/TREE/qemu.d/REL with MODE.
put() {
	mkdir -p "$(dirname "$OUT/$1/qemu.d/$2")"
	cat >"$OUT/$1/qemu.d/$2"
	chmod "$3" "$OUT/$1/qemu.d/$2"
}

# A single-GPU guide's pair of scripts, NVIDIA, names that say no order (one per directory).
put single-gpu-nvidia win10/prepare/begin/start.sh 0755 <<'EOF'
#!/bin/bash
# win10: hand the host's only GPU to the guest
set -x
systemctl stop display-manager
echo 0 > /sys/class/vtconsole/vtcon0/bind
echo 0 > /sys/class/vtconsole/vtcon1/bind
echo efi-framebuffer.0 > /sys/bus/platform/drivers/efi-framebuffer/unbind
sleep 3
modprobe -r nvidia_drm nvidia_modeset nvidia_uvm nvidia
virsh nodedev-detach pci_0000_01_00_0
virsh nodedev-detach pci_0000_01_00_1
modprobe vfio-pci
EOF
put single-gpu-nvidia win10/release/end/revert.sh 0755 <<'EOF'
#!/bin/bash
set -x
virsh nodedev-reattach pci_0000_01_00_1
virsh nodedev-reattach pci_0000_01_00_0
modprobe -r vfio-pci
echo 1 > /sys/class/vtconsole/vtcon0/bind
echo 1 > /sys/class/vtconsole/vtcon1/bind
nvidia-xconfig --query-gpu-info > /dev/null 2>&1
echo efi-framebuffer.0 > /sys/bus/platform/drivers/efi-framebuffer/bind
modprobe nvidia_drm
modprobe nvidia_modeset
modprobe nvidia_uvm
modprobe nvidia
systemctl start display-manager
EOF

# The AMD variant of a popular template: no #! line (bash's fallback runs it), devices from variables.
put single-gpu-amd-nohashbang win11/prepare/begin/start.sh 0755 <<'EOF'
# debugging: trace every command
set -x
source "/etc/libvirt/hooks/kvm.conf"
systemctl stop sddm.service
echo 0 > /sys/class/vtconsole/vtcon0/bind
echo efi-framebuffer.0 > /sys/bus/platform/drivers/efi-framebuffer/unbind
sleep 5
modprobe -r amdgpu
virsh nodedev-detach $VIRSH_GPU_VIDEO
virsh nodedev-detach $VIRSH_GPU_AUDIO
modprobe vfio_pci
EOF
put single-gpu-amd-nohashbang win11/release/end/stop.sh 0755 <<'EOF'
# debugging: trace every command
set -x
source "/etc/libvirt/hooks/kvm.conf"
modprobe -r vfio_pci
virsh nodedev-reattach $VIRSH_GPU_VIDEO
virsh nodedev-reattach $VIRSH_GPU_AUDIO
echo 1 > /sys/class/vtconsole/vtcon0/bind
echo efi-framebuffer.0 > /sys/bus/platform/drivers/efi-framebuffer/bind
modprobe amdgpu
systemctl start sddm.service
EOF

# The PassthroughPOST layout with numbered scripts: huge pages, CPU isolation, governor, IRQs.
put numbered-isolation win11/prepare/begin/10-hugepages.sh 0755 <<'EOF'
#!/bin/bash
# 16 GiB of 2 MiB pages for the guest
echo 3 > /proc/sys/vm/drop_caches
echo 1 > /proc/sys/vm/compact_memory
echo 8192 > /proc/sys/vm/nr_hugepages
EOF
put numbered-isolation win11/prepare/begin/20-isolate.sh 0755 <<'EOF'
#!/bin/bash
# the host keeps cores 0-1 and their siblings
systemctl set-property --runtime -- user.slice AllowedCPUs=0,1,8,9
systemctl set-property --runtime -- system.slice AllowedCPUs=0,1,8,9
systemctl set-property --runtime -- init.scope AllowedCPUs=0,1,8,9
echo 303 > /proc/irq/default_smp_affinity
EOF
put numbered-isolation win11/prepare/begin/30-governor.sh 0755 <<'EOF'
#!/bin/bash
cpupower frequency-set -g performance
EOF
put numbered-isolation win11/release/end/10-governor.sh 0755 <<'EOF'
#!/bin/bash
cpupower frequency-set -g schedutil
EOF
put numbered-isolation win11/release/end/20-release-cpus.sh 0755 <<'EOF'
#!/bin/bash
systemctl set-property --runtime -- user.slice AllowedCPUs=0-15
systemctl set-property --runtime -- system.slice AllowedCPUs=0-15
systemctl set-property --runtime -- init.scope AllowedCPUs=0-15
echo ffff > /proc/irq/default_smp_affinity
EOF
put numbered-isolation win11/release/end/30-hugepages.sh 0755 <<'EOF'
#!/bin/bash
echo 0 > /proc/sys/vm/nr_hugepages
EOF

# OP/SUBOP as files: prepare/begin and release/end are the scripts themselves.
put subop-files linux/prepare/begin 0755 <<'EOF'
#!/bin/sh
echo performance | tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor
echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
EOF
put subop-files linux/release/end 0755 <<'EOF'
#!/bin/sh
echo powersave | tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor
echo 0 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
EOF

# A tree with a VM directory that is empty, one with only empty points, and a real one.
mkdir -p "$OUT/empty-vm-dirs/qemu.d/old-vm" "$OUT/empty-vm-dirs/qemu.d/win7/prepare/begin"
put empty-vm-dirs gaming/prepare/begin/10-start.sh 0755 <<'EOF'
#!/bin/bash
systemctl stop display-manager.service
modprobe -r nvidia_drm nvidia_modeset nvidia
EOF
put empty-vm-dirs gaming/release/end/10-stop.sh 0755 <<'EOF'
#!/bin/bash
modprobe nvidia
modprobe nvidia_modeset
modprobe nvidia_drm
systemctl start display-manager.service
EOF

# The GPU scripts lost their x bit (a copy through a file system without modes): both skip them.
put not-executable win10/prepare/begin/10-gpu.sh 0644 <<'EOF'
#!/bin/bash
virsh nodedev-detach pci_0000_0a_00_0
EOF
put not-executable win10/prepare/begin/20-log.sh 0755 <<'EOF'
#!/bin/bash
echo "$(date) win10 starting" >> /var/log/libvirt/win10-hooks.log
EOF
put not-executable win10/release/end/10-gpu.sh 0644 <<'EOF'
#!/bin/bash
virsh nodedev-reattach pci_0000_0a_00_0
EOF

# stopped -> release: the dispatcher runs the release scripts at "stopped end" too.
put stopped-link win10/prepare/begin/10-dm.sh 0755 <<'EOF'
#!/bin/bash
systemctl stop gdm
EOF
put stopped-link win10/release/end/10-dm.sh 0755 <<'EOF'
#!/bin/bash
systemctl start gdm
EOF
ln -s release "$OUT/stopped-link/qemu.d/win10/stopped"

# A helper that the start script sources (and that the dispatcher also runs on its own).
put sourced-helper win10/prepare/begin/00-vars.sh 0755 <<'EOF'
GPU_VIDEO=pci_0000_0b_00_0
GPU_AUDIO=pci_0000_0b_00_1
EOF
put sourced-helper win10/prepare/begin/10-start.sh 0755 <<'EOF'
#!/bin/bash
source "$(dirname "$0")/00-vars.sh"
virsh nodedev-detach $GPU_VIDEO
virsh nodedev-detach $GPU_AUDIO
EOF
put sourced-helper win10/release/end/10-stop.sh 0755 <<'EOF'
#!/bin/bash
source "$(dirname "$0")/../../prepare/begin/00-vars.sh"
virsh nodedev-reattach $GPU_AUDIO
virsh nodedev-reattach $GPU_VIDEO
EOF

# A check that refuses the start: both fail the prepare and run the release scripts.
put failing-check win10/prepare/begin/10-check.sh 0755 <<'EOF'
#!/bin/bash
# the guest needs the IOMMU; refuse to start without it
echo "no IOMMU groups: not starting" >&2
exit 1
EOF
put failing-check win10/prepare/begin/20-start.sh 0755 <<'EOF'
#!/bin/bash
systemctl stop display-manager
EOF
put failing-check win10/release/end/10-stop.sh 0755 <<'EOF'
#!/bin/bash
systemctl start display-manager
EOF

# Names without numbers: the dispatcher's order was the directory's.
put unordered-names win10/prepare/begin/stop_dm.sh 0755 <<'EOF'
#!/bin/bash
systemctl stop lightdm
EOF
put unordered-names win10/prepare/begin/unbind_console.sh 0755 <<'EOF'
#!/bin/bash
echo 0 > /sys/class/vtconsole/vtcon0/bind
EOF
put unordered-names win10/prepare/begin/bind_vfio.sh 0755 <<'EOF'
#!/bin/bash
virsh nodedev-detach pci_0000_2d_00_0
EOF
put unordered-names win10/release/end/revert_all.sh 0755 <<'EOF'
#!/bin/bash
virsh nodedev-reattach pci_0000_2d_00_0
echo 1 > /sys/class/vtconsole/vtcon0/bind
systemctl start lightdm
EOF

# Names that an INI line cannot hold as they are.
put hostile-names "win10/prepare/begin/10 stop ;dm.sh" 0755 <<'EOF'
#!/bin/bash
systemctl stop display-manager
EOF
put hostile-names "win10/prepare/begin/20-gpu:video.sh" 0755 <<'EOF'
#!/bin/bash
virsh nodedev-detach pci_0000_01_00_0
EOF
put hostile-names "win10/prepare/begin/20-gpu-video.sh" 0755 <<'EOF'
#!/bin/bash
echo gpu video
EOF
put hostile-names "win10/release/end/it's \"quoted\".sh" 0755 <<'EOF'
#!/bin/bash
systemctl start display-manager
EOF

# An empty placeholder (touch + chmod +x) beside a real script.
mkdir -p "$OUT/empty-placeholder/qemu.d/win10/prepare/begin"
touch "$OUT/empty-placeholder/qemu.d/win10/prepare/begin/05-todo.sh"
chmod 0755 "$OUT/empty-placeholder/qemu.d/win10/prepare/begin/05-todo.sh"
put empty-placeholder win10/prepare/begin/10-start.sh 0755 <<'EOF'
#!/bin/bash
modprobe -r snd_hda_intel
EOF
put empty-placeholder win10/release/end/10-stop.sh 0755 <<'EOF'
#!/bin/bash
modprobe snd_hda_intel
EOF

# Scripts at points hookd has no [exec] for: they stay with the chained dispatcher.
put other-points win10/start/begin/10-notify.sh 0755 <<'EOF'
#!/bin/bash
logger "win10 starting"
EOF
put other-points win10/stopped/end/10-notify.sh 0755 <<'EOF'
#!/bin/bash
logger "win10 stopped"
EOF
put other-points win10/prepare/begin/10-dm.sh 0755 <<'EOF'
#!/bin/bash
systemctl stop display-manager
EOF
put other-points win10/release/end/10-dm.sh 0755 <<'EOF'
#!/bin/bash
systemctl start display-manager
EOF

# Several VMs in one tree, one of them with long sleeps and a pinning script at started.
for vm in win10 win11 arch; do
	put multi-vm "$vm/prepare/begin/10-start.sh" 0755 <<EOF
#!/bin/bash
# $vm
systemctl stop display-manager
sleep 10
modprobe -r nvidia
sleep 20
EOF
	put multi-vm "$vm/release/end/10-stop.sh" 0755 <<'EOF'
#!/bin/bash
modprobe nvidia
systemctl start display-manager
EOF
done
put multi-vm win11/started/begin/10-pin.sh 0755 <<'EOF'
#!/bin/bash
pid=$(pgrep -f "guest=win11")
taskset -a -p -c 2-7 "$pid"
EOF
