# hookd edit: visudo's way for a VM's INI (a fake EDITOR plays the user).
foreach(case
    valid_edit_replaces_the_ini
    invalid_edit_shows_file_line_and_edits_again
    invalid_edit_abandoned_is_never_put_in_place
    running_vm_is_told_next_start
    no_change_and_no_ini)
  hookd_sim_test(sim_edit_${case} test_edit.sh ${case})
endforeach()
