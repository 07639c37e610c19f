# [console]: vtconsole and platform framebuffer unbind/rebind against the simulated kernel
# (simkernel_console.c reacts to the bind files; mkroot_console.c writes them).
add_executable(sim-mkroot-console ${CMAKE_CURRENT_LIST_DIR}/mkroot_console.c ${CMAKE_CURRENT_LIST_DIR}/fixture_fs.c)
target_sources(simkernel PRIVATE ${CMAKE_CURRENT_LIST_DIR}/simkernel_console.c)

foreach(case
    unbinds_bound_consoles_and_framebuffer_and_restores
    plan_shows_every_write_and_touches_nothing
    bad_values_are_refused_with_file_line
    missing_framebuffer_is_not_an_error
    framebuffer_gone_before_release_is_not_an_error
    console_that_will_not_rebind_is_reported_and_kept
    vtconsoles_no_leaves_consoles_alone)
  hookd_sim_test(sim_console_${case} test_console.sh ${case})
  set_property(TEST sim_console_${case} APPEND PROPERTY ENVIRONMENT
    SIM_MKROOT_CONSOLE=$<TARGET_FILE:sim-mkroot-console>)
endforeach()
