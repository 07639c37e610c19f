# What hookd refuses to trust or to hang on (tests/sim/test_untrusted.sh; issue 8, items 6-13).
foreach(case
    state_dir_writable_by_others_is_refused
    symlinks_in_state_dir_are_not_followed
    vm_name_cannot_escape
    chain_must_be_trusted
    log_symlink_is_not_followed
    ini_directories_are_checked
    conf_text_is_not_echoed
    fifo_config_does_not_block
    oversized_ini_is_refused
    nul_and_bom_in_config
    libxml2_errors_are_one_line
    release_with_stdin_closed)
  hookd_sim_test(sim_untrusted_${case} test_untrusted.sh ${case})
endforeach()
