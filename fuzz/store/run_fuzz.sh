#!/bin/sh
# Run a libFuzzer target for WB_FUZZ_SECONDS (default 20) over the committed
# seeds; new inputs go to a scratch directory, so the seed corpus stays as
# committed. Usage: run_fuzz.sh FUZZER SEED_DIR
set -eu
exe=$1
seeds=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/wb-fuzz-store.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$exe" -max_total_time="${WB_FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 \
  -max_len=8192 -print_final_stats=1 "$work" "$seeds"
