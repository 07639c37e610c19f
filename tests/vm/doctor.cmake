# hookd doctor and [vfio]'s host-dependency refusals on a real kernel (guest-doctor.sh). The guest
# has, for this case only, a sparse virtio disk (stage-disk.sh makes it) at 03:00.0 behind a third
# root port, so it sits in its own IOMMU group and the GPU's and NIC's groups stay as in the other
# cases. An Intel vendor string makes doctor's advice the Intel one (TCG's -cpu max says AMD).
# Checks: doctor's iommu, cgroup v2 + cpuset, group viability and reset lines against what the
# guest's /sys and config space say; the boot VGA without the single-GPU sections fails; the
# e1000e with an address / the default route, the disk mounted or with swap on a partition, and
# the GPU whose /dev/dri/card0 a process holds open, refused by plan, the hook and `hookd run`;
# force, the unused disk and the closed GPU taken and given back.
set(HOOKD_VM_DOCTOR_DISK ${CMAKE_CURRENT_BINARY_DIR}/work-vm_doctor/disk.raw)
hookd_vm_test(vm_doctor guest-doctor.sh
  --stage ${CMAKE_CURRENT_SOURCE_DIR}/stage-disk.sh
  --require vm_doctor_real_host_iommu_groups_and_nic_group_ok
  --require vm_doctor_cgroup_v2_cpuset_ok
  --require vm_doctor_reset_e1000e_matches_config_space
  --require vm_doctor_reset_vga_matches_config_space
  --require vm_doctor_reset_virtio_disk_matches_config_space
  --require vm_doctor_gpu_group_viable_with_companion
  --require vm_doctor_boot_vga_without_single_gpu_sections_fails
  --require vm_doctor_group_held_by_another_vm_not_viable
  --require vm_doctor_json_real_host
  --require vm_vfio_refuses_nic_with_default_route
  --require vm_doctor_fails_on_nic_with_default_route
  --require vm_vfio_refuses_nic_with_address
  --require vm_vfio_force_takes_nic_and_release_gives_it_back
  --require vm_vfio_refuses_disk_with_mounted_filesystem
  --require vm_vfio_refuses_disk_with_swap_on_a_partition
  --require vm_vfio_takes_disk_once_unused_and_gives_it_back
  --require vm_vfio_disk_block_device_back_after_release
  --require vm_vfio_refuses_gpu_whose_drm_node_is_held_open
  --require vm_vfio_takes_gpu_once_its_drm_node_is_closed
  --timeout 600)
set_property(TEST vm_doctor APPEND PROPERTY ENVIRONMENT
  HOOKD_VM_CPU=max,vendor=GenuineIntel "HOOKD_VM_EXTRA_MODULES=virtio_pci virtio_blk ext4"
  "HOOKD_VM_QEMU_EXTRA=-drive file=${HOOKD_VM_DOCTOR_DISK},format=raw,if=none,id=d0,cache=unsafe -device pcie-root-port,id=rp3,bus=pcie.0,addr=0x1c.2,chassis=3,slot=3 -device virtio-blk-pci,drive=d0,bus=rp3,addr=0x0")
# The same host with VT-d off in its firmware (no intel-iommu device, so no DMAR table), booted
# with intel_iommu=on: no IOMMU groups, and doctor fails saying to enable VT-d in the firmware.
hookd_vm_test(vm_doctor_no_iommu guest-doctor.sh
  --env DOCTOR_MODE=noiommu
  --require vm_doctor_without_vtd_fails_saying_what_to_enable
  --require vm_doctor_json_without_vtd
  --timeout 600)
set_property(TEST vm_doctor_no_iommu APPEND PROPERTY ENVIRONMENT
  HOOKD_VM_CPU=max,vendor=GenuineIntel HOOKD_VM_IOMMU=off)
