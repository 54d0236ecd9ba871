#!/usr/bin/env bash
# Runs every benchmark (make bench). Each prints its settings, its baseline
# and its figures, and exits non-zero when a figure misses its documented
# threshold; this script then exits non-zero too, after running them all.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=() ran=0
for b in bench/*/run.sh; do
  echo "== $b"
  ran=$((ran+1))
  if ! bash "$b"; then
    echo "== $b: FAILED (a figure missed its threshold, or the benchmark did not run)"
    failed+=("$b")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "benchmarks: $((ran - ${#failed[@]})) of $ran met their thresholds; failed: ${failed[*]}"
  exit 1
fi
echo "benchmarks: $ran of $ran met their thresholds"
