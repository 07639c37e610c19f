#!/bin/bash
# The C sources are formatted as .clang-format says (STYLE.md). Fix with:
#   find hookd tests bench -name '*.[ch]' | xargs clang-format -i
# Usage: format_check.sh SOURCE_DIR
set -euo pipefail
cd "$1"
if ! command -v clang-format >/dev/null; then
	echo "clang-format is not installed: the format check is skipped (apt-get install clang-format)"
	exit 77
fi
find hookd tests bench -name '*.[ch]' -print0 | sort -z | xargs -0 clang-format --dry-run -Werror
echo "$(find hookd tests bench -name '*.[ch]' | wc -l) files formatted as .clang-format says"
