foreach(case
    same_scripts_same_argv
    failed_prepare_runs_release_scripts
    refuses_to_overwrite
    scripts_without_shebang
    timeouts_fit_the_scripts
    chained_migration_runs_each_script_once
    warns_when_names_say_no_order
    subop_that_is_a_file
    empty_vm_directory
    hostile_names_round_trip
    says_what_was_skipped)
  hookd_sim_test(sim_import_${case} test_import.sh ${case})
endforeach()
# The corpus of trees shaped like users' (import-corpus.sh), under the dispatcher and under hookd.
foreach(case dispatcher_and_hookd_agree native_sections_cite_their_lines native_ini_runs_on_a_single_gpu_host)
  hookd_sim_test(sim_import_corpus_${case} test_import_corpus.sh ${case})
  set_property(TEST sim_import_corpus_${case} APPEND PROPERTY ENVIRONMENT
    SIM_MKROOT_MODULES=$<TARGET_FILE:sim-mkroot-modules> SIM_MKROOT_CONSOLE=$<TARGET_FILE:sim-mkroot-console>)
endforeach()
