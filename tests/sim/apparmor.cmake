# hookd check / install and libvirt's AppArmor profile (the stock Debian and upstream profiles).
foreach(case
    old_layout_denied_under_enforce
    new_layout_allowed
    complain_mode_warns
    no_apparmor
    virtqemud_profile
    copied_front_worker_denied
    deny_rule
    source_missing_cannot_verify
    install_refuses_denied_target)
  hookd_sim_test(sim_apparmor_${case} test_apparmor.sh ${case})
endforeach()
