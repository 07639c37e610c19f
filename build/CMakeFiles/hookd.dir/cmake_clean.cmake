file(REMOVE_RECURSE
  "CMakeFiles/hookd.dir/hookd/cli_main.c.o"
  "CMakeFiles/hookd.dir/hookd/cli_main.c.o.d"
  "CMakeFiles/hookd.dir/hookd/cli_virt.c.o"
  "CMakeFiles/hookd.dir/hookd/cli_virt.c.o.d"
  "hookd"
  "hookd.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hookd.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
