#!/bin/sh
# No symbol hookd defines may sit in a namespace of a library it links (libkmod: kmod_*, libpci:
# pci_*): a library update adding a function of the same name would break the link or, worse,
# bind calls to the wrong function. Usage: dependency_namespaces.sh NM LIB.a...
nm=$1
shift
bad=$("$nm" -g --defined-only "$@" | awk 'NF == 3 && $3 ~ /^(kmod|pci)_/ {print $3}' | sort -u)
if [ -n "$bad" ]; then
	echo "hookd defines symbols in its dependencies' namespaces:" $bad >&2
	exit 1
fi
echo "no kmod_*/pci_* symbols defined in $*"
