#!/usr/bin/env bash
# The README's main-job command (make demo). Until the generation pipeline
# lands it imports the example word bank and lists it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || exit 3
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
mkdir -p out
export WORDBANK_DB=${WORDBANK_DB:-out/wordbank.db}
./build/src/cli/wordbank import examples/wordbank.jsonl
./build/src/cli/wordbank list
