# The example INI files of hooks.d/ (issue 4 item 5): every one passes `hookd check`, and renders
# with `hookd plan` (prepare and started) against its example domain XML on a simulated host
# composed from the sim generators. tests/sim/test_examples.sh says which root each one needs.
hookd_sim_test(sim_examples_check_and_plan test_examples.sh ${PROJECT_SOURCE_DIR}/hooks.d)
set_property(TEST sim_examples_check_and_plan APPEND PROPERTY ENVIRONMENT
  SIM_MKROOT_MODULES=$<TARGET_FILE:sim-mkroot-modules>
  SIM_MKROOT_CONSOLE=$<TARGET_FILE:sim-mkroot-console>
  SIM_MKROOT_CPUS=$<TARGET_FILE:sim-mkroot-cpus>
  SIM_MKROOT_HUGEPAGES=$<TARGET_FILE:sim-mkroot-hugepages>)
