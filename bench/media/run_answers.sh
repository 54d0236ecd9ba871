#!/usr/bin/env bash
# What an entry's picture and speech answers cost after the network: the
# picture's parse with its jansson and base64 parts alone, the streamed
# speech's parse, and the clip's MP3 encode against the whole-buffer path and
# LAME's set-up alone, all in the same run (CPU ms, medians of 7 rounds).
# Builds nothing: run `ninja -C build bench/media/bench_answers` first.
# Environment: WB_BENCH_REPS (default 100), WB_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
exe="${WB_BUILD_DIR:-build}/bench/media/bench_answers"
if [ ! -x "$exe" ]; then
  echo "bench_answers: $exe not built (run: ninja -C ${WB_BUILD_DIR:-build} bench/media/bench_answers)" >&2
  exit 1
fi
exec "$exe"
