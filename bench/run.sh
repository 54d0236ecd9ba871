#!/usr/bin/env bash
# Runs every benchmark (make bench). Each prints its own figures and ratios;
# one that fails (or misses a threshold it checks) makes the whole run fail.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=0
for b in bench/*/run.sh; do
  [ -x "$b" ] || continue
  echo "== $b"
  bash "$b" || { echo "benchmark $b failed"; failed=1; }
done
exit "$failed"
