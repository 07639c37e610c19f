# Install layout and Debian package (CPack). Included from the top CMakeLists.txt, which already
# installs the executables (the hook `hookd-qemu`, its worker `hookd-apply` and the CLI `hookd`, all
# in sbin: see HOOKD_HOOK_PATH there for why) and the man pages.
#
#   <prefix>/sbin/hookd-qemu              the hook          /etc/libvirt/hooks/qemu -> it
#   /etc/hookd/hookd.conf                 never overwritten /etc/hookd/hooks.d/  (empty)
#   <prefix>/share/doc/hookd/examples/    hooks.d examples  (never into /etc/hookd/hooks.d)
#   <prefix>/share/bash-completion/completions/hookd
#   <prefix>/lib/tmpfiles.d/hookd.conf    d /run/hookd 0700 root root -
#
# /etc is /etc whatever the prefix (libvirt looks there; HOOKD_CONF_FILE is fixed); DESTDIR applies.
# The hook symlink is its own install component, `hooklink`: `cmake --install` makes it (unless
# another hook is there already), the Debian package leaves it to postinst/prerm.

set(HOOKD_DATA ${PROJECT_SOURCE_DIR}/data)
get_filename_component(HOOKD_CONF_DIR "${HOOKD_CONF_FILE}" DIRECTORY)
set(HOOKD_HOOK_LINK /etc/libvirt/hooks/qemu)
set(HOOKD_TMPFILESDIR lib/tmpfiles.d) # systemd reads <prefix>/lib/tmpfiles.d, not the multiarch libdir

# hookd.conf: installed only when there is none (a user's edited file is kept).
install(CODE "
  set(_conf \"\$ENV{DESTDIR}${HOOKD_CONF_FILE}\")
  if(EXISTS \"\${_conf}\" OR IS_SYMLINK \"\${_conf}\")
    message(STATUS \"Kept (exists): \${_conf}\")
  else()
    file(INSTALL DESTINATION \"${HOOKD_CONF_DIR}\" TYPE FILE
      PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
      FILES \"${PROJECT_SOURCE_DIR}/conf/hookd.conf\")
  endif()")
# Per-VM INI files go here; hookd installs none (examples are documentation).
install(DIRECTORY DESTINATION ${HOOKD_CONF_DIR}/hooks.d
  DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/hooks.d/
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
  FILES_MATCHING PATTERN "*.ini" PATTERN "*.xml")
install(FILES ${HOOKD_DATA}/bash-completion-hookd
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME hookd)
install(FILES ${HOOKD_DATA}/tmpfiles.d-hookd.conf
  DESTINATION ${HOOKD_TMPFILESDIR} RENAME hookd.conf)

# /etc/libvirt/hooks/qemu -> <prefix>/sbin/hookd-qemu; a foreign hook is never replaced. A link to
# where 0.1.0 put the hook (<prefix>/libexec/hookd/qemu, denied by libvirtd's AppArmor profile) is
# hookd's own: it is repointed, never left dangling.
install(CODE "
  set(_target \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}/${HOOKD_HOOK_NAME}\")
  set(_legacy \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBEXECDIR}/hookd/qemu\")
  set(_link \"\$ENV{DESTDIR}${HOOKD_HOOK_LINK}\")
  set(_ours FALSE)
  set(_was \"\")
  if(IS_SYMLINK \"\${_link}\")
    file(READ_SYMLINK \"\${_link}\" _was)
    if(_was STREQUAL _target)
      set(_ours TRUE)
    endif()
  endif()
  if(_ours)
    message(STATUS \"Up-to-date: \${_link} -> \${_target}\")
  elseif(_was STREQUAL _legacy)
    file(REMOVE \"\${_link}\")
    file(CREATE_LINK \"\${_target}\" \"\${_link}\" SYMBOLIC)
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_link}\")
    message(STATUS \"Repointed: \${_link} -> \${_target} (was \${_legacy}, which libvirtd's AppArmor profile denies)\")
    foreach(_f qemu hookd-apply)
      file(REMOVE \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBEXECDIR}/hookd/\${_f}\")
    endforeach()
    set(_old \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBEXECDIR}/hookd\")
    file(GLOB _left \"\${_old}/*\")
    if(IS_DIRECTORY \"\${_old}\" AND NOT _left)
      file(REMOVE_RECURSE \"\${_old}\")
    endif()
  elseif(EXISTS \"\${_link}\" OR IS_SYMLINK \"\${_link}\")
    message(STATUS \"Skipped: \${_link} is another hook; left as it is. \"
      \"Run `hookd install --chain` to have libvirt run hookd and then that hook.\")
  else()
    get_filename_component(_dir \"\${_link}\" DIRECTORY)
    file(MAKE_DIRECTORY \"\${_dir}\")
    file(CREATE_LINK \"\${_target}\" \"\${_link}\" SYMBOLIC)
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_link}\")
    message(STATUS \"Installing: \${_link} -> \${_target}\")
    if(\"\$ENV{DESTDIR}\" STREQUAL \"\")
      message(STATUS \"libvirtd notices a new hook only when it starts or gets SIGHUP: \"
        \"systemctl reload libvirtd (running VMs are not affected).\")
    endif()
  endif()"
  COMPONENT hooklink)

# ---- Debian package: cpack -G DEB (or `cmake --build <dir> --target package`) ----------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hookd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "hookd")
set(CPACK_PACKAGE_CONTACT "hookd maintainers <hookd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "libvirt QEMU hook preparing the host for GPU-passthrough VMs")
# CPack puts the summary first and indents these lines itself
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "hookd binds devices to vfio-pci, reserves hugepages, isolates CPUs, unloads modules and
stops services before a VM starts, as its /etc/hookd/hooks.d/<vm>.ini file says, and
undoes every step when the VM stops. Every step is journaled; `hookd plan` is a dry run.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # hookd_<version>_amd64.deb
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr) # with CPACK_SET_DESTDIR this is the prefix used, whatever CMAKE_INSTALL_PREFIX is
set(CPACK_SET_DESTDIR ON) # absolute /etc destinations land in the package, not on this machine
# Everything but the hook symlink, which postinst makes (and prerm removes) only if it is ours.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};hookd;Unspecified;/")
find_program(HOOKD_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(HOOKD_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  # bookworm's names; inih is linked statically unless libinih.a was missing
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libxml2, libpci3, libkmod2, libvirt0")
  if(NOT INIH_STATIC MATCHES "\\.a$")
    string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libinih1")
  endif()
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libvirt-daemon-system")
set(HOOKD_PKG_HOOK "${CPACK_PACKAGING_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}/${HOOKD_HOOK_NAME}")
set(HOOKD_PKG_LEGACY_HOOK "${CPACK_PACKAGING_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBEXECDIR}/hookd/qemu")
if(NOT HOOKD_HOOK_PATH STREQUAL HOOKD_PKG_HOOK)
  message(WARNING "The hook is compiled in as ${HOOKD_HOOK_PATH}, but the Debian package installs it "
    "as ${HOOKD_PKG_HOOK}: the packaged `hookd install` would link a missing file. Configure a fresh "
    "build dir with -DCMAKE_INSTALL_PREFIX=/usr to package.")
endif()
set(HOOKD_PKG_TMPFILES "${CPACK_PACKAGING_INSTALL_PREFIX}/${HOOKD_TMPFILESDIR}/hookd.conf")
foreach(script postinst prerm postrm conffiles)
  configure_file(${HOOKD_DATA}/debian/${script}.in ${CMAKE_BINARY_DIR}/debian/${script} @ONLY)
endforeach()
# conffiles: hookd.conf (CPack lists none by itself). hooks.d/ holds only the user's files.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/debian/conffiles
  ${CMAKE_BINARY_DIR}/debian/postinst ${CMAKE_BINARY_DIR}/debian/prerm ${CMAKE_BINARY_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/")
include(CPack)
