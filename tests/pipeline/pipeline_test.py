#!/usr/bin/env python3
"""The generation pipeline end to end against the loopback Gemini fake, through
the wordbank command: a run with injected faults completes; a second run sends
no request; a run killed with SIGKILL at a random moment and restarted ends
with every entry done once, no orphaned or truncated media, and no more
requests than the entries' stages plus what the kill cut off or had not
committed yet, and no committed stage asked for again; a daily
quota stops one stage with one message while the others finish; a rejected key
stops the run early; an encoder's library that cannot be loaded stops it
before any picture or clip is asked for. Prints TAP."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["WB_SOURCE_ROOT"], "tests", "harness"))
import wbtest as T  # noqa: E402
from wbtest import KEY, WB, Fake, check, scan  # noqa: E402


def words(n):
    return "".join(f"- 語{i}: word number {i} (test entry {i})\n" for i in range(n))


def run(tmp, args, env_extra=None, **kw):
    r = subprocess.run([WB, "--db", tmp + "/wb.db", "--progress", "never"] + args,
                       env=T.env(tmp, **(env_extra or {})),
                       capture_output=True, text=True, **kw)
    scan(args, r.stderr)
    return r


def entries(tmp, db=None):
    """The word bank's entries; a failing list (exit status, not JSON) is a
    failed check, not an empty list."""
    r = run(tmp, (["--db", db] if db else []) + ["list", "--json"])
    try:
        v = json.loads(r.stdout)
    except ValueError:
        v = None
    if r.returncode != 0 or not isinstance(v, list):
        check("list --json works (" + tmp + ")", False, f"rc {r.returncode}: {r.stderr[-500:]}")
        return []
    return v


def popen_stderr(tmp, name):
    """A file for a Popen'd wordbank's stderr (scanned with scan_file)."""
    return open(os.path.join(tmp, name + ".stderr"), "w+")


def scan_file(args, f):
    f.seek(0)
    err = f.read()
    f.close()
    scan(args, err)
    return err


def media_ok(tmp, ents):
    """Every referenced file is there and valid; no file is unreferenced."""
    media = os.path.join(tmp, "media")
    names = set(os.listdir(media)) if os.path.isdir(media) else set()
    used = set()
    for e in ents:
        for st in ("image", "audio"):
            f = e["stages"][st]["file"]
            if f:
                used.add(os.path.basename(f))
    bad = []
    for n in used:
        p = os.path.join(media, n)
        if not os.path.exists(p) or os.path.getsize(p) < 100:
            bad.append("missing or tiny: " + n)
    for n in names - used - {".pending"}:
        bad.append("orphan or temp: " + n)
    pend = os.path.join(media, ".pending")
    if os.path.isdir(pend) and os.listdir(pend):
        bad.append("markers left: " + ", ".join(os.listdir(pend)[:3]))
    return bad


def total_requests(stats):
    return sum(m["requests"] for m in stats["models"].values())


def settled_stats(fake):
    """The fake's statistics once it has seen every connection of a killed
    client go: nothing in flight and the count unchanged for 100 ms."""
    last = None
    for _ in range(100):
        st = fake.stats()
        if st["totals"]["inFlight"] == 0 and last == st["totals"]["requests"]:
            return st
        last = st["totals"]["requests"] if st["totals"]["inFlight"] == 0 else None
        time.sleep(0.1)
    return st


def entry_moves(stderr):
    """(entry index, from, to) of each state change an -vv run logged."""
    out = []
    for line in stderr.splitlines():
        m = re.search(r"pipeline: entry (\d+) \(.*\) (\w+) -> (\w+)$", line)
        if m and m.group(2).isupper() and m.group(3).isupper():
            out.append((int(m.group(1)), m.group(2), m.group(3)))
    return out


def test_window_drains(tmp):
    """-j counts entries waiting for answers: an entry whose answers are in
    gives its slot to the next while its picture and clip are encoded and
    committed (DRAINING); the original's batches still wait for everything."""
    fake = Fake({"seed": 3, "default": {"latencyMs": 20, "jitter": 0}})
    try:
        open(tmp + "/w.txt", "w").write(words(4))
        env = {"GEMINI_BASE_URL": fake.url}
        r = run(tmp, ["-j", "1", "-vv", "propagate", tmp + "/w.txt"], env)
        mv = entry_moves(r.stderr)
        check("a -j 1 run exits 0 and logs its entries' states", r.returncode == 0 and mv,
              r.stderr[-800:])
        pos = {m: i for i, m in enumerate(mv)}
        d0, f0 = pos.get((0, "ACTIVE", "DRAINING")), pos.get((0, "DRAINING", "FINISHED"))
        a1 = next((i for i, m in enumerate(mv) if m[0] == 1 and m[2] == "ACTIVE"), None)
        check("an entry leaves the window once its answers are in (DRAINING)",
              None not in (d0, f0, a1) and d0 < a1 < f0, str(mv[:12]))
        waiting, most = set(), 0
        for i, a, b in mv:
            if b == "ACTIVE":
                waiting.add(i)
            elif a == "ACTIVE":
                waiting.discard(i)
            most = max(most, len(waiting))
        check("-j 1: never two entries waiting for answers at once", most == 1, str(mv))
        check("every entry finished", all((i, "DRAINING", "FINISHED") in pos or
                                          (i, "ACTIVE", "FINISHED") in pos for i in range(4)),
              str(mv))
        open(tmp + "/b.conf", "w").write("pipeline.batch_barrier = 1\n")
        r = run(tmp, ["--db", tmp + "/b.db", "--media", tmp + "/bmedia", "--config", tmp + "/b.conf",
                      "-j", "1", "-vv", "propagate", tmp + "/w.txt"], env)
        mv = entry_moves(r.stderr)
        pos = {m: i for i, m in enumerate(mv)}
        f0 = pos.get((0, "DRAINING", "FINISHED"), pos.get((0, "ACTIVE", "FINISHED")))
        a1 = next((i for i, m in enumerate(mv) if m[0] == 1 and m[2] == "ACTIVE"), None)
        check("batches (the original's way) wait for every file before the next batch",
              r.returncode == 0 and None not in (f0, a1) and f0 < a1, r.stderr[-800:])
    finally:
        fake.stop()


def test_slot_free_when_bytes_in(tmp):
    """An entry gives its slot away as soon as its last answer's bytes are
    in, before the worker pool has parsed them (a parse waits behind the
    pool's other work); an answer the parse rejects is asked for again and
    takes its entry back into the window, and no new entry starts while the
    window is full."""
    fake = Fake({"seed": 3, "default": {"latencyMs": 20, "jitter": 0}})
    try:
        open(tmp + "/w.txt", "w").write(words(3))
        env = {"GEMINI_BASE_URL": fake.url}
        r = run(tmp, ["-j", "1", "-vv", "propagate", tmp + "/w.txt"], env)
        lines = r.stderr.splitlines()
        drain = next((i for i, l in enumerate(lines)
                      if re.search(r"entry 0 \(.*\) ACTIVE -> DRAINING$", l)), None)
        img_done = next((i for i, l in enumerate(lines)
                         if "(gemini-3.1-flash-image) done" in l), None)
        check("the first entry drains before its picture's answer is parsed",
              r.returncode == 0 and None not in (drain, img_done) and drain < img_done,
              f"drain at {drain}, picture done at {img_done}: {r.stderr[-600:]}")
        fake.scenario({"seed": 3, "default": {"latencyMs": 20, "jitter": 0},
                       "models": {"gemini-3.1-flash-image": {"faults": {"malformed": 0.5}}}})
        r = run(tmp, ["--db", tmp + "/m.db", "--media", tmp + "/mmedia", "-j", "1", "-vv",
                      "propagate", tmp + "/w.txt"], env)
        mv = entry_moves(r.stderr)
        back = [m for m in mv if m[1] == "DRAINING" and m[2] == "ACTIVE"]
        check("a rejected picture takes its entry back into the window (DRAINING -> ACTIVE)",
              r.returncode == 0 and back, r.stderr[-800:])
        waiting, full_starts = set(), []
        for i, a, b in mv:
            if b == "ACTIVE" and a != "DRAINING" and len(waiting) >= 1:
                full_starts.append(i)
            if b == "ACTIVE":
                waiting.add(i)
            elif a == "ACTIVE":
                waiting.discard(i)
        check("no entry starts while the window is full", not full_starts, str(mv))
        ents = entries(tmp, tmp + "/m.db")
        check("and every entry ends done", len(ents) == 3 and all(
            e["stages"][k]["state"] == "done" for e in ents for k in ("details", "image", "audio")),
            str(ents)[:400])
    finally:
        fake.stop()


def test_japanese_tools_early(tmp):
    """MeCab, EDICT and the accent dictionary open on the worker pool as the
    run starts, while the first requests are on their way, not on the loop
    thread when the first answer comes in."""
    fake = Fake({"seed": 5, "default": {"latencyMs": 300, "jitter": 0}})
    try:
        open(tmp + "/w.txt", "w").write("- 猫: cat\n- 犬: dog\n")
        r = run(tmp, ["-j", "2", "-vv", "propagate", tmp + "/w.txt"],
                {"GEMINI_BASE_URL": fake.url})
        check("a Japanese run opens its tools on the worker pool as it starts",
              r.returncode == 0 and "Japanese tools opened on the worker pool" in r.stderr and
              "Japanese tools opened at the first answer" not in r.stderr, r.stderr[-800:])
        check("and still checks readings and adds the pitch accent",
              all(e.get("reading") and e.get("pitch_accent") for e in entries(tmp)),
              str(entries(tmp))[:400])
    finally:
        fake.stop()


def test_japanese_answers_wait_off_the_loop(tmp):
    """A details answer that comes in while the tools are still opening (a
    fresh cache: EDICT's index is built, hundreds of ms) waits for them
    without holding up the loop thread: the speech answered meanwhile is
    settled before the tools are open, and the details still get their
    checked reading and pitch accent."""
    fake = Fake({"seed": 5, "default": {"latencyMs": 20, "jitter": 0},
                 "models": {"gemini-3.8-flash-tts": {"latencyMs": 80, "jitter": 0}}})
    try:
        open(tmp + "/w.txt", "w").write("- 猫: cat\n- 犬: dog\n- 鳥: bird\n")
        r = run(tmp, ["-j", "3", "-vv", "propagate", tmp + "/w.txt"],
                {"GEMINI_BASE_URL": fake.url})
        lines = r.stderr.splitlines()
        opened = next((i for i, l in enumerate(lines)
                       if "Japanese tools opened on the worker pool" in l), None)
        speech = [i for i, l in enumerate(lines) if re.search(r"\) audio RUNNING -> DONE$", l)]
        check("speech answered while the tools open is settled before they are open",
              r.returncode == 0 and opened is not None and len(speech) == 3 and
              speech[0] < opened, f"opened at line {opened}, speech at {speech}: "
                                  f"{r.stderr[-800:]}")
        ents = entries(tmp)
        check("the details that waited get their reading and pitch accent",
              len(ents) == 3 and all(e.get("reading") and e.get("pitch_accent") and
                                     e["stages"]["details"]["state"] == "done" for e in ents),
              str(ents)[:400])
    finally:
        fake.stop()


def test_start_all_at_once(tmp):
    """Over plain http (HTTP/1.1) the first requests of a run all go out at
    once: none waits for the first answer to learn whether the connection
    could multiplex (CURLOPT_PIPEWAIT, kept for https)."""
    fake = Fake({"seed": 9, "default": {"latencyMs": 300, "jitter": 0}})
    try:
        open(tmp + "/w.txt", "w").write(words(4))
        r = run(tmp, ["-j", "4", "propagate", tmp + "/w.txt"], {"GEMINI_BASE_URL": fake.url})
        peak = fake.stats()["models"].get("gemini-3.8-flash", {}).get("maxInFlight", 0)
        check("4 entries at -j 4 over http: 4 text requests in flight at once",
              r.returncode == 0 and peak == 4, f"rc {r.returncode}, peak {peak}: {r.stderr[-400:]}")
    finally:
        fake.stop()


def test_fill_details_first(tmp):
    """When many entries start at once (the first fill), every details
    request goes to the engine before any speech request: an entry's path is
    details then picture, its speech (the word, waiting for nothing) has time
    to spare. Read from the -vv log of stage starts; the run ends done."""
    fake = Fake({"seed": 6, "default": {"latencyMs": 50, "jitter": 0}})
    try:
        open(tmp + "/w.txt", "w").write(words(6))
        r = run(tmp, ["-j", "6", "-vv", "propagate", tmp + "/w.txt"], {"GEMINI_BASE_URL": fake.url})
        starts = [m.group(1) for m in re.finditer(
            r"entry \d+ \(.*\) (details|audio) (?:WAITING|DEFERRED) -> RUNNING$", r.stderr, re.M)]
        check("the first fill starts 6 details and 6 speech requests",
              r.returncode == 0 and starts[:12].count("details") == 6 and
              starts[:12].count("audio") == 6, f"{starts}: {r.stderr[-600:]}")
        check("every details request of the fill before any of its speech requests",
              starts[:6] == ["details"] * 6, str(starts[:12]))
        ents = entries(tmp)
        check("and every entry ends done", len(ents) == 6 and all(
            e["stages"][k]["state"] == "done" for e in ents for k in ("details", "image", "audio")),
            str(ents)[:400])
    finally:
        fake.stop()


def test_ends_with_its_work(tmp):
    """The run ends when its last entry does, not at the next progress tick
    (a strong 100 ms timer kept the loop alive for it)."""
    fake = Fake({"seed": 4, "default": {"latencyMs": 150, "jitter": 0}})
    try:
        open(tmp + "/w.txt", "w").write(words(3))
        r = run(tmp, ["-j", "3", "-vv", "--progress", "always", "propagate", tmp + "/w.txt"],
                {"GEMINI_BASE_URL": fake.url})
        lines = r.stderr.splitlines()
        ticks = [i for i, ln in enumerate(lines) if "pipeline: progress tick" in ln]
        last = max((i for i, ln in enumerate(lines) if re.search(r"pipeline: entry \d+ .*-> FINISHED$", ln)),
                   default=None)
        check("a -vv run logs its progress ticks", r.returncode == 0 and ticks and last is not None,
              r.stderr[-600:])
        check("no progress tick after the last entry finished (the run ends with its work)",
              last is not None and all(i < last for i in ticks), f"ticks {ticks}, last {last}")
    finally:
        fake.stop()


def test_faults(tmp):
    fake = Fake({"seed": 7, "default": {"latencyMs": 20, "jitter": 0.5,
                 "faults": {"status503": 0.10, "reset": 0.05, "malformed": 0.03, "truncate": 0.03,
                            "sseError": 0.03}}})
    try:
        open(tmp + "/w.txt", "w").write(words(60))
        env = {"GEMINI_BASE_URL": fake.url, "WORDBANK_RETRY_BASE_MS": "20",
               "WORDBANK_RETRY_CAP_MS": "200"}
        r = run(tmp, ["-j", "16", "propagate", tmp + "/w.txt", "--json"], env)
        s = json.loads(r.stdout or "{}")
        check("a run with injected faults completes (exit 0)", r.returncode == 0,
              r.stderr[-2000:])
        check("every stage of every entry is done", all(
            s.get("stages", {}).get(k, {}).get("done") == 60 for k in ("details", "image", "audio")),
              json.dumps(s.get("stages")))
        check("the faults were retried", s.get("retries", 0) > 0, str(s.get("retries")))
        ents = entries(tmp)
        check("the store holds 60 complete entries", len(ents) == 60 and all(
            e["stages"][k]["state"] == "done" for e in ents for k in ("details", "image", "audio")))
        bad = media_ok(tmp, ents)
        check("media complete, nothing orphaned", not bad, "; ".join(bad[:5]))
        before = total_requests(fake.stats())
        r = run(tmp, ["propagate", tmp + "/w.txt", "--json"], env)
        after = total_requests(fake.stats())
        check("a second run exits 0", r.returncode == 0, r.stderr[-500:])
        check("a second run sends zero requests", after == before, f"{before} -> {after}")
        st = fake.stats()
        check("the key never travelled in a URL", st.get("totals", st).get("keyInUrl", 0) == 0)
        # The key is nowhere: not in the most verbose log, the database, the
        # media or an export.
        r = run(tmp, ["-vvv", "--force=details", "add", "語1", "word number 1", "--json"], env)
        check("a forced add of one entry exits 0 and remakes its details", r.returncode == 0 and
              json.loads(r.stdout or "{}").get("stages", {}).get("details", {}).get("done") == 1,
              r.stdout[-500:] + r.stderr[-500:])
        r2 = run(tmp, ["export", "--format", "jsonl", "-o", tmp + "/out.jsonl"], env)
        check("the export exits 0 and holds the 60 entries", r2.returncode == 0 and
              sum(1 for l in open(tmp + "/out.jsonl", encoding="utf-8") if l.strip()) == 60,
              r2.stderr[-500:])
        leaks = []
        if KEY in r.stdout + r.stderr:
            leaks.append("trace log")
        for dirpath, _, files in os.walk(tmp):
            for n in files:
                with open(os.path.join(dirpath, n), "rb") as f:
                    if KEY.encode() in f.read():
                        leaks.append(n)
        check("the key appears in no log, database, media or export file", not leaks and
              "engine" in r.stderr, ", ".join(leaks[:5]) or r.stderr[-300:])
    finally:
        fake.stop()


def test_sigkill(tmp):
    n, jobs = 40, 6
    fake = Fake({"seed": 3, "default": {"latencyMs": 120, "jitter": 0.3}})
    try:
        open(tmp + "/w.txt", "w").write(words(n))
        env = {"GEMINI_BASE_URL": fake.url}
        envfull = T.env(tmp, **env)
        ef = popen_stderr(tmp, "killed")
        p = subprocess.Popen([WB, "--db", tmp + "/wb.db", "--progress", "never", "-j", str(jobs),
                              "propagate", tmp + "/w.txt"], env=envfull,
                             stdout=subprocess.DEVNULL, stderr=ef)
        time.sleep(random.uniform(0.4, 1.2))
        p.send_signal(signal.SIGKILL)
        p.wait()
        scan_file(["propagate (killed)"], ef)
        check("the killed run died of the SIGKILL", p.returncode == -signal.SIGKILL, str(p.returncode))
        at_kill = settled_stats(fake)
        first = at_kill["totals"]["requests"]
        # Requests the kill cut off (the fake saw their client go) and those
        # it had answered.
        cut = at_kill["totals"]["statuses"].get("gone", 0)
        done_before = sum(1 for e in entries(tmp) for k in ("details", "image", "audio")
                          if e["stages"][k]["state"] == "done")
        r = run(tmp, ["-j", str(jobs), "propagate", tmp + "/w.txt", "--json"], env)
        check("the run after a SIGKILL finishes (exit 0)", r.returncode == 0, r.stderr[-1000:])
        ents = entries(tmp)
        check("every entry exactly once, every stage done", len(ents) == n and all(
            e["stages"][k]["state"] == "done" for e in ents for k in ("details", "image", "audio")),
              f"{len(ents)} entries")
        bad = media_ok(tmp, ents)
        check("no orphaned or truncated media after the kill", not bad, "; ".join(bad[:5]))
        # What a killed run would have left: a written, uncommitted file with
        # its pending marker (dead writer) goes; a file another word bank
        # sharing the media directory marked, and an unmarked file, stay.
        media = os.path.join(tmp, "media")
        pend = os.path.join(media, ".pending")
        os.makedirs(pend, exist_ok=True)
        orphan, other, plain = ("a" * 32 + ".mp3", "b" * 32 + ".mp3", "c" * 32 + ".mp3")
        for name in (orphan, other, plain, orphan + ".tmp-abc123"):
            open(os.path.join(media, name), "wb").write(b"ID3" + b"\0" * 200)
        dbreal = os.path.realpath(tmp + "/wb.db")
        open(os.path.join(pend, orphan), "w").write(f"db={dbreal}\npid=999999\n")
        open(os.path.join(pend, other), "w").write(f"db=/elsewhere/other.db\npid=999999\n")
        # A marker's own temp file (markers are written atomically), left by
        # a kill between its write and its rename, is settled like a marker.
        tmark = "d" * 32 + ".mp3.tmp-Zz9Zz9"
        open(os.path.join(pend, tmark), "w").write(f"db={dbreal}\npid=999999\n")
        r = run(tmp, ["propagate", tmp + "/w.txt"], env)
        left = set(os.listdir(media))
        check("a killed run's uncommitted file and temp files are removed, others' kept",
              r.returncode == 0 and orphan not in left and orphan + ".tmp-abc123" not in left and
              other in left and plain in left and not os.path.exists(os.path.join(pend, orphan)),
              f"rc {r.returncode} left {sorted(x for x in left if len(x) > 30 and x[0] in 'abc')}")
        check("a killed run's half-written marker is removed",
              not os.path.exists(os.path.join(pend, tmark)), ", ".join(sorted(os.listdir(pend))))
        for name in (other, plain):
            os.remove(os.path.join(media, name))
        os.remove(os.path.join(pend, other))
        total = fake.stats()["totals"]["requests"]
        # What the kill lost: the requests in flight (at most two stages of
        # each of the jobs entries in the window), and answers whose stage
        # was not committed yet (an entry gives its slot away when its
        # answers' bytes are in, before their parse and encode: at most a
        # turn's worth, which a run that committed late would exceed). The
        # next run asks for exactly the stages not committed: nothing
        # committed is paid for twice.
        how = (f"{first} requests before the kill: {cut} cut off, {first - cut} answered, "
               f"{done_before} stages committed; {total} in all for {3 * n} stages")
        check("the kill cut off no more requests than the window holds (2 per slot)",
              cut <= 2 * jobs, how)
        check("answers not yet committed at the kill are at most two per slot",
              0 <= first - cut - done_before <= 2 * jobs, how)
        check("the run after the kill asks for each stage not committed, once",
              total - first == 3 * n - done_before, how)
    finally:
        fake.stop()


def test_ctrl_c(tmp):
    """Ctrl-C: finished work is kept, exit 130, the next run goes on; a second
    Ctrl-C exits at once."""
    fake = Fake({"seed": 4, "default": {"latencyMs": 400, "jitter": 0.1}})
    try:
        open(tmp + "/w.txt", "w").write(words(40))
        envfull = T.env(tmp, GEMINI_BASE_URL=fake.url)
        cmd = [WB, "--db", tmp + "/wb.db", "--progress", "never", "-j", "4", "propagate",
               tmp + "/w.txt"]
        p = subprocess.Popen(cmd, env=envfull, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
        time.sleep(1.5)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=30)[1]
        scan(["propagate (Ctrl-C)"], err)
        took = time.monotonic() - t0
        check("Ctrl-C exits 130", p.returncode == 130, err[-600:])
        check("Ctrl-C lets requests in flight finish, then stops", took < 5, f"{took:.1f} s")
        check("Ctrl-C says finished work is saved", "saved" in err, err[-600:])
        ents = entries(tmp)
        done = [e for e in ents if e["stages"]["details"]["state"] == "done"]
        check("work finished before Ctrl-C is in the store", 0 < len(done) < 40, f"{len(done)}")
        check("nothing was marked failed by the interruption",
              all(e["stages"][k]["state"] != "failed" for e in ents for k in ("details", "image", "audio")))
        r = run(tmp, ["-j", "8", "propagate", tmp + "/w.txt"], {"GEMINI_BASE_URL": fake.url})
        check("the next run finishes the rest", r.returncode == 0 and all(
            e["stages"][k]["state"] == "done" for e in entries(tmp) for k in ("details", "image", "audio")),
              r.stderr[-500:])
        ef = popen_stderr(tmp, "abort")
        p = subprocess.Popen([WB, "--db", tmp + "/b.db", "--progress", "never", "-j", "4",
                              "propagate", tmp + "/w.txt"], env=envfull,
                             stdout=subprocess.DEVNULL, stderr=ef)
        time.sleep(1.0)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        p.wait(30)
        scan_file(["propagate (two Ctrl-C)"], ef)
        check("a second Ctrl-C exits at once with 130", p.returncode == 130 and
              time.monotonic() - t0 < 1.0, f"rc {p.returncode}")
        r = run(tmp, ["--db", tmp + "/b.db", "propagate", tmp + "/w.txt"], {"GEMINI_BASE_URL": fake.url})
        check("the store is consistent after an abort (the next run completes)",
              r.returncode == 0, r.stderr[-500:])
    finally:
        fake.stop()


def test_full_disk(tmp):
    """A full disk stops the run with one message (exit 3); what was committed
    stays, the database passes an integrity check and no media file is
    truncated. Needs root to mount a small tmpfs; reported as skipped if not."""
    import sqlite3
    disk = os.path.join(tmp, "disk")
    os.makedirs(disk)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", disk],
                                           capture_output=True).returncode != 0:
        T.skip("a full disk (needs root to mount a small tmpfs)", "skipped")
        return
    fake = Fake({"seed": 9, "default": {"latencyMs": 5}})
    try:
        open(tmp + "/w.txt", "w").write(words(300))
        env = T.env(tmp, GEMINI_BASE_URL=fake.url)
        r = subprocess.run([WB, "--db", disk + "/wb.db", "--progress", "never", "-j", "16",
                            "propagate", tmp + "/w.txt"], env=env, capture_output=True, text=True)
        scan(["propagate (full disk)"], r.stderr)
        check("a full disk stops the run with exit 3", r.returncode == 3, r.stderr[-800:])
        check("a full disk is said once, in plain words", "space" in r.stderr.lower() and
              r.stderr.lower().count("no space") <= 2, r.stderr[-800:])
        con = sqlite3.connect(disk + "/wb.db")
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        rows = con.execute("SELECT count(*) FROM entries").fetchone()[0]
        con.close()
        check("the database is intact after the disk filled", ok == "ok", ok)
        r2 = subprocess.run([WB, "--db", disk + "/wb.db", "list", "--json"], env=env,
                            capture_output=True, text=True)
        scan(["list (full disk)"], r2.stderr)
        check("the full disk's bank lists (exit 0)", r2.returncode == 0, r2.stderr[-500:])
        ents = json.loads(r2.stdout or "[]")
        # Which stages got committed before the disk filled depends on the
        # order answers and encodes finished (a run that made pictures first
        # filled the disk before any clip was written): any kept counts; the
        # next check holds every done picture and clip to its file.
        done = {st: sum(1 for e in ents if e["stages"][st]["state"] == "done")
                for st in ("details", "image", "audio")}
        check("work committed before the disk filled is kept",
              rows > 0 and sum(done.values()) > 0,
              f"{rows} rows, done: {done}")
        bad = []
        for e in ents:
            for st in ("image", "audio"):
                f = e["stages"][st]["file"]
                if e["stages"][st]["state"] == "done":
                    p = os.path.join(disk, "media", os.path.basename(f))
                    if not os.path.exists(p) or os.path.getsize(p) < 100:
                        bad.append(f)
        temps = [n for n in os.listdir(disk + "/media") if ".tmp-" in n] if os.path.isdir(disk + "/media") else []
        check("no done stage points at a missing or truncated file, no temp file left",
              not bad and not temps, f"{bad[:3]} {temps[:3]}")
    finally:
        fake.stop()
        subprocess.run(["umount", disk], capture_output=True)


def test_quota_and_auth(tmp):
    fake = Fake({"seed": 1, "default": {"latencyMs": 10},
                 "models": {"gemini-3.8-flash-tts": {"quota": {"requests": 3, "windowMs": 600000,
                                                                "perDay": True}}}})
    try:
        open(tmp + "/w.txt", "w").write(words(12))
        env = {"GEMINI_BASE_URL": fake.url}
        r = run(tmp, ["-j", "4", "propagate", tmp + "/w.txt", "--json"], env)
        s = json.loads(r.stdout or "{}")
        st = s.get("stages", {})
        check("a daily quota ends the run with exit 1", r.returncode == 1, r.stderr[-800:])
        check("the other stages finish despite the speech quota",
              st.get("details", {}).get("done") == 12 and st.get("image", {}).get("done") == 12,
              json.dumps(st))
        # Said once, not per entry: the engine's warning for the model and the
        # pipeline's for the stage, one line each (12 entries, 9 refused).
        check("the quota message is said once", r.stderr.count("daily quota exhausted") == 1 and
              r.stderr.count("audio stage stopped for this run") == 1, r.stderr[-800:])
        tts = fake.stats()["models"].get("gemini-3.8-flash-tts", {})
        check("no retrying against an exhausted daily quota", tts.get("requests", 0) <= 3 + 4,
              json.dumps(tts))
    finally:
        fake.stop()
    fake = Fake({"default": {"latencyMs": 5}})
    try:
        t2 = tmp + "/auth"
        os.makedirs(t2)
        open(t2 + "/w.txt", "w").write(words(30))
        r = run(t2, ["-j", "4", "propagate", t2 + "/w.txt"], {"GEMINI_BASE_URL": fake.url,
                                                             "GEMINI_API_KEY": "wrong-key-1234567890"})
        check("a rejected key stops the run with exit 3", r.returncode == 3, r.stderr[-800:])
        check("a rejected key is reported once, not per entry",
              r.stderr.count("API key not valid") == 1, r.stderr[-800:])
        check("a rejected key does not appear in the output", "wrong-key-1234567890" not in r.stderr)
        check("a rejected key stops early", total_requests(fake.stats()) <= 12,
              str(total_requests(fake.stats())))
    finally:
        fake.stop()


def test_terminal(tmp):
    """On a terminal the display redraws in place, then the summary."""
    if not shutil.which("tmux"):
        check("tmux is installed for the terminal test", False)
        return
    fake = Fake({"seed": 5, "default": {"latencyMs": 250, "jitter": 0.2}})
    sock = os.path.join(tmp, "tmux.sock")
    try:
        open(tmp + "/w.txt", "w").write(words(24))
        cmd = (f"cd {tmp} && GEMINI_API_KEY={KEY} GEMINI_BASE_URL={fake.url} HOME={tmp} "
               f"XDG_CACHE_HOME={tmp}/cache {WB} --db {tmp}/wb.db -j 3 propagate w.txt; "
               f"echo EXIT=$?; sleep 30")
        subprocess.run(["tmux", "-S", sock, "new-session", "-d", "-x", "160", "-y", "40", cmd],
                       check=True)
        panes = []
        deadline = time.time() + 60
        while time.time() < deadline:
            out = subprocess.run(["tmux", "-S", sock, "capture-pane", "-p"], capture_output=True,
                                 text=True).stdout
            panes.append(out)
            if "EXIT=" in out:
                break
            time.sleep(0.3)
        live = [p for p in panes if "in flight" in p and "EXIT=" not in p]
        check("the live display shows every stage with counts",
              live and all(w in live[len(live) // 2] for w in ("details", "image", "audio", "queued", "ETA")),
              live[len(live) // 2] if live else "\n".join(panes[-1:]))
        check("the display is redrawn in place (one line per stage, never scrolled)",
              live and all(p.count("in flight") == 3 for p in live), live[-1] if live else "")
        changed = len({p for p in live}) > 1
        check("the display changes as work proceeds", changed)
        last = panes[-1] if panes else ""
        scan(["propagate (on a terminal)"], last)
        check("the final summary follows", "24 of 24 entries complete" in last and "EXIT=0" in last,
              last)
    finally:
        subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True)
        fake.stop()


def test_doctor(tmp):
    fake = Fake({})
    try:
        env = {"GEMINI_BASE_URL": fake.url}
        r = run(tmp, ["doctor"], env)
        check("doctor finds every default model on the endpoint", r.returncode == 0 and
              r.stdout.count(": available") == 3, r.stdout + r.stderr)
        r = run(tmp, ["--tts-model", "gemini-2.5-flash-preview-tts", "doctor"], env)
        check("doctor names a retired model and close alternatives (exit 3)",
              r.returncode == 3 and "gemini-2.5-flash-preview-tts" in r.stderr and
              "gemini-3.8-flash-tts" in r.stdout, r.stdout + r.stderr)
        check("doctor never prints the key", KEY not in r.stdout + r.stderr)
    finally:
        fake.stop()


def test_providers(tmp):
    """OpenAI-compatible endpoints, and a provider per stage."""
    fake = Fake({"seed": 2, "default": {"latencyMs": 10}})
    try:
        open(tmp + "/w.txt", "w").write(words(8))
        env = {"OPENAI_BASE_URL": fake.url + "/v1", "OPENAI_API_KEY": "sk-test-not-secret-123456"}
        r = run(tmp, ["--provider", "openai", "propagate", tmp + "/w.txt", "--json"], env)
        s = json.loads(r.stdout or "{}")
        check("the openai provider makes every stage", r.returncode == 0 and all(
            s["stages"][k]["done"] == 8 for k in ("details", "image", "audio")), r.stderr[-800:])
        ents = entries(tmp)
        check("openai results are stored with their provider",
              all(e["stages"]["details"]["model"] == "gpt-4o-mini" for e in ents), json.dumps(ents[:1]))
        before = fake.stats()["models"]
        t2 = tmp + "/mixed"
        os.makedirs(t2)
        open(t2 + "/w.txt", "w").write(words(5))
        r = run(t2, ["--audio-provider", "offline", "--no-image", "propagate", t2 + "/w.txt",
                     "--json"], {"GEMINI_BASE_URL": fake.url})
        s = json.loads(r.stdout or "{}")
        after = fake.stats()["models"]
        tts = after.get("gemini-3.8-flash-tts", {}).get("requests", 0) - \
            before.get("gemini-3.8-flash-tts", {}).get("requests", 0)
        txt = after.get("gemini-3.8-flash", {}).get("requests", 0) - \
            before.get("gemini-3.8-flash", {}).get("requests", 0)
        t3 = tmp + "/merge"
        os.makedirs(t3)
        open(t3 + "/w.txt", "w").write("- 生: raw (uncooked fish)\n- 生: life (one's life)\n"
                                       "- 生: raw (uncooked fish)\n")
        b = fake.stats()["models"].get("gemini-3.8-flash-tts", {}).get("requests", 0)
        r2 = run(t3, ["propagate", t3 + "/w.txt", "--json"], {"GEMINI_BASE_URL": fake.url})
        s2 = json.loads(r2.stdout or "{}")
        a = fake.stats()["models"].get("gemini-3.8-flash-tts", {}).get("requests", 0)
        ents = entries(t3)
        check("duplicates merge and one pronunciation serves both senses",
              r2.returncode == 0 and len(ents) == 2 and a - b == 1 and s2.get("merged", 0) >= 1 and
              ents[0]["stages"]["audio"]["file"] == ents[1]["stages"]["audio"]["file"],
              f"tts requests {a - b}, {s2.get('merged')} merged, {len(ents)} entries")
        check("details from gemini and speech offline, per stage", r.returncode == 0 and
              s["stages"]["audio"]["done"] == 5 and tts == 0 and txt == 5,
              f"rc {r.returncode} tts {tts} text {txt} {r.stderr[-500:]}")
    finally:
        fake.stop()


def test_speech(tmp):
    """One-off speech (tts) and a dialogue through each network provider's
    table: one request each, an encoded clip out."""
    fake = Fake({"seed": 6, "default": {"latencyMs": 10}})
    try:
        def reqs(model):
            return fake.stats()["models"].get(model, {}).get("requests", 0)
        oenv = {"OPENAI_BASE_URL": fake.url + "/v1", "OPENAI_API_KEY": "sk-test-not-secret-123456"}
        genv = {"GEMINI_BASE_URL": fake.url}
        for prov, env, model in (("gemini", genv, "gemini-3.8-flash-tts"),
                                 ("openai", oenv, "gpt-4o-mini-tts")):
            out = f"{tmp}/{prov}.mp3"
            before = reqs(model)
            r = run(tmp, ["--provider", prov, "tts", "ねこ", "-o", out], env)
            check(f"tts through {prov}: one request, an MP3 out",
                  r.returncode == 0 and reqs(model) - before == 1 and os.path.exists(out) and
                  os.path.getsize(out) > 100, f"rc {r.returncode} {r.stderr[-500:]}")
        open(tmp + "/two.txt", "w").write("A: こんにちは\nB: こんばんは\n")
        before = reqs("gemini-3.8-flash-tts")
        r = run(tmp, ["--provider", "gemini", "dialogue", tmp + "/two.txt", "-o", tmp + "/d.mp3"],
                genv)
        check("a dialogue through gemini: one request, an MP3 out",
              r.returncode == 0 and reqs("gemini-3.8-flash-tts") - before == 1 and
              os.path.getsize(tmp + "/d.mp3") > 100, f"rc {r.returncode} {r.stderr[-500:]}")
    finally:
        fake.stop()


def test_commits(tmp):
    # A loop turn's finished stages share one transaction: the store counts
    # its commits, and the run says how many it made (-vv). One transaction a
    # stage would be at least 3 an entry (3 stages) plus the claims; the first
    # fill's 40 details answers come back together (measured: 81-92 in all).
    n = 40
    fake = Fake({"seed": 5, "default": {"latencyMs": 30, "jitter": 0.1}})
    try:
        open(tmp + "/w.txt", "w").write(words(n))
        r = run(tmp, ["-vv", "-j", str(n), "propagate", tmp + "/w.txt", "--json"],
                {"GEMINI_BASE_URL": fake.url})
        check("the run exits 0", r.returncode == 0, r.stderr[-1000:])
        m = [l for l in r.stderr.splitlines() if "write transactions for" in l]
        got = int(m[-1].split("store: ")[1].split()[0]) if m else -1
        check(f"fewer write transactions than stages ({got} for {n} entries)",
              0 < got < 3 * n, m[-1] if m else r.stderr[-500:])
        ents = entries(tmp)
        check("every stage of every entry is stored as done", len(ents) == n and all(
            e["stages"][k]["state"] == "done" for e in ents for k in ("details", "image", "audio")))
        bad = media_ok(tmp, ents)
        check("media complete, no marker left", not bad, "; ".join(bad[:5]))
    finally:
        fake.stop()


def hidden_lib(stem):
    """The versioned file of a shared library (libwebp.so.7.1.5), to hide."""
    import glob
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"):
        hits = sorted(f for f in glob.glob(f"{d}/{stem}.so.*") if re.search(r"\.so\.\d+\.\d+", f))
        if hits:
            return hits[0]
    return None


def run_hiding(tmp, lib, args, env_extra):
    """wordbank with lib replaced by an empty file in a private mount
    namespace: the loader finds it and cannot load it."""
    cmd = ["unshare", "-m", "bash", "-c", 'mount --bind /dev/null "$1" && shift && exec "$@"', "_",
           lib, WB, "--db", tmp + "/wb.db", "--progress", "never"] + args
    r = subprocess.run(cmd, env=T.env(tmp, **env_extra), capture_output=True, text=True)
    scan(args, r.stderr)
    return r


def test_encoders_before_paying(tmp):
    """An encoder's library that cannot be loaded stops the run before any
    picture or clip is asked for (exit 3, the loader's reason), not after
    each was paid for: M4A without libavformat on a bank whose details are
    done (speech and pictures would start at once), and pictures without
    libwebp on a fresh bank. The details that went out meanwhile are kept,
    and the next run asks for none of them again."""
    libs = (hidden_lib("libavformat"), hidden_lib("libwebp"))
    if os.geteuid() != 0 or not shutil.which("unshare") or not all(libs) or \
            subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        for name in ("the details run exits 0", "M4A without libavformat: exit 3, the loader's reason",
                     "M4A without libavformat: no clip and no picture asked for",
                     "tts to M4A without libavformat: exit 3, nothing asked for, no file",
                     "pictures without libwebp: exit 3, the loader's reason",
                     "pictures without libwebp: no picture and no clip asked for; every details "
                     "answer that came is kept",
                     "with the library back, the next run finishes and asks for no details twice"):
            T.skip(name, "needs root, unshare, libavformat and libwebp to hide")
        return
    fake = Fake({"seed": 12, "default": {"latencyMs": 40}})
    genv = {"GEMINI_BASE_URL": fake.url}

    def reqs(model):
        return fake.stats()["models"].get(model, {}).get("requests", 0)
    try:
        n = 12
        open(tmp + "/w.txt", "w").write(words(n))
        r = run(tmp, ["-j", "4", "--no-image", "--no-audio", "propagate", tmp + "/w.txt"], genv)
        check("the details run exits 0", r.returncode == 0, r.stderr[-500:])
        lib = libs[0]
        r = run_hiding(tmp, lib, ["-j", "4", "--audio-format", "m4a", "propagate", tmp + "/w.txt"],
                       genv)
        check("M4A without libavformat: exit 3, the loader's reason",
              r.returncode == 3 and "M4A needs libavcodec and libavformat" in r.stderr,
              f"rc {r.returncode} {r.stderr[-600:]}")
        check("M4A without libavformat: no clip and no picture asked for",
              reqs("gemini-3.8-flash-tts") == 0 and reqs("gemini-3.1-flash-image") == 0,
              json.dumps(fake.stats()["models"])[:600])
        tts0 = reqs("gemini-3.8-flash-tts")
        r = run_hiding(tmp, lib, ["--provider", "gemini", "tts", "ねこ", "-o", tmp + "/n.m4a"], genv)
        check("tts to M4A without libavformat: exit 3, nothing asked for, no file",
              r.returncode == 3 and "M4A needs libavcodec and libavformat" in r.stderr and
              reqs("gemini-3.8-flash-tts") == tts0 and not os.path.exists(tmp + "/n.m4a"),
              f"rc {r.returncode} {r.stderr[-400:]}")

        os.makedirs(tmp + "/b")
        lib = libs[1]
        text0, image0, tts0 = (reqs(m) for m in ("gemini-3.8-flash", "gemini-3.1-flash-image",
                                                 "gemini-3.8-flash-tts"))
        r = run_hiding(tmp + "/b", lib, ["-j", "4", "propagate", tmp + "/w.txt"], genv)
        check("pictures without libwebp: exit 3, the loader's reason",
              r.returncode == 3 and "pictures need libpng, libjpeg and libwebp" in r.stderr,
              f"rc {r.returncode} {r.stderr[-600:]}")
        asked = reqs("gemini-3.8-flash") - text0
        ents = entries(tmp + "/b")
        kept = sum(1 for e in ents if e["stages"]["details"]["state"] == "done")
        check("pictures without libwebp: no picture and no clip asked for; every details "
              "answer that came is kept",
              reqs("gemini-3.8-flash-tts") == tts0 and reqs("gemini-3.1-flash-image") == image0 and
              kept == asked, f"{asked} details asked, {kept} kept; "
              + json.dumps(fake.stats()["models"])[:400])
        r = run(tmp + "/b", ["-j", "4", "propagate", tmp + "/w.txt"], genv)
        check("with the library back, the next run finishes and asks for no details twice",
              r.returncode == 0 and reqs("gemini-3.8-flash") - text0 == n and
              reqs("gemini-3.1-flash-image") - image0 == n and reqs("gemini-3.8-flash-tts") - tts0 == n,
              f"rc {r.returncode} {r.stderr[-400:]} " + json.dumps(fake.stats()["models"])[:400])
    finally:
        fake.stop()


def main():
    T.run_tests((test_doctor, test_window_drains, test_slot_free_when_bytes_in, test_japanese_tools_early,
                 test_japanese_answers_wait_off_the_loop, test_start_all_at_once,
                 test_fill_details_first, test_ends_with_its_work,
                 test_providers, test_speech, test_faults, test_sigkill, test_ctrl_c, test_full_disk,
                 test_quota_and_auth, test_terminal, test_commits, test_encoders_before_paying),
                "wbpipe.", "WB_PIPELINE_ONLY")
    T.check_sanitizers()
    T.finish()


main()
