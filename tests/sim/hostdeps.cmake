# [vfio] refuses a device the host depends on (mounted filesystems and swap through its block
# devices and their holders, a NIC with the default route or addresses, DRM/nvidia nodes held open).
add_executable(sim-mkroot-hostdeps ${CMAKE_CURRENT_LIST_DIR}/mkroot_hostdeps.c ${CMAKE_CURRENT_LIST_DIR}/fixture_fs.c)

foreach(case
    disk_with_mounted_root_and_swap_is_refused
    usb_controller_under_a_dm_holder_is_refused
    nic_with_the_default_route_is_refused
    gpu_held_open_names_pid_command_and_unit
    force_takes_the_named_device
    idle_devices_are_taken_and_given_back)
  hookd_sim_test(sim_vfio_host_${case} test_hostdeps.sh ${case})
  set_property(TEST sim_vfio_host_${case} APPEND PROPERTY ENVIRONMENT
    SIM_MKROOT_HOSTDEPS=$<TARGET_FILE:sim-mkroot-hostdeps> SIM_MKROOT_MODULES=$<TARGET_FILE:sim-mkroot-modules>)
endforeach()
