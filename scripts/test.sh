#!/usr/bin/env bash
# The README's test command (make test): installs what is missing, builds the
# normal and the sanitizer (ASan+UBSan) trees and, with clang, the fuzz targets,
# runs every suite and prints one line per suite and tree
# ("suite unit: N passed, N failed", the sanitizer reruns as "suite unit (asan): …")
# and ends with one line "N passed, N failed" (", N skipped" when any): every
# distinct check once (scripts/summarize.py). Exits non-zero when anything failed.
#
# Nothing disappears quietly: a tree that cannot be built, a suite whose tool
# is missing (clang for the fuzz targets; node and openssl fail their suites'
# tests from meson), a meson run that stops without a log or exits non-zero
# with no failed test, each counts as a failure.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh --test || { echo "0 passed, 1 failed"; exit 3; }
werror=()
[ "${CI:-}" = "true" ] && werror=(--werror)

setup() { # dir, extra meson options...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "${werror[@]}" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
  fi
  ninja -C "$dir" >"$dir.build.log" 2>&1 || { tail -60 "$dir.build.log"; return 1; }
}
# A tree the tests need cannot be built: say so, and still end with the line CI reads.
broken() { echo "FAILED $1"; echo "0 passed, 1 failed"; exit 1; }

setup build || broken "the build tree does not build (build.build.log)"
# The sanitizer tree also runs the allocation-failure torture (tests/torture;
# the option's auto value turns it on in any AddressSanitizer tree).
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dtorture=enabled \
  -Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all ||
  broken "the sanitizer tree does not build (build-asan.build.log)"

args=()
fuzz_ok=0
if ! command -v clang >/dev/null 2>&1; then
  args+=(--cannot-run fuzz "clang is not installed (scripts/deps.sh --test installs it)")
elif ! CC=clang setup build-fuzz -Dfuzz=true -Dtests=false -Db_lundef=false; then
  args+=(--cannot-run fuzz "the fuzz targets do not build (build-fuzz.build.log)")
elif [ -z "$(meson test -C build-fuzz --suite fuzz --list 2>/dev/null)" ]; then
  args+=(--cannot-run fuzz "the fuzz tree has no fuzz target")
else
  fuzz_ok=1
fi

# Browser and npm-based tests need their node modules.
for d in tests/browser tests/anki; do
  if [ -f "$d/package.json" ] && [ ! -d "$d/node_modules" ]; then
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error) ||
      args+=(--cannot-run "$(basename "$d")" "npm ci in $d failed")
  fi
done

# run TREE DIR meson-test-options...: a fresh log (never last run's), meson's
# exit code kept for the summary.
run() {
  local tree=$1 dir=$2 rc; shift 2
  rm -f "$dir/meson-logs/testlog.json"
  meson test -C "$dir" --num-processes 2 --print-errorlogs "$@" >"$dir/test.out" 2>&1
  rc=$?
  tail -3 "$dir/test.out"
  args+=(--log "$tree" "$rc" "$dir/meson-logs/testlog.json")
}

# intercept_tls_get_addr=0: the runtime of GCC 12 and LLVM 14 takes a
# dynamic TLS block (libraries loaded with dlopen) that happens to start 16
# bytes past a page for a pre-2.25 glibc header and reads the two words
# before it; LeakSanitizer's tracer then dies at exit ("Tracer caught
# signal 11", seen once in CI) with no leak found. Fixed upstream after
# GCC 13 and LLVM 16.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:intercept_tls_get_addr=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run normal build
# The sanitizers rerun what runs C code; tests in suite 'node' (the fake
# server's own tests) run node only and are not repeated.
run asan build-asan --suite unit --suite integration --no-suite node
if [ "$fuzz_ok" = 1 ]; then
  export WB_FUZZ_SECONDS=${WB_FUZZ_SECONDS:-20}
  run fuzz build-fuzz --suite fuzz
fi
python3 scripts/summarize.py "${args[@]}"
