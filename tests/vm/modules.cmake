# [modules] and [console] on a real kernel: snd_hda_intel and e1000e unloaded and loaded again
# (devices bound again), refusals naming a holder module and a process holding /dev/dri/card0,
# vtconsole unbind (rebind does not take effect under SeaBIOS: the test accepts hookd reporting it).
hookd_vm_test(vm_modules guest-modules.sh
  --require vm_modules_unload_real_modules
  --require vm_modules_release_reloads_and_devices_bound_again
  --require vm_modules_in_use_refused_naming_holder
  --require vm_modules_dri_holder_refused_naming_process
  --require vm_console_vtconsoles_unbound
  --require vm_console_release_rebinds_or_reports
  --timeout 600)
