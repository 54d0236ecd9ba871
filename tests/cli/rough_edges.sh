#!/usr/bin/env bash
# The rough edges a new user hits (issue 14), one or more checks each, every
# wordbank call checked for its exit status and its output: entry rules for
# every way in, --json for every command, config file diagnostics, CSV
# injection, read-only word banks, propagate of a directory / NUL bytes,
# capped diagnostics, a missing word bank, tts extensions, help against the
# README, doctor's advisory checks, progress labels, -v, -j and --lang
# limits, the retry file, and the small ones. Offline, plus the loopback fake
# (tests/fake/server.mjs) for 429s, 500s and doctor's model list. Prints TAP.
# shellcheck source=../harness/wbtest.sh
. "${WB_SOURCE_ROOT:?}/tests/harness/wbtest.sh"
ROOT=$(readlink -f "$ROOT")
cd "$T" || exit 1

is() { [ "$rc" = "$1" ]; }
err_has() { grep -qF -- "$1" "$T/err"; }
out_has() { grep -qF -- "$1" "$T/out"; }
err_count() { grep -cF -- "$1" "$T/err"; }
# Exactly one JSON value on stdout, and a Python test of it (v).
json_is() { python3 -c "import json,sys; v=json.load(open(sys.argv[1], encoding='utf-8')); sys.exit(0 if ($1) else 1)" "$T/out"; }
off() { "$WB" --provider offline "$@"; }

# --- 1. every way an entry comes in follows the word-list rules -------------
run off --db e1.db --no-audio add $'ne\nko' cat
chk "1: add refuses a word with a newline (2), names the rule, stores nothing" \
    bash -c '[ '$rc' = 2 ] && grep -q "control character (U+000A)" "$0" && ! test -e e1.db' "$T/err"
run off --db e1.db --no-audio add ' ' cat
chk "1: add refuses a blank word (2)" bash -c '[ '$rc' = 2 ] && grep -q "the word is blank" "$0" && ! test -e e1.db' "$T/err"
run off --db e1.db --no-audio add $'\xff\xfe' cat
chk "1: add refuses invalid UTF-8 (2)" bash -c '[ '$rc' = 2 ] && grep -q "not valid UTF-8" "$0" && ! test -e e1.db' "$T/err"
printf -- '- 猫: cat\n- 犬\x01: dog\n魚\tfi\x7fsh\n' > ctl.txt
run off --db e1.db --no-audio propagate ctl.txt
chk "1: propagate refuses control characters with FILE:LINE (exit 1), keeps the good line" \
    bash -c '[ '$rc' = 1 ] && grep -q "ctl.txt:2: the word contains a control character (U+0001)" "$0" &&
             grep -q "ctl.txt:3: the translation contains a control character (U+007F)" "$0"' "$T/err"
run off --db e1.db list
chk "1: ... and only the good entry is stored" bash -c '[ '$rc' = 0 ] && [ "$(wc -l < "$0")" = 1 ] && grep -q "^猫	cat	" "$0"' "$T/out"
printf '{"word": "ne\\nko", "en_translation": "cat"}\n{"word": "鳥", "en_translation": "bird"}\n' > ctl.jsonl
run off --db e1.db import ctl.jsonl
chk "1: import refuses a word with a newline with FILE:LINE (exit 1)" \
    bash -c '[ '$rc' = 1 ] && grep -q "ctl.jsonl:1: the word contains a control character" "$0"' "$T/err"
printf '# Lesson\n\n<wordbank>\n- 猫\x02: cat\n</wordbank>\n' > ctl.md
run off --db e1.db --cache-only render ctl.md -o ctl.html
chk "1: a lesson block line with a control character is a FILE:LINE diagnostic" \
    bash -c '[ '$rc' = 1 ] && grep -q "ctl.md:4: the word contains a control character (U+0002)" "$0"' "$T/err"

# --- 2. --json: one JSON value on stdout for every command ------------------
printf -- '- 猫: cat\nthis is not an entry\n- 犬: dog\n' > j.txt
run off --db j.db --no-audio --json propagate j.txt
chk "2: propagate --json lists unreadable lines with FILE:LINE, status 'some failed', exit 1" \
    json_is 'v["status"] == "some failed" and v["input_errors"][0]["file"] == "j.txt" and v["input_errors"][0]["line"] == 2 and "expected" in v["input_errors"][0]["error"] and v["entries_done"] == 2'
chk "2: ... exit 1" is 1
run off --db j.db --json doctor
chk "2: doctor --json is one object with settings and checks" \
    json_is 'v["ok"] is True and v["settings"]["provider"]["value"] == "offline" and any(c["name"] == "speech" for c in v["checks"])'
run off --db j.db --json preview -o pv
chk "2: preview --json" json_is 'v["cards"] == 2 and v["page"] == "pv/index.html"'
run off --db j.db --json export --format csv -o j.csv
chk "2: export --json (with -o)" json_is 'v == {"format": "csv", "output": "j.csv", "entries": 2}'
run off --db j.db --json export
chk "2: export --json without -o is refused (2) with a JSON error object" \
    bash -c '[ '$rc' = 2 ] && python3 -c "import json,sys; v=json.load(open(sys.argv[1])); assert v[\"status\"] == \"error\" and v[\"exit\"] == 2" "$0"' "$T/out"
run off --db j.db --json rm 犬 dog
chk "2: rm --json names what it removed" json_is 'v == {"removed": {"word": "犬", "translation": "dog", "language": "ja"}}'
printf '{"word": "鳥", "en_translation": "bird"}\nnot json\n' > j.jsonl
run off --db j.db --json import j.jsonl
chk "2: import --json has the errors" json_is 'v["imported"] == 1 and v["failed"] == 1 and v["errors"][0]["file"] == "j.jsonl" and v["errors"][0]["line"] == 2 and "invalid JSON" in v["errors"][0]["error"]'
run off --json tts ねこ -o j.mp3
chk "2: tts --json" json_is 'v["output"] == "j.mp3" and v["format"] == "mp3" and v["bytes"] > 100'
printf 'A: こんにちは\nB: こんばんは\n' > two.txt
run off --json dialogue two.txt -o j.wav
chk "2: dialogue --json" json_is 'v["format"] == "wav" and v["bytes"] > 100'
run off --db nowhere.db --json list
chk "2: a command that fails first prints an error object (exit 3)" \
    json_is 'v["status"] == "error" and v["exit"] == 3 and "no word bank" in v["error"]'

# --- 3. config file diagnostics ---------------------------------------------
key="AIzaFAKEFAKEFAKE0123456789"
printf 'text_modle = x\n[limit.gemini-3.8-flash]\nrpm = 5\ngemini_api_key = %s\n' "$key" > c.conf
run off --config c.conf --db j.db list
chk "3: an unknown setting is a FILE:LINE warning with the nearest name" \
    bash -c '[ '$rc' = 0 ] && grep -q "c.conf:1: unknown setting .text_modle. is not used (did you mean .text_model.?)" "$0"' "$T/err"
chk "3: a key in the file is a FILE:LINE warning saying where keys belong, never echoed" \
    bash -c 'grep -q "c.conf:4: .limit.gemini-3.8-flash.gemini_api_key. ignored: API keys are never read from the config file; put it in the environment" "$0" && ! grep -q "$1" "$0" "$2"' "$T/err" "$key" "$T/out"
chk "3: a known setting gets no warning" bash -c '! grep -q "c.conf:3" "$0"' "$T/err"
printf '[limit.gemini-3.8-flash]\nrpm = abc\n' > c.conf
run off --config c.conf --db j.db list
chk "3: rpm = abc is refused with FILE:LINE (2)" bash -c '[ '$rc' = 2 ] && grep -q "c.conf:2: limit.gemini-3.8-flash.rpm = .abc.: it must be a number" "$0"' "$T/err"
printf 'retry.max_attempts = -3\n' > c.conf
run off --config c.conf --db j.db list
chk "3: retry.max_attempts = -3 is refused with FILE:LINE (2)" bash -c '[ '$rc' = 2 ] && grep -q "c.conf:1: retry.max_attempts = .-3.: it must be a whole number of at least 1" "$0"' "$T/err"

# --- 4. CSV injection ---------------------------------------------------------
printf '{"word": "=HYPERLINK(\\"x\\")", "en_translation": "+1", "description": "@SUM(A1)"}\n{"word": "-x", "en_translation": "plain"}\n' > inj.jsonl
run off --db inj.db import inj.jsonl
run off --db inj.db export --format csv -o inj.csv
chk "4: export csv is 0" is 0
chk "4: cells that begin with = + - @ get a leading '" python3 -c '
import csv
rows = list(csv.reader(open("inj.csv", encoding="utf-8", newline="")))
h = rows[0]
a = dict(zip(h, rows[1])); b = dict(zip(h, rows[2]))
assert a["word"] == "\x27=HYPERLINK(\"x\")", a
assert a["translation"] == "\x27+1" and a["description"] == "\x27@SUM(A1)", a
assert b["word"] == "\x27-x" and b["translation"] == "plain", b
'

# --- 5. a read-only word bank can be read ------------------------------------
# Tests run as root, which ignores permissions: the commands run as nobody
# (setpriv) on a 444 file in a 555 folder, the case of the issue.
mkdir ro
run off --db ro/wb.db --no-audio add 猫 cat
if command -v setpriv >/dev/null && [ "$rc" = 0 ]; then
    chmod 755 "$T"; chmod 444 ro/wb.db; chmod 555 ro
    asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    run asnobody "$WB" --provider offline --db ro/wb.db list
    chk "5: list of a read-only word bank works (0) and shows the entry" bash -c '[ '$rc' = 0 ] && grep -q "^猫	cat" "$0"' "$T/out"
    run asnobody "$WB" --provider offline --db ro/wb.db export --format jsonl
    chk "5: export of a read-only word bank works (0)" bash -c '[ '$rc' = 0 ] && grep -q "\"word\": *\"猫\"" "$0"' "$T/out"
    run asnobody "$WB" --provider offline --db ro/wb.db rm 猫 cat
    chk "5: rm (a write) on it is refused (3) and says why" bash -c '[ '$rc' = 3 ] && grep -q "cannot read and write" "$0"' "$T/err"
    chk "5: nothing was created beside it" bash -c '[ "$(ls ro)" = wb.db ]'
    chmod 755 ro; chmod 644 ro/wb.db; chmod 700 "$T"
else
    skip "5: read-only word bank" "setpriv missing or setup failed"
fi

# A word bank of the older schema (version 1) needs one write to migrate:
# a command that only reads still lists it (migrating it when it may).
if command -v sqlite3 >/dev/null; then
    sqlite3 v1.db "PRAGMA application_id = 1463963211;
CREATE TABLE entries (id INTEGER PRIMARY KEY, word TEXT NOT NULL CHECK (word <> ''), translation TEXT NOT NULL CHECK (translation <> ''), language TEXT NOT NULL CHECK (language <> ''), context TEXT, reading TEXT, description TEXT, image_description TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (word, translation, language));
CREATE TABLE examples (entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE, position INTEGER NOT NULL, text TEXT NOT NULL, translation TEXT, PRIMARY KEY (entry_id, position)) WITHOUT ROWID;
CREATE TABLE stages (entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE, stage TEXT NOT NULL CHECK (stage IN ('details', 'image', 'audio')), state TEXT NOT NULL CHECK (state IN ('missing', 'done', 'failed')), error TEXT, file TEXT, provider TEXT, model TEXT, voice TEXT, tokens_in INTEGER NOT NULL DEFAULT 0, tokens_out INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (entry_id, stage)) WITHOUT ROWID;
INSERT INTO entries VALUES (7, '猫', 'cat', 'ja', NULL, 'ねこ', 'pet', NULL, 1, 2);
PRAGMA user_version = 1;"
    run off --db v1.db list
    chk "5: list of an older-schema word bank works (0)" bash -c '[ '$rc' = 0 ] && grep -q "^猫	cat	ja" "$0"' "$T/out"
else
    skip "5: older-schema word bank" "sqlite3 missing"
fi

# --- 6. propagate of a directory / NUL bytes; capped diagnostics -------------
mkdir adir
run off --db p6.db propagate adir
chk "6: propagate of a directory is exit 3, says so, creates no word bank" \
    bash -c '[ '$rc' = 3 ] && grep -q "adir: is a directory" "$0" && ! test -e p6.db' "$T/err"
head -c 64 /dev/zero > nul.txt
run off --db p6.db propagate nul.txt
chk "6: a file of NUL bytes is FILE:LINE, exit 1" bash -c '[ '$rc' = 1 ] && grep -q "nul.txt:1: the line contains a NUL byte" "$0"' "$T/err"
for i in $(seq 1 30); do echo "not an entry $i"; done > many.txt
run off --db p6.db propagate many.txt
chk "6: repeated diagnostics: the first 20, then 'and 10 more'" \
    bash -c '[ '$rc' = 1 ] && [ "$(grep -c "^many.txt:" "$0")" = 20 ] && grep -q "many.txt:20:" "$0" && ! grep -q "many.txt:21:" "$0" && grep -q "… and 10 more" "$0"' "$T/err"

{ echo '<wordbank>'; for i in $(seq 1 25); do echo "not an entry $i"; done; echo '</wordbank>';
  printf '<dialogue>\nA: one speaker only\n</dialogue>\n'; } > manybad.md
run off --db p6.db render manybad.md -o manybad.html
chk "6: render caps a lesson's diagnostics too: the first 20, then 'and 6 more'" \
    bash -c '[ '$rc' = 1 ] && [ "$(grep -c "^manybad.md:" "$0")" = 20 ] && grep -q "… and 6 more" "$0"' "$T/err"
printf '<dialogue>\nA: one speaker only\n</dialogue>\n' > onevoice.md
run off --db p6.db render onevoice.md -o onevoice.html
chk "15: a one-speaker dialogue is one diagnostic, not two" \
    bash -c '[ '$rc' = 1 ] && [ "$(grep -c "^onevoice.md:" "$0")" = 1 ]' "$T/err"

# --- 7. a missing word bank for commands that only read ----------------------
for c in list "show 猫" "export --format csv -o x.csv" "preview -o pvx" "rm 猫 cat"; do
    run off --db typo.db $c
    chk "7: $c on a missing word bank is exit 3, says so, creates nothing" \
        bash -c '[ '$rc' = 3 ] && grep -q "no word bank at typo.db" "$0" && ! test -e typo.db' "$T/err"
done

# --- 9. tts refuses an extension it cannot honour ----------------------------
run off tts ねこ -o t.xyz
chk "9: tts -o t.xyz is exit 2 and writes nothing" bash -c '[ '$rc' = 2 ] && grep -q "cannot write audio as .\.xyz." "$0" && ! ls t.xyz* 2>/dev/null' "$T/err"
run off --audio-format opus tts ねこ -o t.mp3
chk "9: an extension that contradicts --audio-format is exit 2" bash -c '[ '$rc' = 2 ] && ! test -e t.mp3' "$T/err"
run off tts ねこ -o t.opus
chk "9: tts -o t.opus writes Opus (0)" bash -c '[ '$rc' = 0 ] && head -c 4 t.opus | grep -q OggS'

# --- 10. help ----------------------------------------------------------------
run "$WB" help
chk "10: wordbank help is 0" is 0
python3 - "$ROOT/README.md" > readme_help.txt <<'PY'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
a = s.index("## Command line\n\n```\n") + len("## Command line\n\n```\n")
print(s[a:s.index("```\n", a)], end="")
PY
chk "10: wordbank help is exactly the README's command-line section" cmp -s readme_help.txt "$T/out"
run "$WB" --help
chk "10: --help is the same text" bash -c '[ '$rc' = 0 ] && cmp -s "$0" readme_help.txt' "$T/out"
chk "10: help names apkg, exit codes, --base-url, --voice2, --api-version, --version" \
    bash -c 'for w in apkg "exit codes" --base-url --voice2 --api-version --version; do grep -qF -- "$w" "$0" || exit 1; done' "$T/out"
cmds=$(sed -n '/^commands:/,/^$/p' readme_help.txt | awk '/^  [a-z]/ {print $1}')
allok=1
for c in $cmds; do
    run "$WB" help "$c"
    if ! is 0 || ! out_has "usage: wordbank [global options] $c" || [ "$(wc -l < "$T/out")" -lt 3 ]; then allok=0; echo "# help $c failed"; fi
done
chk "10: wordbank help COMMAND gives a usage with options for each of the $(echo $cmds | wc -w) commands" test "$allok" = 1
run "$WB" add --help
chk "10: add --help is a usage with its options (0)" bash -c '[ '$rc' = 0 ] && grep -q "^usage: wordbank \[global options\] add WORD TRANSLATION \[CONTEXT\]" "$0" && grep -q -- "--no-image" "$0"' "$T/out"
run "$WB" add
chk "10: add without arguments prints its usage on stderr (2)" bash -c '[ '$rc' = 2 ] && grep -q "usage: wordbank \[global options\] add" "$0"' "$T/err"
run "$WB" help frobnicate
chk "10: help of an unknown command is 2" bash -c '[ '$rc' = 2 ] && grep -q "unknown command .frobnicate." "$0"' "$T/err"
run "$WB" --version
chk "10: --version prints the version (0)" bash -c '[ '$rc' = 0 ] && grep -Eq "^wordbank [0-9]+\.[0-9]+" "$0"' "$T/out"

# --- 12, 13 (offline parts), 15: labels, limits, small ones -----------------
printf -- '- 猫: cat\n- 猫: kitty\n' > merge.txt
run off --db p12.db --progress always propagate merge.txt
chk "12: the rate is labelled and the first ETA is not a guess" \
    bash -c '[ '$rc' = 0 ] && grep -q "stages/min · ETA estimating" "$0" && ! grep -q "ETA [0-9]" "$0"' "$T/err"
chk "12: the summary says what merged means" err_has "1 merged: stages served by another entry's identical request"
run off -j 10000000 list
chk "13: -j 10000000 names the limit (2)" bash -c '[ '$rc' = 2 ] && grep -q "1 to 10000" "$0"' "$T/err"
run off --lang '' --db p13.db --no-audio add 猫 cat
chk "13: --lang '' is refused (2), nothing created" bash -c '[ '$rc' = 2 ] && grep -q "language code is empty" "$0" && ! test -e p13.db' "$T/err"
run off --db p12.db rm 猫 kitty
chk "15: rm says what it removed" bash -c '[ '$rc' = 0 ] && grep -q "removed 猫 / kitty \[ja\]" "$0"' "$T/err"
run off --db p12.db preview -o pv1
chk "15: '1 card', not '1 cards'" bash -c '[ '$rc' = 0 ] && grep -q "^1 card in pv1/index.html" "$0"' "$T/err"
run off --db p12.db --no-audio add 犬 dog
chk "15: '1 of 1 entry complete'" bash -c '[ '$rc' = 0 ] && grep -q "^1 of 1 entry complete" "$0"' "$T/err"
printf 'hello\nB: yo\n' > nospeaker.txt
run off dialogue nospeaker.txt -o d.mp3
chk "15: a dialogue without a speaker names FILE:LINE (2)" bash -c '[ '$rc' = 2 ] && grep -q "nospeaker.txt:1: has no speaker" "$0"' "$T/err"
printf '<wordbank>\n- 猫: cat\n<dialogue>\nA: x\n</dialogue>\n</wordbank>\n' > nest.md
run off --db p12.db --cache-only render nest.md -o nest.html
chk "15: a nested block is one diagnostic" \
    bash -c '[ "$(grep -c "nest.md" "$0")" = 1 ] && grep -q "nest.md:3: <dialogue> inside <wordbank> ignored" "$0"' "$T/err"
printf '猫が好きです。猫と犬。\n' > jp.txt
run off extract jp.txt
chk "15: extract's TSV third column is a '#' comment" bash -c '[ '$rc' = 0 ] && grep -q "^猫	[^	]*	# ねこ; 名詞; count 2$" "$0"' "$T/out"
grep '^猫' "$T/out" > ex.tsv
run off --db p15.db --no-audio propagate ex.tsv
run off --db p15.db --json show 猫
chk "15: extract | propagate stores no context" json_is 'v["context"] is None and v["word"] == "猫"'

run env -u OPENAI_BASE_URL "$WB" --provider openai --db j.db doctor
chk "11: doctor with provider openai and neither key nor local endpoint is exit 3, said once" \
    bash -c '[ '$rc' = 3 ] && [ "$(grep -c "needs OPENAI_API_KEY" "$0")" = 1 ]' "$T/out"
run "$WB" --provider openai --db j.db doctor
chk "11: ... with a local endpoint (OPENAI_BASE_URL) it needs no key (0)" bash -c '[ '$rc' = 0 ] && ! grep -q MISSING "$0"' "$T/out"

# --- 14. the retry file, offline: failures that cannot succeed are not offered
printf -- '- ぬぬぬぬぬ: nothing\n' > noedict.txt
run off --db p14.db --no-audio propagate noedict.txt
chk "14: a 'not in EDICT' failure is exit 1, but no retry file and no retry command" \
    bash -c '[ '$rc' = 1 ] && grep -q "not in EDICT" "$0" && ! grep -q "propagate .p14.db.failed.txt" "$0" && ! test -e p14.db.failed.txt' "$T/err"

# --- with the loopback fake: 11 doctor, 13 -v, 14 retry file -----------------
if command -v node >/dev/null && command -v curl >/dev/null; then
    cat > scn.json <<'EOF'
{"seed": 1, "default": {"latencyMs": 5, "jitter": 0, "faults": {"status503": 0, "reset": 0}},
 "models": {"gemini-3.8-flash": {"quota": {"requests": 1, "windowMs": 1000}}}}
EOF
    coproc FAKE { exec node "$ROOT/tests/fake/server.mjs" --scenario "$T/scn.json"; }
    read -r ready <&"${FAKE[0]}"
    port=$(printf '%s' "$ready" | sed 's/.*"port":\([0-9]*\).*/\1/')
    fk() { GEMINI_API_KEY=test-key-not-secret-123456 GEMINI_BASE_URL="http://127.0.0.1:$port" "$WB" "$@"; }
    scenario() { curl -s -X POST --data-binary @"$1" "http://127.0.0.1:$port/_fake/scenario" | grep -q '"ok":true'; }

    run fk --db f.db doctor
    chk "11: doctor against an endpoint that serves the models is 0, each model once" \
        bash -c '[ '$rc' = 0 ] && [ "$(grep -c ": available" "$0")" = 3 ] && ! grep -q "ADVISORY\|MISSING" "$0" && ! test -s "$1"' "$T/out" "$T/err"
    # An endpoint whose /models list names none of the configured models
    # (a proxy, a local server) does not describe what it serves: advisory.
    run fk --db f.db --text-model proxy-text --tts-model proxy-tts --image-model proxy-image doctor
    chk "11: a /models list naming none of the models is ADVISORY, each said once, exit 0" \
        bash -c '[ '$rc' = 0 ] && [ "$(grep -c "^model check    ADVISORY: " "$0")" = 3 ] && [ "$(cat "$0" "$1" | grep -c "proxy-tts: not in")" = 1 ] && ! test -s "$1"' "$T/out" "$T/err"
    run fk --db f.db --json --text-model proxy-text --tts-model proxy-tts --image-model proxy-image doctor
    chk "11: doctor --json labels them advisory and ok stays true" \
        json_is 'v["ok"] is True and sum(1 for c in v["checks"] if c["advisory"] and not c["ok"]) == 3'
    # One model missing from a list that names the others: retired or
    # misspelt, and generation with it fails: required.
    run fk --db f.db --tts-model gemini-0-tts doctor
    chk "11: one model missing where the others are listed is exit 3, in the report and once on stderr" \
        bash -c '[ '$rc' = 3 ] && [ "$(grep -c "MISSING: speech model gemini-0-tts" "$0")" = 1 ] && [ "$(grep -c "gemini-0-tts" "$1")" = 1 ]' "$T/out" "$T/err"
    run env GEMINI_API_KEY=test-key-not-secret-123456 GEMINI_BASE_URL=http://127.0.0.1:9 "$WB" --db f.db doctor
    chk "11: an unreachable endpoint is a required check: exit 3, said once" \
        bash -c '[ '$rc' = 3 ] && [ "$(grep -c "MISSING" "$0")" = 1 ]' "$T/out"

    printf -- '- 猫: cat\n- 犬: dog\n' > two.txt
    run fk --db f13.db --no-image --no-audio -v propagate two.txt
    chk "13: -v shows the 429 pauses" bash -c '[ '$rc' = 0 ] && grep -q "info: engine: gemini-3.8-flash: rate limited, paused" "$0"' "$T/err"
    run fk --db f13b.db --no-image --no-audio propagate two.txt
    chk "13: ... which plain runs keep quiet" bash -c '[ '$rc' = 0 ] && ! grep -q "rate limited, paused" "$0"' "$T/err"

    cat > fail.json <<'EOF'
{"seed": 1, "default": {"latencyMs": 5, "jitter": 0, "faults": {"status503": 0, "reset": 0}},
 "models": {"gemini-3.8-flash": {"faults": {"status500": 1}}}}
EOF
    cat > good.json <<'EOF'
{"seed": 1, "default": {"latencyMs": 5, "jitter": 0, "faults": {"status503": 0, "reset": 0}}}
EOF
    printf -- '- 猫: cat\n- 犬: dog\n- 鳥: bird\n' > three.txt
    scenario fail.json
    run env WORDBANK_RETRY_MAX_ATTEMPTS=1 GEMINI_API_KEY=test-key-not-secret-123456 GEMINI_BASE_URL="http://127.0.0.1:$port" "$WB" --db f14.db --no-image --no-audio propagate three.txt
    chk "14: three retryable failures go into the retry file (exit 1)" \
        bash -c '[ '$rc' = 1 ] && [ "$(wc -l < f14.db.failed.txt)" = 3 ] && grep -q "propagate .f14.db.failed.txt." "$0"' "$T/err"
    scenario good.json
    run fk --db f14.db --no-image --no-audio add 魚 fish
    chk "14: a later clean add keeps the file as it was" \
        bash -c '[ '$rc' = 0 ] && [ "$(wc -l < f14.db.failed.txt)" = 3 ] && ! grep -q "魚" f14.db.failed.txt'
    scenario fail.json
    run env WORDBANK_RETRY_MAX_ATTEMPTS=1 GEMINI_API_KEY=test-key-not-secret-123456 GEMINI_BASE_URL="http://127.0.0.1:$port" "$WB" --db f14.db --no-image --no-audio add 牛 cow
    chk "14: a later failure adds its line, the earlier ones stay" \
        bash -c '[ '$rc' = 1 ] && [ "$(wc -l < f14.db.failed.txt)" = 4 ] && grep -q "^牛	cow$" f14.db.failed.txt && grep -q "^猫	cat$" f14.db.failed.txt'
    scenario good.json
    run fk --db f14.db --no-image --no-audio add 猫 cat
    chk "14: a line goes once its entry succeeds" \
        bash -c '[ '$rc' = 0 ] && [ "$(wc -l < f14.db.failed.txt)" = 3 ] && ! grep -q "^猫" f14.db.failed.txt'
    run fk --db f14.db --no-image --no-audio propagate f14.db.failed.txt
    chk "14: retrying the file clears it: the file is gone after a clean run" \
        bash -c '[ '$rc' = 0 ] && ! test -e f14.db.failed.txt && grep -q "^3 of 3 entries complete" "$0"' "$T/err"
    kill "$FAKE_PID" 2>/dev/null
    FAKE_PID=
else
    skip "11, 13, 14 with the fake" "node or curl missing"
fi

finish
