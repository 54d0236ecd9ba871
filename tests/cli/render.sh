#!/usr/bin/env bash
# render and propagate for publishing, offline: media copied beside the output
# and linked relative to it (or under --base-url, or served from --media-url),
# CSS/JS linked or inlined, several files and --manifest in one call, outputs
# checked before anything is generated (its own source refused), only media
# store names ever copied; propagate of lesson files (entries and dialogue
# clips); --db creating its folder; a built page titled by its first heading.
# Every call's exit status and output are checked. Prints TAP.
# shellcheck source=../harness/wbtest.sh
. "${WB_SOURCE_ROOT:?}/tests/harness/wbtest.sh"
cd "$T" || exit 1
# A failed check shows the end of the last run's stderr.
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "$(tail -c 600 "$T/err" 2>/dev/null)"; fi; }
wb() { "$WB" --db "$T/bank/deep/wb.db" --progress never "$@" 2>"$T/err"; }

cat > lesson.md <<'MD'
# Animals and greetings

Some prose <phrasebank>kept</phrasebank>; not a word line.

<wordbank>
- 猫: cat (animal)
- 犬: dog
</wordbank>

<dialogue>
田中: こんにちは
Smith: こんばんは
</dialogue>
MD
printf '<wordbank>\n- 駅: station\n</wordbank>\n' > town.md

# propagate of lesson files; --db creates its folder.
wb propagate lesson.md town.md; rc=$?
check "propagate of two lesson files is 0" test $rc = 0
check "--db created its folder" test -f bank/deep/wb.db
check "the prose is not reported as bad lines" test ! -s err -o -z "$(grep ':[0-9]*: ' err)"
list=$(wb list --json); rc=$?
check "the lessons' three entries are in the bank" bash -c '[ $0 = 0 ] && python3 -c "import json,sys; e=json.loads(sys.argv[1]); assert sorted(x[\"word\"] for x in e)==[\"犬\",\"猫\",\"駅\"]" "$1"' $rc "$list"
check "the dialogue clip was made" bash -c 'ls bank/deep/media/dialogue-*.mp3 >/dev/null 2>&1'

# render -o FILE: media beside the output, relative links, assets linked.
mkdir out
wb --cache-only render lesson.md -o out/lesson.html; rc=$?
check "render -o is 0" test $rc = 0
page=$(cat out/lesson.html 2>/dev/null)
check "no filesystem path in the page" bash -c '! grep -q "$0" <<<"$1" && ! grep -q "src=\"/" <<<"$1"' "$T" "$page"
check "media links are relative to the output (media/...)" grep -q 'src="media/[0-9a-f]\{32\}\.mp3"' <<<"$page"
check "every linked media file was copied beside the output" bash -c 'for u in $(grep -o "src=\"media/[^\"]*\"" out/lesson.html | cut -d\" -f2); do cmp -s "out/$u" "bank/deep/media/${u#media/}" || exit 1; done; grep -q "media/dialogue-" out/lesson.html'
check "CSS/JS linked and written beside" bash -c 'grep -q "href=\"wordbank-assets/wordbank.css\"" out/lesson.html && test -s out/wordbank-assets/wordbank.js && ! grep -q "<style>" out/lesson.html'
check "the text outside the blocks is as written" grep -q 'Some prose <phrasebank>kept</phrasebank>; not a word line.' <<<"$page"

wb --cache-only --inline-assets render lesson.md -o out/inline.html; rc=$?
check "--inline-assets embeds the CSS" bash -c '[ $0 = 0 ] && grep -q "<style>" out/inline.html && ! grep -q "wordbank-assets/" out/inline.html' $rc

wb --cache-only --base-url https://example.org/course render lesson.md -o out/based.html; rc=$?
check "--base-url: media and assets under it" bash -c '[ $0 = 0 ] && grep -q "src=\"https://example.org/course/media/" out/based.html && grep -q "href=\"https://example.org/course/wordbank-assets/wordbank.css\"" out/based.html' $rc

mkdir served
wb --cache-only --media-url https://cdn.example.org/m/ render lesson.md -o served/p.html; rc=$?
check "--media-url: links there, nothing copied" bash -c '[ $0 = 0 ] && grep -q "src=\"https://cdn.example.org/m/[0-9a-f]\{32\}\.mp3\"" served/p.html && test ! -e served/media' $rc

# Several files, and a manifest with a nested page.
mkdir many
wb --cache-only render lesson.md town.md -o many; rc=$?
check "several files into a folder, one call" bash -c '[ $0 = 0 ] && grep -q "wb-card" many/lesson.html && grep -q "駅" many/town.html' $rc
mkdir site
printf 'lesson.md\tlessons/deep/one.html\ntown.md\ttown.html\n' > pages.tsv
wb --cache-only render --manifest pages.tsv -o site; rc=$?
check "--manifest: nested pages link up to the site folder" bash -c '[ $0 = 0 ] && grep -q "src=\"../../media/" site/lessons/deep/one.html && grep -q "href=\"../../wordbank-assets/wordbank.css\"" site/lessons/deep/one.html && grep -q "src=\"media/" site/town.html' $rc
check "--manifest: the links resolve" bash -c 'cd site/lessons/deep && for u in $(grep -o "src=\"[^\"]*\"" one.html | cut -d\" -f2); do test -s "$u" || exit 1; done'
printf 'lesson.md\t../escape.html\n' > climb.tsv
wb --cache-only render --manifest climb.tsv -o site; rc=$?
check "--manifest: a page climbing out is refused (2, FILE:LINE)" bash -c '[ $0 = 2 ] && grep -q "^climb.tsv:1: " err && test ! -e escape.html' $rc
printf 'lesson.md\t%s/abs.html\n' "$T" > abs.tsv
wb --cache-only render --manifest abs.tsv -o site; rc=$?
check "--manifest: an absolute page needs --base-url (2)" bash -c '[ $0 = 2 ] && grep -q "^abs.tsv:1: " err && test ! -e abs.html' $rc

# Its own source: refused by name, another path and a hard link; kept intact.
cp lesson.md self.md; ln self.md hard.md; before=$(sha256sum < self.md)
wb --cache-only render self.md -o self.md; r1=$?
wb --cache-only render self.md -o ./out/../self.md; r2=$?
wb --cache-only render self.md -o hard.md; r3=$?
check "render onto its own source is 2 (same name, other path, hard link)" test "$r1$r2$r3" = 222
check "the source is untouched" test "$(sha256sum < self.md)" = "$before"
printf 'lesson.md\tx.html\ntown.md\tlesson.md\n' > over.tsv
wb --cache-only render --manifest over.tsv -o .; rc=$?
check "--manifest: a page onto another page's source is 2" bash -c '[ $0 = 2 ] && grep -q "lesson.md itself" err && test ! -e x.html' $rc
mkdir -p dup/a dup/b && cp town.md dup/a/ && cp town.md dup/b/
wb --cache-only render dup/a/town.md dup/b/town.md -o many; rc=$?
check "two files with one output name are 2" bash -c '[ $0 = 2 ] && grep -q "both" err' $rc

# A missing output folder: refused before any entry is generated.
printf '<wordbank>\n- 鳥: bird\n</wordbank>\n' > bird.md
wb render bird.md -o nowhere/bird.html; rc=$?
check "a missing output folder is 3, named" bash -c '[ $0 = 3 ] && grep -q "nowhere" err' $rc
check "...and nothing was generated first" bash -c '! grep -q "鳥" <<<"$0"' "$(wb list --json)"

# Only media store names are copied: a stage pointing outside is refused.
if command -v sqlite3 >/dev/null; then
  echo secret > secret.txt
  sqlite3 bank/deep/wb.db "UPDATE stages SET file='../../../secret.txt' WHERE stage='audio' AND entry_id=(SELECT id FROM entries WHERE word='駅')"
  mkdir evil
  wb --cache-only render town.md -o evil/t.html; rc=$?
  check "a stage file outside the media store is refused, nothing copied" bash -c '[ $0 != 0 ] && grep -q "secret" err && ! grep -rq secret evil' $rc
else
  ok "a stage file outside the media store is refused # SKIP sqlite3 missing"
fi

# build: a page's <title> is its first heading.
mkdir -p src && cp lesson.md src/
wb --cache-only build src -o built; rc=$?
check "build titles a page by its first heading" bash -c '[ $0 = 0 ] && grep -q "<title>Animals and greetings</title>" built/lesson.html' $rc

finish
