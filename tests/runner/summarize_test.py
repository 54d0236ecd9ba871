#!/usr/bin/env python3
"""scripts/summarize.py on made-up meson logs: each rule of the count (one
check once, per suite and tree; node subtests individually; skips by name;
`1..0` not a pass; a missing log, an unexplained meson exit code, a dead
TAP test and a sanitizer-only failure all fail). Prints TAP."""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.environ.get("WB_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "../.."))
SUM = os.path.join(ROOT, "scripts/summarize.py")
results = []


def log(d, name, tests):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        for full, result, rc, out in tests:
            f.write(json.dumps({"name": full, "result": result, "returncode": rc, "stdout": out}) + "\n")
    return p


def summarize(*args):
    r = subprocess.run([sys.executable, SUM, *args], capture_output=True, text=True)
    return r.returncode, r.stdout.splitlines()


def check(name, cond, detail):
    results.append((name, bool(cond), detail))


NODE = """TAP version 13
# Subtest: page
    # Subtest: one
    ok 1 - one
      ---
      duration_ms: 1
      ...
    # Subtest: two
    ok 2 - two # skip no chromium
    1..2
ok 1 - page
  ---
  type: 'suite'
  ...
# Subtest: top
ok 2 - top
1..2
"""

with tempfile.TemporaryDirectory() as d:
    normal = log(d, "n.json", [
        ("wordbank:unit / core", "OK", 0, "1..3\nok 1 - a\nok 2 - b\nok 3 - c # SKIP no root\n"),
        ("wordbank:unit / empty", "OK", 0, "1..0\n"),
        ("wordbank:unit / skipped", "OK", 0, "1..0 # SKIP nothing to do here\n"),
        ("wordbank:unit / died", "FAIL", -11, "1..4\nok 1 - a\nok 2 - b\n"),
        ("wordbank:integration+node / fake_x", "OK", 0, NODE),
        ("wordbank:integration / cli", "FAIL", 1, "ok 1 - x\nnot ok 2 - y\n1..2\n"),
        ("wordbank:integration / plain", "OK", 0, ""),
    ])
    asan = log(d, "a.json", [
        ("wordbank:unit / core", "FAIL", 1, "1..3\nok 1 - a\nok 2 - b\nok 3 - c # SKIP no root\n"),
        ("wordbank:integration / cli", "FAIL", 1, "not ok 1 - x\nnot ok 2 - y\n1..2\n"),
    ])
    rc, out = summarize("--log", "normal", "1", normal, "--log", "asan", "1", asan)
    text = "\n".join(out)
    check("one line per suite and tree, asan marked", "suite unit: 4 passed, 2 failed, 2 skipped" in out and
          "suite integration: 4 passed, 1 failed, 1 skipped" in out and
          "suite unit (asan): 2 passed, 1 failed, 1 skipped" in out, text)
    check("node subtests count individually, the suite line not", "suite integration: 4" in text, text)
    check("1..0 without a reason fails; with one it is a skip", "unit/empty: ran no checks" in text and
          "unit/skipped: nothing to do here" in text, text)
    check("a lowercase skip directive is a skip, listed by name", "SKIPPED normal: integration/fake_x: two: no chromium" in text,
          text)
    check("a TAP test that died before its plan fails", "unit/died: stopped after 2 of 4" in text, text)
    check("a check failing only under ASan is failed in the closing line, counted once",
          out[-1] == "7 passed, 5 failed, 3 skipped" and rc == 1, out[-1])
    rc, out = summarize("--log", "normal", "0", os.path.join(d, "gone.json"))
    check("a missing log is a failure", rc == 1 and out[-1] == "0 passed, 1 failed", "\n".join(out))
    ok = log(d, "ok.json", [("wordbank:unit / core", "OK", 0, "1..1\nok 1 - a\n")])
    rc, out = summarize("--log", "normal", "125", ok)
    check("meson's exit code is honoured", rc == 1 and out[-1] == "1 passed, 1 failed", "\n".join(out))
    rc, out = summarize("--log", "normal", "0", ok, "--cannot-run", "fuzz", "clang is not installed")
    check("a suite whose tool is missing fails", rc == 1 and "suite fuzz: 0 passed, 1 failed" in out and
          out[-1] == "1 passed, 1 failed", "\n".join(out))
    fz = log(d, "fz.json", [("fuzz_sse", "OK", 0, "1..1\nok 1 - fuzz_sse ran 20s clean\n")])
    rc, out = summarize("--log", "normal", "0", ok, "--log", "fuzz", "0", fz)
    check("a one-suite tree (no suite in the names) is named by its label",
          "suite fuzz: 1 passed, 0 failed" in out and out[-1] == "2 passed, 0 failed", "\n".join(out))
    rc, out = summarize("--log", "normal", "0", ok)
    check("all good: exit 0 and the bare closing line", rc == 0 and out == ["suite unit: 1 passed, 0 failed",
                                                                              "1 passed, 0 failed"], "\n".join(out))

print(f"1..{len(results)}")
for i, (name, good, detail) in enumerate(results, 1):
    print(f"{'ok' if good else 'not ok'} {i} - {name}")
    if not good:
        for line in detail.splitlines()[-20:]:
            print("# " + line)
sys.exit(0 if all(g for _, g, _ in results) else 1)
