#!/usr/bin/env bash
# 200 two-second 24 kHz mono clips encoded in process (MP3, M4A, Opus) versus
# one ffmpeg process per clip (MP3 and M4A), in the same run; prints ms per
# clip (CPU: self + children; and wall) and the ratios. Builds nothing: run
# `ninja -C build bench/media/bench_media` first.
# Environment: WB_BENCH_CLIPS (default 200), WB_BENCH_FFMPEG (default ffmpeg;
# "none" skips the baseline), WB_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
exe="${WB_BUILD_DIR:-build}/bench/media/bench_media"
if [ ! -x "$exe" ]; then
  echo "bench_media: $exe not built (run: ninja -C ${WB_BUILD_DIR:-build} bench/media/bench_media)" >&2
  exit 1
fi
exec "$exe"
