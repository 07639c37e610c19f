# [modules]: module unload/load through libkmod against the simulated kernel. The shim's
# simkernel_modules.c intercepts libkmod's module syscalls (never forwarding them) and acts them out
# with simmodules.c; mkroot_modules.c writes a tiny sim_* module tree with libkmod's indexes.
add_executable(sim-mkroot-modules ${CMAKE_CURRENT_LIST_DIR}/mkroot_modules.c ${CMAKE_CURRENT_LIST_DIR}/simmodules.c
  ${CMAKE_CURRENT_LIST_DIR}/fixture_fs.c)
target_sources(simkernel PRIVATE ${CMAKE_CURRENT_LIST_DIR}/simkernel_modules.c ${CMAKE_CURRENT_LIST_DIR}/simmodules.c)

foreach(case
    unload_stack_and_reload_in_reverse_order
    load_only_what_was_not_loaded
    plan_shows_steps_and_touches_nothing
    bad_values_are_refused_with_file_line
    in_use_by_module_and_process_is_refused_and_rolled_back
    dri_node_holder_is_named
    builtin_module_is_reported_not_failed
    unknown_module_is_refused_before_any_change
    second_vm_keeps_module_until_last_release
    without_interception_nothing_reaches_the_kernel)
  hookd_sim_test(sim_modules_${case} test_modules.sh ${case})
  set_property(TEST sim_modules_${case} APPEND PROPERTY ENVIRONMENT
    SIM_MKROOT_MODULES=$<TARGET_FILE:sim-mkroot-modules>)
endforeach()
