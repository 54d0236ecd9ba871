#!/usr/bin/env bash
# The README's test command (make test): installs what is missing, builds the
# normal and the sanitizer (ASan+UBSan) trees and, with clang, the fuzz targets,
# runs every suite and ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/deps.sh --test || exit 3
werror=()
[ "${CI:-}" = "true" ] && werror=(--werror)

setup() { # dir, extra meson options...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "${werror[@]}" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
  fi
  ninja -C "$dir" >"$dir.build.log" 2>&1 || { tail -60 "$dir.build.log"; return 1; }
}

setup build || exit 1
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
  -Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all || exit 1
CC=clang setup build-fuzz -Dfuzz=true -Dtests=false -Db_lundef=false || exit 1

# Browser and npm-based tests need their node modules.
for d in tests/browser tests/anki; do
  if [ -f "$d/package.json" ] && [ ! -d "$d/node_modules" ]; then
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error) || exit 3
  fi
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
logs=()
meson test -C build --num-processes 2 --print-errorlogs >build/test.out 2>&1
tail -3 build/test.out
logs+=("normal=build/meson-logs/testlog.json")
meson test -C build-asan --suite unit --suite integration --num-processes 2 --print-errorlogs \
  >build-asan/test.out 2>&1
tail -3 build-asan/test.out
logs+=("asan=build-asan/meson-logs/testlog.json")
if [ -n "$(ls build-fuzz/fuzz 2>/dev/null)" ]; then
  WB_FUZZ_SECONDS=${WB_FUZZ_SECONDS:-20} meson test -C build-fuzz --suite fuzz --num-processes 2 \
    --print-errorlogs >build-fuzz/test.out 2>&1
  tail -3 build-fuzz/test.out
  logs+=("fuzz=build-fuzz/meson-logs/testlog.json")
fi
python3 scripts/summarize.py "${logs[@]}"
