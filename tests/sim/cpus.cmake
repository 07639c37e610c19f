# [cpus]: host cpusets, IRQ affinity, workqueue mask, governors against the simulated kernel.
add_executable(sim-mkroot-cpus ${CMAKE_CURRENT_LIST_DIR}/mkroot_cpus.c ${CMAKE_CURRENT_LIST_DIR}/fixture_fs.c)
target_sources(simkernel PRIVATE ${CMAKE_CURRENT_LIST_DIR}/simkernel_cpus.c)

foreach(case
    host_cpuset_applied_and_restored
    enables_cpuset_controller_and_disables_it_again
    populated_empty_cpuset_comes_back_as_parent_cpus
    irqs_moved_managed_skipped_and_restored
    workqueues_mask_applied_and_restored
    governor_applied_and_restored
    plan_shows_every_write_and_touches_nothing
    plan_notes_systemd_allowedcpus
    host_outside_the_host_is_refused_with_file_line
    pinned_cpus_outside_the_host_are_refused
    unknown_governor_is_refused_with_file_line
    bad_values_are_refused_with_file_line
    two_vms_intersect_and_restore_interleaved
    two_vms_released_in_start_order_restore
    failing_later_step_rolls_back
    crash_after_each_write_then_release_restores)
  hookd_sim_test(sim_cpus_${case} test_cpus.sh ${case})
  set_property(TEST sim_cpus_${case} APPEND PROPERTY ENVIRONMENT SIM_MKROOT_CPUS=$<TARGET_FILE:sim-mkroot-cpus>)
endforeach()
