foreach(case fresh_install_and_again upgrade_repoints_the_0_1_0_link foreign_hook_is_refused chained_hook_runs_after_hookd)
  hookd_sim_test(sim_install_${case} test_install.sh ${case})
endforeach()
