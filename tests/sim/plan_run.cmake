# One planning path (issue 9): for every scenario with another VM holding shared resources, what
# `hookd plan --json` prints is what `hookd run` journals and writes (tests/sim/test_plan_run.sh).
foreach(case
    hugepages
    zfs_arc_max
    cpus
    modules
    service
    everything_shared
    vfio_device_held_by_another_vm)
  hookd_sim_test(sim_plan_run_${case} test_plan_run.sh ${case})
  set_property(TEST sim_plan_run_${case} APPEND PROPERTY ENVIRONMENT
    SIM_JSONFLAT=$<TARGET_FILE:sim-jsonflat>
    SIM_MKROOT_MODULES=$<TARGET_FILE:sim-mkroot-modules>
    SIM_MKROOT_CPUS=$<TARGET_FILE:sim-mkroot-cpus>
    SIM_MKROOT_HUGEPAGES=$<TARGET_FILE:sim-mkroot-hugepages> SIM_MKROOT_ZFS=$<TARGET_FILE:sim-mkroot-zfs>)
endforeach()
