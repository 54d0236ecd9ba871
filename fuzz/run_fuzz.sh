#!/bin/sh
# Runs one libFuzzer target for $WB_FUZZ_SECONDS (default 20) on its committed
# seed corpus; new inputs go to a temporary directory, never into the repo.
# Prints TAP. Usage: run_fuzz.sh BINARY SEED_DIR [DICT] (shared by every fuzz/<module>)
bin=$1 seeds=$2 dict=$3
secs=${WB_FUZZ_SECONDS:-20}
name=$(basename "$bin")
work=$(mktemp -d "${TMPDIR:-/tmp}/wbfuzz.XXXXXX") || exit 1
echo "1..1"
# A fixed seed (WB_FUZZ_SEED, default 1): the same mutations in the same
# order on every machine, so what CI finds a developer finds again.
set -- -seed="${WB_FUZZ_SEED:-1}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$work/"
[ -n "$dict" ] && set -- "$@" -dict="$dict"
if "$bin" "$@" "$work" "$seeds" >"$work/log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$')
    echo "ok 1 - $name ran ${secs}s clean (${runs:-?} inputs)"
    rm -rf "$work"
else
    sed 's/^/# /' "$work/log" | tail -40
    echo "not ok 1 - $name found a failure (artifacts in $work)"
    exit 1
fi
