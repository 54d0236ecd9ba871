#!/usr/bin/env python3
"""Counts the checks of meson test logs, once each, by suite and tree.

    summarize.py [--log TREE RC TESTLOG.json]... [--cannot-run SUITE REASON]...

TREE is the build tree the log came from: "normal", "asan" (the sanitizer
reruns, reported on their own lines marked "(asan)") or any other name (its
suites count like the normal tree's, e.g. "fuzz"). RC is meson test's exit
code. --cannot-run names a suite that could not run at all (a missing tool):
it counts as one failure of that suite.

Prints the failures and skips by name, one line per suite and tree:

    suite unit: 187 passed, 0 failed
    suite unit (asan): 187 passed, 0 failed

and closes with one line `N passed, N failed` (`, N skipped` when any), the sum
over the suites not marked (asan): each distinct check once. A check that
passed there but failed in its (asan) rerun counts as failed, not as passed.

Counting: a TAP test counts each leaf result line ("ok"/"not ok", at any
nesting depth: node's subtests count individually, the suite line that
closes them does not); `# SKIP` (any case) is a skip, `# TODO` a failure
expected to fail (not counted as passed). A plan of `1..0` is a skip when it
gives a reason (`1..0 # SKIP why`) and a failure otherwise (nothing ran). A
TAP test that stopped before its plan, printed "Bail out!", or whose process
failed although every line said "ok" (a sanitizer report at exit, a crash)
adds one failure. Other tests count once by their result. A tree whose log is
missing, or whose meson exit code reports a failure no test shows, fails.
"""
import json
import re
import sys

RESULT = re.compile(r"^(\s*)(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$")
DIRECTIVE = re.compile(r"(?<!\\)#\s*(skip|todo)\b\s*(.*)$", re.I)
PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*))?$")
ORDER = ["unit", "integration", "browser", "fuzz"]


class Count:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0


counts = {}  # (suite, asan) -> Count
failures, skips = [], []
normal_seen = {}  # (suite, test, check) -> passed?, from the trees not marked asan
asan_failed = []  # (suite, test, check) that failed in the asan tree


def record(c, key, outcome, msg=None):
    """outcome: 'pass', 'fail' or 'skip'; key (suite, asan, test, check)."""
    suite, asan, test, check = key
    if outcome == "pass":
        c.passed += 1
    elif outcome == "fail":
        c.failed += 1
        failures.append(msg)
    else:
        c.skipped += 1
        skips.append(msg)
    if outcome != "skip":
        if asan:
            if outcome == "fail":
                asan_failed.append((suite, test, check))
        else:
            normal_seen[(suite, test, check)] = outcome == "pass"


def split_name(full, tree):
    """'wordbank:unit+node / core' -> ('unit', 'core'). Meson leaves the
    suite out of the name when the tree has one suite only (the fuzz tree):
    then the tree's label names it."""
    head, sep, name = full.partition(" / ")
    if not sep:
        return tree, full
    suites = head.split(":", 1)[-1]
    return (suites.split("+")[0] or tree), name


def tap(out):
    """[(indent, ok, desc, directive, reason)], top-level plan, bail out."""
    events, plan, bail = [], None, None
    lines = out.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = RESULT.match(line)
        if m:
            indent, status, _, rest = m.groups()
            d = DIRECTIVE.search(rest)
            desc = (rest[:d.start()] if d else rest).strip()
            events.append((len(indent.expandtabs()), status == "ok", desc,
                           d.group(1).lower() if d else None, d.group(2).strip() if d else ""))
            # A YAML block after a result line is the result's detail.
            if i < len(lines) and lines[i].strip() == "---":
                while i < len(lines) and lines[i].strip() != "...":
                    i += 1
                i += 1
            continue
        if line.startswith("Bail out!"):
            bail = line
            continue
        p = PLAN.match(line)
        if p:
            plan = (int(p.group(1)), p.group(2) or "")
    return events, plan, bail


def count_test(tree, suite, asan, name, result, rc, out):
    c = counts.setdefault((suite, asan), Count())
    where = f"{tree}: {suite}/{name}"
    before = c.failed

    def rec(check, outcome, msg=None):
        record(c, (suite, asan, name, check), outcome, msg)

    events, plan, bail = tap(out)
    if plan and plan[0] == 0 and not events:
        why = DIRECTIVE.search("#" + plan[1]) if plan[1] else None
        if why and why.group(1).lower() == "skip":
            rec("", "skip", f"{where}: {why.group(2).strip() or 'skipped'}")
        else:
            rec("", "fail", f"{where}: ran no checks (plan 1..0 without a SKIP reason)")
        return
    if not events:
        if result == "SKIP":
            rec("", "skip", f"{where}: skipped (exit code 77)")
        elif result in ("OK", "EXPECTEDFAIL"):
            rec("", "pass")
        else:
            rec("", "fail", f"{where}: {result} (exit code {rc})")
        return
    top = min(e[0] for e in events)
    for k, (indent, ok, desc, directive, reason) in enumerate(events):
        children = []
        j = k - 1
        while j >= 0 and events[j][0] > indent:
            children.append(events[j])
            j -= 1
        if children:
            # A suite's closing line: its subtests were counted. It fails on
            # its own only when it says so and no subtest did (a hook failed).
            if not ok and directive != "todo" and all(ch[1] or ch[3] for ch in children):
                rec(desc, "fail", f"{where}: {desc}")
            continue
        if directive == "skip":
            rec(desc, "skip", f"{where}: {desc}: {reason or 'skipped'}")
        elif directive == "todo":
            rec(desc, "skip", f"{where}: {desc}: TODO {reason}")
        elif ok:
            rec(desc, "pass")
        else:
            rec(desc, "fail", f"{where}: {desc}")
    ntop = sum(1 for e in events if e[0] == top)
    if bail:
        rec("(whole test)", "fail", f"{where}: {bail}")
    elif plan and plan[0] > ntop:
        rec("(whole test)", "fail", f"{where}: stopped after {ntop} of {plan[0]} ({result}, exit code {rc})")
    elif plan is None:
        rec("(whole test)", "fail", f"{where}: no TAP plan (the test did not finish)")
    if c.failed == before and result not in ("OK", "SKIP", "EXPECTEDFAIL"):
        rec("(whole test)", "fail", f"{where}: every check said ok, but the test ended {result} "
                                     f"(exit code {rc}: a sanitizer report or a crash at exit?)")


def main(argv):
    logs, cannot = [], []
    i = 0
    while i < len(argv):
        if argv[i] == "--log" and i + 3 < len(argv):
            logs.append((argv[i + 1], argv[i + 2], argv[i + 3]))
            i += 4
        elif argv[i] == "--cannot-run" and i + 2 < len(argv):
            cannot.append((argv[i + 1], argv[i + 2]))
            i += 3
        else:
            print(__doc__.split("\n\n")[1], file=sys.stderr)
            return 2
    for suite, why in cannot:
        record(counts.setdefault((suite, False), Count()), (suite, False, "", "cannot run"), "fail",
               f"{suite}: cannot run: {why}")
    for tree, rc, path in logs:
        asan = tree == "asan"
        n_failed = len(failures)
        try:
            text = open(path, encoding="utf-8", errors="replace").read()
        except OSError as e:
            record(counts.setdefault(("all", asan), Count()), ("all", asan, tree, "log"), "fail",
                   f"{tree}: no test log, meson test exited {rc} ({e.strerror}: {path})")
            continue
        for line in text.splitlines():
            if not line.strip():
                continue
            t = json.loads(line)
            suite, name = split_name(t["name"], tree)
            count_test(tree, suite, asan, name, t.get("result", ""), t.get("returncode"),
                       t.get("stdout") or "")
        if rc != "0" and len(failures) == n_failed:
            record(counts.setdefault(("all", asan), Count()), ("all", asan, tree, "exit"), "fail",
                   f"{tree}: meson test exited {rc} but no test failed "
                   "(an interrupted run, a timeout or a setup error)")

    def order(key):
        suite, asan = key
        return (asan, ORDER.index(suite) if suite in ORDER else len(ORDER), suite)

    for s in skips:
        print("SKIPPED " + s)
    for f in failures:
        print("FAILED " + f)
    total = Count()
    for key in sorted(counts, key=order):
        c = counts[key]
        tail = f", {c.skipped} skipped" if c.skipped else ""
        print(f"suite {key[0]}{' (asan)' if key[1] else ''}: {c.passed} passed, {c.failed} failed{tail}")
        if not key[1]:
            total.passed += c.passed
            total.failed += c.failed
            total.skipped += c.skipped
    # A check that passed in the normal tree but failed under the sanitizers
    # is one failed check: it moves from passed to failed. An ASan failure
    # with no counterpart (a whole test that died there) adds one.
    for key in sorted(set(asan_failed)):
        if normal_seen.get(key) is True:
            total.passed -= 1
            total.failed += 1
        elif key not in normal_seen:
            total.failed += 1
    any_failed = total.failed or any(c.failed for c in counts.values())
    tail = f", {total.skipped} skipped" if total.skipped else ""
    print(f"{total.passed} passed, {total.failed} failed{tail}")
    return 1 if any_failed else 0


sys.exit(main(sys.argv[1:]))
