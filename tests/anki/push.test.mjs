// `wordbank anki push` against a loopback fake of AnkiConnect: six notes
// arrive (deck, note type and media made on the way, version 6 on every
// action, batched through multi), a second push adds none, a changed entry
// updates exactly one note, and the errors a user meets are clear: Anki not
// running, an API key required, a note type with other fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startFake } from './fake_ankiconnect.mjs';
import { ROOT, scratch, wb, wbAsync, wbOk } from './helpers.mjs';

const FIXTURE = path.join(ROOT, 'tests/export/fixtures/wordbank.jsonl');
const DECK = '日本語::Lesson 1';
const FIELDS = ['Key', 'Word', 'Reading', 'PitchAccent', 'Translation', 'Context', 'Description',
                'Examples', 'Picture', 'Audio'];

// A word bank of the six fixture entries, 猫 with a real picture and clip
// (made here with ffmpeg, imported into the media store like any file).
let catAudio, catImage, catAudioBytes;
function storeName(file, ext) {
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 32) + '.' + ext;
}
function bank(t) {
  const dir = scratch(t);
  const src = path.join(dir, 'src');
  mkdirSync(path.join(src, 'audio'), { recursive: true });
  mkdirSync(path.join(src, 'images'), { recursive: true });
  copyFileSync(FIXTURE, path.join(src, 'wordbank.jsonl'));
  const ff = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'];
  execFileSync('ffmpeg', [...ff, '-i', 'sine=frequency=440:duration=0.5', '-c:a', 'libmp3lame',
                          '-y', path.join(src, 'audio/neko_cat.mp3')]);
  execFileSync('ffmpeg', [...ff, '-i', 'color=c=orange:s=64x64', '-frames:v', '1',
                          '-y', path.join(src, 'images/neko_cat.png')]);
  catAudio = 'anki-' + storeName(path.join(src, 'audio/neko_cat.mp3'), 'mp3');
  catImage = 'anki-' + storeName(path.join(src, 'images/neko_cat.png'), 'png');
  catAudioBytes = readFileSync(path.join(src, 'audio/neko_cat.mp3'));
  const r = wb(dir, ['import', path.join(src, 'wordbank.jsonl')]);
  assert.ok(r.status === 0 || r.status === 1, r.stderr); // images/sei.webp is missing
  assert.match(wb(dir, ['show', '猫', 'cat', '--json']).stdout, /"state": ?"done"/);
  return dir;
}

async function push(dir, url, extra = [], env = {}) {
  return wbAsync(dir, ['anki', 'push', '--deck', DECK, ...(url ? ['--anki-url', url] : []),
                       '--json', ...extra], env);
}

test('push: six notes, then nothing new, then one update', async (t) => {
  const dir = bank(t);
  const fake = await startFake();
  t.after(() => fake.close());

  let r = await push(dir, fake.url);
  assert.equal(r.status, 0, r.stderr);
  let rep = JSON.parse(r.stdout);
  assert.deepEqual([rep.added, rep.updated, rep.unchanged], [6, 0, 0]);
  assert.equal(rep.deck_created, true);
  assert.equal(rep.note_type_created, true);
  assert.equal(fake.state.notes.size, 6);
  assert.ok(fake.state.decks.has(DECK) && fake.state.decks.has('日本語'));
  const model = fake.state.models['wordbank two-way'];
  assert.deepEqual(model.fields, FIELDS);
  assert.deepEqual(model.templates.map((x) => x.Name), ['Recognition', 'Production']);
  for (const n of fake.state.notes.values()) {
    assert.equal(n.deckName, DECK);
    assert.equal(n.modelName, 'wordbank two-way');
    assert.match(n.fields.Key, /^wb-[0-9a-f]{24}$/);
  }
  // Media stored, and the fields use the names AnkiConnect returned.
  assert.equal(rep.media, 2);
  assert.deepEqual([...fake.state.media.keys()].sort(), [catAudio, catImage].sort());
  assert.ok(fake.state.media.get(catAudio).equals(catAudioBytes));
  const cat = [...fake.state.notes.values()].find((n) => n.fields.Word === '猫');
  assert.equal(cat.fields.Audio, `[sound:${catAudio}]`);
  assert.equal(cat.fields.Picture, `<img src="${catImage}">`);
  // Version 6 on every action, inside multi too; batches go through multi.
  assert.deepEqual(fake.violations, []);
  assert.ok(fake.log.every((a) => a.version === 6));
  assert.ok(fake.log.some((a) => a.action === 'findNotes' && a.inner));
  assert.ok(fake.log.some((a) => a.action === 'storeMediaFile' && a.inner));
  assert.ok(!fake.log.some((a) => a.action === 'findNotes' && !a.inner), 'findNotes batched');
  assert.ok(fake.requests.length <= 12, `few requests for six notes: ${fake.requests.length}`);

  // Again: nothing added, nothing updated.
  fake.log.length = 0;
  r = await push(dir, fake.url);
  assert.equal(r.status, 0, r.stderr);
  rep = JSON.parse(r.stdout);
  assert.deepEqual([rep.added, rep.updated, rep.unchanged], [0, 0, 6]);
  assert.equal(rep.deck_created, false);
  assert.equal(rep.note_type_created, false);
  assert.equal(fake.state.notes.size, 6);
  assert.ok(!fake.log.some((a) => a.action === 'addNotes' || a.action === 'updateNoteFields'));

  // One entry changes: exactly that note is updated, in place.
  const first = JSON.parse(readFileSync(FIXTURE, 'utf8').split('\n')[0]);
  first.description = 'A cat, described anew.';
  writeFileSync(path.join(dir, 'patch.jsonl'), JSON.stringify(first) + '\n');
  wbOk(assert, dir, ['import', 'patch.jsonl']);
  const idBefore = [...fake.state.notes].find(([, n]) => n.fields.Word === '猫')[0];
  r = await push(dir, fake.url);
  assert.equal(r.status, 0, r.stderr);
  rep = JSON.parse(r.stdout);
  assert.deepEqual([rep.added, rep.updated, rep.unchanged], [0, 1, 5]);
  assert.equal(fake.state.notes.size, 6);
  assert.equal(fake.state.notes.get(idBefore).fields.Description, 'A cat, described anew.');
  assert.equal(fake.log.filter((a) => a.action === 'updateNoteFields').length, 1);
});

test('push: the address from WORDBANK_ANKI_URL', async (t) => {
  const dir = bank(t);
  const fake = await startFake();
  t.after(() => fake.close());
  const r = await push(dir, null, [], { WORDBANK_ANKI_URL: fake.url });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fake.state.notes.size, 6);
});

test('push: Anki not running is a clear error', async (t) => {
  const dir = bank(t);
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const r = await push(dir, `http://127.0.0.1:${port}`);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /cannot reach AnkiConnect at http:\/\/127\.0\.0\.1:\d+: is Anki running/);
});

test('push: an API key is asked for, and used from WORDBANK_ANKI_KEY (.env)', async (t) => {
  const dir = bank(t);
  const key = 'anki-secret-key-31337';
  const fake = await startFake({ requireKey: key });
  t.after(() => fake.close());
  let r = await push(dir, fake.url);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /asks for an API key: set anki_key/);
  assert.equal(fake.state.notes.size, 0);
  r = await push(dir, fake.url, [], { WORDBANK_ANKI_KEY: 'wrong-key-0000' });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /refused the API key/);
  assert.ok(!r.stderr.includes('wrong-key-0000'), 'the key never appears in errors');
  // A key in the shared config file is ignored (keys live in the environment or .env).
  writeFileSync(path.join(dir, 'wordbank.conf'), `anki_key = ${key}\n`);
  r = await push(dir, fake.url);
  assert.equal(r.status, 3, r.stderr);
  writeFileSync(path.join(dir, '.env'), `WORDBANK_ANKI_KEY=${key}\n`);
  r = await push(dir, fake.url, ['-v']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fake.state.notes.size, 6);
  assert.ok(!r.stderr.includes(key) && !r.stdout.includes(key), 'the key never appears in output');
  assert.ok(fake.requests.every((q) => q.key === key || q.key === undefined || q.key === 'wrong-key-0000'));
});

test('push: a note type with other fields is a clear error', async (t) => {
  const dir = bank(t);
  const fake = await startFake({
    models: { 'wordbank two-way': { fields: ['Front', 'Back'], templates: [], css: '' } },
  });
  t.after(() => fake.close());
  const r = await push(dir, fake.url);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /note type "wordbank two-way" in Anki has the fields Front, Back/);
  assert.equal(fake.state.notes.size, 0);
});

test('push: a usage error without a deck', async (t) => {
  const dir = bank(t);
  const r = await wbAsync(dir, ['anki', 'push']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--deck/);
});
