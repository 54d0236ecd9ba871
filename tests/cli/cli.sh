#!/usr/bin/env bash
# The wordbank command end to end, offline: exit codes of the contract,
# configuration precedence and key masking, import/export round trip, list and
# show --json, bad input with FILE:LINE, and a generation run that a second run
# leaves alone. Prints TAP.
set -u
WB=$(readlink -f "${WB_BIN:?}")
ROOT=${WB_SOURCE_ROOT:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
export WORDBANK_DB="$T/wb.db" HOME="$T" XDG_CACHE_HOME="$T/cache"
unset GEMINI_API_KEY GOOGLE_API_KEY OPENAI_API_KEY WORDBANK_MEDIA
# Nothing here may leave the machine: with a key set, doctor asks the endpoint
# for its models, so point every endpoint at a closed loopback port.
export GEMINI_BASE_URL=http://127.0.0.1:9 OPENAI_BASE_URL=http://127.0.0.1:9/v1
n=0 failed=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
bad() { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
rc_of() { "$@" >/dev/null 2>&1; echo $?; }

check "no command is a usage error (2)" test "$(rc_of "$WB")" = 2
check "unknown command is 2" test "$(rc_of "$WB" frobnicate)" = 2
check "unknown option is 2" test "$(rc_of "$WB" --frob list)" = 2
check "--help is 0" test "$(rc_of "$WB" --help)" = 0
check "bad --jobs is 2" test "$(rc_of "$WB" -j 0 list)" = 2
check "list on a missing bank is 3 and creates nothing" bash -c '"$0" list >/dev/null 2>&1; test $? = 3 && ! test -e "$WORDBANK_DB"' "$WB"

# Configuration: the key is masked and its origin named; flags beat env beat file.
key="AIza.test.not.a.real.key.0123456789"
out=$(GEMINI_API_KEY=$key "$WB" doctor 2>&1)
if grep -q "$key" <<<"$out"; then bad "doctor never prints the key"; else ok "doctor never prints the key"; fi
check "doctor masks the key (first 4 + length)" grep -q "AIza… (${#key} chars)" <<<"$out"
check "doctor names the key's origin" grep -q "GEMINI_API_KEY" <<<"$out"
printf 'GOOGLE_AI_STUDIO_KEY=fromdotenvkey1234567\n' > .env
out=$("$WB" doctor 2>&1)
check ".env GOOGLE_AI_STUDIO_KEY is found" grep -q "GOOGLE_AI_STUDIO_KEY" <<<"$out"
out=$(GOOGLE_API_KEY=fromgoogleenv12345678 "$WB" doctor 2>&1)
check "GOOGLE_API_KEY beats .env" grep -q "(from GOOGLE_API_KEY)" <<<"$out"
rm .env
out=$("$WB" doctor 2>&1)
check "doctor checks the offline parts (MeCab, EDICT, espeak-ng)" bash -c 'grep -q "MeCab with" <<<"$0" && grep -q "EDICT" <<<"$0" && grep -q "espeak-ng (" <<<"$0"' "$out"
printf 'text_model = from-file\n[limit.x]\nrpm = 5\n' > wordbank.conf
check "config file sets a model" grep -q "from-file  (config file)" <<<"$(GEMINI_API_KEY=$key "$WB" doctor 2>&1)"
check "env beats config file" grep -q "from-env  (WORDBANK_TEXT_MODEL)" <<<"$(GEMINI_API_KEY=$key WORDBANK_TEXT_MODEL=from-env "$WB" doctor 2>&1)"
check "flag beats env" grep -q "from-flag  (flag)" <<<"$(GEMINI_API_KEY=$key WORDBANK_TEXT_MODEL=from-env "$WB" --text-model from-flag doctor 2>&1)"
rm wordbank.conf

# Import / export round trip of the original format.
fx="$ROOT/tests/export/fixtures/wordbank.jsonl"
check "import of the fixture is 0" test "$(rc_of "$WB" import "$fx")" = 0
"$WB" export --format jsonl -o out.jsonl 2>/dev/null
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

# list/show --json shapes.
if "$WB" list --json | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert isinstance(v, list) and v
for e in v:
    assert set(["word","translation","language","context","reading","description","examples","image_description","stages"]) <= set(e)
    assert set(e["stages"]) == {"details","image","audio"}
    for s in e["stages"].values():
        assert s["state"] in ("missing","done","failed")
'; then ok "list --json is an array of entries of the documented shape"; else bad "list --json shape"; fi
w=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1],encoding="utf-8").readline())["word"])' "$fx")
check "show --json gives one object" python3 -c 'import json,sys; v=json.load(sys.stdin); assert isinstance(v, (dict, list))' < <("$WB" show "$w" --json)
check "show of a missing word is 1" test "$(rc_of "$WB" show nosuchword)" = 1

# Bad input: FILE:LINE, the good lines still land, exit 1.
printf '{"word":"良い","en_translation":"good","language_code":"ja","examples":[],"description":"d","image_description":"i","image_file":null}\n{broken\n{"word":"x"}\n' > bad.jsonl
err=$("$WB" import bad.jsonl 2>&1 >/dev/null); rc=$?
check "malformed JSONL exits 1" test "$rc" = 1
check "malformed JSONL names FILE:LINE" grep -q "bad.jsonl:2:" <<<"$err"
check "the good line of a bad file is imported" grep -q "良い" <<<"$("$WB" list)"
check "rm removes" test "$(rc_of "$WB" rm 良い good)" = 0
check "rm of a missing entry is 1" test "$(rc_of "$WB" rm 良い good)" = 1

# A corrupt database: exit 3 and the file is untouched.
printf 'this is not a database, and it must stay exactly like this\n' > corrupt.db
sum=$(sha256sum corrupt.db)
check "corrupt database exits 3" test "$(rc_of "$WB" --db corrupt.db list)" = 3
check "corrupt database is left untouched" test "$(sha256sum corrupt.db)" = "$sum"
check "import into a corrupt database exits 3" test "$(rc_of "$WB" --db corrupt.db import "$fx")" = 3

# Generation offline: every entry done, media valid, a second run does nothing new.
printf -- '- 猫: cat (the pet)\n- 食べる: to eat\nbroken line\n' > words.txt
err=$("$WB" --db gen.db propagate words.txt --progress never 2>&1); rc=$?
check "propagate with one bad line exits 1" test "$rc" = 1
check "propagate reports the bad line as FILE:LINE" grep -q "words.txt:3:" <<<"$err"
out=$("$WB" --db gen.db list --json)
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
' "$out" "$T"; then ok "offline propagate: readings, meanings and audio files"; else bad "offline propagate result" "$out"; fi
out=$("$WB" --db gen.db propagate words.txt --json --progress never 2>/dev/null)
check "a second run makes nothing new" python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert all(v["done"] == 0 for v in s["stages"].values()), s
assert s["stages"]["audio"]["cached"] == 2, s' "$out"
check "add works for one entry" test "$(rc_of "$WB" --db gen.db add 犬 dog)" = 0

"$WB" --db gen.db export --format apkg -o deck.apkg 2>/dev/null
check "export --format apkg writes an Anki deck with its media" python3 -c '
import json, zipfile
z = zipfile.ZipFile("deck.apkg")
names = z.namelist()
assert "collection.anki2" in names and "media" in names, names
media = json.loads(z.read("media"))
assert len(media) >= 2 and all(k in names for k in media), media'
check "an Anki deck on stdout is a usage error" test "$(rc_of "$WB" --db gen.db export --format apkg)" = 2

# tts and dialogue.
"$WB" tts "ねこ" -o t.mp3 2>/dev/null
check "tts writes an mp3" python3 -c '
import sys
b = open("t.mp3", "rb").read()
assert len(b) > 1000 and (b[:3] == b"ID3" or (b[0] == 0xFF and b[1] & 0xE0 == 0xE0)), b[:4]'
"$WB" tts "ねこ" -o t.opus 2>/dev/null
"$WB" tts "ねこ" -o t.m4a 2>/dev/null
check "tts makes an M4A (libavformat loaded on demand)" python3 -c 'b = open("t.m4a", "rb").read(); assert b[4:8] == b"ftyp" and b"moov" in b and b"mdat" in b' ''
check "tts takes the format from the extension" python3 -c 'b = open("t.opus", "rb").read(); assert b[:4] == b"OggS" and b"OpusHead" in b[:64]' 
printf 'A: こんにちは\nB: こんばんは\nC: やあ\n' > three.txt
check "a dialogue with three speakers is refused (2)" test "$(rc_of "$WB" dialogue three.txt -o d.mp3)" = 2

echo "1..$n"
exit $((failed > 0))
