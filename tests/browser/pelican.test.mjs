// A Pelican site built by Debian's pelican through the wordbank_flashcards
// plugin (against the loopback Gemini fake), served on 127.0.0.1 and read in
// Debian's chromium: the nested article's cards turn, their pictures and
// pronunciations load, the dialogue clip loads, the front page's summaries
// (other folder, same cards) resolve too, no console errors, and nothing is
// loaded from outside the site.
import { test, before, after } from 'node:test';
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
const PELICAN = '/usr/bin/pelican';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript',
  '.mp3': 'audio/mpeg', '.jpg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp' };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-pelican-'));
let browser, fake, server, base;

function serve(dir) {
  return new Promise((resolve) => {
    server = http.createServer((req, res) => {
      // Pelican's simple theme names no icon: the browser's own favicon
      // request is the theme's business, not the plugin's.
      if (req.url === '/favicon.ico') { res.writeHead(204); res.end(); return; }
      let p = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
      if (p.startsWith(dir) && fs.existsSync(p) && fs.statSync(p).isDirectory()) p = path.join(p, 'index.html');
      if (!p.startsWith(dir) || !fs.existsSync(p)) { console.error('404 ' + req.url); res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(p)] || 'application/octet-stream' });
      fs.createReadStream(p).pipe(res);
    });
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}/`));
  });
}
async function open(file) {
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
const pictures = (page) => page.locator('.wb-card img.wb-pic').evaluateAll((els) => Promise.all(els.map((i) =>
  i.complete ? i.naturalWidth : new Promise((r) => { i.onload = () => r(i.naturalWidth); i.onerror = () => r(0); }))));

before(async () => {
  assert.ok(fs.existsSync(PELICAN), "Debian's pelican (scripts/deps.sh --test)");
  fake = spawn('node', [path.join(ROOT, 'tests/fake/server.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise((resolve) => readline.createInterface({ input: fake.stdout }).once('line', resolve));
  const port = JSON.parse(line).port;
  const site = path.join(tmp, 'site');
  const m = spawnSync('python3', [path.join(ROOT, 'tests/pelican/make_site.py'), site, WB], { encoding: 'utf8' });
  assert.equal(m.status, 0, m.stderr);
  const env = { ...process.env, HOME: tmp, XDG_CACHE_HOME: path.join(tmp, 'cache'),
    GEMINI_API_KEY: 'test-key-not-secret-123456', GEMINI_BASE_URL: `http://127.0.0.1:${port}`, GOOGLE_API_KEY: '' };
  const p = spawnSync(PELICAN, ['content', '-s', 'pelicanconf.py', '-o', 'output'], { cwd: site, env, encoding: 'utf8' });
  assert.equal(p.status, 0, p.stdout + p.stderr);
  base = await serve(path.join(site, 'output'));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
});
after(async () => {
  if (browser) await browser.close();
  if (server) server.close();
  if (fake) fake.stdin.end();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the nested article: cards turn, pictures and audio load', async () => {
  const t = await open('lessons/animals/');
  const cards = t.page.locator('.wb-card');
  assert.equal(await cards.count(), 2);
  const flip = cards.first().locator('.wb-flip');
  assert.equal(await flip.getAttribute('aria-pressed'), 'false');
  await flip.click();
  assert.equal(await flip.getAttribute('aria-pressed'), 'true');
  assert.equal(await cards.first().evaluate((c) => c.classList.contains('wb-flipped')), true);
  const sizes = await pictures(t.page);
  assert.ok(sizes.length === 2 && sizes.every((w) => w > 0), 'pictures ' + sizes);
  const d = await t.page.evaluate(() => new Promise((resolve, reject) => {
    const a = document.querySelector('.wb-card audio');
    a.addEventListener('ended', () => resolve(a.duration));
    a.addEventListener('error', () => reject(new Error('audio error ' + (a.error && a.error.code))));
    setTimeout(() => reject(new Error('audio did not finish')), 15000);
    document.querySelector('.wb-card .wb-play').click();
  }));
  assert.ok(d > 0, 'duration ' + d);
  const dl = await t.page.evaluate(() => new Promise((resolve, reject) => {
    const a = document.querySelector('.wb-dialogue audio');
    a.addEventListener('loadedmetadata', () => resolve(a.duration));
    a.addEventListener('error', () => reject(new Error('dialogue audio error')));
    a.load();
  }));
  assert.ok(dl > 0, 'dialogue duration ' + dl);
  assert.equal(await t.page.locator('phrasebank').textContent(), 'keep me');
  await close(t);
});

test('the front page: the summaries\' cards resolve from the root folder', async () => {
  const t = await open('index.html');
  assert.ok(await t.page.locator('.wb-card').count() >= 2);
  const sizes = await pictures(t.page);
  assert.ok(sizes.length >= 2 && sizes.every((w) => w > 0), 'pictures ' + sizes);
  await t.page.locator('.wb-card .wb-flip').first().click();
  assert.equal(await t.page.locator('.wb-card .wb-flip').first().getAttribute('aria-pressed'), 'true');
  await close(t);
});
