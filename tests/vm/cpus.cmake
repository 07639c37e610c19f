# [cpus] on a real kernel: a 4-vCPU guest (rig.sh reads HOOKD_VM_SMP from its environment).
hookd_vm_test(vm_cpus guest-cpus.sh
  --require vm_cpus_cgroup_cpuset_applied
  --require vm_cpus_irq_affinity_moved
  --require vm_cpus_release_restores_everything
  --require vm_cpus_enables_cpuset_controller_and_disables_it_again
  --timeout 600)
set_property(TEST vm_cpus APPEND PROPERTY ENVIRONMENT HOOKD_VM_SMP=4)
