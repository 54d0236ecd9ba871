// A site moved over from the original system, in Debian's chromium: the
// original's JPEG picture and ADTS AAC clip (made here by ffmpeg, in the
// original's layout) are imported by `wordbank import data/wordbank.jsonl`
// run in the site's root, the lessons are built with --cache-only, and the
// card shows the picture and plays the AAC clip to the end, with every
// request staying inside the built site.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WB = process.env.WB_BIN;

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  throw new Error('playwright-core is missing: run `npm ci` in tests/browser (' + e.message + ')');
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-migrate-'));
const site = path.join(root, 'site');
const out = path.join(root, 'out');
let context;

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r;
}

before(async () => {
  const h = crypto.createHash('md5').update('猫:cat').digest('hex').slice(0, 12);
  for (const d of ['data', 'content/images/wordbank', 'content/audio/wordbank', 'content/lessons'])
    fs.mkdirSync(path.join(site, d), { recursive: true });
  sh('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=1024x1024:rate=1',
    '-frames:v', '1', path.join(site, 'content/images/wordbank', h + '.jpg')]);
  sh('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=550:duration=0.8',
    '-ar', '24000', '-ac', '1', '-c:a', 'aac', '-f', 'adts', path.join(site, 'content/audio/wordbank', h + '.aac')]);
  fs.writeFileSync(path.join(site, 'data/wordbank.jsonl'),
    JSON.stringify({ en_translation: 'cat', word: '猫', language_code: 'ja', examples: ['猫が好きです。'],
      description: 'A small furry pet.', image_description: 'A cat.' }) + '\n');
  fs.writeFileSync(path.join(site, 'content/lessons/animals.md'), '# Animals\n\n<wordbank>\n- 猫: cat\n</wordbank>\n');
  const env = { ...process.env, HOME: root, XDG_CACHE_HOME: path.join(root, 'cache'),
    GEMINI_BASE_URL: 'http://127.0.0.1:9', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' };
  for (const k of ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'OPENAI_API_KEY', 'WORDBANK_DB', 'WORDBANK_MEDIA']) delete env[k];
  const imp = sh(WB, ['--json', 'import', 'data/wordbank.jsonl'], { cwd: site, env });
  assert.equal(JSON.parse(imp.stdout).media_copied, 2, imp.stdout);
  sh(WB, ['--cache-only', 'build', 'content/lessons', '-o', out], { cwd: site, env });
  context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(root, 'profile-')), {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1000, height: 800 },
  });
});
after(async () => {
  if (context) await context.close();
  fs.rmSync(root, { recursive: true, force: true });
});

test('the imported picture shows and the AAC clip plays to the end', async () => {
  const base = pathToFileURL(out).href + '/';
  const page = await context.newPage();
  const errors = [], outside = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) outside.push(r.url()); });
  await page.goto(base + 'animals.html', { waitUntil: 'load' });
  const card = page.locator('.wb-card').first();
  const src = await card.locator('audio').getAttribute('src');
  assert.match(src, /^media\/[0-9a-f]{32}\.aac$/);
  const img = await card.locator('img').evaluate((i) => ({ w: i.naturalWidth, src: i.getAttribute('src') }));
  assert.equal(img.w, 1024, 'the picture did not load: ' + img.src);
  await page.evaluate(() => {
    const a = document.querySelector('.wb-card audio');
    window.wbAudio = new Promise((resolve, reject) => {
      a.addEventListener('ended', () => resolve({ duration: a.duration, error: a.error }));
      a.addEventListener('error', () => reject(new Error('audio error ' + (a.error && a.error.code))));
      setTimeout(() => reject(new Error('audio did not finish')), 15000);
    });
  });
  await card.locator('.wb-play').click();
  const r = await page.evaluate(() => window.wbAudio);
  assert.ok(r.duration > 0.5 && r.duration < 2, 'duration ' + r.duration);
  assert.equal(r.error, null);
  assert.equal(await card.locator('.wb-play').evaluate((b) => b.classList.contains('wb-play-error')), false);
  await page.close();
  assert.deepEqual(errors, []);
  assert.deepEqual(outside, []);
});
