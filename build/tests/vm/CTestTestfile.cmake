# CMake generated Testfile for 
# Source directory: /work/main/tests/vm
# Build directory: /work/main/build/tests/vm
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(vm_guest_vfio "/work/main/tests/vm/rig.sh" "--test" "/work/main/tests/vm/guest-test.sh" "--work" "/work/main/build/tests/vm/work" "--bin" "/work/main/build/hookd:/usr/sbin/hookd" "--bin" "/work/main/build/qemu:/usr/libexec/hookd/qemu" "--bin" "/work/main/build/hookd-apply:/usr/libexec/hookd/hookd-apply" "--bin" "/work/main/build/tests/vm/vfio-open:/usr/local/bin/vfio-open" "--file" "/usr/share/misc/pci.ids:/usr/share/misc/pci.ids" "--env" "HOOKD_CONF_FILE=/usr/local/etc/hookd/hookd.conf" "--env" "HOOKD_LIBEXEC_DIR=/usr/local/libexec/hookd" "--require" "vm_prepare_moves_gpu_functions_to_vfio" "--require" "vm_release_restores_original_drivers" "--require" "vm_prepare_refuses_non_viable_group" "--timeout" "600")
set_tests_properties(vm_guest_vfio PROPERTIES  LABELS "vm" PROCESSORS "2" RESOURCE_LOCK "hookd_vm_qemu" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/vm/CMakeLists.txt;13;add_test;/work/main/tests/vm/CMakeLists.txt;0;")
