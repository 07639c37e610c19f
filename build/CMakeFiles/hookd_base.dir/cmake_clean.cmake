file(REMOVE_RECURSE
  "CMakeFiles/hookd_base.dir/hookd/conf.c.o"
  "CMakeFiles/hookd_base.dir/hookd/conf.c.o.d"
  "CMakeFiles/hookd_base.dir/hookd/util.c.o"
  "CMakeFiles/hookd_base.dir/hookd/util.c.o.d"
  "libhookd_base.a"
  "libhookd_base.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hookd_base.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
