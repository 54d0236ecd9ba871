#!/usr/bin/env bash
# The wordbank command end to end, offline: exit codes of the contract,
# configuration precedence and key masking, import/export round trip, list and
# show --json, bad input with FILE:LINE, and a generation run that a second run
# leaves alone. Prints TAP.
#
# Every wordbank call goes through wb(): its exit status is compared with the
# one expected, and its stderr is kept and searched for sanitizer reports
# (ASan, LSan, UBSan), so a leak or an overflow in any run fails the test
# even when the exit status happens to be the expected one.
# shellcheck source=../harness/wbtest.sh
. "${WB_SOURCE_ROOT:?}/tests/harness/wbtest.sh"
cd "$T" || exit 1
export WORDBANK_DB="$T/wb.db"

expect "no command is a usage error (2)" 2
check "no command prints the usage" has "wordbank [global options] COMMAND [ARGS]"
expect "unknown command is 2" 2 frobnicate
check "unknown command is named" has "unknown command 'frobnicate'"
expect "unknown option is 2" 2 --frob list
check "unknown option is named" has "unknown option '--frob'"
expect "--help is 0" 0 --help
check "--help lists the commands" bash -c 'grep -q "propagate" <<<"$0" && grep -q "export \[--format jsonl|csv|apkg\]" <<<"$0"' "$OUT"
expect "bad --jobs is 2" 2 -j 0 list
check "bad --jobs says why: the flag, the value and the range" has "--jobs: jobs = '0': it must be a whole number from 1 to 10000"
expect "an unknown provider is 2" 2 --provider frobai list
check "an unknown provider is named" has "--provider: provider = 'frobai': it must be one of gemini, openai, offline"
expect "every known provider is taken" 3 --provider openai --image-provider offline list --json
expect "list on a missing bank is 3" 3 list --json
check "...and creates nothing" test ! -e "$WORDBANK_DB"

# Configuration: the key is masked and its origin named; flags beat env beat file.
key="AIza.test.not.a.real.key.0123456789"
# With a key, doctor asks the (closed) endpoint for its models: exit 3 and it
# says so; without one it checks the offline parts only: exit 0.
GEMINI_API_KEY=$key expect "doctor with a key and no endpoint is 3" 3 doctor
check "doctor says the models list is out of reach" has "cannot read the endpoint's models list"
check "doctor never prints the key" hasnt "$key"
check "doctor masks the key (first 4 + length)" has "AIza… (${#key} chars)"
check "doctor names the key's origin" has "GEMINI_API_KEY"
printf 'GOOGLE_AI_STUDIO_KEY=fromdotenvkey1234567\n' > .env
expect "doctor with a .env key is 3" 3 doctor
check ".env GOOGLE_AI_STUDIO_KEY is found" has "(from .env (GOOGLE_AI_STUDIO_KEY))"
check "the .env key is not printed" hasnt "fromdotenvkey1234567"
GOOGLE_API_KEY=fromgoogleenv12345678 expect "doctor with GOOGLE_API_KEY is 3" 3 doctor
check "GOOGLE_API_KEY beats .env" has "(from GOOGLE_API_KEY)"
rm .env
expect "doctor without a key is 0" 0 doctor
check "doctor checks the offline parts (MeCab, EDICT, espeak-ng)" bash -c 'grep -q "MeCab with" <<<"$0" && grep -q "EDICT" <<<"$0" && grep -q "espeak-ng (" <<<"$0"' "$OUT
$ERR"
printf 'text_model = from-file\n[limit.x]\nrpm = 5\n' > wordbank.conf
GEMINI_API_KEY=$key expect "doctor with a config file is 3" 3 doctor
check "config file sets a model" has "from-file  (config file)"
GEMINI_API_KEY=$key WORDBANK_TEXT_MODEL=from-env expect "doctor with env and file is 3" 3 doctor
check "env beats config file" has "from-env  (WORDBANK_TEXT_MODEL)"
GEMINI_API_KEY=$key WORDBANK_TEXT_MODEL=from-env expect "doctor with a flag, env and file is 3" 3 --text-model from-flag doctor
check "flag beats env (doctor names the flag)" has "from-flag  (--text-model)"
rm wordbank.conf

# Import / export round trip of the original format.
fx="$ROOT/tests/export/fixtures/wordbank.jsonl"
nfx=$(grep -c . "$fx")
expect "import of the fixture is 0" 0 import "$fx"
check "import says how many entries it added" has "imported $nfx new, 0 updated, 0 failed"
expect "export --format jsonl -o is 0" 0 export --format jsonl -o out.jsonl
if python3 - "$fx" out.jsonl <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
b = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
key = lambda o: (o["word"], o["en_translation"], o.get("language_code", "ja"))
bm = {key(o): o for o in b}
assert len(a) == len(b), (len(a), len(b))
for o in a:
    p = bm[key(o)]
    for k in ("examples", "description", "image_description"):  # the fixture's media files do not exist: never imported
        assert o.get(k) == p.get(k), (k, o.get(k), p.get(k))
PY
then ok "import then export reproduces every entry"; else bad "import then export reproduces every entry"; fi

# list/show --json: the documented shape, and the fixture's content.
expect "list --json is 0" 0 list --json
if python3 - "$fx" "$OUT" <<'PY'
import json, sys
fx = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
v = json.loads(sys.argv[2])
assert isinstance(v, list) and len(v) == len(fx), (len(v), len(fx))
for e in v:
    assert set(["word","translation","language","context","reading","description","examples","image_description","stages"]) <= set(e)
    assert set(e["stages"]) == {"details","image","audio"}
    for s in e["stages"].values():
        assert s["state"] in ("missing","done","failed")
assert {(e["word"], e["translation"]) for e in v} == {(o["word"], o["en_translation"]) for o in fx}
PY
then ok "list --json is an array of the fixture's entries, of the documented shape"; else bad "list --json shape" "$OUT"; fi
w=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1],encoding="utf-8").readline())["word"])' "$fx")
expect "show --json is 0" 0 show "$w" --json
check "show --json gives the entry, its examples and its stages" python3 - "$fx" "$OUT" <<'PY'
import json, sys
o = json.loads(open(sys.argv[1], encoding="utf-8").readline())
v = json.loads(sys.argv[2])
assert isinstance(v, dict), type(v)
assert v["word"] == o["word"] and v["translation"] == o["en_translation"], v
assert v["language"] == o.get("language_code", "ja"), v
assert v["description"] == o["description"], v["description"]
assert [x["text"] for x in v["examples"]] == o["examples"], v["examples"]
assert v["image_description"] == o["image_description"]
assert v["stages"]["details"]["state"] == "done", v["stages"]
# The fixture names a picture with no file behind it: nothing is imported
# for it (docs/store.md), the stage stays missing.
assert v["stages"]["image"]["state"] == "missing" and not v["stages"]["image"].get("file"), v["stages"]["image"]
PY
expect "show of a missing word is 1" 1 show nosuchword
check "show of a missing word names it" has "no entry for 'nosuchword'"

# Bad input: FILE:LINE, the good lines still land, exit 1.
printf '{"word":"良い","en_translation":"good","language_code":"ja","examples":[],"description":"d","image_description":"i","image_file":null}\n{broken\n{"word":"x"}\n' > bad.jsonl
expect "malformed JSONL exits 1" 1 import bad.jsonl
check "malformed JSONL names FILE:LINE" has "bad.jsonl:2:"
expect "list after a bad import is 0" 0 list
check "the good line of a bad file is imported" has "良い"
expect "rm removes" 0 rm 良い good
expect "rm of a missing entry is 1" 1 rm 良い good
check "rm of a missing entry names it" has "no entry for '良い' / 'good'"

# A corrupt database: exit 3 and the file is untouched.
printf 'this is not a database, and it must stay exactly like this\n' > corrupt.db
sum=$(sha256sum corrupt.db)
expect "corrupt database exits 3" 3 --db corrupt.db list
check "corrupt database is named and said to be left untouched" bash -c 'grep -q "corrupt.db" <<<"$0" && grep -q "left untouched" <<<"$0"' "$ERR"
check "corrupt database is left untouched" test "$(sha256sum corrupt.db)" = "$sum"
expect "import into a corrupt database exits 3" 3 --db corrupt.db import "$fx"
check "corrupt database is still untouched after an import" test "$(sha256sum corrupt.db)" = "$sum"

# Generation offline: every entry done, media valid, a second run does nothing new.
printf -- '- 猫: cat (the pet)\n- 食べる: to eat\nbroken line\n' > words.txt
expect "propagate with one bad line exits 1" 1 --db gen.db propagate words.txt --progress never
check "propagate reports the bad line as FILE:LINE" has "words.txt:3:"
expect "list --json of the generated bank is 0" 0 --db gen.db list --json
if python3 -c '
import json, os, sys
v = json.loads(sys.argv[1])
assert {e["word"] for e in v} == {"猫", "食べる"}, v
for e in v:
    assert e["stages"]["details"]["state"] == "done"
    assert e["stages"]["audio"]["state"] == "done"
    f = e["stages"]["audio"]["file"]
    assert f and os.path.getsize(os.path.join(sys.argv[2], f)) > 500, f
    assert e["reading"] in ("ねこ", "たべる")
' "$OUT" "$T"; then ok "offline propagate: readings, meanings and audio files"; else bad "offline propagate result" "$OUT"; fi
expect "a second run is 1 again (the bad line is still there)" 1 --db gen.db propagate words.txt --json --progress never
check "a second run reports the bad line again" has "words.txt:3:"
check "a second run makes nothing new" python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert all(v["done"] == 0 for v in s["stages"].values()), s
assert s["stages"]["audio"]["cached"] == 2, s' "$OUT"
expect "add works for one entry" 0 --db gen.db add 犬 dog
check "add reports the entry complete" has "1 of 1 entry complete"

expect "export --format apkg is 0" 0 --db gen.db export --format apkg -o deck.apkg
check "export --format apkg writes an Anki deck with its media" python3 -c '
import json, zipfile
z = zipfile.ZipFile("deck.apkg")
names = z.namelist()
assert "collection.anki2" in names and "media" in names, names
media = json.loads(z.read("media"))
assert len(media) >= 2 and all(k in names for k in media), media'
expect "an Anki deck on stdout is a usage error" 2 --db gen.db export --format apkg
check "an Anki deck on stdout says it needs -o" has "needs -o FILE.apkg"

# tts and dialogue.
expect "tts to .mp3 is 0" 0 tts "ねこ" -o t.mp3
check "tts writes an mp3" python3 -c '
import sys
b = open("t.mp3", "rb").read()
assert len(b) > 1000 and (b[:3] == b"ID3" or (b[0] == 0xFF and b[1] & 0xE0 == 0xE0)), b[:4]'
expect "tts to .opus is 0" 0 tts "ねこ" -o t.opus
check "tts takes the format from the extension" python3 -c 'b = open("t.opus", "rb").read(); assert b[:4] == b"OggS" and b"OpusHead" in b[:64]'
expect "tts to .m4a is 0" 0 tts "ねこ" -o t.m4a
check "tts makes an M4A (libavformat loaded on demand)" python3 -c 'b = open("t.m4a", "rb").read(); assert b[4:8] == b"ftyp" and b"moov" in b and b"mdat" in b'
printf 'A: こんにちは\nB: こんばんは\nC: やあ\n' > three.txt
expect "a dialogue with three speakers is refused (2)" 2 dialogue three.txt -o d.mp3
check "the refusal names the three speakers" has "this one has 3: A, B, C"
check "a refused dialogue writes no file" test ! -e d.mp3

finish
