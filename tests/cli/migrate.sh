#!/usr/bin/env bash
# Moving over from the original system, end to end through the command: a
# site in the original's layout (data/wordbank.jsonl, content/images/wordbank/
# <h>.jpg, content/audio/wordbank/<h>.aac with h = md5(word:translation)[:12];
# real JPEG and ADTS AAC files made here by ffmpeg) imported with no option
# in the site's root; a --cache-only build that sends no request to the fake
# and whose every picture and clip resolves inside the built site; export ->
# import into a fresh word bank giving the same `list --json` and the same
# media bytes; and hostile media paths and files refused with FILE:LINE while
# nothing of them reaches the media store, a site or a deck. Prints TAP.
# shellcheck source=../harness/wbtest.sh
. "${WB_SOURCE_ROOT:?}/tests/harness/wbtest.sh"
# run NAME EXPECTED_RC CMD...: runs CMD with stdout in $T/out, stderr in $T/err.
run() {
    local name=$1 want=$2 rc; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    if [ "$rc" = "$want" ]; then ok "$name (exit $rc)"; else bad "$name (exit $rc, wanted $want)" "$(head -c 2000 "$T/err")"; fi
}
h12() { printf '%s' "$1:$2" | md5sum | cut -c1-12; }
sha_name() { echo "$(sha256sum "$1" | cut -c1-32).$2"; }

# ---- the original's site -------------------------------------------------
S="$T/site"
mkdir -p "$S/data" "$S/content/images/wordbank" "$S/content/audio/wordbank" "$S/content/lessons"
mk_jpg() { ffmpeg -hide_banner -loglevel error -f lavfi -i "testsrc=size=1024x1024:rate=1" -vf "hue=h=$2" -frames:v 1 -y "$1"; }
mk_aac() { ffmpeg -hide_banner -loglevel error -f lavfi -i "sine=frequency=$2:duration=0.6" -ar 24000 -ac 1 -c:a aac -f adts -y "$1"; }
cat_h=$(h12 猫 cat) dog_h=$(h12 犬 dog)
mk_jpg "$S/content/images/wordbank/$cat_h.jpg" 0
mk_aac "$S/content/audio/wordbank/$cat_h.aac" 440
mk_jpg "$S/content/images/wordbank/$dog_h.jpg" 90
cat > "$S/data/wordbank.jsonl" <<'EOF'
{"en_translation": "cat", "word": "猫", "language_code": "ja", "examples": ["猫が好きです。", "黒い猫がいる。"], "description": "A small furry pet.", "image_description": "A tabby cat on a tatami mat."}
{"en_translation": "dog", "word": "犬", "language_code": "ja", "examples": ["犬と散歩する。"], "description": "A loyal animal.", "image_description": "A shiba inu."}
{"en_translation": "bird", "word": "鳥", "language_code": "ja", "examples": ["鳥が飛ぶ。"], "description": "It flies.", "image_description": "A sparrow."}
EOF
cat > "$S/content/lessons/animals.md" <<'EOF'
# Animals

<wordbank>
- 猫: cat
- 犬: dog
- 鳥: bird
</wordbank>
EOF
check "ffmpeg made a JPEG and an ADTS AAC clip" bash -c "head -c 3 '$S/content/images/wordbank/$cat_h.jpg' | od -An -tx1 | grep -q 'ff d8 ff' && head -c 2 '$S/content/audio/wordbank/$cat_h.aac' | od -An -tx1 | grep -q 'ff f1'"

# ---- import with no option, in the site's root ---------------------------
cd "$S"
run "import data/wordbank.jsonl in the site root" 0 "$WB" --json import data/wordbank.jsonl
check "3 entries, 3 media files copied, 3 stages without a file" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["imported"], r["failed"], r["media_copied"], r["media_refused"], r["media_missing"]) == (3, 0, 3, 0, 3), r
' "$T/out"
check "one warning names the files not found" test "$(grep -c 'warning' "$T/err")" = 1
cat_jpg=$(sha_name "$S/content/images/wordbank/$cat_h.jpg" jpg)
cat_aac=$(sha_name "$S/content/audio/wordbank/$cat_h.aac" aac)
dog_jpg=$(sha_name "$S/content/images/wordbank/$dog_h.jpg" jpg)
check "the picture is in the media store, byte for byte" cmp -s "$S/media/$cat_jpg" "$S/content/images/wordbank/$cat_h.jpg"
check "the AAC clip is kept as it is" cmp -s "$S/media/$cat_aac" "$S/content/audio/wordbank/$cat_h.aac"
check "the second picture too" cmp -s "$S/media/$dog_jpg" "$S/content/images/wordbank/$dog_h.jpg"
run "list --json" 0 "$WB" list --json
check "stages: done with the store's files where a file was found, missing elsewhere" python3 - "$T/out" "$cat_jpg" "$cat_aac" "$dog_jpg" <<'PY'
import json, sys
v = {e["word"]: e for e in json.load(open(sys.argv[1]))}
st = lambda w, s: v[w]["stages"][s]
assert st("猫", "image") == {"state": "done", "error": None, "file": "media/" + sys.argv[2]}, st("猫", "image")
assert st("猫", "audio") == {"state": "done", "error": None, "file": "media/" + sys.argv[3]}, st("猫", "audio")
assert st("犬", "image")["file"] == "media/" + sys.argv[4]
assert st("犬", "audio")["state"] == "missing" and st("犬", "audio")["file"] is None
assert st("鳥", "image")["state"] == "missing" and st("鳥", "audio")["state"] == "missing"
assert st("鳥", "details")["state"] == "done"
PY
# From inside data/ (a bare file name), into another word bank: the sibling
# content/ is found the same way.
cd "$S/data"
run "import wordbank.jsonl from inside data/" 0 "$WB" --db "$T/other.db" --json import wordbank.jsonl
check "the bare file name finds ../content too" python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["media_copied"] == 3
' "$T/out"
cd "$S"
run "re-import is idempotent" 0 "$WB" --json import data/wordbank.jsonl
check "re-import copies nothing new and updates in place" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["imported"], r["updated"], r["media_copied"]) == (0, 3, 0), r
' "$T/out"
check "the media store holds exactly the 3 files" test "$(ls "$S/media" | wc -l)" = 3

# ---- --cache-only build against the fake: no request ---------------------
coproc FAKE { exec node "$ROOT/tests/fake/server.mjs"; }
FAKE_PID=$FAKE_PID
read -r ready <&"${FAKE[0]}"
port=$(printf '%s' "$ready" | sed 's/.*"port":\([0-9]*\).*/\1/')
requests() { curl -s "http://127.0.0.1:$port/_fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["requests"])'; }
export GEMINI_BASE_URL="http://127.0.0.1:$port" GEMINI_API_KEY=test-key-not-secret-123456
run "--cache-only build of the migrated site" 0 "$WB" --cache-only build content/lessons -o "$T/out-site"
check "zero requests reached the fake" test "$(requests)" = 0
check "every card's picture and audio resolve inside the built site" python3 - "$T/out-site" "$S/content" <<'PY'
import html.parser, os, sys, hashlib
site = os.path.realpath(sys.argv[1])
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.srcs = []
    def handle_starttag(s, tag, attrs):
        a = dict(attrs)
        if tag in ("img", "audio", "source") and a.get("src"):
            s.srcs.append((tag, a["src"]))
srcs = []
for d, _, fs in os.walk(site):
    for f in fs:
        if f.endswith(".html"):
            p = P(); p.feed(open(os.path.join(d, f), encoding="utf-8").read())
            srcs += [(d, t, s) for t, s in p.srcs]
kinds = sorted(t for _, t, _ in srcs)
assert kinds == ["audio", "img", "img"], kinds
orig = {}
for d, _, fs in os.walk(sys.argv[2]):
    for f in fs:
        if f.endswith((".jpg", ".aac")):
            orig[hashlib.sha256(open(os.path.join(d, f), "rb").read()).hexdigest()] = f
for d, t, s in srcs:
    assert "://" not in s and not s.startswith("/"), s
    p = os.path.realpath(os.path.join(d, s))
    assert p.startswith(site + os.sep) and os.path.isfile(p), (s, p)
    assert hashlib.sha256(open(p, "rb").read()).hexdigest() in orig, p
assert any(s.endswith(".aac") for _, t, s in srcs if t == "audio")
PY

# ---- export -> import into a fresh word bank -----------------------------
mkdir -p "$T/exp"
run "export --format jsonl -o elsewhere" 0 "$WB" export --format jsonl -o "$T/exp/words.jsonl"
check "the export names no path with .. or / at the start" python3 - "$T/exp/words.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(l)
    for k in ("image_file", "audio_file"):
        f = o.get(k)
        assert f is None or (not f.startswith("/") and ".." not in f.split("/")), f
PY
check "its media was copied beside it" test "$(ls "$T/exp/media" | wc -l)" = 3
run "export again" 0 "$WB" export --format jsonl -o "$T/exp/again.jsonl"
check "the export is deterministic" cmp -s "$T/exp/words.jsonl" "$T/exp/again.jsonl"
rm "$T/exp/again.jsonl"
mkdir -p "$T/cwd" && cd "$T/cwd"
run "export to stdout from elsewhere" 0 "$WB" --db "$S/wordbank.db" export --format jsonl
check "stdout: the same entries, bare store names, nothing copied" python3 - "$T/out" "$T/exp/words.jsonl" "$T/cwd" <<'PY'
import json, os, sys
a = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
b = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert [o["word"] for o in a] == [o["word"] for o in b]
for x, y in zip(a, b):
    for k in ("image_file", "audio_file"):
        assert (x[k] is None) == (y[k] is None) and (x[k] is None or "media/" + x[k] == y[k]), (x[k], y[k])
assert os.listdir(sys.argv[3]) == [], os.listdir(sys.argv[3])
PY
cd "$S"
check "one entry a line, in key order" python3 -c '
import json, sys
k = [(o["word"], o["en_translation"], o["language_code"]) for o in map(json.loads, open(sys.argv[1], encoding="utf-8"))]
assert len(k) == 3 and k == sorted(k, key=lambda t: [x.encode() for x in t]), k
' "$T/exp/words.jsonl"
# Fields the original lacks survive too: give one entry a context, a reading
# and example translations through a second import of wordbank's own keys.
printf '%s\n' '{"word": "猫", "en_translation": "cat", "language_code": "ja", "context": "the pet", "reading": "ねこ", "examples": ["猫が好きです。", "黒い猫がいる。"], "example_translations": ["I like cats.", null]}' > "$T/extra.jsonl"
run "import wordbank's own extra keys" 0 "$WB" import "$T/extra.jsonl"
run "export with every field" 0 "$WB" export --format jsonl -o "$T/exp/words.jsonl"
mkdir -p "$T/fresh"
cp -r "$T/exp" "$T/moved"   # another machine: only the export and its media folder
cd "$T/fresh"
run "import the export into a fresh word bank" 0 "$WB" --json import "$T/moved/words.jsonl"
check "nothing refused or missing" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["imported"], r["media_copied"], r["media_refused"], r["media_missing"]) == (3, 3, 0, 0), r
' "$T/out"
"$WB" --db "$S/wordbank.db" list --json > "$T/a.json" 2>"$T/err"; rc_a=$?
"$WB" list --json > "$T/b.json" 2>"$T/err"; rc_b=$?
check "list --json of both word banks succeeds" test "$rc_a$rc_b" = 00
check "identical list --json (entries compared in key order)" python3 - "$T/a.json" "$T/b.json" <<'PY'
import json, sys
key = lambda e: (e["word"], e["translation"], e["language"])
a = sorted(json.load(open(sys.argv[1])), key=key)
b = sorted(json.load(open(sys.argv[2])), key=key)
assert a == b, (a, b)
c = {e["word"]: e for e in a}["猫"]
assert c["context"] == "the pet" and c["reading"] == "ねこ", c
assert c["examples"][0] == {"text": "猫が好きです。", "translation": "I like cats."}, c["examples"]
PY
check "identical media bytes" diff -r "$S/media" "$T/fresh/media"

# ---- hostile input: refused with FILE:LINE, nothing copied ---------------
H="$T/hostile"
mkdir -p "$H/lesson" "$H/private"
mk_jpg "$H/private/secret.jpg" 180
cp "$S/content/images/wordbank/$cat_h.jpg" "$H/lesson/fine.jpg"
ln -s "$H/private/secret.jpg" "$H/lesson/out.jpg"
head -c 4 "$H/private/secret.jpg" > "$H/lesson/huge.jpg"; truncate -s 65M "$H/lesson/huge.jpg"
printf 'not a picture at all\n' > "$H/lesson/text.jpg"
printf 'plain text, not sound\n' > "$H/lesson/text.aac"
cat > "$H/lesson/words.jsonl" <<EOF
{"word": "一", "en_translation": "one", "image_file": "../private/secret.jpg"}
{"word": "二", "en_translation": "two", "image_file": "$H/private/secret.jpg"}
{"word": "三", "en_translation": "three", "image_file": "out.jpg"}
{"word": "四", "en_translation": "four", "image_file": "fine\u0000.jpg"}
{"word": "五", "en_translation": "five", "image_file": "huge.jpg"}
{"word": "六", "en_translation": "six", "image_file": "text.jpg"}
{"word": "七", "en_translation": "seven", "audio_file": "text.aac"}
{"word": "八", "en_translation": "eight", "image_file": "fine.jpg"}
EOF
mkdir -p "$H/bank" && cd "$H/bank"
run "a hostile import exits 1" 1 "$WB" import "$H/lesson/words.jsonl"
F="$H/lesson/words.jsonl"
for spec in "1:climbs out" "2:absolute path" "3:resolves outside" "4:NUL" "5:larger than" "6:not a picture or sound" "7:not a picture or sound"; do
    line=${spec%%:*} why=${spec#*:}
    check "line $line refused with FILE:LINE ($why)" grep -q "^$F:$line: .*refused: .*$why" "$T/err"
done
run "list after the hostile import" 0 "$WB" list --json
check "every line's text was imported; none of the refused media" python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
assert len(v) == 8, len(v)
for e in v:
    want = "done" if e["word"] == "八" else "missing"
    assert e["stages"]["image"]["state"] == want, e
    assert e["stages"]["audio"]["state"] == "missing", e
' "$T/out"
check "only the valid picture reached the media store" test "$(ls "$H/bank/media")" = "$(sha_name "$H/lesson/fine.jpg" jpg)"
# A word bank that already holds unsafe names (as older versions imported
# them): neither a build nor a deck reads them.
# (A stage without a row is missing: the rows are written whole.)
unsafe() { sqlite3 "$H/bank/wordbank.db" "INSERT OR REPLACE INTO stages (entry_id, stage, state, file, updated_at) SELECT id, 'image', 'done', '$2', 0 FROM entries WHERE word = '$1';" && test "$(sqlite3 "$H/bank/wordbank.db" "SELECT count(*) FROM stages JOIN entries ON id = entry_id WHERE word = '$1' AND file = '$2'")" = 1; }
secret_name=$(sha_name "$H/private/secret.jpg" jpg)
ln -s "$H/private/secret.jpg" "$H/bank/media/$secret_name"
cp "$H/private/secret.jpg" "$H/bank/secret-copy.jpg"
check "unsafe names planted in the word bank" bash -c "$(declare -f unsafe); H='$H'; unsafe 一 ../secret-copy.jpg && unsafe 二 '$H/private/secret.jpg' && unsafe 三 '$secret_name'"
printf '# Numbers\n\n<wordbank>\n- 一: one\n- 二: two\n- 三: three\n- 八: eight\n</wordbank>\n' > "$H/lesson/numbers.md"
run "--cache-only build with unsafe names in the word bank (refused: exit 1)" 1 "$WB" --cache-only build "$H/lesson" -o "$H/site"
check "...each unsafe name refused by name" bash -c 'grep -q "secret-copy.jpg" "$0" && grep -q "private/secret.jpg" "$0"' "$T/err"
run "an Anki deck of that word bank" 0 "$WB" export --format apkg -o "$H/deck.apkg"
mkdir -p "$H/exp"
run "a JSONL export of that word bank" 0 "$WB" export --format jsonl -o "$H/exp/words.jsonl"
run "a preview of that word bank (refused names: exit 1)" 1 "$WB" preview -o "$H/preview"
check "...each unsafe name refused by name, the valid picture copied" bash -c 'grep -q "secret-copy.jpg" "$0" && grep -q "private/secret.jpg" "$0" && ls "$1"/media/*.jpg' "$T/err" "$H/preview"
check "the secret is in no site, preview, deck or export" python3 - "$H/private/secret.jpg" "$H/site" "$H/deck.apkg" "$H/exp" "$H/preview" <<'PY'
import os, sys, zipfile
secret = open(sys.argv[1], "rb").read()
seen = 0
for top in (sys.argv[2], sys.argv[4], sys.argv[5]):
    for d, _, fs in os.walk(top):
        for f in fs:
            data = open(os.path.join(d, f), "rb").read()
            assert secret not in data, os.path.join(d, f)
            seen += 1
z = zipfile.ZipFile(sys.argv[3])
for m in z.namelist():
    assert secret not in z.read(m), m
assert seen > 0 and len(z.namelist()) >= 3  # the site and the deck were made (with fine.jpg)
PY

# ---- control: the fake does count a build that generates -----------------
cd "$S"
run "a build that may generate (control)" 0 "$WB" --no-image -j 2 build content/lessons -o "$T/out-site2"
check "the fake counted its requests (the zero above is real)" test "$(requests)" -gt 0
run "list after the generating build" 0 "$WB" list --json
check "the imported AAC clip and picture were kept, not generated again" python3 - "$T/out" "$cat_jpg" "$cat_aac" <<'PY'
import json, sys
c = {e["word"]: e for e in json.load(open(sys.argv[1]))}["猫"]["stages"]
assert c["image"]["file"] == "media/" + sys.argv[2] and c["audio"]["file"] == "media/" + sys.argv[3], c
PY

echo "1..$n"
exit 0
