#!/usr/bin/env bash
# Japanese cards end to end, offline: readings as written and chosen by the
# translation, pitch accent in show/list --json, the JSONL export and the
# built card (箸, 橋 and 端 look different). Prints TAP.
# shellcheck source=../harness/wbtest.sh
. "${WB_SOURCE_ROOT:?}/tests/harness/wbtest.sh"
cd "$T" || exit 1
export WORDBANK_DB="$T/wb.db"

cat > words.txt <<'W'
- 箸: chopsticks
- 橋: bridge
- 端: edge
- 雨: rain
- 飴: candy
- メモ帳: notepad
- ノーベル賞: Nobel Prize
- 何れ: which
- 注ぐ: to pour (into a cup)
- 居る: to be (humble)
W
err=$("$WB" --provider offline propagate words.txt --no-audio --progress never 2>&1); rc=$?
check "offline propagate of the fixed list exits 0" test "$rc" = 0
[ "$rc" = 0 ] || echo "# $err"

out=$("$WB" list --json); rc=$?
check "list --json exits 0" test "$rc" = 0
if python3 - "$out" <<'PY'
import json, sys
v = {e["word"]: e for e in json.loads(sys.argv[1])}
want_reading = {"箸": "はし", "橋": "はし", "端": "はし", "雨": "あめ", "飴": "あめ",
                "メモ帳": "メモちょう", "ノーベル賞": "ノーベルしょう", "何れ": "どれ",
                "注ぐ": "つぐ", "居る": "おる"}
want_pitch = {"箸": [1], "橋": [2], "端": [0], "雨": [1], "飴": [0]}
for w, r in want_reading.items():
    assert v[w]["reading"] == r, (w, v[w]["reading"], r)
for w, p in want_pitch.items():
    assert v[w]["pitch_accent"] == p, (w, v[w].get("pitch_accent"), p)
PY
then ok "list --json: readings as written, chosen by the translation; pitch accents"
else bad "list --json readings and pitch" "$out"; fi

for w in 箸:1 橋:2 端:0 雨:1 飴:0; do
  out=$("$WB" show "${w%%:*}" --json); rc=$?
  check "show ${w%%:*} --json: pitch_accent [${w##*:}]" python3 -c '
import json, sys
e = json.loads(sys.argv[1]); assert sys.argv[2] == "0", sys.argv[2]
assert e["pitch_accent"] == [int(sys.argv[3])], e' "$out" "$rc" "${w##*:}"
done

"$WB" export --format jsonl -o out.jsonl; rc=$?
check "export jsonl exits 0" test "$rc" = 0
check "the JSONL export carries pitch_accent" python3 -c '
import json
v = {o["word"]: o for o in map(json.loads, open("out.jsonl", encoding="utf-8"))}
assert [v[w]["pitch_accent"] for w in ("箸", "橋", "端", "雨", "飴")] == [[1], [2], [0], [1], [0]], v'

printf '# Pitch\n\n<wordbank>\n- 箸: chopsticks\n- 橋: bridge\n- 端: edge\n- 雨: rain\n- 飴: candy\n- メモ帳: notepad\n</wordbank>\n' > page.md
"$WB" render page.md -o page.html --cache-only --progress never 2>render.err; rc=$?
check "render of the page exits 0" test "$rc" = 0
if python3 - page.html <<'PY'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
cards = re.findall(r'<article class="wb-card".*?</article>', html, re.S)
assert len(cards) == 6, len(cards)
marks = {}
for c in cards:
    word = re.search(r'<p class="wb-word"[^>]*>([^<]*)</p>', c).group(1)
    m = re.search(r'<p class="(wb-reading wb-pitch)"[^>]*data-pitch="([\d,]+)"[^>]*>(.*?)</p>', c, re.S)
    assert m, (word, c)
    assert "pitch" in m.group(1)
    morae = re.findall(r'<span class="wb-mora( wb-hi)?( wb-drop)?">([^<]*)</span>', m.group(3))
    # The element's text is the reading itself.
    assert re.sub(r"<[^>]+>", "", m.group(3)) == "".join(x[2] for x in morae), m.group(3)
    marks[word] = (m.group(2), tuple(h + d for h, d, _ in morae))
# 箸: high, fall, low; 橋: low, high, fall; 端: low, high, no fall.
assert marks["箸"] == ("1", (" wb-hi wb-drop", "")), marks["箸"]
assert marks["橋"] == ("2", ("", " wb-hi wb-drop")), marks["橋"]
assert marks["端"] == ("0", ("", " wb-hi")), marks["端"]
assert marks["雨"][0] == "1" and marks["飴"][0] == "0"
assert len({marks[w] for w in ("箸", "橋", "端")}) == 3
# Katakana stays katakana on the card, furigana only over the kanji.
memo = [c for c in cards if "メモ帳" in c][0]
assert "<ruby>帳<rt>ちょう</rt></ruby>" in memo, memo
assert "メモ<ruby>" in memo
PY
then ok "cards: 箸, 橋 and 端 carry different pitch marks; メモ帳 keeps its katakana"
else bad "cards with pitch accent" "$(head -c 3000 page.html)"; fi

# A provider's readings are checked too: the loopback Gemini fake answers
# with the word itself as its "reading"; EDICT's reading for the meaning
# replaces it, written as the word is, and the pitch accent is added.
coproc FAKE { exec node "$ROOT/tests/fake/server.mjs"; }
FAKE_PID=$FAKE_PID
read -r line <&"${FAKE[0]}"
port=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["port"])' "$line")
printf -- '- 注ぐ: to pour (into a cup)\n- メモ帳: notepad\n- 居る: to be (humble)\n- 箸: chopsticks\n' > gem.txt
err=$(GEMINI_API_KEY=test-key-not-secret-123456 GEMINI_BASE_URL="http://127.0.0.1:$port" \
  "$WB" --db gem.db -v propagate gem.txt --no-image --no-audio --progress never 2>&1); rc=$?
check "propagate through the Gemini fake exits 0" test "$rc" = 0
check "the corrected readings are logged (-v)" grep -q "reading 注ぐ corrected to つぐ" <<<"$err"
out=$("$WB" --db gem.db list --json); rc=$?
if [ "$rc" = 0 ] && python3 - "$out" <<'PY'
import json, sys
v = {e["word"]: e for e in json.loads(sys.argv[1])}
assert v["注ぐ"]["reading"] == "つぐ", v["注ぐ"]
assert v["メモ帳"]["reading"] == "メモちょう", v["メモ帳"]
assert v["居る"]["reading"] == "おる", v["居る"]
assert v["箸"]["reading"] == "はし" and v["箸"]["pitch_accent"] == [1], v["箸"]
assert v["注ぐ"]["pitch_accent"] == [0] and v["居る"]["pitch_accent"] == [1]
assert all(e["stages"]["details"]["model"] != "mecab+edict" for e in v.values())
PY
then ok "a provider's readings are checked against EDICT and get their pitch accent"
else bad "provider readings checked" "$out" "$err"; fi

finish
