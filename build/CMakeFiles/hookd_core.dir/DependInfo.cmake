
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/hookd/actions/table.c" "CMakeFiles/hookd_core.dir/hookd/actions/table.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/actions/table.c.o.d"
  "/work/main/hookd/actions/vfio.c" "CMakeFiles/hookd_core.dir/hookd/actions/vfio.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/actions/vfio.c.o.d"
  "/work/main/hookd/cpuset.c" "CMakeFiles/hookd_core.dir/hookd/cpuset.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/cpuset.c.o.d"
  "/work/main/hookd/domain.c" "CMakeFiles/hookd_core.dir/hookd/domain.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/domain.c.o.d"
  "/work/main/hookd/engine.c" "CMakeFiles/hookd_core.dir/hookd/engine.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/engine.c.o.d"
  "/work/main/hookd/journal.c" "CMakeFiles/hookd_core.dir/hookd/journal.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/journal.c.o.d"
  "/work/main/hookd/kmod.c" "CMakeFiles/hookd_core.dir/hookd/kmod.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/kmod.c.o.d"
  "/work/main/hookd/pci.c" "CMakeFiles/hookd_core.dir/hookd/pci.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/pci.c.o.d"
  "/work/main/hookd/pciaddr.c" "CMakeFiles/hookd_core.dir/hookd/pciaddr.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/pciaddr.c.o.d"
  "/work/main/hookd/phase.c" "CMakeFiles/hookd_core.dir/hookd/phase.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/phase.c.o.d"
  "/work/main/hookd/plan.c" "CMakeFiles/hookd_core.dir/hookd/plan.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/plan.c.o.d"
  "/work/main/hookd/sysfs.c" "CMakeFiles/hookd_core.dir/hookd/sysfs.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/sysfs.c.o.d"
  "/work/main/hookd/vmconfig.c" "CMakeFiles/hookd_core.dir/hookd/vmconfig.c.o" "gcc" "CMakeFiles/hookd_core.dir/hookd/vmconfig.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/CMakeFiles/hookd_base.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
