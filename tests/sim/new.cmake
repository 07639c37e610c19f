# hookd new: the INI from the domain XML and the host (single-GPU, dual-GPU, isolated CPUs, examples).
foreach(case
    every_example_domain_passes_check
    single_gpu_gets_its_sections_in_order
    dual_gpu_gets_vfio_only
    isolated_cpus_get_hugepages_cpus_and_pin
    never_overwrites_an_ini)
  hookd_sim_test(sim_new_${case} test_new.sh ${case} ${PROJECT_SOURCE_DIR}/hooks.d)
  set_property(TEST sim_new_${case} APPEND PROPERTY ENVIRONMENT
    SIM_MKROOT_MODULES=$<TARGET_FILE:sim-mkroot-modules> SIM_MKROOT_CONSOLE=$<TARGET_FILE:sim-mkroot-console>
    SIM_MKROOT_CPUS=$<TARGET_FILE:sim-mkroot-cpus> SIM_MKROOT_HUGEPAGES=$<TARGET_FILE:sim-mkroot-hugepages>)
endforeach()
