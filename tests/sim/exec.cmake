# [exec]: user commands per phase (tests/sim/test_exec.sh writes them into its temp dir).
foreach(case
    runs_each_phase_with_vm_and_phase
    environment_is_explicit
    failure_rolls_back_earlier_steps
    failure_names_the_labelled_section
    release_runs_in_reverse_section_order
    timeout_kills_process_group
    plan_says_when_commands_run
    bad_values_name_file_and_line
    hook_never_writes_stdout
    commands_read_domain_xml_on_stdin
    file_without_shebang_runs_by_shell
    check_refuses_what_will_not_run)
  hookd_sim_test(sim_exec_${case} test_exec.sh ${case})
endforeach()
