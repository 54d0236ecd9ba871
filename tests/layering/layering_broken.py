#!/usr/bin/env python3
"""The layering check fails where it should: a copy of src/ and include/
with one violation of each rule planted must fail the check, naming each
planted FILE:LINE; the untouched copy passes. Prints TAP."""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../..")
CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layering.py")
# (file, text added at its end, what the check must say about it)
PLANTS = [
    ("src/core/buf.c", '#include "store/anki.h"\n', "does not declare store_dep"),
    ("src/export/json.c", '#include "store/store_internal.h"\n', "private to src/store"),
    ("src/content/card.c", "#include <curl/curl.h>\n", "libcurl is not declared"),
    ("src/pipeline/run.c", '#include "engine/engine_int.h"\n', "private to src/engine"),
    ("src/offline/details.c", '#include "text/tagger_missing.h"\n', "resolves to no file"),
    ("include/wordbank/buf.h", '#include "core/util.h"\n', "includes an internal one"),
    ("include/wordbank/log.h", "#include <jansson.h>\n", "in a public header"),
    ("src/cli/main.c", '#include "core/util.h"\n', "the CLI uses only include/wordbank/"),
    ("src/media/write.c", "#include <yaml.h>\n", "neither a standard header"),
    ("src/lib/bank.c", '#include "text/text_internal.h"\n', "private to src/text"),
]
# Rule 7: a library loaded by soname outside its home (after the plants above).
DL_PLANT = ("src/content/card.c", 'static const char *planted = "libcurl.so.4";\n',
            "loads libcurl, which is not declared")
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def run(root):
    return subprocess.run([sys.executable, CHECK, root], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    for d in ("src", "include"):
        shutil.copytree(os.path.join(ROOT, d), os.path.join(tmp, d))
    r = run(tmp)
    check("the untouched copy passes", r.returncode == 0, r.stdout)
    lines = {}
    for rel, text, _ in PLANTS:
        p = os.path.join(tmp, rel)
        with open(p, encoding="utf-8") as f:
            lines[rel] = f.read().count("\n") + 1
        with open(p, "a", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(tmp, DL_PLANT[0]), "a", encoding="utf-8") as f:
        f.write(DL_PLANT[1])
    # store declaring jansson too: a second home outside the three allowed.
    mb = os.path.join(tmp, "src/store/meson.build")
    with open(mb, encoding="utf-8") as f:
        s = f.read()
    with open(mb, "w", encoding="utf-8") as f:
        f.write(s.replace("dependencies : [core_dep, sqlite3])",
                          "dependencies : [core_dep, sqlite3, dependency('jansson')])", 1))
    r = run(tmp)
    check("the planted copy fails (exit 1)", r.returncode == 1, r.stdout)
    for rel, text, says in PLANTS:
        want = f"{rel}:{lines[rel]}: #include {text.strip()[len('#include '):]}"
        hit = [l for l in r.stdout.splitlines() if l.startswith("# " + want)]
        check(f"{rel}:{lines[rel]} named ({says})", hit and says in hit[0], r.stdout)
    dl_want = f"{DL_PLANT[0]}:{lines[DL_PLANT[0]] + 1}: \"libcurl.so.4\""
    hit = [l for l in r.stdout.splitlines() if l.startswith("# " + dl_want)]
    check(f"{DL_PLANT[0]}:{lines[DL_PLANT[0]] + 1} named ({DL_PLANT[2]})",
          hit and DL_PLANT[2] in hit[0], r.stdout)
    check("a second home for jansson is named", "jansson is declared by" in r.stdout, r.stdout)
    check("the untouched files raise nothing", all(
        any(l.startswith("# " + rel) for rel, _, _ in PLANTS) or "jansson" in l or "sqlite3.h" in l
        for l in r.stdout.splitlines() if l.startswith("# ")), r.stdout)

print(f"1..{len(results)}")
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok and detail:
        for line in str(detail).splitlines()[:30]:
            print(f"# {line}")
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
