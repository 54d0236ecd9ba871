"""The Python tests' shared scaffolding (tests/pipeline/*_test.py,
tests/pelican/pelican_test.py): the loopback fake server, the environment of
a wordbank run, checks printed as TAP, sanitizer reports in a run's stderr,
and running a script's test functions each in a temporary folder.

    import wbtest as T          # sys.path: <source root>/tests/harness
    fake = T.Fake({"seed": 1})  # tests/fake/server.mjs on a port of its own
    r = subprocess.run([T.WB, ...], env=T.env(tmp, GEMINI_BASE_URL=fake.url), ...)
    T.scan(args, r.stderr)      # remembers a sanitizer report
    T.check("it exits 0", r.returncode == 0, r.stderr)
    T.finish()                  # the TAP plan and lines; exits 1 when a check failed

Meson gives the scripts WB_BIN (the wordbank command) and WB_SOURCE_ROOT."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.environ.get("WB_SOURCE_ROOT",
                      os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
WB = os.path.abspath(os.environ["WB_BIN"]) if os.environ.get("WB_BIN") else None
# Not a real key: the fake accepts it, and a test can look for it in outputs.
KEY = "test-key-not-secret-123456"

# ---- checks, printed as TAP ----

results = []


def check(name, cond, detail=""):
    """One TAP line: ok when cond is true; detail is printed when it is not."""
    results.append((name, bool(cond), detail))


def skip(name, reason):
    """One TAP line that is a skip, with its reason."""
    results.append((name, None, reason))


def finish(detail_lines=-15):
    """Prints the plan and a line per check (a failed check's detail as
    comments: its last -detail_lines lines, or its first detail_lines), then
    exits 1 when any check failed."""
    print(f"1..{len(results)}")
    for i, (name, ok, detail) in enumerate(results, 1):
        if ok is None:
            print(f"ok {i} - {name} # SKIP {detail}")
            continue
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok and detail:
            lines = str(detail).splitlines()
            for line in lines[detail_lines:] if detail_lines < 0 else lines[:detail_lines]:
                print("# " + line)
    sys.exit(0 if all(ok is not False for _, ok, _ in results) else 1)


def run_tests(tests, prefix, only_env):
    """Runs each test function with a fresh temporary folder (removed after);
    an exception is a failed check, not a crash. The environment variable
    only_env (comma-separated function names) runs a subset, to debug one."""
    only = [x for x in os.environ.get(only_env, "").split(",") if x]
    for t in tests:
        if only and t.__name__ not in only:
            continue
        tmp = tempfile.mkdtemp(prefix=prefix)
        try:
            t(tmp)
        except Exception as e:  # a broken test is a failed test, not a crash
            check(t.__name__ + " ran", False, repr(e))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def wait_for(pred, timeout=60, every=0.05):
    """Polls pred until it is true (True) or timeout seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(every)
    return False


# ---- sanitizer reports ----

# Every wordbank run's stderr is searched for sanitizer reports (ASan, LSan,
# UBSan): check_sanitizers() fails if any run printed one, even a run whose
# exit status was the expected one.
SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|Sanitizer:DEADLYSIGNAL")
runs = {"n": 0, "reports": []}


def scan(args, stderr):
    """Counts a wordbank run and remembers its sanitizer report, if any."""
    runs["n"] += 1
    if stderr and SANITIZER.search(stderr):
        runs["reports"].append("wordbank " + " ".join(args) + "\n" + stderr[-3000:])


def check_sanitizers():
    check(f"no wordbank run printed a sanitizer report ({runs['n']} runs)", not runs["reports"],
          "\n".join(runs["reports"][:3]))


# ---- a wordbank run ----


def env(tmp, **extra):
    """The environment of a wordbank run in tmp: the test key, HOME and the
    cache inside tmp, no key, word bank or media folder from the caller's
    environment; extra on top (GEMINI_BASE_URL=fake.url, ...)."""
    e = dict(os.environ, GEMINI_API_KEY=KEY, HOME=tmp, XDG_CACHE_HOME=tmp + "/cache")
    for k in ("GOOGLE_API_KEY", "OPENAI_API_KEY", "WORDBANK_DB", "WORDBANK_MEDIA"):
        e.pop(k, None)
    e.update(extra)
    return e


# ---- the loopback fake (tests/fake/server.mjs, docs/fake-server.md) ----


class Fake:
    """The fake Gemini/OpenAI server on a loopback port it picks itself,
    with the scenario given (none: its defaults). stop() ends it."""

    def __init__(self, scenario=None):
        self.p = subprocess.Popen(["node", os.path.join(ROOT, "tests/fake/server.mjs")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.port = json.loads(self.p.stdout.readline())["port"]
        self.url = f"http://127.0.0.1:{self.port}"
        if scenario is not None:
            self.scenario(scenario)

    def post(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     method="POST", headers={"content-type": "application/json"})
        return urllib.request.urlopen(req).read()

    def scenario(self, body):
        """Replaces the scenario (and resets the counts)."""
        return self.post("/_fake/scenario", body)

    def stats(self):
        """Per model: requests, statuses, inFlight, ..."""
        return json.load(urllib.request.urlopen(self.url + "/_fake/stats"))

    def log(self, limit=2000):
        """The requests received, oldest first (path, body, ...)."""
        return json.load(urllib.request.urlopen(f"{self.url}/_fake/requests?limit={limit}"))

    def requests(self, model):
        """How many requests model received."""
        return self.stats()["models"].get(model, {}).get("requests", 0)

    def requests_per_model(self):
        return {m: v["requests"] for m, v in self.stats()["models"].items()}

    def stop(self):
        self.p.stdin.close()
        self.p.wait(10)
