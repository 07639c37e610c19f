# [service] with a fake systemctl first in PATH (tests/sim/test_service.sh writes it): never the real one.
foreach(case
    stops_running_units_and_starts_them_again
    plan_shows_commands_and_touches_nothing
    unit_that_fails_to_stop_rolls_back
    stop_that_does_not_stick_fails
    stop_timeout_is_bounded
    bad_values_name_file_and_line
    refused_outside_the_simulator
    shared_unit_started_by_last_vm)
  hookd_sim_test(sim_service_${case} test_service.sh ${case})
endforeach()
