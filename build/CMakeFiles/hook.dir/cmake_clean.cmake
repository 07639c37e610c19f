file(REMOVE_RECURSE
  "CMakeFiles/hook.dir/hookd/hook_main.c.o"
  "CMakeFiles/hook.dir/hookd/hook_main.c.o.d"
  "qemu"
  "qemu.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hook.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
