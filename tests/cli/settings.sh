#!/usr/bin/env bash
# The settings table through the command (issue 16): `wordbank help settings`
# (text and --json) lists every key the source reads, the source passes no
# fallback that repeats a table default, docs/settings.md is the same table,
# and a bad value from a config file (FILE:LINE), the environment or a flag is
# refused by the library with exit 2 before anything is created. Offline.
# Prints TAP; every wordbank call checks its exit status and its output.
# shellcheck source=../harness/wbtest.sh
. "${WB_SOURCE_ROOT:?}/tests/harness/wbtest.sh"
unset WORDBANK_JOBS
ROOT=$(readlink -f "$ROOT")
cd "$T" || exit 1

# py ARGS...: python3, its messages as TAP comments.
py() { python3 "$@" 2>&1 | sed 's/^/# /'; return "${PIPESTATUS[0]}"; }

# --- the listing ---------------------------------------------------------------
run "$WB" help settings --json
cp "$T/out" settings.json
chk "help settings --json is 0 and one array of rows with every field" py -c '
import json, sys
v = json.load(open(sys.argv[1]))
assert len(v) > 60, len(v)
for s in v:
    assert set(s) == {"name", "type", "default", "range", "pattern", "description"}, s
    assert s["description"] and isinstance(s["pattern"], bool), s
names = [s["name"] for s in v if not s["pattern"]]
assert len(names) == len(set(names)), "a name twice"
' settings.json
chk "... exit 0" [ "$rc" = 0 ]
run "$WB" help settings
cp "$T/out" settings.txt
chk "help settings (text) is 0 and lists the same rows in the same order, each with its type, default and range" py -c '
import json, sys
v = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().split("\n")
assert lines[0].split() == ["SETTING", "TYPE", "DEFAULT", "RANGE"], lines[0]
rows = [l for l in lines[1:] if l and not l.startswith(" ")]
heads = [r.split()[:3] for r in rows[:len(v)]]
want = [[s["name"], s["type"], s["default"] or "-"] for s in v]
assert heads == want, [(a, b) for a, b in zip(heads, want) if a != b][:3]
for s, r in zip(v, rows):
    assert r.rstrip().endswith(s["range"]), (r, s["range"])
' settings.json settings.txt
chk "... exit 0, nothing on stderr" bash -c '[ '$rc' = 0 ] && ! [ -s "$0" ]' "$T/err"
run "$WB" help
chk "wordbank help names help settings" bash -c '[ '$rc' = 0 ] && grep -q "^  help \[COMMAND|settings\]" "$0"' "$T/out"

# --- the source reads nothing the table does not list --------------------------
chk "every setting the source reads by name is a row (or fits a patterned one)" py - "$ROOT" settings.json <<'PY'
import json, os, re, sys
root, table = sys.argv[1], json.load(open(sys.argv[2]))
def known(name):
    for s in table:
        if not s["pattern"] and s["name"] == name:
            return True
        if s["pattern"]:
            head, tail = re.split(r"<[a-z]+>", s["name"])
            if name.startswith(head) and name.endswith(tail) and len(name) > len(head) + len(tail):
                return True
    return False
keys = {}
getter = re.compile(r'wb_config_(?:get|get_int|get_double|get_bool|int|double|bool|set|set_from|origin|source_of)'
                    r'\(\s*[^,()]+,\s*"([^"]+)"', re.S)
flags = re.compile(r"\{ (?:OPT_[A-Z_]+|'j'), \"([a-z_.]+)\" \}")
limit = re.compile(r'(?:limit_get|has_limit)\([^;]*?"(rpm|tpm|burst|concurrency)"', re.S)
price = re.compile(r'price\([^;()]*?"([a-z_]+)"\)')
for d, _, files in os.walk(os.path.join(root, "src")):
    for f in files:
        if not f.endswith(".c"):
            continue
        p = os.path.join(d, f)
        text = open(p, encoding="utf-8").read()
        for k in getter.findall(text) + flags.findall(text):
            keys.setdefault(k, p)
        for k in limit.findall(text):
            keys.setdefault("limit.some-model." + k, p)
        for k in price.findall(text):
            keys.setdefault("price.some-model." + k, p)
missing = sorted(k for k in keys if not known(k))
assert len(keys) > 50, f"only {len(keys)} keys found: the patterns above no longer match the source"
assert not missing, "not in the table: " + ", ".join(f"{k} ({keys[k]})" for k in missing)
print(f"# {len(keys)} keys read by name, all in the table")
PY
chk "no call site repeats a table default (fallbacks only for settings whose default is computed)" py - "$ROOT" settings.json <<'PY'
import json, os, re, sys
root, table = sys.argv[1], json.load(open(sys.argv[2]))
dflt = {s["name"]: s["default"] for s in table if not s["pattern"]}
call = re.compile(r'wb_config_get_(?:int|double|bool)\(\s*[^,()]+,\s*"([^"]+)"\s*,', re.S)
bad, seen = [], 0
for d, _, files in os.walk(os.path.join(root, "src")):
    for f in files:
        if f.endswith(".c"):
            p = os.path.join(d, f)
            for k in call.findall(open(p, encoding="utf-8").read()):
                seen += 1
                if dflt.get(k) is not None:
                    bad.append(f"{k} in {p}")
assert not bad, "a fallback repeats the table's default: " + ", ".join(bad)
print(f"# {seen} calls with a fallback, none for a setting with a default")
PY
chk "the providers' and media's own default macros (for callers without a config) equal the table's defaults" py - "$ROOT" settings.json <<'PY'
import glob, json, re, sys
root, table = sys.argv[1], json.load(open(sys.argv[2]))
dflt = {s["name"]: s["default"] for s in table if not s["pattern"]}
names = {"GEMINI_BASE_URL": "base_url", "GEMINI_API_VERSION": "api_version",
         "GEMINI_TEXT_MODEL": "text_model", "GEMINI_TTS_MODEL": "tts_model",
         "GEMINI_IMAGE_MODEL": "image_model", "GEMINI_VOICE": "voice", "GEMINI_VOICE2": "voice2",
         "GEMINI_ASPECT": "gemini.image_aspect", "GEMINI_RESOLUTION": "gemini.image_resolution",
         "OPENAI_BASE_URL": "openai_base_url", "OPENAI_TEXT_MODEL": "openai_text_model",
         "OPENAI_TTS_MODEL": "openai_tts_model", "OPENAI_IMAGE_MODEL": "openai_image_model",
         "OPENAI_VOICE": "openai_voice", "OPENAI_IMAGE_SIZE": "openai.image_size",
         "IMAGE_MAX_PX": "image_size"}
found, bad = 0, []
for h in glob.glob(root + "/src/providers/*.h") + [root + "/include/wordbank/media.h"]:
    for key, v in re.findall(r'#define WB_([A-Z0-9_]+)\s+"?([^"\s]+)"?\s*$', open(h).read(), re.M):
        k = key.replace("_DEFAULT", "", 1) if "_DEFAULT" in key else None  # WB_GEMINI_DEFAULT_VOICE
        if k in names:
            found += 1
            if dflt[names[k]] != v:
                bad.append(f"WB_{key} {v} but {names[k]} {dflt[names[k]]}")
assert found >= 10, f"only {found} default macros found"
assert not bad, "; ".join(bad)
print(f"# {found} default macros, all equal to the table")
PY
chk "docs/settings.md lists every row with the same type, default and range" py - "$ROOT/docs/settings.md" settings.json <<'PY'
import json, sys
doc = open(sys.argv[1], encoding="utf-8").read().split("\n")
rows = {}
for l in doc:
    if l.startswith("| `") and l.count(" | ") >= 4:
        c = [x.strip() for x in l.strip("|").split(" | ")]
        rows[c[0].strip("`")] = c
for s in json.load(open(sys.argv[2])):
    c = rows.get(s["name"])
    assert c, s["name"] + " is not in docs/settings.md"
    want = [s["type"], f'`{s["default"]}`' if s["default"] is not None else "—",
            s["range"].replace("|", "\\|") or "—"]
    assert c[1:4] == want, (s["name"], c[1:4], want)
PY

# --- bad values: the library refuses them, with where they came from -----------
printf 'lang = ja\n[timeout]\ntext_ms = soon\n' > t.conf
run "$WB" --provider offline --config t.conf --db a.db --no-audio add 猫 cat
chk "a bad duration in a config file: FILE:LINE, the name, the value and the range; exit 2; nothing created" \
    bash -c '[ '$rc' = 2 ] && [ "$(cat "$0")" = "wordbank: t.conf:3: timeout.text_ms = '"'soon'"': it must be a duration in milliseconds (ms, s, min or h suffix allowed) of at least 0" ] && ! test -e a.db' "$T/err"
printf '# formats\naudio_format = wav\n' > t.conf
run "$WB" --provider offline --config t.conf --db a.db --no-audio add 猫 cat
chk "a value outside an enum in a config file: FILE:LINE and the allowed values, exit 2" \
    bash -c '[ '$rc' = 2 ] && grep -qx "wordbank: t.conf:2: audio_format = .wav.: it must be one of mp3, m4a, opus" "$0" && ! test -e a.db' "$T/err"
printf '[limit.gemini-3.8-flash]\nconcurrency = 0\n' > t.conf
run "$WB" --provider offline --config t.conf --db a.db --no-audio add 猫 cat
chk "a per-model limit out of range: FILE:LINE, exit 2" \
    bash -c '[ '$rc' = 2 ] && grep -qx "wordbank: t.conf:2: limit.gemini-3.8-flash.concurrency = .0.: it must be a whole number of at least 1" "$0" && ! test -e a.db' "$T/err"
printf 'provider = gemni\n' > t.conf
run "$WB" --config t.conf --db a.db list
chk "a provider the CLI used to check is now the library's check: FILE:LINE, exit 2" \
    bash -c '[ '$rc' = 2 ] && grep -qx "wordbank: t.conf:1: provider = .gemni.: it must be one of gemini, openai, offline" "$0"' "$T/err"
run env WORDBANK_HTTP_BODY_BUDGET=512K "$WB" --provider offline --db a.db list
chk "a bad value in the environment names the variable; exit 2" \
    bash -c '[ '$rc' = 2 ] && grep -qx "wordbank: WORDBANK_HTTP_BODY_BUDGET: http.body_budget = .512K.: it must be a size in bytes (K, M or G suffix allowed) of at least 1048576" "$0"' "$T/err"
run "$WB" --provider offline --db a.db --image-size 0 --no-audio add 猫 cat
chk "a bad flag names the flag; one line, no usage text; exit 2; nothing created" \
    bash -c '[ '$rc' = 2 ] && [ "$(cat "$0")" = "wordbank: --image-size: image_size = '"'0'"': it must be a whole number from 1 to 8192" ] && ! test -e a.db' "$T/err"
run "$WB" --provider offline --db a.db --audio-format wav --json list
chk "with --json the refusal is the error object (exit 2)" py -c '
import json, sys
v = json.load(open(sys.argv[1]))
assert v["status"] == "error" and v["exit"] == 2 and "--audio-format: audio_format = '"'wav'"'" in v["error"], v
' "$T/out"

# --- good values: suffixes and patterned rows, no warnings ---------------------
printf '[timeout]\ntext_ms = 2min\n[http]\nbody_budget = 32M\n[limit.gemini-3.8-flash]\nrpm = 5\nconcurrency = 2\n[price.gemini-3.8-flash]\nbatch_in = 0.1\n' > t.conf
run "$WB" --provider offline --config t.conf --db g.db --no-audio --progress never add 猫 cat
chk "suffixed sizes and durations and per-model rows are taken without a warning (exit 0)" \
    bash -c '[ '$rc' = 0 ] && ! grep -q "t.conf" "$0" && test -e g.db' "$T/err"

echo "1..$n"
[ "$failed" = 0 ]
