foreach(case same_scripts_same_order failed_prepare_runs_release_scripts refuses_to_overwrite)
  hookd_sim_test(sim_import_${case} test_import.sh ${case})
endforeach()
