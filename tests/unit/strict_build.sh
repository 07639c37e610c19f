#!/bin/bash
# Builds the whole tree (product, unit tests, simulator) with STYLE.md's warnings as errors, once with
# gcc and once with clang, each in its own build directory under BUILD_DIR (kept, so a rerun is
# incremental; an object that failed is never kept, so it fails again).
# Usage: strict_build.sh CMAKE SOURCE_DIR BUILD_DIR
set -euo pipefail
cmake=$1 src=$2 out=$3
for cc in gcc clang; do
	if ! command -v "$cc" >/dev/null; then
		echo "$cc is not installed: its strict build is skipped (apt-get install $cc)"
		exit 77
	fi
	echo "== $cc -Werror"
	"$cmake" -S "$src" -B "$out/strict-$cc" -DCMAKE_C_COMPILER="$cc" -DHOOKD_WERROR=ON >/dev/null
	"$cmake" --build "$out/strict-$cc" -j2
done
