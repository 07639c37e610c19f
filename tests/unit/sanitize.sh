#!/bin/bash
# The unit and sim layers again, built with -fsanitize=address,undefined (HOOKD_SANITIZE) in
# BUILD_DIR/sanitize: any leak, overflow or undefined behaviour in hookd, its tests or the simulator
# fails the case. tests/sim/CMakeLists.txt preloads the ASan runtime before the simulator shim.
# Usage: sanitize.sh CMAKE CTEST C_COMPILER SOURCE_DIR BUILD_DIR
set -euo pipefail
cmake=$1 ctest=$2 cc=$3 src=$4 out=$5/sanitize
"$cmake" -S "$src" -B "$out" -DCMAKE_C_COMPILER="$cc" -DHOOKD_SANITIZE=ON >/dev/null
"$cmake" --build "$out" -j2
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$src/tests/unit/lsan.supp
# -LE build: not this test (nor the strict builds) again inside its own tree.
"$ctest" --test-dir "$out" -L 'unit|sim' -LE build -j2 --output-on-failure
