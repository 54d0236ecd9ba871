// `export --format apkg --deck NAME` read back with the npm anki-reader (the
// way another tool sees the deck): the deck's name, two cards a note
// (recognition and production), and a re-export updating notes in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readAnkiPackage } from 'anki-reader';
import { ROOT, scratch, wbOk, wb } from './helpers.mjs';

const FIXTURE = path.join(ROOT, 'tests/export/fixtures/wordbank.jsonl');

async function readDeck(file) {
  const { collection } = await readAnkiPackage(new Blob([readFileSync(file)]));
  return collection;
}

test('an exported deck has its name and two cards a note', async (t) => {
  const dir = scratch(t);
  wbOk(assert, dir, ['import', FIXTURE]);
  const out = wbOk(assert, dir, ['list', '--json']);
  const entries = JSON.parse(out.stdout);
  assert.equal(entries.length, 6);
  wbOk(assert, dir, ['export', '--format', 'apkg', '--deck', '日本語::Lesson 1', '-o', 'deck.apkg']);

  const col = await readDeck(path.join(dir, 'deck.apkg'));
  const decks = Object.values(col.getDecks());
  const names = decks.map((d) => d.getName());
  assert.ok(names.includes('日本語::Lesson 1'), names);
  assert.ok(names.includes('日本語'), `the parent deck is there too: ${names}`);
  const deck = decks.find((d) => d.getName() === '日本語::Lesson 1');
  const cards = Object.values(deck.getCards());
  assert.equal(cards.length, 12, 'six notes, two cards each');
  const byNote = new Map();
  for (const c of cards) {
    const ords = byNote.get(c.getNoteId()) ?? [];
    ords.push(c.getRawCard().ord);
    byNote.set(c.getNoteId(), ords);
  }
  assert.equal(byNote.size, 6);
  for (const ords of byNote.values()) assert.deepEqual(ords.sort(), [0, 1]);
  // The note type: ten fields, a recognition and a production template.
  const models = JSON.parse(col.getRawCollection().exec('SELECT models FROM col')[0].values[0][0]);
  const model = Object.values(models)[0];
  assert.equal(model.name, 'wordbank two-way');
  assert.deepEqual(model.flds.map((f) => f.name),
    ['Key', 'Word', 'Reading', 'PitchAccent', 'Translation', 'Context', 'Description',
     'Examples', 'Picture', 'Audio']);
  assert.deepEqual(model.tmpls.map((x) => x.name), ['Recognition', 'Production']);
  assert.match(model.tmpls[0].qfmt, /\{\{Word\}\}/);
  assert.match(model.tmpls[1].qfmt, /\{\{Translation\}\}/);
  assert.doesNotMatch(model.tmpls[1].qfmt, /\{\{Word\}\}/);
  // Fields by name through the note type, and both cards rendered.
  const cat = cards.find((c) => c.getFields().Word === '猫');
  assert.ok(cat, 'the note for 猫');
  assert.equal(cat.getFields().Translation, 'cat');
  assert.match(cat.getFields().Key, /^wb-[0-9a-f]{24}$/);
  const [recognition, production] = cat.getQuestions();
  assert.match(recognition.getQuestionString(), /猫/);
  assert.doesNotMatch(recognition.getQuestionString(), /\bcat\b/);
  assert.match(recognition.getAnswerString(), /\bcat\b/);
  assert.match(production.getQuestionString(), /\bcat\b/);
  assert.doesNotMatch(production.getQuestionString(), /猫/);
  assert.match(production.getAnswerString(), /猫/);
});

test('a re-export keeps note ids, guids and the note type: Anki updates in place', async (t) => {
  const dir = scratch(t);
  wbOk(assert, dir, ['import', FIXTURE]);
  wbOk(assert, dir, ['export', '--format', 'apkg', '--deck', 'Vocab', '-o', 'a.apkg']);
  // The bank changes (a new meaning for one entry), then the deck again.
  const jl = readFileSync(FIXTURE, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const first = jl[0];
  first.description = 'Changed description';
  const patched = path.join(dir, 'patch.jsonl');
  await import('node:fs').then((fs) => fs.writeFileSync(patched, JSON.stringify(first) + '\n'));
  wbOk(assert, dir, ['import', patched]);
  wbOk(assert, dir, ['export', '--format', 'apkg', '--deck', 'Vocab', '-o', 'b.apkg']);
  const q = 'SELECT n.id, n.guid, n.mid, n.flds FROM notes n ORDER BY n.id';
  const a = (await readDeck(path.join(dir, 'a.apkg'))).getRawCollection().exec(q)[0].values;
  const b = (await readDeck(path.join(dir, 'b.apkg'))).getRawCollection().exec(q)[0].values;
  assert.equal(a.length, 6);
  assert.deepEqual(b.map((r) => r.slice(0, 3)), a.map((r) => r.slice(0, 3)));
  const changed = b.filter((r, i) => r[3] !== a[i][3]);
  assert.equal(changed.length, 1);
  assert.match(changed[0][3], /Changed description/);
});

test('a bad deck name is a usage error', (t) => {
  const dir = scratch(t);
  wbOk(assert, dir, ['import', FIXTURE]);
  const r = wb(dir, ['export', '--format', 'apkg', '--deck', 'a::::b', '-o', 'x.apkg']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /deck name/);
});
