# rig.sh --stage file (bash, sourced on this machine while the initramfs is staged): a fresh 64 MiB
# sparse image in the case's work directory, which HOOKD_VM_QEMU_EXTRA attaches as a virtio disk
# (doctor.cmake). Only this case's guest has it; its filesystem never touches this machine's.
rm -f "$WORK/disk.raw"
truncate -s 64M "$WORK/disk.raw"
