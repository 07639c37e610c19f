# [pin]: vCPU and emulator thread pinning at 'started' against the simulated kernel.
add_executable(sim-mkroot-pin ${CMAKE_CURRENT_LIST_DIR}/mkroot_pin.c ${CMAKE_CURRENT_LIST_DIR}/fixture_fs.c)
target_sources(simkernel PRIVATE ${CMAKE_CURRENT_LIST_DIR}/simkernel_sched.c)

foreach(case
    pins_per_vcpupin_and_emulatorpin
    auto_keeps_siblings_together_in_one_node
    auto_prefers_numatune_node_and_avoids_host
    auto_host_follows_confined_system_slice
    auto_without_l3_or_nodes_uses_packages
    emulator_cpus_and_no
    tcg_thread_names
    too_many_vcpus_refused
    qemu_not_found_is_a_clear_error
    vcpupin_outside_online_cpus_refused
    plan_prints_map_and_cputune_and_touches_nothing
    restore_while_running_puts_affinities_back
    release_after_qemu_exit_is_success
    failing_thread_rolls_back_earlier_ones
    crash_after_each_pin_then_restore_restores
    refused_for_a_root_the_simulator_does_not_serve
    bad_values_are_refused_with_file_line)
  hookd_sim_test(sim_pin_${case} test_pin.sh ${case})
  set_property(TEST sim_pin_${case} APPEND PROPERTY ENVIRONMENT SIM_MKROOT_PIN=$<TARGET_FILE:sim-mkroot-pin>)
endforeach()
