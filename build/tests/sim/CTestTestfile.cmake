# CMake generated Testfile for 
# Source directory: /work/main/tests/sim
# Build directory: /work/main/build/tests/sim
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(sim_mkroot_lspci_lists_preset "bash" "/work/main/tests/sim/test_mkroot.sh")
set_tests_properties(sim_mkroot_lspci_lists_preset PROPERTIES  ENVIRONMENT "SIM_MKROOT=/work/main/build/tests/sim/sim-mkroot;SIM_PCILIST=/work/main/build/tests/sim/sim-pcilist;SIM_SHIM=/work/main/build/tests/sim/libsimkernel.so;HOOKD_BIN=/work/main/build/hookd;HOOKD_HOOK=/work/main/build/qemu;HOOKD_APPLY=/work/main/build/hookd-apply;SIM_LIB=/work/main/tests/sim/lib.sh" LABELS "sim" TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/tests/sim/CMakeLists.txt;21;add_test;/work/main/tests/sim/CMakeLists.txt;25;hookd_sim_test;/work/main/tests/sim/CMakeLists.txt;0;")
add_test(sim_simkernel_selftest "bash" "/work/main/tests/sim/test_simkernel.sh")
set_tests_properties(sim_simkernel_selftest PROPERTIES  ENVIRONMENT "SIM_MKROOT=/work/main/build/tests/sim/sim-mkroot;SIM_PCILIST=/work/main/build/tests/sim/sim-pcilist;SIM_SHIM=/work/main/build/tests/sim/libsimkernel.so;HOOKD_BIN=/work/main/build/hookd;HOOKD_HOOK=/work/main/build/qemu;HOOKD_APPLY=/work/main/build/hookd-apply;SIM_LIB=/work/main/tests/sim/lib.sh" LABELS "sim" TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/tests/sim/CMakeLists.txt;21;add_test;/work/main/tests/sim/CMakeLists.txt;26;hookd_sim_test;/work/main/tests/sim/CMakeLists.txt;0;")
