#!/usr/bin/env python3
"""The whole pipeline through the wordbank command against the loopback fake:
N entries (200), JOBS in flight (50), latencies 100 ms (text), 200 ms (image)
and 150 ms (speech) ±20%. Prints the wall time beside the ideal schedule
(entries/jobs x (text + max(image, speech)) plus the CPU time the run used),
and beside the original's way in the same run (batches of 5 that wait for
their slowest member), with the ratios."""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request

root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
wb = os.path.join(root, os.environ.get("WB_BUILD_DIR", "build"), "src/cli/wordbank")
N = int(os.environ.get("N", 200))
JOBS = int(os.environ.get("JOBS", 50))
if not os.access(wb, os.X_OK):
    sys.exit("build first (make build)")

tmp = tempfile.mkdtemp(prefix="wbbench.")
fake = subprocess.Popen(["node", os.path.join(root, "tests/fake/server.mjs")],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
port = json.loads(fake.stdout.readline())["port"]
scenario = {"seed": 11, "default": {"latencyMs": 100, "jitter": 0.2},
            "models": {"gemini-3.8-flash": {"latencyMs": 100, "jitter": 0.2},
                       "gemini-3.1-flash-image": {"latencyMs": 200, "jitter": 0.2},
                       "gemini-3.8-flash-tts": {"latencyMs": 150, "jitter": 0.2}}}
urllib.request.urlopen(urllib.request.Request(
    f"http://127.0.0.1:{port}/_fake/scenario", data=json.dumps(scenario).encode(),
    headers={"content-type": "application/json"}, method="POST")).read()
with open(os.path.join(tmp, "w.txt"), "w") as f:
    for i in range(1, N + 1):
        f.write(f"- 語{i}: word {i} (bench entry {i})\n")
# Generous limits: this measures scheduling, not quota handling.
limits = "".join(f"[limit.{m}]\nrpm = 100000\nconcurrency = 200\n"
                 for m in ("gemini-3.8-flash", "gemini-3.1-flash-image", "gemini-3.8-flash-tts"))
env = dict(os.environ, GEMINI_API_KEY="test-key-not-secret-123456",
           GEMINI_BASE_URL=f"http://127.0.0.1:{port}", HOME=tmp, XDG_CACHE_HOME=tmp + "/cache")


def run(label, settings):
    conf = os.path.join(tmp, label + ".conf")
    with open(conf, "w") as f:
        f.write(settings + "\n" + limits)  # own settings before any [section]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run([wb, "--config", conf, "--db", os.path.join(tmp, label + ".db"),
                    "--media", os.path.join(tmp, label + ".media"), "-j", str(JOBS),
                    "--progress", "never", "-q", "propagate", os.path.join(tmp, "w.txt")],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss


try:
    wall, cpu, rss = run("window", "")
    bwall, _, _ = run("barrier", "pipeline.batch_barrier = 5")
finally:
    fake.stdin.close()
    fake.wait()
ideal = (N / JOBS) * (0.100 + 0.200) + cpu
print(f"pipeline_entries {N}\npipeline_jobs {JOBS}")
print(f"pipeline_window_wall_s {wall:.3f}\npipeline_window_cpu_s {cpu:.3f}")
print(f"pipeline_window_peak_rss_mib {rss / 1024:.1f}")
print(f"pipeline_ideal_s {ideal:.3f}\npipeline_window_over_ideal {wall / ideal:.2f}")
print(f"pipeline_batch5_wall_s {bwall:.3f}\npipeline_batch5_over_window {bwall / wall:.2f}")
subprocess.run(["rm", "-rf", tmp])
