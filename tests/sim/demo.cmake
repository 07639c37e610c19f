# The README's demo (`cmake --build build --target demo`, cmake/demo.cmake): the same command, with the
# same definitions (HOOKD_DEMO_COMMAND, CMakeLists.txt), into a temporary directory.
hookd_sim_test(sim_demo_doctor_passes_and_plans_the_gpu test_demo.sh ${HOOKD_DEMO_COMMAND})
set_property(TEST sim_demo_doctor_passes_and_plans_the_gpu APPEND PROPERTY ENVIRONMENT
  DEMO_SCRIPT=${PROJECT_SOURCE_DIR}/cmake/demo.cmake HOOKD_HOOK_PATH=${HOOKD_HOOK_PATH})
