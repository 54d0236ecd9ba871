#!/usr/bin/env python3
"""Runs sharing a word bank cooperate, through the wordbank command against the
loopback Gemini fake: two runs started together on one word bank never
request a stage twice (counted at the fake) and both end with every entry
done; a run killed with SIGKILL while holding leases is taken over at once by
the next run (its process is gone), which finishes everything; a batch run
(propagate --batch) started while an interactive run makes the same entries
puts none of the stages that run holds into a batch job. Prints TAP."""
import json
import os
import signal
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.environ["WB_SOURCE_ROOT"], "tests", "harness"))
from wbtest import WB, Fake, check, env, finish  # noqa: E402

MODELS = ("gemini-3.8-flash", "gemini-3.1-flash-image", "gemini-3.8-flash-tts")


def env_for(tmp, fake):
    return env(tmp, GEMINI_BASE_URL=fake.url)


def start(tmp, fake, args):
    return subprocess.Popen([WB, "--db", tmp + "/wb.db", "--progress", "never"] + args,
                            env=env_for(tmp, fake), cwd=tmp, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def entries(tmp, fake):
    r = subprocess.run([WB, "--db", tmp + "/wb.db", "list", "--json"], env=env_for(tmp, fake),
                       cwd=tmp, capture_output=True, text=True)
    check("list exits 0", r.returncode == 0, r.stderr)
    return json.loads(r.stdout) if r.returncode == 0 else []


def all_done(ents, n):
    return len(ents) == n and all(e["stages"][s]["state"] == "done"
                                  for e in ents for s in ("details", "image", "audio"))


def requests_per_model(fake):
    return {m: fake.requests(m) for m in MODELS}


def words(tmp, n):
    path = os.path.join(tmp, "w.txt")
    with open(path, "w") as f:
        f.write("".join(f"- 語{i}: word number {i} (lease test {i})\n" for i in range(n)))
    return path


def two_runs_together():
    tmp = tempfile.mkdtemp(prefix="wblease.")
    n = 40
    fake = Fake({"seed": 3, "default": {"latencyMs": 120, "jitter": 0.3}})
    try:
        lst = words(tmp, n)
        # Create the word bank first so both runs open a migrated file.
        # (an empty import creates it; list on a missing word bank is exit 3)
        open(tmp + "/empty.jsonl", "w").close()
        r = subprocess.run([WB, "--db", tmp + "/wb.db", "import", tmp + "/empty.jsonl"],
                           env=env_for(tmp, fake), cwd=tmp, capture_output=True, text=True)
        check("an empty import creates the word bank", r.returncode == 0 and
              os.path.exists(tmp + "/wb.db"), r.stderr)
        a = start(tmp, fake, ["-j", "6", "propagate", lst])
        b = start(tmp, fake, ["-j", "6", "propagate", lst])
        outs = [p.communicate(timeout=240) for p in (a, b)]
        check("first run exits 0", a.returncode == 0, outs[0][1])
        check("second run exits 0", b.returncode == 0, outs[1][1])
        per = requests_per_model(fake)
        for m in MODELS:
            check(f"{m}: each stage requested once ({per[m]} requests for {n} entries)",
                  per[m] == n, json.dumps(per))
        ents = entries(tmp, fake)
        check("every entry done", all_done(ents, n), json.dumps(ents)[:500])
        left = leases(tmp)
        check("no lease left behind", left == 0, str(left))
    finally:
        fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def leases(tmp, pid=None, stage=None):
    """The leases in the word bank: all, or one process's on one stage."""
    db = sqlite3.connect(tmp + "/wb.db")
    try:
        if pid is None:
            return db.execute("SELECT count(*) FROM leases").fetchone()[0]
        return db.execute("SELECT count(*) FROM leases WHERE pid = ? AND stage = ?",
                          (pid, stage)).fetchone()[0]
    finally:
        db.close()


def killed_holder_taken_over():
    tmp = tempfile.mkdtemp(prefix="wblease.")
    n = 8
    # Pictures take long: the first run is killed while it holds their leases.
    fake = Fake({"seed": 4, "default": {"latencyMs": 50},
                 "models": {"gemini-3.1-flash-image": {"latencyMs": 4000}}})
    try:
        lst = words(tmp, n)
        a = start(tmp, fake, ["-j", "8", "propagate", lst])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            st = fake.stats()
            if st["models"].get("gemini-3.1-flash-image", {}).get("inFlight", 0) >= n:
                break
            time.sleep(0.05)
        a.send_signal(signal.SIGKILL)
        a.communicate(timeout=30)
        held = leases(tmp, a.pid, "image")
        check(f"the killed run held the image leases ({held})", held == n, str(held))
        before = requests_per_model(fake)["gemini-3.1-flash-image"]
        t0 = time.monotonic()
        b = start(tmp, fake, ["-j", "8", "propagate", lst])
        out, errs = b.communicate(timeout=120)
        took = time.monotonic() - t0
        check("the next run exits 0", b.returncode == 0, errs)
        # The default lease ttl is 30 s: taking over at once means the dead
        # process was recognised, not waited out.
        check(f"took over at once ({took:.1f} s)", took < 25, f"{took:.1f} s")
        after = requests_per_model(fake)["gemini-3.1-flash-image"]
        check(f"the next run drew the pictures ({after - before} requests)", after - before == n,
              f"{before} -> {after}")
        ents = entries(tmp, fake)
        check("every entry done after the takeover", all_done(ents, n), json.dumps(ents)[:500])
    finally:
        fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def batch_beside_interactive():
    tmp = tempfile.mkdtemp(prefix="wblease.")
    n = 6
    text = MODELS[0]
    # Details take 3 s: the batch run starts while the interactive run holds
    # the leases of every entry's details (and pictures, which follow them).
    fake = Fake({"seed": 5, "batchDelayMs": 300, "default": {"latencyMs": 5},
                 "models": {text: {"latencyMs": 3000}}})
    try:
        lst = words(tmp, n)
        with open(tmp + "/wordbank.conf", "w") as f:
            f.write("[batch]\npoll_first_ms = 50\npoll_max_ms = 200\npoll_factor = 2\n")
        open(tmp + "/empty.jsonl", "w").close()
        r = subprocess.run([WB, "--db", tmp + "/wb.db", "import", tmp + "/empty.jsonl"],
                           env=env_for(tmp, fake), cwd=tmp, capture_output=True, text=True)
        check("batch: an empty import creates the word bank", r.returncode == 0, r.stderr)
        conf = ["--config", tmp + "/wordbank.conf"]
        a = start(tmp, fake, conf + ["-j", "8", "propagate", lst])
        deadline = time.monotonic() + 30
        held = 0
        while time.monotonic() < deadline and held < n:
            time.sleep(0.05)
            try:
                held = leases(tmp, a.pid, "details")
            except sqlite3.Error:
                pass
        check(f"batch: the interactive run holds every entry's details ({held})", held == n)
        b = start(tmp, fake, conf + ["propagate", "--batch", lst])
        outs = [p.communicate(timeout=240) for p in (a, b)]
        check("batch: the interactive run exits 0", a.returncode == 0, outs[0][1])
        check("batch: the batch run exits 0", b.returncode == 0, outs[1][1])
        log = json.load(urllib.request.urlopen(fake.url + "/_fake/requests?limit=2000"))
        keys = {}
        direct = {}
        for m in MODELS:
            keys[m] = 0
            for x in log:
                if x["path"].endswith(f"/models/{m}:batchGenerateContent"):
                    ic = (x.get("body") or {}).get("batch", {}).get("inputConfig", {})
                    keys[m] += len(ic.get("requests", {}).get("requests", []))
            direct[m] = sum(1 for x in log if x["path"].endswith(f"/models/{m}:generateContent")
                            or x["path"].endswith(f"/models/{m}:streamGenerateContent"))
        for m in MODELS:
            check(f"batch: {m}: each stage requested once ({direct[m]} interactive + {keys[m]} "
                  f"in batch jobs for {n} entries)", direct[m] + keys[m] == n,
                  json.dumps({"interactive": direct, "batch": keys}))
        check("batch: the stages the interactive run held stayed out of batch jobs",
              keys[text] == 0, json.dumps(keys))
        ents = entries(tmp, fake)
        check("batch: every entry done", all_done(ents, n), json.dumps(ents)[:500])
    finally:
        fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)


two_runs_together()
killed_holder_taken_over()
batch_beside_interactive()
finish(20)
