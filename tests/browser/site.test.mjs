// The real thing in Debian's chromium: the wordbank command generates the
// example words and builds the example lessons, offline (MeCab readings,
// EDICT meanings, espeak-ng speech) and against the loopback Gemini fake
// (with pictures); the built site is served on 127.0.0.1 and read like a
// learner would: the front page lists the lessons, cards show furigana, turn
// to the meaning, play their pronunciation, the dialogue clip loads, the quiz
// takes the reading, pictures load, nothing leaves the machine.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const { chromium } = await import('playwright-core');
const ROOT = process.env.WB_SOURCE_ROOT;
const WB = process.env.WB_BIN;
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript',
  '.mp3': 'audio/mpeg', '.jpg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp' };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-site-'));
let browser, fake, fakePort;
const servers = [];

function wb(dir, args, env = {}) {
  const r = spawnSync(WB, ['--db', path.join(dir, 'wb.db'), '--progress', 'never', ...args], {
    encoding: 'utf8', cwd: dir,
    env: { ...process.env, HOME: tmp, XDG_CACHE_HOME: path.join(tmp, 'cache'), GEMINI_API_KEY: '',
      GOOGLE_API_KEY: '', ...env },
  });
  return r;
}
function serve(dir) {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      const p = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
      if (!p.startsWith(dir) || !fs.existsSync(p) || fs.statSync(p).isDirectory()) {
        res.writeHead(404); res.end(); return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(p)] || 'application/octet-stream' });
      fs.createReadStream(p).pipe(res);
    });
    s.listen(0, '127.0.0.1', () => { servers.push(s); resolve(`http://127.0.0.1:${s.address().port}/`); });
  });
}
async function open(base, file) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const seen = { errors: [], outside: [] };
  page.on('console', (m) => { if (m.type() === 'error') seen.errors.push(m.text()); });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) seen.errors.push(`${r.status()} ${r.url()}`); });
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) seen.outside.push(r.url()); });
  await page.goto(base + file, { waitUntil: 'load' });
  return { page, seen };
}
async function close({ page, seen }) {
  await page.close();
  assert.deepEqual(seen.errors, [], 'console errors');
  assert.deepEqual(seen.outside, [], 'requests outside the site');
}
const playFirst = (page) => page.evaluate(() => new Promise((resolve, reject) => {
  const a = document.querySelector('.wb-card audio');
  a.addEventListener('ended', () => resolve(a.duration));
  a.addEventListener('error', () => reject(new Error('audio error ' + (a.error && a.error.code))));
  setTimeout(() => reject(new Error('audio did not finish')), 15000);
  document.querySelector('.wb-card .wb-play').click();
}));

before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
});
after(async () => {
  if (browser) await browser.close();
  for (const s of servers) s.close();
  if (fake) fake.stdin.end();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the offline main job, built and read in a browser', () => {
  const dir = path.join(tmp, 'offline');
  let base;
  before(async () => {
    fs.mkdirSync(dir);
    const p = wb(dir, ['propagate', path.join(ROOT, 'examples/words.txt')]);
    assert.equal(p.status, 0, p.stderr);
    const b = wb(dir, ['build', path.join(ROOT, 'examples/lessons'), '-o', path.join(dir, 'site')]);
    assert.equal(b.status, 0, b.stderr);
    base = await serve(path.join(dir, 'site'));
  });

  test('the front page lists the lessons by title and links work', async () => {
    const t = await open(base, 'index.html');
    const links = await t.page.locator('a').allTextContents();
    assert.deepEqual(links, ['Lesson 1: animals and food', 'Lesson 2: around town']);
    await t.page.locator('a').first().click();
    await t.page.waitForLoadState('load');
    assert.equal(await t.page.locator('.wb-card').count(), 5);
    await close(t);
  });

  test('cards: furigana from MeCab, the EDICT meaning on the back, speech plays', async () => {
    const t = await open(base, '01-animals.html');
    const eat = t.page.locator('.wb-card').nth(2);
    assert.match(await eat.locator('.wb-head').innerHTML(), /<ruby>食<rt>た<\/rt><\/ruby>べる/);
    await eat.locator('.wb-flip').click();
    assert.match(await eat.locator('.wb-desc').textContent(), /to eat/);
    assert.equal(await eat.locator('.wb-reading').textContent(), 'たべる');
    const d = await playFirst(t.page);
    assert.ok(d > 0.2 && d < 3, 'duration ' + d);
    const dl = await t.page.evaluate(() => new Promise((resolve, reject) => {
      const a = document.querySelector('.wb-dialogue audio');
      a.addEventListener('loadedmetadata', () => resolve(a.duration));
      a.addEventListener('error', () => reject(new Error('dialogue audio error')));
      a.load();
    }));
    assert.ok(dl > 1, 'dialogue duration ' + dl);
    await close(t);
  });

  test('the quiz takes the reading MeCab found', async () => {
    const t = await open(base, '01-animals.html');
    const q = t.page.locator('.wb-quiz');
    assert.equal(await q.locator('.wb-quiz-q').textContent(), 'cat');
    await q.locator('.wb-quiz-input').fill('ねこ');
    await q.locator('.wb-quiz-input').press('Enter');
    assert.equal(await q.locator('.wb-quiz-feedback').evaluate((e) => e.classList.contains('wb-good')), true);
    await close(t);
  });
});

describe('with Gemini (the loopback fake): pictures too', () => {
  const dir = path.join(tmp, 'gemini');
  let base;
  before(async () => {
    fs.mkdirSync(dir);
    fake = spawn('node', [path.join(ROOT, 'tests/fake/server.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise((resolve) => readline.createInterface({ input: fake.stdout }).once('line', resolve));
    fakePort = JSON.parse(line).port;
    const env = { GEMINI_API_KEY: 'test-key-not-secret-123456', GEMINI_BASE_URL: `http://127.0.0.1:${fakePort}` };
    const b = wb(dir, ['build', path.join(ROOT, 'examples/lessons'), '-o', path.join(dir, 'site')], env);
    assert.equal(b.status, 0, b.stderr);
    base = await serve(path.join(dir, 'site'));
  });

  test('every card shows its picture', async () => {
    const t = await open(base, '02-town.html');
    const imgs = t.page.locator('.wb-card img.wb-pic');
    assert.equal(await imgs.count(), 7);
    const sizes = await imgs.evaluateAll((els) => Promise.all(els.map((i) =>
      i.complete ? i.naturalWidth : new Promise((r) => { i.onload = () => r(i.naturalWidth); i.onerror = () => r(0); }))));
    assert.ok(sizes.every((w) => w > 0 && w <= 512), 'sizes ' + sizes);
    await t.page.screenshot({ path: path.join(process.env.WB_BUILD_ROOT || tmp, 'site-gemini.png') });
    await close(t);
  });
});
