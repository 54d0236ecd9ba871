#!/usr/bin/env bash
# The whole pipeline through the wordbank command against the loopback fake:
# 200 entries, 50 in flight, latencies 100 ms (text), 200 ms (image) and
# 150 ms (speech) ±20%. Prints the wall time beside the ideal schedule
# (entries/jobs x (text + max(image, speech)) plus the CPU time the run used)
# and beside the original's way (batches of 5 that wait for their slowest
# member), with the ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
wb=$PWD/build/src/cli/wordbank
[ -x "$wb" ] || { echo "build first (make build)"; exit 1; }
tmp=$(mktemp -d)
trap 'kill $fake_pid 2>/dev/null; rm -rf "$tmp"' EXIT
coproc FAKE { exec node tests/fake/server.mjs; }
fake_pid=$FAKE_PID
read -r ready <&"${FAKE[0]}"
port=$(sed 's/.*"port":\([0-9]*\).*/\1/' <<<"$ready")
curl -s -X POST "http://127.0.0.1:$port/_fake/scenario" -H 'content-type: application/json' -d '{
  "seed": 11, "default": {"latencyMs": 100, "jitter": 0.2},
  "models": {"gemini-3.8-flash": {"latencyMs": 100, "jitter": 0.2},
             "gemini-3.1-flash-image": {"latencyMs": 200, "jitter": 0.2},
             "gemini-3.8-flash-tts": {"latencyMs": 150, "jitter": 0.2}}}' >/dev/null
N=${N:-200}
JOBS=${JOBS:-50}
for i in $(seq 1 "$N"); do printf -- '- 語%d: word %d (bench entry %d)\n' "$i" "$i" "$i"; done > "$tmp/w.txt"
export GEMINI_API_KEY=test-key-not-secret-123456 GEMINI_BASE_URL="http://127.0.0.1:$port"
export HOME=$tmp XDG_CACHE_HOME=$tmp/cache
# Generous limits: this measures scheduling, not quota handling.
conf=$tmp/wordbank.conf
cat > "$conf" <<CONF
[limit.gemini-3.8-flash]
rpm = 100000
concurrency = 200
[limit.gemini-3.1-flash-image]
rpm = 100000
concurrency = 200
[limit.gemini-3.8-flash-tts]
rpm = 100000
concurrency = 200
CONF

run() { # label, extra config lines
  local db=$tmp/$1.db
  # The run's own settings go first: after a [section] header they would be
  # read as that section's.
  { printf '%s\n' "$2"; cat "$conf"; } > "$tmp/$1.conf"
  local t0 t1 cpu
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$tmp/$1.cpu" "$wb" --config "$tmp/$1.conf" --db "$db" --media "$tmp/$1.media" \
    -j "$JOBS" --progress never -q propagate "$tmp/w.txt" >/dev/null
  t1=$(date +%s.%N)
  cpu=$(awk '{print $1 + $2}' "$tmp/$1.cpu")
  echo "$(echo "$t1 - $t0" | bc -l) $cpu"
}
read -r wall cpu < <(run window "")
read -r bwall bcpu < <(run barrier "pipeline.batch_barrier = 5")
ideal=$(echo "($N / $JOBS) * (0.100 + 0.200) + $cpu" | bc -l)
printf 'pipeline_entries %d\npipeline_jobs %d\n' "$N" "$JOBS"
printf 'pipeline_window_wall_s %.3f\npipeline_window_cpu_s %.3f\n' "$wall" "$cpu"
printf 'pipeline_ideal_s %.3f\npipeline_window_over_ideal %.2f\n' "$ideal" "$(echo "$wall / $ideal" | bc -l)"
printf 'pipeline_batch5_wall_s %.3f\npipeline_batch5_over_window %.2f\n' "$bwall" "$(echo "$bwall / $wall" | bc -l)"
