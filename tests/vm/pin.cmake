# [pin] on a real kernel: a process with threads named like QEMU's ("CPU n/KVM") gets each thread
# pinned with sched_setaffinity; checked in /proc/PID/task/TID/status. The guest has 4 CPUs, asked
# as 1 socket x 2 cores x 2 threads, and under TCG an Intel vendor string (HOOKD_VM_CPU; -cpu max
# is AMD without topoext and would hide the threads) so the auto map meets real SMT siblings.
add_executable(hookd_vm_pin_threads ${CMAKE_CURRENT_LIST_DIR}/pin-threads.c)
set_target_properties(hookd_vm_pin_threads PROPERTIES OUTPUT_NAME pin-threads)
target_link_options(hookd_vm_pin_threads PRIVATE -pthread)

hookd_vm_test(vm_pin guest-pin.sh
  --bin $<TARGET_FILE:hookd_vm_pin_threads>:/usr/local/bin/pin-threads
  --require vm_pin_xml_map_applied
  --require vm_pin_restore_while_running
  --require vm_pin_auto_map_siblings_off_host
  --require vm_pin_release_after_exit
  --timeout 600)
set_property(TEST vm_pin APPEND PROPERTY ENVIRONMENT "HOOKD_VM_SMP=4,sockets=1,cores=2,threads=2"
  HOOKD_VM_CPU=max,vendor=GenuineIntel)
