#!/usr/bin/env bash
# 200 two-second 24 kHz mono clips encoded in process (MP3, M4A, Opus) versus
# one ffmpeg process per clip (MP3 and M4A), and 200 of the loopback fake's
# 1024x1024 PNGs (its eight variants, written by its own makePng) to 512 px
# JPEGs in process versus one ffmpeg process per picture, in the same run;
# prints ms per clip / picture (CPU: self + children; and wall) and the
# ratios. Builds nothing: run `ninja -C build bench/media/bench_media` first.
# Environment: WB_BENCH_CLIPS (default 200), WB_BENCH_FFMPEG (default ffmpeg;
# "none" skips the baselines), WB_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
exe="${WB_BUILD_DIR:-build}/bench/media/bench_media"
if [ ! -x "$exe" ]; then
  echo "bench_media: $exe not built (run: ninja -C ${WB_BUILD_DIR:-build} bench/media/bench_media)" >&2
  exit 1
fi
pngs="$(mktemp -d /tmp/wb-bench-pngs-XXXXXX)"
trap 'rm -rf "$pngs"' EXIT
node --input-type=module -e "
import { makePng } from '$PWD/tests/fake/lib/media.mjs';
import { writeFileSync } from 'node:fs';
for (let v = 0; v < 8; v++) writeFileSync('$pngs/fake-' + v + '.png', makePng(1024, 1024, v));
"
WB_BENCH_PNGS="$(ls "$pngs"/fake-*.png | tr '\n' ' ')" "$exe"
