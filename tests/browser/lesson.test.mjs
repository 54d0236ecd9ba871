// Lesson pages in Debian's chromium (headless, through playwright-core),
// opened from file:// and from a small static server on 127.0.0.1: cards
// turn by click and keyboard, the recording plays, the quiz folds kana and
// widths and keeps score, hostile text stays text, a card without a picture
// renders, the preview's search filters, and nothing leaves the machine.
// The pages come from the C fixture program (WB_FIXTURE). Screenshots go to
// $WB_BUILD_ROOT/browser-shots/.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const XSS = '<img src=x onerror=alert(1)>';
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  throw new Error('playwright-core is missing: run `npm ci` in tests/browser (' + e.message + ')');
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-browser-'));
const site = path.join(root, 'site');
fs.mkdirSync(path.join(site, 'media'), { recursive: true });
const shots = path.join(process.env.WB_BUILD_ROOT || root, 'browser-shots');
fs.mkdirSync(shots, { recursive: true });

// A real recording: a short MP3 tone from ffmpeg, else a WAV written here.
function writeWav(file) {
  const rate = 22050, n = Math.round(rate * 0.6), data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const env = Math.min(1, i / 500, (n - i) / 500);
    data.writeInt16LE(Math.round(12000 * env * Math.sin(2 * Math.PI * 660 * i / rate)), i * 2);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVE', 8);
  h.write('fmt ', 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34);
  h.write('data', 36); h.writeUInt32LE(data.length, 40);
  fs.writeFileSync(file, Buffer.concat([h, data]));
}
function makeAudio() {
  const mp3 = path.join(site, 'media', 'cat.mp3');
  const r = spawnSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
    'sine=frequency=660:duration=0.6', '-ac', '1', '-ar', '22050', '-b:a', '64k', mp3]);
  if (r.status === 0 && fs.existsSync(mp3) && fs.statSync(mp3).size > 0) return 'cat.mp3';
  writeWav(path.join(site, 'media', 'cat.wav'));
  return 'cat.wav';
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml', '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav', '.md': 'text/markdown; charset=utf-8' };
function serve(dir) {
  const server = http.createServer((req, res) => {
    let p;
    try { p = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname); } catch { p = '/'; }
    if (p === '/favicon.ico') { res.writeHead(204); res.end(); return; }
    const file = path.resolve(dir, '.' + p);
    if (!file.startsWith(dir + path.sep)) { res.writeHead(403); res.end(); return; }
    fs.readFile(file, (err, body) => {
      if (err) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
        'content-length': body.length, 'cache-control': 'no-store' });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let context, server, httpBase;
before(async () => {
  const audio = makeAudio();
  const fx = spawnSync(process.env.WB_FIXTURE, [site, audio], { encoding: 'utf8' });
  assert.equal(fx.status, 0, 'fixture failed: ' + fx.stderr);
  // The one bad line of the lesson is reported with its file and line.
  assert.match(fx.stderr, /lesson\.md:10: expected '- word: translation \(context\)'/);
  server = await serve(site);
  httpBase = `http://127.0.0.1:${server.address().port}/`;
  context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(root, 'profile-')), {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1100, height: 900 },
  });
});
after(async () => {
  if (context) await context.close();
  if (server) server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

// A fresh page that records console errors, page errors, dialogs and any
// request that leaves the page's own origin.
async function open(base, file) {
  const page = await context.newPage();
  const seen = { errors: [], dialogs: [], outside: [] };
  page.on('console', (m) => { if (m.type() === 'error') seen.errors.push(m.text()); });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('dialog', (d) => { seen.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('data:')) seen.outside.push(u);
  });
  await page.goto(base + file, { waitUntil: 'load' });
  return { page, seen };
}
async function done({ page, seen }) {
  await page.waitForTimeout(50);
  await page.close();
  assert.deepEqual(seen.errors, [], 'console errors');
  assert.deepEqual(seen.dialogs, [], 'dialogs opened');
  assert.deepEqual(seen.outside, [], 'requests outside the site');
}
const flipped = (card) => card.evaluate((c) => c.classList.contains('wb-flipped'));

for (const origin of ['file', 'http']) {
  const base = () => (origin === 'file' ? pathToFileURL(site).href + '/' : httpBase);

  describe(`lesson page from ${origin}://`, () => {
    test('cards turn by click, back and forth', async () => {
      const t = await open(base(), 'lesson.html');
      const card = t.page.locator('.wb-card').first();
      const flip = card.locator('.wb-flip');
      assert.equal(await t.page.locator('.wb-card').count(), 4);
      assert.equal(await flip.getAttribute('aria-pressed'), 'false');
      await flip.click();
      assert.equal(await flipped(card), true);
      assert.equal(await flip.getAttribute('aria-pressed'), 'true');
      assert.match(await flip.getAttribute('aria-label'), /cat/);
      await flip.click();
      assert.equal(await flipped(card), false);
      await done(t);
    });

    test('cards turn by keyboard; the play button does not turn them', async () => {
      const t = await open(base(), 'lesson.html');
      await t.page.keyboard.press('Tab');
      const cls = await t.page.evaluate(() => document.activeElement.className);
      assert.equal(cls, 'wb-flip');
      const card = t.page.locator('.wb-card').first();
      await t.page.keyboard.press('Enter');
      assert.equal(await flipped(card), true);
      await t.page.keyboard.press(' ');
      assert.equal(await flipped(card), false);
      // Space must not scroll the page either.
      assert.equal(await t.page.evaluate(() => window.scrollY), 0);
      await t.page.keyboard.press('Tab');
      assert.equal(await t.page.evaluate(() => document.activeElement.tagName), 'BUTTON');
      await t.page.keyboard.press('Enter');
      assert.equal(await flipped(card), false);
      await done(t);
    });

    test('the recording loads and plays to the end without error', async () => {
      const t = await open(base(), 'lesson.html');
      await t.page.evaluate(() => {
        const a = document.querySelector('.wb-card audio');
        window.wbAudio = new Promise((resolve, reject) => {
          a.addEventListener('ended', () => resolve({ duration: a.duration, error: a.error }));
          a.addEventListener('error', () => reject(new Error('audio error ' + (a.error && a.error.code))));
          setTimeout(() => reject(new Error('audio did not finish')), 15000);
        });
      });
      const card = t.page.locator('.wb-card').first();
      await card.locator('.wb-play').click();
      const r = await t.page.evaluate(() => window.wbAudio);
      assert.ok(r.duration > 0.3 && r.duration < 2, 'duration ' + r.duration);
      assert.equal(r.error, null);
      assert.equal(await flipped(card), false);
      assert.equal(await card.locator('.wb-play').evaluate((b) => b.classList.contains('wb-play-error')), false);
      // The dialogue's clip loads too.
      const d = await t.page.evaluate(() => new Promise((resolve, reject) => {
        const a = document.querySelector('.wb-dialogue audio');
        a.addEventListener('loadedmetadata', () => resolve(a.duration));
        a.addEventListener('error', () => reject(new Error('dialogue audio error')));
        a.load();
      }));
      assert.ok(d > 0.3);
      assert.equal(await t.page.locator('.wb-transcript li').count(), 2);
      await done(t);
    });

    test('quiz: 猫 and ねこ accepted for "cat", a wrong answer rejected, a score', async () => {
      const t = await open(base(), 'lesson.html');
      const q = t.page.locator('.wb-quiz');
      const answer = async (text, good) => {
        await q.locator('.wb-quiz-input').fill(text);
        await q.locator('.wb-quiz-input').press('Enter');
        const fb = q.locator('.wb-quiz-feedback');
        assert.equal(await fb.evaluate((e, c) => e.classList.contains(c), good ? 'wb-good' : 'wb-bad'), true,
          `${text}: ${await fb.textContent()}`);
        await q.locator('.wb-quiz-next').click();
      };
      assert.equal(await q.locator('.wb-quiz-q').textContent(), 'cat');
      assert.equal(await q.locator('.wb-quiz-progress').textContent(), '1 / 4');
      await answer('猫', true);
      assert.equal(await q.locator('.wb-quiz-q').textContent(), 'to eat');
      await answer('のむ', false);
      await answer('犬', true);
      assert.equal(await q.locator('.wb-quiz-q').textContent(), XSS);
      await answer('wrong', false);
      assert.equal(await q.locator('.wb-quiz-score').textContent(), 'Score: 2 / 4');
      await q.locator('.wb-quiz-again').click();
      assert.equal(await q.locator('.wb-quiz-q').textContent(), 'cat');
      await answer('  ねこ ', true);   // hiragana reading, trimmed
      await answer('ﾀﾍﾞﾙ', true);      // half-width katakana: NFKC, then hiragana
      await answer('ｲﾇ', false);       // no reading known for 犬: only the word
      await answer(XSS, true);
      assert.equal(await q.locator('.wb-quiz-score').textContent(), 'Score: 3 / 4');
      if (origin === 'http') await q.screenshot({ path: path.join(shots, 'quiz-score.png') });
      await done(t);
    });

    test('hostile text renders as text, no dialog opens', async () => {
      const t = await open(base(), 'lesson.html');
      const card = t.page.locator('.wb-card').nth(3);
      assert.equal(await card.locator('.wb-word').textContent(), XSS);
      assert.equal(await card.locator('.wb-translation').textContent(), XSS);
      assert.equal(await card.locator('.wb-ex').textContent(), XSS);
      await card.locator('.wb-flip').click();
      await t.page.waitForTimeout(600);
      assert.equal(await t.page.locator('img[src="x"]').count(), 0);
      assert.equal(await t.page.evaluate(() => document.querySelectorAll('img').length), 1);
      await done(t);
    });

    test('cards without a picture render, with furigana on the back', async () => {
      const t = await open(base(), 'lesson.html');
      const eat = t.page.locator('.wb-card').nth(1);
      const dog = t.page.locator('.wb-card').nth(2);
      for (const c of [eat, dog]) {
        assert.equal(await c.locator('img').count(), 0);
        const box = await c.locator('.wb-nopic').boundingBox();
        assert.ok(box && box.height > 100 && box.width > 100, JSON.stringify(box));
        assert.ok(await c.locator('.wb-word').isVisible());
      }
      assert.equal(await eat.locator('.wb-head').innerHTML(), '<ruby>食<rt>た</rt></ruby>べる');
      assert.equal(await dog.locator('.wb-translation').textContent(), 'dog');
      const pic = t.page.locator('.wb-card').first().locator('img.wb-pic');
      assert.ok(await pic.evaluate((i) => i.complete && i.naturalWidth > 0), 'the cat picture loads');
      if (origin === 'http') {
        await t.page.locator('.wb-cards').screenshot({ path: path.join(shots, 'cards-front.png') });
        await t.page.locator('.wb-card').first().locator('.wb-flip').click();
        await eat.locator('.wb-flip').click();
        await t.page.waitForTimeout(700);
        await t.page.locator('.wb-cards').screenshot({ path: path.join(shots, 'cards-back.png') });
        await t.page.screenshot({ path: path.join(shots, 'lesson-page.png'), fullPage: true });
      }
      await done(t);
    });

    test('preview: the search box filters by word, translation and reading', async () => {
      const t = await open(base(), 'preview.html');
      const visible = () => t.page.locator('.wb-card:not([hidden])').count();
      assert.equal(await visible(), 3);
      const box = t.page.locator('.wb-search-input');
      await box.fill('ねこ');
      assert.equal(await visible(), 1);
      await box.fill('ネコ');
      assert.equal(await visible(), 1);
      await box.fill('EAT');
      assert.equal(await visible(), 1);
      assert.equal(await t.page.locator('.wb-card:not([hidden]) .wb-word').textContent(), '食べる');
      await box.fill('zzz');
      assert.equal(await visible(), 0);
      assert.ok(await t.page.locator('.wb-empty').isVisible());
      await box.fill('');
      assert.equal(await visible(), 3);
      if (origin === 'http') {
        await box.fill('た');
        await t.page.screenshot({ path: path.join(shots, 'preview.png') });
      }
      await done(t);
    });
  });
}
