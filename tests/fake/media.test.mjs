/* The fake's media and body plumbing, as it must stay while made cheaper:
 * the block-copy PNG drawing gives the bytes of the per-pixel rule (held
 * here as the reference loop), the 1024 x 1024 images are in the cache when
 * the readiness line appears and are served byte for byte as made (as are
 * lazily made sizes), bodies with spliced Raw parts are the bytes of
 * JSON.stringify without copying the parts, faults still cut such bodies,
 * responseIds stay distinct across refills of their random pool, gzip'd
 * answers are zlib.gzipSync(body, {level: 1}) of the answer. */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { startServer, checkPng, request, KEY } from './helpers.mjs';
import { makePng, pngVariant, planClip, GEMINI_ASPECT, PNG_VARIANTS, EDGE_CHUNKS } from './lib/media.mjs';
import { h32, valueFor, promptInfo } from './lib/schema.mjs';
import { Raw, encodeJson, encodeJsonParts } from './lib/respond.mjs';

/* The pattern rule of docs/fake-server.md, pixel by pixel (the drawing
 * code the fake used before it moved to block copies). */
function referenceScanlines(w, h, variant) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  const c1 = [(variant * 67 + 40) & 255, (variant * 131 + 90) & 255, (variant * 29 + 160) & 255];
  const c2 = [255 - c1[1], 255 - c1[2], 255 - c1[0]];
  const cx = w / 2, cy = h / 2, r2 = Math.pow(Math.min(w, h) * (0.2 + 0.03 * variant), 2);
  const stripe = 16 + 8 * variant;
  let o = 0;
  for (let y = 0; y < h; y++) {
    raw[o++] = 0;
    for (let x = 0; x < w; x++) {
      const g = ((x + y) * 255 / (w + h)) | 0;
      const dx = x - cx, dy = y - cy;
      if (dx * dx + dy * dy < r2) { raw[o++] = c2[0]; raw[o++] = c2[1]; raw[o++] = c2[2]; }
      else if (((x + variant * 7) / stripe | 0) % 4 === 0) { raw[o++] = c1[0]; raw[o++] = c1[1]; raw[o++] = c1[2]; }
      else { raw[o++] = g; raw[o++] = (g + c1[1]) >> 1; raw[o++] = 255 - g; }
    }
  }
  return raw;
}

/* The scanlines inside a PNG made by makePng (one IDAT chunk). */
function scanlinesOf(png) {
  let off = 8;
  const idat = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    if (png.toString('latin1', off + 4, off + 8) === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  return zlib.inflateSync(Buffer.concat(idat));
}

test('makePng draws the per-pixel rule exactly, at every Gemini size, odd and tiny sizes', () => {
  /* every variant at 1024 x 1024 and the small sizes; one variant (each
   * a different one) at the other Gemini sizes, to keep the test cheap */
  const cases = [];
  for (let v = 0; v < PNG_VARIANTS; v++) {
    for (const s of [[1024, 1024], [1, 1], [2, 3], [33, 17], [7, 300], [301, 9]]) cases.push([...s, v]);
  }
  Object.values(GEMINI_ASPECT).forEach(([w, h], i) => cases.push([w, h, (i + 3) % PNG_VARIANTS]));
  for (const [w, h, v] of cases) {
    {
      const png = makePng(w, h, v);
      const ih = checkPng(png);
      assert.deepEqual([ih.width, ih.height, ih.depth, ih.colorType], [w, h, 8, 2]);
      assert.ok(scanlinesOf(png).equals(referenceScanlines(w, h, v)), `${w}x${h} variant ${v}`);
    }
  }
});

test('makePng is deterministic and a cached variant holds the same bytes', () => {
  for (const [w, h] of [[1024, 1024], [1344, 768]]) {
    const e = pngVariant(w, h, 5);
    assert.ok(e.buf.equals(makePng(w, h, 5)));
    assert.equal(e.b64buf.toString('latin1'), e.buf.toString('base64'));
    assert.equal(pngVariant(w, h, 5), e, 'second lookup is the cached entry');
  }
});

let S;
before(async () => { S = await startServer([], { default: { latencyMs: 1 } }); });
after(async () => { await S.stop(); });

const imageReq = (text, aspect) => ({
  contents: [{ role: 'user', parts: [{ text }] }],
  generationConfig: { responseModalities: ['IMAGE'], ...(aspect ? { imageConfig: { aspectRatio: aspect } } : {}) },
});
const variantOf = (prompt) => crypto.createHash('sha1').update(prompt).digest().readUInt32BE(0) % PNG_VARIANTS;
const imageData = (r) => Buffer.from(r.json.candidates[0].content.parts.find((p) => p.inlineData).inlineData.data, 'base64');

test('the default images are made before the readiness line', async () => {
  /* the first request after the line: nothing has asked for an image yet */
  const r = await S.req('GET', '/_fake/cache');
  assert.equal(r.status, 200);
  const want = Array.from({ length: PNG_VARIANTS }, (_, v) => `1024x1024/${v}`);
  assert.deepEqual(r.json.png.filter((k) => k.startsWith('1024x1024/')).sort(), want);
});

test('served images are the bytes makePng makes: precomputed 1:1 and a lazily made 16:9', async () => {
  const seen = new Set();
  for (let i = 0; seen.size < PNG_VARIANTS && i < 200; i++) {
    const prompt = `A picture of thing ${i}`;
    const v = variantOf(prompt);
    if (seen.has(v)) continue;
    seen.add(v);
    const r = await S.gem('/v1beta/models/gemini-3.1-flash-image:generateContent', imageReq(prompt));
    assert.equal(r.status, 200);
    assert.equal(Number(r.headers['content-length']), r.body.length, 'length of the parts written');
    assert.ok(imageData(r).equals(makePng(1024, 1024, v)), `variant ${v}`);
  }
  assert.equal(seen.size, PNG_VARIANTS);
  const before = (await S.req('GET', '/_fake/cache')).json.png;
  assert.ok(!before.some((k) => k.startsWith('1344x768/')), '16:9 is not made in advance');
  const prompt = 'A wide picture';
  const r = await S.gem('/v1beta/models/gemini-3.1-flash-image:generateContent', imageReq(prompt, '16:9'));
  assert.equal(r.status, 200);
  assert.ok(imageData(r).equals(makePng(1344, 768, variantOf(prompt))));
  assert.ok((await S.req('GET', '/_fake/cache')).json.png.includes(`1344x768/${variantOf(prompt)}`));
});

test('a truncate fault still cuts short a body sent as parts', async () => {
  await S.scenario({ default: { latencyMs: 1, faults: { truncate: 1 } } });
  try {
    /* a fresh connection: the fault ends it early */
    const got = await request(S.port, 'POST', '/v1beta/models/gemini-3.1-flash-image:generateContent',
      { body: imageReq('A cut picture'), headers: { 'x-goog-api-key': KEY } }).then((ok) => ({ ok }), (err) => ({ err }));
    /* Node's client reports the early end as an error ("aborted"); if it
     * did not, the body must be short of its Content-Length */
    if (got.ok) assert.ok(got.ok.body.length < Number(got.ok.headers['content-length']));
    else assert.match(String(got.err), /aborted|socket hang up|ECONNRESET/);
    const st = await S.stats();
    assert.equal(st.totals.faults.truncate, 1);
  } finally {
    await S.scenario({ default: { latencyMs: 1 } });
  }
});

test('encodeJsonParts splices Raw bytes without copying; encodeJson is JSON.stringify with them in place', () => {
  const a = Buffer.from('QUJD'), b1 = Buffer.from('REVG'), b2 = Buffer.from('R0hJ');
  const obj = { x: 1, img: { data: new Raw(a) }, clip: [new Raw([b1, b2])], s: 'q"@@RAW0@@"', n: null };
  const parts = encodeJsonParts(obj);
  assert.ok(parts.includes(a) && parts.includes(b1) && parts.includes(b2), 'the Raw buffers themselves');
  const want = JSON.stringify({ x: 1, img: { data: 'QUJD' }, clip: ['REVGR0hJ'], s: 'q"@@RAW0@@"', n: null });
  assert.equal(Buffer.concat(parts).toString(), want);
  assert.equal(encodeJson(obj).toString(), want);
  assert.equal(encodeJson({ plain: ['é', 2] }).toString(), JSON.stringify({ plain: ['é', 2] }));
  /* outside encodeJson a Raw is an ordinary object */
  assert.equal(JSON.stringify({ r: new Raw(a) }), JSON.stringify({ r: { buf: a } }));
});

test('responseIds stay distinct across refills of their pool', async () => {
  const ids = new Set();
  const req = { contents: [{ parts: [{ text: 'Say hi' }] }] };
  const n = 400;   /* the pool holds 341 */
  for (let i = 0; i < n; i += 50) {
    const rs = await Promise.all(Array.from({ length: 50 }, () => S.gem('/v1beta/models/gemini-3.8-flash:generateContent', req)));
    for (const r of rs) {
      assert.equal(r.status, 200);
      assert.match(r.json.responseId, /^[A-Za-z0-9_-]{16}$/);
      ids.add(r.json.responseId);
    }
  }
  assert.equal(ids.size, n);
});

test("gzip'd text answers on the wire are gzipSync level 1 of the answer", async () => {
  const req = (i) => ({ contents: [{ parts: [{ text: `Describe the word "w${i}" (thing ${i}) in a few sentences.` }] }],
    generationConfig: { responseMimeType: 'application/json' } });
  const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => S.gem('/v1beta/models/gemini-3.8-flash:generateContent', req(i),
    { headers: { 'accept-encoding': 'gzip' } })));
  for (const r of rs) {
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(r.headers.vary, 'Origin, X-Origin, Referer');
    assert.equal(Number(r.headers['content-length']), r.wire.length);
    assert.ok(r.wire.equals(zlib.gzipSync(r.body, { level: 1 })));
    assert.ok(r.json.candidates[0].content.parts[0].text.includes('w'));
  }
});

const sha1Head = (s) => crypto.createHash('sha1').update(s).digest().readUInt32BE(0);

test('h32 is the first 4 bytes of SHA-1 (images, enums, voices hang on it)', () => {
  for (const s of ['', 'a', 'kore', 'A picture of thing 7', '語1 — ねこ', '\u{1d4b3} astral', 'x'.repeat(5000)]) {
    assert.equal(h32(s), sha1Head(s), JSON.stringify(s.slice(0, 20)));
  }
});

test("a voice's tone is SHA-1 of its lower-case name, whatever its case, for one or two speakers", () => {
  const tones = 6;
  for (const [voices, text] of [[['Kore'], 'ねこ'], [['KORE'], 'ねこ'], [['Puck', 'Charon'], 'a longer line of dialogue here']]) {
    const plan = planClip(text, voices);
    assert.equal(plan[EDGE_CHUNKS], sha1Head(voices[0].toLowerCase()) % tones, voices.join());
    if (voices.length > 1) assert.equal(plan[EDGE_CHUNKS + 8], sha1Head(voices[1].toLowerCase()) % tones);
  }
});

test('schema strings: unbounded ones are whole, maxLength and minLength count code points', () => {
  const info = promptInfo('Make a card for "\u{1d4b3}\u{1d4b4}語" (astral word)');
  const v = valueFor({ type: 'object', properties: { word: { type: 'string' }, title: { type: 'string', maxLength: 2 },
    term: { type: 'string', minLength: 6 } } }, info);
  assert.equal(v.word, '\u{1d4b3}\u{1d4b4}語');
  assert.equal(v.title, '\u{1d4b3}\u{1d4b4}');
  assert.equal(v.term, '\u{1d4b3}\u{1d4b4}語xxx');
});

test('the language of a prompt: "language ... (code)" first, then a "lang:" field, then names', () => {
  assert.equal(promptInfo('Word: x\nlanguage_code: the code of the language (ja).\nlang: fr').lang, 'ja');
  assert.equal(promptInfo('Word: x\nlang: fr\nA Spanish word.').lang, 'fr');
  assert.equal(promptInfo('Word: x\nlanguage_code = "pt-BR";').lang, 'pt-BR');
  assert.equal(promptInfo('Word: x\nA word in German, not Spanish.').lang, 'de');
});
