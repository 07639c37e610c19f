# SMT siblings and two NUMA nodes on a real kernel (guest-numa.sh): 8 vCPUs as 2 sockets x 2 cores
# x 2 threads, node 0 = CPUs 0-3 and node 1 = CPUs 4-7. TCG's -cpu max is an AMD CPU without
# topoext (which TCG cannot offer), so the guest would see no threads; with an Intel vendor string
# the kernel reads CPUID leaf 0xB and sees the pairs. Checks [pin] map = auto (siblings together,
# one node, the <numatune> node first), [hugepages] node = auto per node, and two VMs sharing the
# host CPU set, node 0's pool and a [modules] unload, interleaved. acpi_cpufreq is staged so the
# guest can say whether any cpufreq driver binds ([cpus] governor stays simulated if none does).
hookd_vm_test(vm_numa guest-numa.sh
  --bin $<TARGET_FILE:hookd_vm_pin_threads>:/usr/local/bin/pin-threads
  --require vm_numa_pin_auto_pairs_siblings_on_one_node
  --require vm_numa_pin_auto_prefers_the_numatune_node
  --require vm_numa_hugepages_auto_splits_over_the_numatune_nodes
  --require vm_numa_hugepages_release_restores_each_node
  --require vm_numa_share_a_prepared
  --require vm_numa_share_b_adds_its_own_pages
  --require vm_numa_share_a_release_keeps_what_b_holds
  --require vm_numa_share_last_release_restores_every_value
  --timeout 600)
set_property(TEST vm_numa APPEND PROPERTY ENVIRONMENT
  "HOOKD_VM_SMP=8,sockets=2,cores=2,threads=2" HOOKD_VM_NUMA=2 HOOKD_VM_MEM=2G
  HOOKD_VM_CPU=max,vendor=GenuineIntel "HOOKD_VM_EXTRA_MODULES=acpi_cpufreq")
