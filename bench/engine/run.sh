#!/usr/bin/env bash
# Engine benchmarks (make bench): the sliding window at wordbank's default
# width vs the batch barrier at the same width and vs the original's batches
# of 5; peak memory at 500 entries in flight (HTTP/2 over TLS and plain
# HTTP/1.1), and quota tracking. Figures on stdout; exits non-zero when a
# figure misses its threshold (docs/engine.md). Takes about 2 minutes.
set -uo pipefail
cd "$(dirname "$0")/../.."
B="${WB_BUILD_DIR:-build}/bench/engine/bench_engine"
if [ ! -x "$B" ]; then
  ninja -C "${WB_BUILD_DIR:-build}" bench/engine/bench_engine >/dev/null || exit 1
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (the fake shares them)"
rc=0
# 16 in flight: wordbank's default --jobs.
"$B" window 200 16 || rc=1
# Peak RSS: over HTTP/2 every media body in flight grows at once (the server
# interleaves the streams on one connection), so the media caps decide it.
# The ceilings are docs/engine.md's "Known limits": ~105 MiB with the caps
# lifted over HTTP/2+TLS, ~36 MiB capped at 64, ~38 MiB over HTTP/1.1.
WB_BENCH_RSS_MAX_MIB=128 "$B" rss 2000 500 || rc=1
WB_BENCH_RSS_MAX_MIB=64 WB_BENCH_MEDIA_CAP=64 "$B" rss 2000 500 || rc=1
WB_BENCH_RSS_MAX_MIB=64 WB_BENCH_PLAIN=1 "$B" rss 2000 500 || rc=1
"$B" quota 180 50 || rc=1
exit $rc
