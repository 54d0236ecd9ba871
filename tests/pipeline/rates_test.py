#!/usr/bin/env python3
"""A request rate learned from 429s carries into the next run, through the
wordbank command against the loopback Gemini fake: the text model's quota is
10 requests a second (the fake's sliding window) and nothing is configured.
The first run probes it (429s) and leaves the pace it was allowed in the
word bank; the next run, on other words, starts at that pace and draws at
most a quarter as many (1 when the machine is quiet; arrival times bunch up
under load). Without the learned rate it draws more than the first. Prints
TAP."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["WB_SOURCE_ROOT"], "tests", "harness"))
from wbtest import WB, Fake, check, env, finish  # noqa: E402

TEXT = "gemini-3.8-flash"


def limited(fake):
    """429s and requests of the text model so far."""
    m = fake.stats()["models"].get(TEXT, {})
    return m.get("statuses", {}).get("429", 0), m.get("requests", 0)


def propagate(tmp, fake, first, n):
    path = os.path.join(tmp, f"w{first}.txt")
    with open(path, "w") as f:
        f.write("".join(f"- 語{i}: word number {i} (rate test {i})\n" for i in range(first, first + n)))
    return subprocess.run([WB, "--db", tmp + "/wb.db", "--progress", "never", "-j", "25",
                           "--no-image", "--no-audio", "propagate", path, "--json"],
                          env=env(tmp, GEMINI_BASE_URL=fake.url), cwd=tmp, capture_output=True,
                          text=True, timeout=240)


tmp = tempfile.mkdtemp(prefix="wbrates.")
fake = Fake({"seed": 5, "default": {"latencyMs": 40},
             "models": {TEXT: {"latencyMs": 40, "quota": {"requests": 10, "windowMs": 1000}}}})
try:
    r1 = propagate(tmp, fake, 0, 50)
    check("the first run exits 0", r1.returncode == 0, r1.stderr[-1000:])
    l1, n1 = limited(fake)
    check(f"the first run probes the quota ({l1} 429s of {n1} requests)", l1 >= 5, str(l1))
    db = sqlite3.connect(tmp + "/wb.db")
    row = db.execute("SELECT rpm FROM rates WHERE model = ?", (TEXT,)).fetchone()
    db.close()
    check(f"the pace allowed is remembered ({row[0] if row else None} a minute; quota 600)",
          row is not None and 300 <= row[0] <= 900, str(row))
    r2 = propagate(tmp, fake, 100, 50)
    check("the next run exits 0", r2.returncode == 0, r2.stderr[-1000:])
    l2, n2 = limited(fake)
    check(f"the next run starts at the learned pace ({l2 - l1} 429s, the first run {l1})",
          l2 - l1 <= max(2, l1 // 4), f"{l1} then {l2 - l1}")
    out = json.loads(r2.stdout or "{}")
    check("the next run made every details stage",
          out.get("stages", {}).get("details", {}).get("done") == 50, r2.stdout[-500:])
finally:
    fake.stop()
    shutil.rmtree(tmp, ignore_errors=True)

finish(20)
