#!/usr/bin/env bash
# Applies .clang-format to every C file of the project: src/, include/,
# tests/, examples/, bench/ and fuzz/ (*.c, *.h; node_modules skipped).
#
#   scripts/format.sh          reformat the files in place
#   scripts/format.sh --check  change nothing; print TAP naming each file that
#                              deviates (the test 'format', suite unit) and
#                              exit 1 when any does
#   scripts/format.sh --list   print the file list
#
# The style is pinned to Debian's clang-format 14 (scripts/deps.sh --test):
# other versions break some lines differently, so another version is refused.
set -uo pipefail
root=${WB_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
mode=${1:-apply}
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}

files() {
  find src include tests examples bench fuzz -name node_modules -prune -o \
    -type f \( -name '*.c' -o -name '*.h' \) -print | LC_ALL=C sort
}

if [ "$mode" = --list ]; then
  files
  exit 0
fi

version=$("$CLANG_FORMAT" --version 2>/dev/null | sed -n 's/.*clang-format version \([0-9]*\)\..*/\1/p')
if [ -z "$version" ]; then
  if [ "$mode" = --check ]; then
    echo "1..0 # SKIP clang-format is not installed (scripts/deps.sh --test installs it)"
    exit 0
  fi
  echo "format.sh: clang-format is not installed (scripts/deps.sh --test installs it)" >&2
  exit 3
fi
if [ "$version" != 14 ]; then
  msg="clang-format $version found; .clang-format is applied with version 14 (Debian's)"
  if [ "$mode" = --check ]; then
    echo "1..1"
    echo "not ok 1 - clang-format 14 # $msg"
    exit 1
  fi
  echo "format.sh: $msg" >&2
  exit 3
fi

mapfile -t list < <(files)
case "$mode" in
apply)
  "$CLANG_FORMAT" -i --style=file "${list[@]}"
  ;;
--check)
  # One clang-format over every file; each deviation is a warning naming
  # FILE:LINE:COL: the deviating files, each with its first deviation.
  out=$("$CLANG_FORMAT" --style=file --dry-run --Werror "${list[@]}" 2>&1)
  rc=$?
  mapfile -t bad < <(printf '%s\n' "$out" |
    sed -n 's/^\(.*\):\([0-9]*\):\([0-9]*\): \(warning\|error\): .*clang-format-violations.*/\1:\2/p' |
    awk -F: '!seen[$1]++')
  echo "1..1"
  if [ $rc -eq 0 ] && [ ${#bad[@]} -eq 0 ]; then
    echo "ok 1 - the ${#list[@]} C files follow .clang-format"
    exit 0
  fi
  echo "not ok 1 - the ${#list[@]} C files follow .clang-format (${#bad[@]} deviate; scripts/format.sh fixes them)"
  for f in "${bad[@]}"; do
    echo "# $f: first deviation"
  done
  # clang-format failing for another reason (a file it cannot read)
  [ ${#bad[@]} -eq 0 ] && printf '%s\n' "$out" | head -20 | sed 's/^/# /'
  exit 1
  ;;
*)
  echo "usage: scripts/format.sh [--check | --list]" >&2
  exit 2
  ;;
esac
