# hookd devices against the gpu preset (tests/sim/test_devices.sh); sim-jsonflat checks --json.
add_executable(sim-jsonflat ${CMAKE_CURRENT_LIST_DIR}/jsonflat.c)

foreach(case
    text_lists_groups_with_verdicts
    json_parses_with_expected_values
    gpu_in_shared_group_names_what_blocks_it
    single_gpu_boot_vga_is_the_only_gpu
    chipset_group_is_flagged
    no_iommu_says_how_to_enable_and_still_lists
    one_viability_rule_with_vfio
    bad_root_or_argument_is_exit_2)
  hookd_sim_test(sim_devices_${case} test_devices.sh ${case})
  set_property(TEST sim_devices_${case} APPEND PROPERTY ENVIRONMENT SIM_JSONFLAT=$<TARGET_FILE:sim-jsonflat>)
endforeach()
