#!/bin/bash
# The tests' own emulation of the common bash dispatcher of qemu.d script trees (the PassthroughPOST
# layout), installed as a libvirt QEMU hook: for `VM OP SUBOP EXTRA...` it runs qemu.d/VM/OP/SUBOP when
# that is an executable file, else every executable regular file that `find -L DIR -maxdepth 1 -type f
# -executable` lists there, in find's order (the directory's: not sorted), each through eval, so bash
# itself runs a file without #! (the ENOEXEC fallback). Each script gets the hook's argv and its stdin
# (the domain XML). The first failure ends the hook with that status (set -e), which fails a prepare.
# qemu.d is found beside the hook, as the real one finds it (QEMU_D overrides).
set -e
dir=${QEMU_D:-$(dirname "$0")/qemu.d}
point=$dir/$1/$2/$3
if [ -f "$point" ] && [ -x "$point" ]; then
	eval '"$point" "$@"'
elif [ -d "$point" ]; then
	while IFS= read -r -d '' -u 3 f; do
		eval '"$f" "$@"'
	done 3< <(find -L "$point" -maxdepth 1 -type f -executable -print0)
fi
