#!/usr/bin/env python3
"""What docs/pipeline.md and the README promise about a run, against the
loopback Gemini fake, through the wordbank command: the cost estimate from
price.<model>.in/.out; --force remakes exactly the named stage; a blocked
stage is recorded as failed with the API's reason while the entry's other
stages and the other entries go on; a retired model (404) stops the run at
once with one message, leaving the other stages as they were; a daily quota
leaves the entries incomplete (not failed) and the next run finishes them;
timeout.connect_ms bounds a connect that never completes.
Every wordbank run's exit status is checked and its stderr searched for
sanitizer reports. Prints TAP."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["WB_SOURCE_ROOT"], "tests", "harness"))
from wbtest import WB, Fake, check, check_sanitizers, env, finish, run_tests, scan  # noqa: E402


def run(tmp, args, want, fake, db="wb.db"):
    """wordbank in tmp; checks the exit status (one TAP line) and records a
    sanitizer report. Returns (stdout, stderr)."""
    r = subprocess.run([WB, "--db", os.path.join(tmp, db), "--progress", "never"] + args,
                       env=env(tmp, GEMINI_BASE_URL=fake.url), cwd=tmp, capture_output=True,
                       text=True)
    scan(args, r.stderr)
    check(f"wordbank {' '.join(args)} exits {want}", r.returncode == want,
          f"exit {r.returncode}\n{r.stderr[-1500:]}")
    return r.stdout, r.stderr


def entries(tmp, fake, db="wb.db"):
    out, _ = run(tmp, ["list", "--json"], 0, fake, db)
    try:
        return {e["word"]: e for e in json.loads(out)}
    except ValueError:
        return {}


def words(n):
    return "".join(f"- 語{i}: word number {i}\n" for i in range(n))


TEXT, TTS, IMG = "gemini-3.8-flash", "gemini-3.8-flash-tts", "gemini-3.1-flash-image"
STAGES = ("details", "image", "audio")


def test_cost(tmp):
    """price.<model>.in / .out are USD per million tokens: the estimate is
    tokens x price, and doubling the prices doubles it."""
    fake = Fake({"seed": 1, "default": {"latencyMs": 5}})
    try:
        open(tmp + "/w.txt", "w").write(words(4))
        conf = "".join(f"[price.{m}]\nin = {{pin}}\nout = {{pout}}\n" for m in (TEXT, TTS, IMG))
        open(tmp + "/wordbank.conf", "w").write(conf.format(pin=0.30, pout=2.50))
        out, _ = run(tmp, ["propagate", "w.txt", "--json"], 0, fake, "a.db")
        s = json.loads(out or "{}")
        tin, tout = s.get("tokens_in", 0), s.get("tokens_out", 0)
        want = (tin * 0.30 + tout * 2.50) / 1e6
        check("the cost estimate is tokens x price per million", tin > 0 and tout > 0 and
              abs(s.get("cost_usd", -1) - want) <= 0.00006, f"{s.get('cost_usd')} vs {want:.5f} "
              f"({tin} in, {tout} out)")
        open(tmp + "/wordbank.conf", "w").write(conf.format(pin=0.60, pout=5.00))
        out, _ = run(tmp, ["propagate", "w.txt", "--json"], 0, fake, "b.db")
        s2 = json.loads(out or "{}")
        check("doubled prices double the estimate (same tokens)",
              s2.get("tokens_in") == tin and s2.get("tokens_out") == tout and
              abs(s2.get("cost_usd", -1) - 2 * s.get("cost_usd", 0)) <= 0.00011,
              f"{s.get('cost_usd')} then {s2.get('cost_usd')}")
        # Per model, as documented: only the speech model priced.
        open(tmp + "/wordbank.conf", "w").write(
            f"[price.{TEXT}]\nin = 0\nout = 0\n[price.{IMG}]\nin = 0\nout = 0\n"
            f"[price.{TTS}]\nin = 100\nout = 100\n")
        out, _ = run(tmp, ["propagate", "w.txt", "--json"], 0, fake, "d.db")
        s3 = json.loads(out or "{}")
        check("a price set for one model counts that model's tokens (and only those)",
              0 < s3.get("cost_usd", 0) < (s3.get("tokens_in", 0) + s3.get("tokens_out", 0)) * 100 / 1e6,
              f"cost {s3.get('cost_usd')} with only {TTS} priced")
    finally:
        fake.stop()


def test_force(tmp):
    """--force=details remakes the details of every entry and nothing else;
    without --force a second run sends nothing."""
    fake = Fake({"seed": 2, "default": {"latencyMs": 5}})
    try:
        open(tmp + "/w.txt", "w").write(words(5))
        run(tmp, ["propagate", "w.txt"], 0, fake)
        before = {m: fake.requests(m) for m in (TEXT, TTS, IMG)}
        out, _ = run(tmp, ["propagate", "w.txt", "--json"], 0, fake)
        same = {m: fake.requests(m) for m in (TEXT, TTS, IMG)}
        check("a second run without --force sends no request", same == before, f"{before} {same}")
        out, _ = run(tmp, ["--force=details", "propagate", "w.txt", "--json"], 0, fake)
        s = json.loads(out or "{}")
        after = {m: fake.requests(m) for m in (TEXT, TTS, IMG)}
        check("--force=details remakes the 5 details, image and audio stay cached",
              after[TEXT] - same[TEXT] == 5 and after[TTS] == same[TTS] and after[IMG] == same[IMG]
              and s["stages"]["details"]["done"] == 5 and s["stages"]["audio"]["cached"] == 5,
              f"{same} -> {after}; {json.dumps(s.get('stages'))}")
        out, _ = run(tmp, ["--force", "propagate", "w.txt", "--json"], 0, fake)
        again = {m: fake.requests(m) for m in (TEXT, TTS, IMG)}
        check("--force alone remakes every stage",
              all(again[m] - after[m] == 5 for m in (TEXT, TTS, IMG)), f"{after} -> {again}")
    finally:
        fake.stop()


def test_blocked(tmp):
    """A blocked prompt fails that stage with the API's reason; the entry's
    other stages and the other entries go on; exit 1 and the failure listed."""
    fake = Fake({"seed": 3, "default": {"latencyMs": 5, "blocked": ["語1"]}})
    try:
        open(tmp + "/w.txt", "w").write(words(4))
        out, err = run(tmp, ["propagate", "w.txt", "--json"], 1, fake)
        s = json.loads(out or "{}")
        ents = entries(tmp, fake)
        e1 = ents.get("語1", {}).get("stages", {})
        check("the blocked entry's details are failed with the reason",
              e1.get("details", {}).get("state") == "failed" and
              "block" in (e1.get("details", {}).get("error") or "").lower(), json.dumps(e1))
        check("the blocked entry's audio still went on", e1.get("audio", {}).get("state") == "done",
              json.dumps(e1))
        others = [w for w in ents if w != "語1"]
        check("the other entries are complete", len(others) == 3 and all(
            ents[w]["stages"][k]["state"] == "done" for w in others for k in STAGES),
              json.dumps({w: ents[w]["stages"] for w in others})[:800])
        check("the summary lists the one failure", len(s.get("failures", [])) == 1 and
              "語1" in json.dumps(s.get("failures"), ensure_ascii=False), json.dumps(s)[:800])
    finally:
        fake.stop()


def test_model_404(tmp):
    """A retired model stops the run at once with one message naming it;
    stages already done stay as they were."""
    fake = Fake({"seed": 4, "default": {"latencyMs": 5}})
    try:
        open(tmp + "/w.txt", "w").write(words(20))
        run(tmp, ["-j", "4", "--no-audio", "--no-image", "propagate", "w.txt"], 0, fake)
        n0 = fake.requests("gemini-0-retired")
        _, err = run(tmp, ["-j", "4", "--text-model", "gemini-0-retired", "--force=details",
                           "propagate", "w.txt"], 3, fake)
        check("the 404 is said once, naming the model",
              err.count("gemini-0-retired is not found") == 1, err[-800:])
        ents = entries(tmp, fake)
        check("the details done before stay done", len(ents) == 20 and all(
            e["stages"]["details"]["state"] == "done" for e in ents.values()),
              json.dumps([e["stages"]["details"] for e in ents.values()][:2]))
        st = fake.stats()
        sent = sum(m.get("requests", 0) for k, m in st["models"].items() if "retired" in k)
        check("the run stops early: no more 404s than the requests in flight",
              sent - n0 <= 8 or sent == 0, f"{sent} requests to the retired model")
    finally:
        fake.stop()


def test_daily_quota_incomplete(tmp):
    """A daily quota leaves the entries it could not serve incomplete (missing,
    not failed); the next run (quota back) finishes them."""
    fake = Fake({"seed": 5, "default": {"latencyMs": 5},
                 "models": {TTS: {"quota": {"requests": 3, "windowMs": 600000, "perDay": True}}}})
    try:
        open(tmp + "/w.txt", "w").write(words(8))
        run(tmp, ["-j", "2", "propagate", "w.txt"], 1, fake)
        ents = entries(tmp, fake)
        audio = [e["stages"]["audio"]["state"] for e in ents.values()]
        check("entries the quota refused are missing, not failed",
              audio.count("done") == 3 and audio.count("missing") == 5 and "failed" not in audio,
              str(audio))
        fake.scenario({"seed": 5, "default": {"latencyMs": 5}})
        run(tmp, ["propagate", "w.txt"], 0, fake)
        ents = entries(tmp, fake)
        check("the next run finishes them", len(ents) == 8 and all(
            e["stages"]["audio"]["state"] == "done" for e in ents.values()))
    finally:
        fake.stop()


def text_arrivals(fake):
    """Arrival times (ms) of the text model's requests at the fake, sorted."""
    log = fake.log(2000)
    return sorted(e["t"] for e in log if TEXT in (e.get("path") or ""))


def test_tpm(tmp):
    """limit.<model>.tpm end to end: the pipeline gives the engine each
    request's estimated tokens (at least 300 a details request), and the
    engine spaces the requests so the model sees no more than tpm tokens a
    minute: at tpm 72000 that is at least 250 ms between text requests after
    the first. Without the limit the same run sends them together. Only lower
    bounds on the gaps are asserted (load can only widen them)."""
    fake = Fake({"seed": 6, "default": {"latencyMs": 5}})
    try:
        open(tmp + "/w.txt", "w").write(words(8))
        run(tmp, ["-j", "8", "--no-image", "--no-audio", "propagate", "w.txt"], 0, fake, "free.db")
        free = text_arrivals(fake)
        open(tmp + "/wordbank.conf", "w").write(f"[limit.{TEXT}]\ntpm = 72000\n")
        run(tmp, ["-j", "8", "--no-image", "--no-audio", "propagate", "w.txt"], 0, fake, "tpm.db")
        lim = [t for t in text_arrivals(fake) if t > free[-1]]
        gaps = [b - a for a, b in zip(lim, lim[1:])]
        free_gaps = [b - a for a, b in zip(free, free[1:])]
        check("without tpm the 8 details requests go together",
              len(free) == 8 and sorted(free_gaps)[len(free_gaps) // 2] < 150, str(free_gaps))
        check("with tpm 72000 the details requests are spaced by their tokens (>= 250 ms each)",
              len(lim) == 8 and all(g >= 240 for g in gaps[1:]), str(gaps))
    finally:
        fake.stop()


def test_connect_timeout(tmp):
    """timeout.connect_ms bounds the connect: a loopback listener whose
    accept queue is full never completes the handshake; each request fails
    with the transport's message after the configured time (curl's own
    figure), not the 10 s default."""
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fill = []
    try:
        for _ in range(4):  # fill the backlog: later SYNs are dropped
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fill.append(c)

        class Closed:
            url = f"http://127.0.0.1:{port}"
        for ms in (400, 1500):
            open(tmp + "/wordbank.conf", "w").write(f"[timeout]\nconnect_ms = {ms}\n"
                                                   "[retry]\nmax_attempts = 1\n")
            _, err = run(tmp, ["--no-image", "add", "猫", "cat"], 1, Closed, f"t{ms}.db")
            # curl says either "Failed to connect to HOST port P after N ms"
            # or "Connection timeout after N ms".
            got = [int(x) for x in re.findall(r"(?:Failed to connect to 127\.0\.0\.1 port \d+ "
                                              r"after|Connection timeout after) (\d+) ms", err)]
            check(f"timeout.connect_ms = {ms}: the connects give up after {ms} ms",
                  len(got) == 2 and all(ms <= g < ms + 1000 for g in got), err[-600:])
    finally:
        for c in fill:
            c.close()
        srv.close()


def main():
    run_tests((test_cost, test_force, test_blocked, test_model_404, test_daily_quota_incomplete,
               test_tpm, test_connect_timeout), "wbprom.", "WB_PIPELINE_ONLY")
    check_sanitizers()
    finish()


main()
