#!/usr/bin/env bash
# The whole pipeline through the command vs the original's batches (see
# bench_pipeline.py). make bench runs it.
set -euo pipefail
exec python3 "$(dirname "$0")/bench_pipeline.py"
