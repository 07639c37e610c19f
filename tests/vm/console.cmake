# The single-GPU flow on a real kernel booted through UEFI (OVMF): [console] + [vfio] prepare and
# release with efifb driving the console from the boot VGA (bochs kept out by the kernel command
# line), then again with bochs-drm loaded (guest-console.sh). Release must give back the
# framebuffer's driver and bind every vtconsole again.
hookd_vm_test(vm_console_ovmf guest-console.sh
  --require vm_console_fbonly_prepare_frees_the_gpu
  --require vm_console_fbonly_release_gives_console_back
  --require vm_console_efifb_prepare_frees_the_gpu
  --require vm_console_efifb_release_completes_and_says_the_framebuffer_is_gone
  --require vm_console_efifb_console_returns_with_the_gpu_driver
  --require vm_console_drm_prepare_frees_the_gpu
  --require vm_console_drm_release_gives_console_back
  --timeout 600)
set_property(TEST vm_console_ovmf APPEND PROPERTY ENVIRONMENT
  HOOKD_VM_FIRMWARE=ovmf "HOOKD_VM_APPEND=modprobe.blacklist=bochs,bochs_drm")
