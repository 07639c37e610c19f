# CMake generated Testfile for 
# Source directory: /work/main/tests/libvirt
# Build directory: /work/main/build/tests/libvirt
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(libvirt_hook_cycle "/work/main/tests/libvirt/libvirt-cycle.sh" "--hook" "/work/main/build/qemu" "--apply" "/work/main/build/hookd-apply" "--cli" "/work/main/build/hookd" "--mkroot" "/work/main/build/tests/sim/sim-mkroot" "--conf" "/usr/local/etc/hookd/hookd.conf" "--reaper" "/work/main/build/tests/libvirt/lv-subreaper")
set_tests_properties(libvirt_hook_cycle PROPERTIES  LABELS "libvirt" RESOURCE_LOCK "system_libvirtd" SKIP_RETURN_CODE "77" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/libvirt/CMakeLists.txt;13;add_test;/work/main/tests/libvirt/CMakeLists.txt;0;")
