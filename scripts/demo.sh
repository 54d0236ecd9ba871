#!/usr/bin/env bash
# The README's main-job command (make demo): generates every missing stage of
# the example word list, builds the example lessons into out/site, and lists
# the word bank. Offline (MeCab, EDICT, espeak-ng) when no API key is set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || exit 3
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
mkdir -p out
export WORDBANK_DB=${WORDBANK_DB:-out/wordbank.db}
wb=./build/src/cli/wordbank
"$wb" propagate examples/words.txt
"$wb" build examples/lessons -o out/site
"$wb" list
echo "open out/site/index.html (or serve out/site) to see the cards"
