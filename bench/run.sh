#!/usr/bin/env bash
# Runs every benchmark (make bench). Each prints its own figures and ratios.
set -uo pipefail
cd "$(dirname "$0")/.."
for b in bench/*/run.sh; do
  [ -x "$b" ] || continue
  echo "== $b"
  bash "$b" || echo "benchmark $b failed"
done
