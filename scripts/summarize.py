#!/usr/bin/env python3
"""Counts the tests of one or more meson test logs and prints the failures and
one closing line `N passed, N failed`. TAP tests count once per "ok"/"not ok"
line; a TAP binary that died before reporting counts as one failure; other
tests count once by their result."""
import json
import re
import sys

passed = failed = skipped = 0
failures = []
for log in sys.argv[1:]:
    label, _, path = log.partition("=")
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError as e:
        print(f"{label}: no test log ({e})")
        failed += 1
        failures.append(f"{label}: no test log")
        continue
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        name, result, out = t["name"], t["result"], t.get("stdout") or ""
        oks = re.findall(r"^(not ok|ok)\b[^\n]*", out, re.M)
        if oks:
            for m in re.finditer(r"^(not ok|ok)\b([^\n]*)", out, re.M):
                if "# SKIP" in m.group(2):
                    skipped += 1
                elif m.group(1) == "ok":
                    passed += 1
                else:
                    failed += 1
                    failures.append(f"{label}: {name}:{m.group(2)}")
            plan = re.search(r"^1\.\.(\d+)", out, re.M)
            if plan and int(plan.group(1)) > len(oks):
                failed += 1
                failures.append(f"{label}: {name}: stopped after {len(oks)} of {plan.group(1)}")
            elif result not in ("OK", "SKIP", "EXPECTEDFAIL") and all(m == "ok" for m in oks):
                failed += 1
                failures.append(f"{label}: {name}: {result}")
        elif result == "SKIP":
            skipped += 1
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
            failures.append(f"{label}: {name}: {result}")

for f in failures:
    print("FAILED " + f)
tail = f", {skipped} skipped" if skipped else ""
print(f"{passed} passed, {failed} failed{tail}")
sys.exit(1 if failed else 0)
