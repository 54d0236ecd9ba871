// Pitch accent on cards, as a learner sees them in Debian's chromium: the
// high morae have a line over them, the mora before the fall a downstep line,
// the accent number follows, and 箸 [1], 橋 [2] and 端 [0] look different.
// Offline (MeCab, EDICT, open-jtalk's dictionary); the page is opened from
// a file, nothing leaves the machine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const { chromium } = await import('playwright-core');
const WB = process.env.WB_BIN;
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-pitch-'));
let browser;

function wb(args) {
  const r = spawnSync(WB, ['--db', path.join(tmp, 'wb.db'), '--progress', 'never', ...args], {
    encoding: 'utf8', cwd: tmp,
    env: { ...process.env, HOME: tmp, XDG_CACHE_HOME: path.join(tmp, 'cache'), GEMINI_API_KEY: '',
      GOOGLE_API_KEY: '', OPENAI_API_KEY: '', GEMINI_BASE_URL: 'http://127.0.0.1:9' },
  });
  assert.equal(r.status, 0, `wordbank ${args.join(' ')}: ${r.stderr}`);
  return r;
}

before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
});
after(async () => {
  if (browser) await browser.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('箸, 橋 and 端 carry different, visible pitch marks', async () => {
  fs.writeFileSync(path.join(tmp, 'p.md'),
    '# 箸と橋と端\n\n<wordbank>\n- 箸: chopsticks\n- 橋: bridge\n- 端: edge\n</wordbank>\n');
  wb(['--provider', 'offline', '--no-audio', 'render', 'p.md', '-o', 'p.html']);
  const page = await browser.newPage();
  await page.goto('file://' + path.join(tmp, 'p.html'));
  const seen = await page.evaluate(() => [...document.querySelectorAll('.wb-card')].map((card) => {
    const r = card.querySelector('.wb-reading.wb-pitch');
    const morae = [...r.querySelectorAll('.wb-mora')].map((m) => {
      const s = getComputedStyle(m);
      const line = (w, c) => parseFloat(w) > 0 && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent';
      return (line(s.borderTopWidth, s.borderTopColor) ? 'H' : 'L') +
             (line(s.borderRightWidth, s.borderRightColor) ? '|' : '');
    }).join(' ');
    return {
      word: card.querySelector('.wb-word').textContent,
      text: r.textContent,
      after: getComputedStyle(r, '::after').content,
      morae,
    };
  }));
  const by = Object.fromEntries(seen.map((s) => [s.word, s]));
  assert.deepEqual(by['箸'], { word: '箸', text: 'はし', after: '" [1]"', morae: 'H| L' });
  assert.deepEqual(by['橋'], { word: '橋', text: 'はし', after: '" [2]"', morae: 'L H|' });
  assert.deepEqual(by['端'], { word: '端', text: 'はし', after: '" [0]"', morae: 'L H' });
  await page.close();
});
