#!/bin/bash
# sim-mkroot's gpu preset is what libpci (and lspci, when installed) sees as PCI sysfs.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${SIM_PCILIST:?}"
mkroot

want="0000:00:00.0 8086:29c0 0600 00 0
0000:00:01.0 8086:1901 0604 01 1
0000:01:00.0 10de:2204 0300 80 2
0000:01:00.1 10de:1aef 0403 80 2
0000:02:00.0 8086:10d3 0200 00 3
0000:03:00.0 1912:0014 0c03 00 4
0000:04:00.0 8086:2922 0106 00 4
0000:05:00.0 1002:73bf 0300 80 5
0000:05:00.1 1002:ab28 0403 80 5"
expect_eq "$("$SIM_PCILIST" "$R/sys/bus/pci" | sort)" "$want" "libpci lists the preset (ids, class, header type, group)"

for pair in 0000:00:01.0=pcieport 0000:01:00.0=nvidia 0000:01:00.1=snd_hda_intel 0000:02:00.0=e1000e \
	0000:03:00.0=xhci_hcd 0000:04:00.0=ahci 0000:05:00.0=vfio-pci 0000:05:00.1=vfio-pci 0000:00:00.0=; do
	expect_eq "$(driver "${pair%%=*}")" "${pair#*=}" "${pair%%=*} bound to '${pair#*=}'"
done
expect_eq "$(override 0000:01:00.0)" "(null)" "driver_override reads (null) when unset"
expect_eq "$(cat "$R/sys/bus/pci/devices/0000:01:00.0/boot_vga")" "1" "01:00.0 is the boot VGA"
expect_eq "$(cat "$R/.sim/devices/0000:05:00.0/native")" "amdgpu" "05:00.0's native driver is amdgpu"
expect_eq "$(readlink "$R/sys/bus/pci/drivers/nvidia/module")" "../../../../module/nvidia" "driver module link"
[[ -d "$R/sys/module/nvidia/holders" && -d "$R/sys/module/vfio_pci" ]] && ok "module dirs" || fail "module dirs"
expect_eq "$(ls "$R/sys/kernel/iommu_groups/4/devices" | tr '\n' ' ')" "0000:03:00.0 0000:04:00.0 " "group 4 members"
expect_file dev/vfio/vfio
expect_file dev/vfio/5
expect_nofile dev/vfio/2
# every symlink in the tree resolves inside the root
while IFS= read -r l; do
	t=$(realpath -m "$l")
	[[ -e "$t" && "$t" == "$R"/* ]] || fail "dangling or escaping link $l -> $(readlink "$l")"
done < <(find "$R" -type l)
ok "all symlinks resolve inside the root"

if command -v lspci >/dev/null; then
	out=$(lspci -A linux-sysfs -O "sysfs.path=$R/sys/bus/pci" -nn)
	grep -q '^01:00.0 VGA compatible controller \[0300\]: .*\[10de:2204\]' <<<"$out" && ok "lspci shows the GPU" ||
		fail "lspci output: $out"
	expect_eq "$(wc -l <<<"$out")" 9 "lspci lists 9 devices"
else
	echo "lspci not installed: checked with libpci only"
fi

# the dump is stable and reflects changes
"$SIM_MKROOT" --dump "$R" >"$T/dump.2"
cmp -s "$T/dump.orig" "$T/dump.2" && ok "dump is stable" || fail "dump differs between two runs"
grep -q '^f 0644 sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/driver_override (null)\\n$' "$T/dump.orig" &&
	ok "dump line format" || fail "dump has no driver_override line in the expected format"
! grep -q '\.sim' "$T/dump.orig" && ok "dump excludes .sim" || fail "dump lists .sim"
printf 'x\n' >"$R/sys/bus/pci/devices/0000:02:00.0/driver_override"
"$SIM_MKROOT" --dump "$R" >"$T/dump.3"
! cmp -s "$T/dump.orig" "$T/dump.3" && ok "dump sees a changed file" || fail "dump missed a change"
finish
