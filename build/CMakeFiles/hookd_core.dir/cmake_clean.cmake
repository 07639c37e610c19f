file(REMOVE_RECURSE
  "CMakeFiles/hookd_core.dir/hookd/actions/table.c.o"
  "CMakeFiles/hookd_core.dir/hookd/actions/table.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/actions/vfio.c.o"
  "CMakeFiles/hookd_core.dir/hookd/actions/vfio.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/cpuset.c.o"
  "CMakeFiles/hookd_core.dir/hookd/cpuset.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/domain.c.o"
  "CMakeFiles/hookd_core.dir/hookd/domain.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/engine.c.o"
  "CMakeFiles/hookd_core.dir/hookd/engine.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/journal.c.o"
  "CMakeFiles/hookd_core.dir/hookd/journal.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/kmod.c.o"
  "CMakeFiles/hookd_core.dir/hookd/kmod.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/pci.c.o"
  "CMakeFiles/hookd_core.dir/hookd/pci.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/pciaddr.c.o"
  "CMakeFiles/hookd_core.dir/hookd/pciaddr.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/phase.c.o"
  "CMakeFiles/hookd_core.dir/hookd/phase.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/plan.c.o"
  "CMakeFiles/hookd_core.dir/hookd/plan.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/sysfs.c.o"
  "CMakeFiles/hookd_core.dir/hookd/sysfs.c.o.d"
  "CMakeFiles/hookd_core.dir/hookd/vmconfig.c.o"
  "CMakeFiles/hookd_core.dir/hookd/vmconfig.c.o.d"
  "libhookd_core.a"
  "libhookd_core.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hookd_core.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
