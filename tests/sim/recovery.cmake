# Crash recovery across actions (prepare, release and restore killed at every kernel write, one VM
# and two interleaved) and journal robustness. Uses the fixture generators of the action files.
foreach(case
    one_vm_prepare_crash_then_release
    one_vm_release_crash_then_restore
    one_vm_restore_crash_then_restore
    two_vms_prepare_crash_other_prepares
    two_vms_release_crash_other_prepares
    two_vms_restore_crash_other_prepares
    newer_journal_leaves_others_alone
    garbage_journal_leaves_others_alone
    nul_in_own_journal_is_never_done
    cut_own_journal_is_never_done
    leftovers_shown_then_cleaned
    release_waits_for_a_slow_exec_step
    lock_holder_past_its_bound_is_given_up)
  hookd_sim_test(sim_recovery_${case} test_recovery.sh ${case})
  set_property(TEST sim_recovery_${case} APPEND PROPERTY ENVIRONMENT
    SIM_MKROOT_CONSOLE=$<TARGET_FILE:sim-mkroot-console>
    SIM_MKROOT_CPUS=$<TARGET_FILE:sim-mkroot-cpus>
    SIM_MKROOT_HUGEPAGES=$<TARGET_FILE:sim-mkroot-hugepages>)
  # one fresh root and several runs per crash point, 20-60 crash points: minutes on a loaded host
  set_tests_properties(sim_recovery_${case} PROPERTIES TIMEOUT 900)
endforeach()
