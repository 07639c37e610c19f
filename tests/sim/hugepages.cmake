# [hugepages]: huge page pools against the simulated kernel (simkernel_hugepages.c reacts to
# nr_hugepages, drop_caches and compact_memory; mkroot_hugepages.c writes the pools).
add_executable(sim-mkroot-hugepages ${CMAKE_CURRENT_LIST_DIR}/mkroot_hugepages.c ${CMAKE_CURRENT_LIST_DIR}/fixture_fs.c)
# A loaded ZFS module (zfs_arc_max, arcstats) on top of a root with /proc/meminfo.
add_executable(sim-mkroot-zfs ${CMAKE_CURRENT_LIST_DIR}/mkroot_zfs.c ${CMAKE_CURRENT_LIST_DIR}/fixture_fs.c)
target_sources(simkernel PRIVATE ${CMAKE_CURRENT_LIST_DIR}/simkernel_hugepages.c)

foreach(case
    reserves_on_node_and_returns
    plan_shows_every_write_and_touches_nothing
    bad_values_are_refused_with_file_line
    impossible_count_is_refused_before_any_change
    partial_allocation_rolls_back_to_the_exact_count
    short_memory_without_fragmentation_fails_cleanly
    compaction_makes_room
    zfs_affected_kernel_is_not_compacted
    free_pages_count_toward_the_need
    auto_from_xml_default_size_and_numatune
    auto_from_xml_page_size_1g
    two_vms_interleaved_restore_exactly
    crash_after_each_write_then_release_restores
    release_crash_then_restore_keeps_boot_pages
    interrupted_prepare_does_not_count_anothers_pages
    zfs_arc_max_lowered_then_restored_exactly
    zfs_arc_max_two_vms_the_smallest_cap_applies
    zfs_arc_max_crash_at_each_write_then_release_restores
    zfs_arc_max_release_crash_then_restore_twice
    zfs_arc_max_without_zfs_is_a_stated_noop
    zfs_arc_max_bad_values_are_refused)
  hookd_sim_test(sim_hugepages_${case} test_hugepages.sh ${case})
  set_property(TEST sim_hugepages_${case} APPEND PROPERTY ENVIRONMENT
    SIM_MKROOT_HUGEPAGES=$<TARGET_FILE:sim-mkroot-hugepages> SIM_MKROOT_ZFS=$<TARGET_FILE:sim-mkroot-zfs>)
endforeach()
