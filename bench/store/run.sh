#!/usr/bin/env bash
# Import 100,000 entries into the SQLite store vs. the original's rewrite-the-
# whole-JSONL-file-per-upsert approach (measured at 1,000 and 2,000 entries,
# fitted a*N + b*N^2, extrapolated). Builds nothing: run `ninja -C build` first.
# Environment: WB_BENCH_N (default 100000), WB_BENCH_ORIGINAL_N (default 2000),
# WB_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
exe="${WB_BUILD_DIR:-build}/bench/store/bench_store"
if [ ! -x "$exe" ]; then
  echo "bench_store: $exe not built (run: ninja -C ${WB_BUILD_DIR:-build} bench/store/bench_store)" >&2
  exit 1
fi
exec "$exe"
