#!/usr/bin/env python3
"""Gemini Batch mode end to end against the loopback fake, through the
wordbank command (propagate --batch, batch status, batch cancel): 120 entries
through inline jobs with zero interactive text and image calls, speech served
interactively because the fake's speech model lacks batchGenerateContent; the
same through JSONL files uploaded with the Files API (speech in batch too); a
run killed with SIGKILL after its first job was created, then a rerun that
submits nothing twice and finishes every entry; per-request errors and an
expired job; Ctrl-C while waiting; --no-wait, batch status --json and batch
cancel. Prints TAP."""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["WB_SOURCE_ROOT"], "tests", "harness"))
import wbtest as T  # noqa: E402
from wbtest import KEY, WB, Fake, check, wait_for  # noqa: E402

TEXT, IMAGE, TTS = "gemini-3.8-flash", "gemini-3.1-flash-image", "gemini-3.8-flash-tts"


def words(n, extra=""):
    return "".join(f"- 語{i}: word number {i} (test entry {i})\n" for i in range(n)) + extra


def config(tmp, extra=""):
    path = tmp + "/wordbank.conf"
    with open(path, "w") as f:
        f.write("[batch]\npoll_first_ms = 50\npoll_max_ms = 200\npoll_factor = 2\n" + extra)
    return path


def env_for(fake):
    return {"GEMINI_BASE_URL": fake.url, "WORDBANK_RETRY_BASE_MS": "20",
            "WORDBANK_RETRY_CAP_MS": "200"}


def cmd(tmp, args):
    return [WB, "--db", tmp + "/wb.db", "--config", tmp + "/wordbank.conf", "--progress",
            "never"] + args


def run(tmp, args, env_extra=None, **kw):
    return subprocess.run(cmd(tmp, args), env=T.env(tmp, **(env_extra or {})), capture_output=True,
                          text=True, timeout=240,
                          **kw)


def popen(tmp, args, env_extra):
    return subprocess.Popen(cmd(tmp, args), env=T.env(tmp, **env_extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def entries(tmp):
    r = run(tmp, ["list", "--json"])
    return json.loads(r.stdout) if r.returncode == 0 else []


def complete(ents, stages=("details", "image", "audio")):
    return [e["word"] for e in ents if any(e["stages"][s]["state"] != "done" for s in stages)]


def media_ok(tmp, ents):
    media = os.path.join(tmp, "media")
    bad = []
    for e in ents:
        for st in ("image", "audio"):
            f = e["stages"][st]["file"]
            if e["stages"][st]["state"] == "done":
                p = os.path.join(media, os.path.basename(f or "-"))
                if not os.path.exists(p) or os.path.getsize(p) < 100:
                    bad.append(f"{e['word']} {st}: missing or tiny")
    pend = os.path.join(media, ".pending")
    if os.path.isdir(pend) and os.listdir(pend):
        bad.append("markers left")
    return bad


def calls(log, model, verb):
    return [x for x in log if x["path"].endswith(f"/models/{model}:{verb}")]


def interactive(log, model):
    return calls(log, model, "generateContent") + calls(log, model, "streamGenerateContent")


def batch_keys(log, model):
    """Every request key submitted inline for model, over all creates."""
    keys = []
    for x in calls(log, model, "batchGenerateContent"):
        ic = (x.get("body") or {}).get("batch", {}).get("inputConfig", {})
        for q in ic.get("requests", {}).get("requests", []):
            keys.append(q["metadata"]["key"])
    return keys


def status_json(tmp, env):
    r = run(tmp, ["batch", "status", "--json"], env)
    try:
        return r, json.loads(r.stdout)["jobs"]
    except (ValueError, KeyError):
        return r, None


def test_inline(tmp):
    fake = Fake({"seed": 3, "batchDelayMs": 300, "default": {"latencyMs": 5}})
    try:
        env = env_for(fake)
        config(tmp)
        open(tmp + "/w.txt", "w").write(words(120))
        r = run(tmp, ["propagate", "--batch", tmp + "/w.txt"], env)
        log = fake.log()
        check("inline: propagate --batch exits 0", r.returncode == 0, r.stderr[-2000:])
        ents = entries(tmp)
        check("inline: 120 entries, every stage done", len(ents) == 120 and not complete(ents),
              f"{len(ents)} entries, incomplete: {complete(ents)[:5]}")
        check("inline: media valid, no markers left", not media_ok(tmp, ents),
              "; ".join(media_ok(tmp, ents)[:5]))
        check("inline: zero interactive text and image calls",
              not interactive(log, TEXT) and not interactive(log, IMAGE),
              f"{len(interactive(log, TEXT))} text, {len(interactive(log, IMAGE))} image")
        tk, ik = batch_keys(log, TEXT), batch_keys(log, IMAGE)
        per_entry = {}
        for x in calls(log, IMAGE, "batchGenerateContent"):
            for q in x["body"]["batch"]["inputConfig"]["requests"]["requests"]:
                t = json.dumps(q["request"]["contents"])
                per_entry[t] = per_entry.get(t, 0) + 1
        check("inline: one details job, pictures in jobs of 25, each entry carried once",
              len(calls(log, TEXT, "batchGenerateContent")) == 1 and len(tk) == 120 and
              len(set(tk)) == 120 and len(calls(log, IMAGE, "batchGenerateContent")) == 5 and
              len(ik) == 120 and len(per_entry) == 120 and set(per_entry.values()) == {1},
              f"{len(tk)} details keys, {len(ik)} image keys, {len(per_entry)} distinct pictures")
        # The fake's speech model lacks batchGenerateContent: asked once, then interactive.
        model_gets = [x for x in log if x["path"] == f"/v1beta/models/{TTS}" and x["method"] == "GET"]
        check("inline: speech without batch support is served interactively (120 calls)",
              len(model_gets) == 1 and len(interactive(log, TTS)) == 120 and
              not calls(log, TTS, "batchGenerateContent") and
              "does not support batchGenerateContent" in r.stderr,
              f"{len(model_gets)} model GETs, {len(interactive(log, TTS))} tts calls")
        polls = [x for x in log if x["path"].startswith("/v1beta/batches/")]
        check("inline: jobs were polled until done", len(polls) >= 2, str(len(polls)))
        m = re.search(r"tokens (\d+) in / (\d+) out; estimated cost \$([0-9.]+) \(batch price\)",
                      r.stderr)
        want = (int(m.group(1)) * 0.15 + int(m.group(2)) * 1.25) / 1e6 if m else -1
        check("inline: the cost estimate uses half the interactive price",
              m and int(m.group(1)) > 0 and abs(float(m.group(3)) - want) < 0.00011,
              m.group(0) if m else r.stderr[-500:])
        r2, jobs = status_json(tmp, env)
        check("inline: batch status --json lists the 6 jobs, succeeded and collected",
              r2.returncode == 0 and jobs is not None and len(jobs) == 6 and
              all(j["state"] == "succeeded" and j["collected"] and j["input"] == "inline"
                  for j in jobs) and {j["stage"] for j in jobs} == {"details", "image"} and
              sum(j["requests"] for j in jobs if j["stage"] == "image") == 120 and
              all(j["requests"] <= 25 for j in jobs if j["stage"] == "image"),
              r2.stdout[-600:] + r2.stderr[-300:])
        before = len(fake.log())
        r3 = run(tmp, ["propagate", "--batch", tmp + "/w.txt"], env)
        after = len(fake.log())
        check("inline: a second run exits 0 and sends nothing", r3.returncode == 0 and
              after == before,
              f"{before} -> {after} {r3.stderr[-300:]}")
    finally:
        fake.stop()


def test_files(tmp):
    fake = Fake({"seed": 4, "batchDelayMs": 300, "ttsBatch": True, "default": {"latencyMs": 5}})
    try:
        env = env_for(fake)
        config(tmp, "inline_max_bytes = 2000\nmax_requests = 50\nmax_image_requests = 50\n"
               "upload_chunk_bytes = 50000\n[price.gemini-3.8-flash]\n"
               "batch_in = 1000000\nbatch_out = 0\n")
        open(tmp + "/w.txt", "w").write(words(120))
        r = run(tmp, ["propagate", "--batch", tmp + "/w.txt"], env)
        log = fake.log()
        check("files: propagate --batch exits 0", r.returncode == 0, r.stderr[-2000:])
        ents = entries(tmp)
        check("files: 120 entries, every stage done", len(ents) == 120 and not complete(ents),
              f"{len(ents)} entries, incomplete: {complete(ents)[:5]}")
        check("files: media valid", not media_ok(tmp, ents), "; ".join(media_ok(tmp, ents)[:5]))
        # Responses come back in another order than submitted: matched by key.
        wrong = [e["word"] for e in ents if f'"{e["word"]}"' not in (e.get("description") or "")]
        check("files: every entry got its own details (results matched by key)", len(ents) == 120
              and not wrong, str(wrong[:5]))
        check("files: zero interactive calls (speech in batch too)",
              not interactive(log, TEXT) and not interactive(log, IMAGE) and
              not interactive(log, TTS), "")
        creates = [x for m in (TEXT, IMAGE, TTS) for x in calls(log, m, "batchGenerateContent")]
        by_file = [x for x in creates
                   if (x.get("body") or {}).get("batch", {}).get("inputConfig", {}).get("fileName")]
        check("files: 9 jobs of at most 50 requests, each reading an uploaded file",
              len(creates) == 9 and len(by_file) == 9, f"{len(creates)} creates, {len(by_file)} by file")
        starts = [x for x in log if x["path"] == "/upload/v1beta/files" and
                  x["headers"].get("x-goog-upload-command") == "start"]
        finals = [x for x in log if x["path"] == "/upload/v1beta/files" and
                  x["headers"].get("x-goog-upload-command") == "upload, finalize"]
        middles = [x for x in log if x["path"] == "/upload/v1beta/files" and
                   x["headers"].get("x-goog-upload-command") == "upload"]
        s0 = starts[0]["headers"] if starts else {}
        # The 50-entry details files (~140 kB) go in chunks of 50000 bytes.
        check("files: resumable uploads (start, chunks at their offsets, upload+finalize)",
              len(starts) == 9 and len(finals) == 9 and s0.get("x-goog-upload-protocol") == "resumable"
              and s0.get("x-goog-upload-header-content-type") == "application/jsonl" and
              int(s0.get("x-goog-upload-header-content-length", "0")) > 2000 and
              len(middles) >= 4 and all(x["status"] == 200 for x in middles + finals) and
              {x["headers"].get("x-goog-upload-offset") for x in middles} >= {"0", "50000"} and
              any(x["headers"].get("x-goog-upload-offset") == "100000" for x in finals),
              f"{len(starts)} starts {len(middles)} middles {len(finals)} finals {s0}")
        leaks = [n for d, _, fs in os.walk(tmp) for n in fs
                 if KEY.encode() in open(os.path.join(d, n), "rb").read()]
        check("files: the key is in no output, database or media file",
              KEY not in r.stdout + r.stderr and not leaks, str(leaks[:3]))
        downloads = [x for x in log if x["path"].startswith("/download/v1beta/files/") and
                     x["query"].get("alt") == "media" and x["status"] == 200]
        check("files: every responses file downloaded once", len(downloads) == 9, str(len(downloads)))
        r2, jobs = status_json(tmp, env)
        check("files: batch status --json shows the input files",
              jobs is not None and len(jobs) == 9 and
              all(j["input"].startswith("files/") and j["collected"] for j in jobs),
              r2.stdout[-500:])
        m = re.search(r"tokens (\d+) in / (\d+) out; estimated cost \$([0-9.]+)", r.stderr)
        check("files: price.<model>.batch_in/out override the batch price",
              m and int(m.group(1)) > 0 and abs(float(m.group(3)) - int(m.group(1))) < 0.01,
              m.group(0) if m else r.stderr[-300:])
    finally:
        fake.stop()


def test_sigkill(tmp):
    fake = Fake({"seed": 5, "batchDelayMs": 60000, "default": {"latencyMs": 5}})
    try:
        env = env_for(fake)
        config(tmp)
        open(tmp + "/w.txt", "w").write(words(30))
        p = popen(tmp, ["propagate", "--batch", tmp + "/w.txt"], env)
        created = wait_for(lambda: any(x["status"] == 200 for x in
                                       calls(fake.log(), TEXT, "batchGenerateContent")))
        # Let it start polling: the job is recorded by then.
        wait_for(lambda: any(x["path"].startswith("/v1beta/batches/") for x in fake.log()))
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        check("kill: the first job was created before the kill", created and p.returncode == -9,
              str(p.returncode))
        fake.scenario({"seed": 5, "batchDelayMs": 200, "default": {"latencyMs": 5}})
        r = run(tmp, ["propagate", "--batch", tmp + "/w.txt"], env)
        log = fake.log()
        check("kill: the rerun exits 0", r.returncode == 0, r.stderr[-1500:])
        check("kill: the rerun collects the job submitted earlier",
              "collecting 1 batch job" in r.stderr, r.stderr[-800:])
        tk = batch_keys(log, TEXT)
        check("kill: no entry's details were submitted twice (one details job in all)",
              len(calls(log, TEXT, "batchGenerateContent")) == 1 and len(tk) == 30,
              f"{len(calls(log, TEXT, 'batchGenerateContent'))} creates, {len(tk)} keys")
        check("kill: 30 pictures in two jobs (25 + 5), no interactive text or image calls",
              len(calls(log, IMAGE, "batchGenerateContent")) == 2 and
              len(batch_keys(log, IMAGE)) == 30 and
              not interactive(log, TEXT) and not interactive(log, IMAGE),
              f"{len(calls(log, IMAGE, 'batchGenerateContent'))} picture jobs")
        ents = entries(tmp)
        check("kill: every entry finished", len(ents) == 30 and not complete(ents),
              f"{len(ents)} entries; incomplete {complete(ents)[:5]}")
        check("kill: media valid", not media_ok(tmp, ents), "; ".join(media_ok(tmp, ents)[:5]))
    finally:
        fake.stop()


def test_kill_during_create(tmp):
    # The job exists at the API but the create call's answer is slow: a kill
    # then leaves a client that never learnt the job's name.
    fake = Fake({"seed": 9, "batchDelayMs": 200, "batchCreateReplyMs": 60000,
                 "default": {"latencyMs": 5}})
    try:
        env = env_for(fake)
        config(tmp)
        open(tmp + "/w.txt", "w").write(words(12))
        p = popen(tmp, ["--no-audio", "propagate", "--batch", tmp + "/w.txt"], env)
        sent = wait_for(lambda: calls(fake.log(), TEXT, "batchGenerateContent"))
        time.sleep(0.3)
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        r, jobs = status_json(tmp, env)
        check("kill in create: the store remembers a job being created", sent and jobs is not None
              and len(jobs) == 1 and jobs[0]["state"] == "creating" and jobs[0]["requests"] == 12,
              r.stdout[-400:])
        fake.scenario({"seed": 9, "batchDelayMs": 200, "default": {"latencyMs": 5}})
        r = run(tmp, ["--no-audio", "propagate", "--batch", tmp + "/w.txt"], env)
        log = fake.log()
        check("kill in create: the rerun finds the job by its display name and creates no other",
              r.returncode == 0 and "created by an interrupted run" in r.stderr and
              len(calls(log, TEXT, "batchGenerateContent")) == 1 and
              any(x["path"] == "/v1beta/batches" for x in log), r.stderr[-800:])
        ents = entries(tmp)
        check("kill in create: every entry finished", len(ents) == 12 and
              not complete(ents, ("details", "image")), str(complete(ents, ("details", "image"))))
        r, jobs = status_json(tmp, env)
        check("kill in create: the job got its real name",
              jobs is not None and all(j["name"].startswith("batches/") for j in jobs), r.stdout[-400:])
    finally:
        fake.stop()


def test_errors_and_expiry(tmp):
    # The first job (details) expires; the fake refuses one word per request.
    fake = Fake({"seed": 6, "batchDelayMs": 200, "batchExpire": 1,
                 "batchErrorWords": ["故障"], "default": {"latencyMs": 5}})
    try:
        env = env_for(fake)
        config(tmp)
        open(tmp + "/w.txt", "w").write(words(10, "- 故障: malfunction\n"))
        r = run(tmp, ["--no-audio", "propagate", "--batch", tmp + "/w.txt"], env)
        check("expired: the run says so once and exits 1", r.returncode == 1 and
              r.stderr.count("expired") == 1 and "missing again" in r.stderr,
              f"rc {r.returncode} {r.stderr[-800:]}")
        ents = entries(tmp)
        check("expired: its entries are left missing (not failed)",
              all(e["stages"]["details"]["state"] == "missing" for e in ents) and
              not calls(fake.log(), IMAGE, "batchGenerateContent"),
              json.dumps([e["stages"]["details"]["state"] for e in ents]))
        n_before = len(calls(fake.log(), TEXT, "batchGenerateContent"))
        r = run(tmp, ["--no-audio", "propagate", "--batch", tmp + "/w.txt"], env)
        log = fake.log()
        ents = entries(tmp)
        bad = [e for e in ents if e["word"] == "故障"]
        good = [e for e in ents if e["word"] != "故障"]
        check("expired: the next run submits them again, in one new job",
              len(calls(log, TEXT, "batchGenerateContent")) == n_before + 1, "")
        check("errors: the run with a per-request error exits 1", r.returncode == 1,
              f"rc {r.returncode} {r.stderr[-800:]}")
        check("errors: the failed stage carries the API's message",
              len(bad) == 1 and bad[0]["stages"]["details"]["state"] == "failed" and
              "the fake refuses" in (bad[0]["stages"]["details"]["error"] or ""),
              json.dumps(bad[0]["stages"] if bad else None))
        check("errors: the other entries are complete", len(good) == 10 and
              not complete(good, ("details", "image")), str(complete(good, ("details", "image"))))
        check("errors: the message is shown", "故障" in r.stderr and "the fake refuses" in r.stderr,
              r.stderr[-500:])
    finally:
        fake.stop()


def test_wait_status_cancel(tmp):
    fake = Fake({"seed": 8, "batchDelayMs": 600000, "default": {"latencyMs": 5}})
    try:
        env = env_for(fake)
        config(tmp)
        open(tmp + "/w.txt", "w").write(words(5))
        r = run(tmp, ["--no-audio", "propagate", "--batch", "--no-wait", "--json", tmp + "/w.txt"],
                env)
        try:
            js = json.loads(r.stdout)
        except ValueError:
            js = {}
        check("no-wait: submits and returns 0", r.returncode == 0 and "submitted" in r.stderr and
              "run the same command again" in r.stderr, r.stderr[-500:])
        check("no-wait: --json says submitted, one job left", js.get("status") == "submitted" and
              js.get("jobs_left") == 1 and js["stages"]["details"]["batched"], r.stdout[-300:])
        r, jobs = status_json(tmp, env)
        check("status: --json lists the running job", r.returncode == 0 and jobs is not None and
              len(jobs) == 1 and jobs[0]["state"] == "running" and not jobs[0]["collected"] and
              jobs[0]["stage"] == "details" and jobs[0]["requests"] == 5 and
              jobs[0]["name"].startswith("batches/"), r.stdout + r.stderr[-300:])
        name = jobs[0]["name"] if jobs else "batches/x"
        # Ctrl-C while waiting leaves the job running and says how to collect it.
        p = popen(tmp, ["--no-audio", "propagate", "--batch", tmp + "/w.txt"], env)
        n0 = len([x for x in fake.log() if x["path"] == "/v1beta/" + name])
        wait_for(lambda: len([x for x in fake.log() if x["path"] == "/v1beta/" + name]) > n0)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        log = fake.log()
        check("ctrl-c: exits 130, the job keeps running, the message says how to collect it",
              p.returncode == 130 and "keep running" in err and "again" in err and
              len(calls(log, TEXT, "batchGenerateContent")) == 1 and
              not [x for x in log if x["path"].endswith(":cancel")], f"rc {p.returncode} {err[-500:]}")
        r = run(tmp, ["batch", "cancel", "batches/doesnotexist"], env)
        check("cancel: an unknown job is a clear error", r.returncode == 1 and
              "no unfinished batch job batches/doesnotexist" in r.stderr, r.stderr[-300:])
        r = run(tmp, ["batch", "cancel"], env)
        cancels = [x for x in fake.log() if x["path"] == f"/v1beta/{name}:cancel" and
                   x["method"] == "POST"]
        check("cancel: cancels the unfinished job at the API", r.returncode == 0 and
              "1 batch job(s) cancelled" in r.stderr and len(cancels) == 1, r.stderr[-300:])
        r, jobs = status_json(tmp, env)
        check("cancel: the job is cancelled and done with", jobs is not None and len(jobs) == 1 and
              jobs[0]["state"] == "cancelled" and jobs[0]["collected"], r.stdout[-400:])
        r = run(tmp, ["--no-audio", "propagate", "--batch", "--no-wait", tmp + "/w.txt"], env)
        r2, jobs = status_json(tmp, env)
        # (two jobs made in the same second list in no set order: find the new one)
        new = [j for j in jobs or [] if j["name"] != name]
        check("cancel: its entries go into a new job on the next run", r.returncode == 0 and
              jobs is not None and len(jobs) == 2 and len(new) == 1 and
              new[0]["state"] == "running" and new[0]["requests"] == 5,
              r.stderr[-300:] + r2.stdout[-300:])
        r = run(tmp, ["--batch", "add", "語1", "word number 1"], env)
        check("--batch with another command is a usage error", r.returncode == 2 and
              "propagate only" in r.stderr, r.stderr[-300:])
        r = run(tmp, ["batch", "status"], env)
        check("status: the text listing names both jobs", r.returncode == 0 and
              r.stdout.count("batches/") == 2 and "cancelled" in r.stdout, r.stdout)
    finally:
        fake.stop()


def main():
    T.run_tests((test_inline, test_files, test_sigkill, test_kill_during_create,
                 test_errors_and_expiry, test_wait_status_cancel), "wbbatch.", "BATCH_TESTS")
    T.finish()


main()
