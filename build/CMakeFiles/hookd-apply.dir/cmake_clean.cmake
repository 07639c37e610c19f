file(REMOVE_RECURSE
  "CMakeFiles/hookd-apply.dir/hookd/apply_main.c.o"
  "CMakeFiles/hookd-apply.dir/hookd/apply_main.c.o.d"
  "hookd-apply"
  "hookd-apply.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hookd-apply.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
