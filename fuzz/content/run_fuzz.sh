#!/bin/sh
# Run a libFuzzer target for $WB_FUZZ_SECONDS (default 20) over a seed corpus
# without writing into it: new inputs land in a temporary directory.
# Usage: run_fuzz.sh FUZZER SEED_DIR
set -eu
fuzzer=$1
seeds=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$fuzzer" -max_total_time="${WB_FUZZ_SECONDS:-20}" -max_len=8192 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 "$work" "$seeds"
