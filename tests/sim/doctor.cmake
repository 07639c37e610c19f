# hookd doctor: host and per-VM readiness on simulated hosts; mkroot_doctor.c adds what doctor reads
# (cpuinfo, cmdline, interrupts, buddyinfo, the libvirt hook and libvirtd's start time, PCIe FLR).
add_executable(sim-mkroot-doctor ${CMAKE_CURRENT_LIST_DIR}/mkroot_doctor.c ${CMAKE_CURRENT_LIST_DIR}/fixture_fs.c)

foreach(case
    healthy_host_and_vm_pass
    no_iommu_says_what_to_enable
    no_interrupt_remapping_fails
    group_not_viable_fails_with_the_vfio_rule
    group_follows_companions_no
    group_follows_explicit_devices
    hook_not_noticed_says_reload
    missing_or_foreign_hook_fails
    legacy_hook_path_says_repoint
    zfs_arc_and_affected_kernels_warn
    zfs_arc_against_the_vms_hugepages
    apparmor_denial_is_a_failure_with_the_fix
    boot_gpu_needs_single_gpu_sections
    no_flr_warns
    fragmented_memory_warns
    hugepages_and_cpus_against_the_host
    json_parses)
  hookd_sim_test(sim_doctor_${case} test_doctor.sh ${case})
  set_property(TEST sim_doctor_${case} APPEND PROPERTY ENVIRONMENT
    SIM_MKROOT_DOCTOR=$<TARGET_FILE:sim-mkroot-doctor> SIM_MKROOT_CPUS=$<TARGET_FILE:sim-mkroot-cpus>
    SIM_MKROOT_HUGEPAGES=$<TARGET_FILE:sim-mkroot-hugepages> SIM_MKROOT_ZFS=$<TARGET_FILE:sim-mkroot-zfs> SIM_JSONFLAT=$<TARGET_FILE:sim-jsonflat>
    HOOKD_HOOK_PATH=${HOOKD_HOOK_PATH} HOOKD_LEGACY_HOOK_PATH=${HOOKD_LEGACY_HOOK_PATH})
endforeach()
