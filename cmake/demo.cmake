# The README's dry run, `cmake --build build --target demo` (and sim_demo_*, which runs it in a temporary
# directory): `cmake -DDEMO_DIR=... -DHOOKD=... -P cmake/demo.cmake` with the variables below. It
# builds a simulated dual-GPU host in DEMO_DIR/root and runs hookd's check, doctor and plan on the
# bundled example (hooks.d/win11.ini, hooks.d/win11.domain.xml) there; it touches nothing else.
#
# The host matches the example: the host keeps its own GPU (an Intel iGPU, the boot VGA) and the VM
# gets the NVIDIA card at 0000:01:00.0 with its audio function; IOMMU and interrupt remapping on; 16
# CPUs (siblings N and N+8) for its pinning to 4-7,12-15; 16 pages of 1 GiB reserved at boot for its
# 16 GiB of memory (hence no [hugepages]); hookd's libvirt hook installed before libvirtd started.
foreach(v DEMO_DIR PROJECT_SOURCE_DIR HOOKD HOOKD_HOOK_PATH SIM_MKROOT SIM_MKROOT_CPUS SIM_MKROOT_HUGEPAGES
    SIM_MKROOT_DOCTOR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "demo.cmake: -D${v}=... is missing")
  endif()
endforeach()

# demo_run(COMMAND...): runs it with its output on the terminal; stops the demo when it fails.
function(demo_run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "demo: `${cmd}` failed (${rc})")
  endif()
endfunction()

set(root ${DEMO_DIR}/root)
set(conf ${DEMO_DIR}/hookd.conf)
file(REMOVE_RECURSE ${root} ${DEMO_DIR}/state)
configure_file(${PROJECT_SOURCE_DIR}/conf/demo.conf.in ${conf} @ONLY)
demo_run(${SIM_MKROOT} ${root} --preset dual)
demo_run(${SIM_MKROOT_CPUS} ${root} --cpus 16)
demo_run(${SIM_MKROOT_HUGEPAGES} ${root} --nodes 1 --memtotal 33554432 --pool 2048:0:4096
  --pool 1048576:0:16:0:16)
demo_run(${SIM_MKROOT_DOCTOR} ${root} --hook-path ${HOOKD_HOOK_PATH} --cmdline
  "BOOT_IMAGE=/vmlinuz-6.1.0-27-amd64 root=/dev/nvme0n1p2 ro quiet intel_iommu=on iommu=pt hugepagesz=1G hugepages=16")

demo_run(${HOOKD} --conf ${conf} check win11)
demo_run(${HOOKD} --conf ${conf} doctor win11 --xml ${PROJECT_SOURCE_DIR}/hooks.d/win11.domain.xml)
demo_run(${HOOKD} --conf ${conf} plan win11 --xml ${PROJECT_SOURCE_DIR}/hooks.d/win11.domain.xml)
