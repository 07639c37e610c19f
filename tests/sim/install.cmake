foreach(case fresh_install_and_again foreign_hook_is_refused chained_hook_runs_after_hookd)
  hookd_sim_test(sim_install_${case} test_install.sh ${case})
endforeach()
