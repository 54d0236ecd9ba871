/* Protocol tests of the fake's Gemini endpoints: readiness line, model
 * listing, structured text (responseSchema and responseJsonSchema), text
 * streaming, TTS over SSE and unary (framing, PCM length, not silent),
 * images (valid PNG), Imagen :predict, blocked words, thought parts,
 * request validation (400s), auth errors, 404 model, key-in-URL counting
 * and the recorded-request log. */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request, sseEvents, conforms, checkPng, KEY } from './helpers.mjs';

let S;
before(async () => { S = await startServer([], { default: { latencyMs: 5 }, models: { 'gemini-3.8-flash': { thoughts: true } } }); });
after(async () => { await S.stop(); });

const CARD = {
  type: 'OBJECT',
  properties: {
    word: { type: 'STRING' }, en_translation: { type: 'STRING' }, language_code: { type: 'STRING' },
    level: { type: 'INTEGER', minimum: 1, maximum: 5 }, common: { type: 'BOOLEAN' },
    kind: { type: 'STRING', enum: ['noun', 'verb'] },
    examples: { type: 'ARRAY', minItems: 2, maxItems: 3, items: { type: 'OBJECT',
      properties: { text: { type: 'STRING' }, translation: { type: 'STRING' } }, required: ['text', 'translation'] } },
    description: { type: 'STRING', maxLength: 60 }, note: { type: 'STRING', nullable: true },
  },
  required: ['word', 'en_translation', 'language_code', 'examples', 'description'],
  propertyOrdering: ['word', 'en_translation', 'language_code', 'examples', 'description', 'level', 'common', 'kind', 'note'],
};
const cardReq = (word = '猫', tr = 'cat') => ({
  contents: [{ role: 'user', parts: [{ text: `Make a vocabulary card for the Japanese word "${word}" (${tr}).` }] }],
  generationConfig: { responseMimeType: 'application/json', responseSchema: CARD },
});
const ttsReq = (text, extra = {}) => ({
  contents: [{ role: 'user', parts: [{ text }] }],
  generationConfig: { responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } }, ...extra },
});
/* The documented duration rule (docs/fake-server.md). */
function expectedBytes(text) {
  const chars = Array.from(text).length;
  const secs = Math.max(0.6, 0.08 * chars);
  return (Math.max(2, Math.round((secs - 0.5) / 0.05)) + 10) * 2400;
}
const textOf = (r) => r.candidates[0].content.parts.filter((p) => !p.thought).map((p) => p.text).join('');

test('readiness line is one JSON object with a port', () => {
  const o = JSON.parse(S.line);
  assert.equal(typeof o.port, 'number');
  assert.deepEqual(Object.keys(o), ['port']);
});

test('list models with paging, get one model', async () => {
  const ids = [];
  let tok = '';
  for (let i = 0; i < 10; i++) {
    const r = await S.gem(`/v1beta/models?pageSize=4${tok ? `&pageToken=${tok}` : ''}`);
    assert.equal(r.status, 200);
    for (const m of r.json.models) {
      assert.match(m.name, /^models\//);
      for (const f of ['version', 'displayName', 'inputTokenLimit', 'outputTokenLimit', 'supportedGenerationMethods']) assert.ok(f in m, f);
      ids.push(m.name.slice(7));
    }
    if (!r.json.nextPageToken) break;
    tok = r.json.nextPageToken;
  }
  for (const id of ['gemini-3.8-flash', 'gemini-3.8-flash-tts', 'gemini-3.8-flash-lite-tts', 'gemini-3.1-flash-image', 'gemini-3-pro-image', 'gemini-3.1-flash-lite']) assert.ok(ids.includes(id), id);
  const one = await S.gem('/v1/models/gemini-3.8-flash-tts');
  assert.equal(one.status, 200);
  assert.equal(one.json.name, 'models/gemini-3.8-flash-tts');
  assert.equal((await S.gem('/v1beta/models/gemini-0-nope')).status, 404);
});

test('generateContent with responseSchema returns conforming JSON (thought parts skipped)', async () => {
  let sawThought = false;
  for (let i = 0; i < 6; i++) {
    const r = await S.gem('/v1beta/models/gemini-3.8-flash:generateContent', cardReq(), { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(r.status, 200, r.text);
    const c = r.json.candidates[0];
    assert.equal(c.finishReason, 'STOP');
    if (c.content.parts.some((p) => p.thought)) sawThought = true;
    const v = JSON.parse(textOf(r.json));
    assert.equal(conforms(v, CARD), null);
    assert.equal(v.word, '猫');
    assert.equal(v.en_translation, 'cat');
    assert.equal(v.language_code, 'ja');
    const u = r.json.usageMetadata;
    assert.ok(u.promptTokenCount > 0 && u.candidatesTokenCount > 0 && u.totalTokenCount >= u.promptTokenCount + u.candidatesTokenCount);
    assert.ok(r.json.modelVersion && r.json.responseId);
  }
  assert.ok(sawThought, 'thoughts: true should produce a thought part some of the time');
});

test('responseJsonSchema ($ref, enum, type arrays) on v1', async () => {
  const js = { type: 'object', properties: { title: { type: 'string', maxLength: 40 }, level: { type: 'integer', minimum: 1, maximum: 5 },
    tags: { type: 'array', minItems: 2, maxItems: 4, items: { type: 'string' } }, mood: { enum: ['happy', 'sad'] },
    note: { type: ['string', 'null'] }, items: { type: 'array', items: { $ref: '#/$defs/item' } } },
  required: ['title', 'level', 'tags', 'mood', 'items'],
  $defs: { item: { type: 'object', properties: { k: { type: 'string' }, v: { type: 'number', minimum: 0, maximum: 1 } }, required: ['k', 'v'] } } };
  const r = await S.gem('/v1/models/gemini-3.1-flash-lite:generateContent', { contents: [{ parts: [{ text: 'weather' }] }],
    generationConfig: { responseMimeType: 'application/json', responseJsonSchema: js } });
  assert.equal(r.status, 200, r.text);
  assert.equal(conforms(JSON.parse(textOf(r.json)), js), null);
});

test('streamGenerateContent text: CRLF-framed events, final finishReason', async () => {
  const r = await S.gem('/v1beta/models/gemini-3.1-flash-lite:streamGenerateContent?alt=sse', cardReq('perro', 'dog'));
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /text\/event-stream/);
  assert.ok(r.text.includes('\r\n\r\n'));
  const ev = sseEvents(r.text);
  assert.ok(ev.length >= 2);
  assert.equal(ev.at(-1).candidates[0].finishReason, 'STOP');
  for (const e of ev.slice(0, -1)) assert.equal(e.candidates[0].finishReason, undefined);
  const v = JSON.parse(ev.map((e) => e.candidates[0].content.parts.map((p) => p.text).join('')).join(''));
  assert.equal(conforms(v, CARD), null);
  assert.equal(v.word, 'perro');
  assert.equal(new Set(ev.map((e) => e.responseId)).size, 1);
});

test('TTS over SSE: several audio events, PCM of the documented length, not silent', async () => {
  const text = 'Say cheerfully: Have a wonderful day!';
  const r = await S.gem('/v1beta/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse', ttsReq(text));
  assert.equal(r.status, 200, r.text);
  const ev = sseEvents(r.text);
  assert.ok(ev.length >= 3);
  const pcm = Buffer.concat(ev.map((e) => {
    const d = e.candidates[0].content.parts[0].inlineData;
    assert.equal(d.mimeType, 'audio/L16;codec=pcm;rate=24000');
    const b = Buffer.from(d.data, 'base64');
    assert.equal(b.length % 2, 0);
    return b;
  }));
  assert.equal(pcm.length, expectedBytes(text));
  const last = ev.at(-1);
  assert.equal(last.candidates[0].finishReason, 'STOP');
  assert.equal(last.usageMetadata.candidatesTokensDetails[0].modality, 'AUDIO');
  let peak = 0, edge = 0;
  for (let i = 0; i < pcm.length; i += 2) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i)));
  for (let i = 0; i < 0.25 * 24000 * 2; i += 2) edge = Math.max(edge, Math.abs(pcm.readInt16LE(i)));
  assert.ok(peak > 3000, 'audible');
  assert.equal(edge, 0, 'leading silence');
});

test('a long clip over SSE (dozens of events, each waiting for the socket to drain) leaves no listeners behind', async () => {
  const text = 'A long line to read out loud, slowly and clearly, so that the clip runs for many seconds. '.repeat(4).trim();
  const r = await S.gem('/v1beta/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse', ttsReq(text));
  assert.equal(r.status, 200);
  const ev = sseEvents(r.text);
  assert.ok(ev.length >= 20, `${ev.length} events`);
  assert.equal(Buffer.concat(ev.map((e) => Buffer.from(e.candidates[0].content.parts[0].inlineData.data, 'base64'))).length, expectedBytes(text));
  /* Node warns on stderr when an emitter collects more than 10 listeners */
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.doesNotMatch(S.stderr(), /MaxListenersExceeded/);
});

test('TTS unary returns the whole PCM in one part; multi-speaker needs exactly two', async () => {
  const r = await S.gem('/v1beta/models/gemini-3.8-flash-lite-tts:generateContent', ttsReq('Hello there'));
  assert.equal(r.status, 200);
  const parts = r.json.candidates[0].content.parts;
  assert.equal(parts.length, 1);
  assert.equal(Buffer.from(parts[0].inlineData.data, 'base64').length, expectedBytes('Hello there'));
  const two = { multiSpeakerVoiceConfig: { speakerVoiceConfigs: [
    { speaker: 'Joe', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } },
    { speaker: 'Jane', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } }] } };
  const body = (sc) => ({ contents: [{ parts: [{ text: 'Joe: Hi.\nJane: Hello.' }] }], generationConfig: { responseModalities: ['AUDIO'], speechConfig: sc } });
  assert.equal((await S.gem('/v1beta/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse', body(two))).status, 200);
  const three = structuredClone(two);
  three.multiSpeakerVoiceConfig.speakerVoiceConfigs.push({ speaker: 'Ann', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Leda' } } });
  const bad = await S.gem('/v1beta/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse', body(three));
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.status, 'INVALID_ARGUMENT');
  const samp = await S.gem('/v1beta/models/gemini-3.8-flash-tts:generateContent', ttsReq('Hi', { temperature: 0.5 }));
  assert.equal(samp.status, 400);
  const voice = await S.gem('/v1beta/models/gemini-3.8-flash-tts:generateContent', { contents: [{ parts: [{ text: 'x' }] }],
    generationConfig: { responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'NoSuchVoice' } } } } });
  assert.equal(voice.status, 400);
  const textOnTts = await S.gem('/v1beta/models/gemini-3.8-flash-tts:generateContent', cardReq());
  assert.equal(textOnTts.status, 400);
});

test('image generation via generateContent: valid PNG, aspect ratio honoured', async () => {
  for (const [ar, w, h] of [['1:1', 1024, 1024], ['16:9', 1344, 768]]) {
    const r = await S.gem('/v1beta/models/gemini-3.1-flash-image:generateContent', { contents: [{ parts: [{ text: 'A red bicycle' }] }],
      generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: ar } } });
    assert.equal(r.status, 200);
    const c = r.json.candidates[0];
    assert.equal(c.finishReason, 'STOP');
    const d = c.content.parts.find((p) => p.inlineData).inlineData;
    assert.equal(d.mimeType, 'image/png');
    const ih = checkPng(Buffer.from(d.data, 'base64'));
    assert.deepEqual([ih.width, ih.height], [w, h]);
  }
  const noImg = await S.gem('/v1beta/models/gemini-3.8-flash:generateContent', { contents: [{ parts: [{ text: 'x' }] }], generationConfig: { responseModalities: ['IMAGE'] } });
  assert.equal(noImg.status, 400);
});

test('Imagen :predict (also on the Vertex path); [[rai]] filtering', async () => {
  await S.scenario({ models: { 'imagen-4.0-generate-001': {} } });
  const r = await S.gem('/v1beta/models/imagen-4.0-generate-001:predict', { instances: [{ prompt: 'A lighthouse' }], parameters: { sampleCount: 2 } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.predictions.length, 2);
  for (const p of r.json.predictions) { assert.equal(p.mimeType, 'image/png'); checkPng(Buffer.from(p.bytesBase64Encoded, 'base64')); }
  const v = await S.gem('/v1beta1/publishers/google/models/imagen-4.0-generate-001:predict', { instances: [{ prompt: 'fox' }], parameters: { sampleCount: 1 } });
  assert.equal(v.status, 200);
  const f = await S.gem('/v1beta/models/imagen-4.0-generate-001:predict', { instances: [{ prompt: 'x [[rai]]' }], parameters: { sampleCount: 1, includeRaiReason: true } });
  assert.ok(f.json.predictions[0].raiFilteredReason);
  await S.scenario({ models: { 'gemini-3.8-flash': { thoughts: true } } });
  assert.equal((await S.gem('/v1beta/models/imagen-4.0-generate-001:predict', { instances: [{ prompt: 'x' }] })).status, 404);
});

test('blocked words: promptFeedback for text, IMAGE_SAFETY for images', async () => {
  await S.scenario({ default: { blocked: ['bomb'] } });
  const t = await S.gem('/v1beta/models/gemini-3.8-flash:generateContent', cardReq('bomb', 'explosive'));
  assert.equal(t.status, 200);
  assert.equal(t.json.promptFeedback.blockReason, 'SAFETY');
  assert.equal(t.json.candidates, undefined);
  const i = await S.gem('/v1beta/models/gemini-3-pro-image:generateContent', { contents: [{ parts: [{ text: 'a BOMB' }] }], generationConfig: { responseModalities: ['IMAGE'] } });
  assert.equal(i.json.candidates[0].finishReason, 'IMAGE_SAFETY');
  await S.scenario({});
});

test('request validation: unknown field, lower-case schema type, empty contents, bad JSON', async () => {
  const m = '/v1beta/models/gemini-3.8-flash:generateContent';
  const unk = await S.gem(m, { contents: [{ parts: [{ text: 'x' }] }], generation_config: {}, foo: 1 });
  assert.equal(unk.status, 400);
  assert.match(unk.json.error.message, /Unknown name "foo"/);
  const lc = await S.gem(m, { contents: [{ parts: [{ text: 'x' }] }], generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'object' } } });
  assert.equal(lc.status, 400);
  assert.equal((await S.gem(m, { contents: [] })).status, 400);
  const bj = await S.gem(m, '{"contents": [');
  assert.equal(bj.status, 400);
  assert.equal(bj.json.error.status, 'INVALID_ARGUMENT');
});

test('auth: missing key 403, wrong key 400 API_KEY_INVALID, unknown model 404; key in URL counted', async () => {
  const m = '/v1beta/models/gemini-3.8-flash:generateContent';
  const miss = await S.req('POST', m, { body: cardReq() });
  assert.equal(miss.status, 403);
  assert.equal(miss.json.error.status, 'PERMISSION_DENIED');
  const wrong = await S.req('POST', m, { body: cardReq(), headers: { 'x-goog-api-key': 'wrong-key' } });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json.error.details.find((d) => d['@type'].endsWith('ErrorInfo')).reason, 'API_KEY_INVALID');
  const nf = await S.gem('/v1beta/models/gemini-2.0-retired:generateContent', cardReq());
  assert.equal(nf.status, 404);
  assert.equal(nf.json.error.status, 'NOT_FOUND');
  assert.match(nf.json.error.message, /models\/gemini-2.0-retired is not found for API version v1beta/);
  const before = (await S.stats()).totals.keyInUrl;
  const ku = await S.req('POST', `${m}?key=${KEY}`, { body: cardReq() });
  assert.equal(ku.status, 200);
  assert.equal((await S.stats()).totals.keyInUrl, before + 1);
});

test('/_fake/requests records requests with the key redacted', async () => {
  await S.gem('/v1beta/models/gemini-3.8-flash:generateContent', cardReq('casa', 'house'), { headers: { 'x-goog-api-client': 'wordbank/0.1' } });
  const r = await S.req('GET', '/_fake/requests?limit=1');
  assert.equal(r.json.length, 1);
  const e = r.json[0];
  assert.equal(e.method, 'POST');
  assert.equal(e.path, '/v1beta/models/gemini-3.8-flash:generateContent');
  assert.equal(e.headers['x-goog-api-key'], '[REDACTED]');
  assert.equal(e.headers['x-goog-api-client'], 'wordbank/0.1');
  assert.match(e.body.contents[0].parts[0].text, /casa/);
  assert.ok(!JSON.stringify(await S.req('GET', '/_fake/requests?limit=1000').then((x) => x.json)).includes(KEY));
});

test('/_fake/requests shows each body as sent, the query and the headers redacted, and the status', async () => {
  const sent = { contents: [{ role: 'user', parts: [{ text: 'Say "ねこ" (cat) \u2014 "quoted", \\ and \u00e9' }] }],
    generationConfig: { responseMimeType: 'application/json', responseSchema: CARD } };
  const ok = await request(S.port, 'POST', `/v1beta/models/gemini-3.8-flash:generateContent?key=${KEY}&x=a%20b`, { body: sent });
  assert.equal(ok.status, 200, ok.text);
  const bad = await S.gem('/v1beta/models/gemini-3.8-flash:generateContent', '{"contents": [nope');
  assert.equal(bad.status, 400);
  const big = { contents: [{ parts: [{ text: 'z'.repeat(1024 * 1024) }] }] };
  const bigLen = Buffer.byteLength(JSON.stringify(big));
  assert.equal((await S.gem('/v1beta/models/gemini-3.8-flash:generateContent', big)).status, 200);
  assert.equal((await S.gem('/v1beta/models')).status, 200);
  const log = (await S.req('GET', '/_fake/requests?limit=4')).json;
  assert.deepEqual(log.map((e) => Object.keys(e)), Array(4).fill(['t', 'method', 'path', 'query', 'httpVersion', 'headers', 'body', 'status']));
  const [a, b, c, d] = log;
  assert.deepEqual(a.query, { key: '[REDACTED]', x: 'a b' });
  assert.deepEqual(a.body, sent);
  assert.equal(a.status, 200);
  assert.equal(a.httpVersion, '1.1');
  assert.ok(Number.isInteger(a.t) && a.t >= 0 && a.t <= d.t);
  assert.equal(a.headers['content-type'], 'application/json');
  assert.deepEqual(b.body, { _unparsed: '{"contents": [nope' });
  assert.equal(b.status, 400);
  assert.equal(b.headers['x-goog-api-key'], '[REDACTED]');
  assert.deepEqual(c.body, { _omitted: bigLen });
  assert.deepEqual(d.body, null);
  assert.deepEqual(d.query, {});
  assert.equal(d.method, 'GET');
  assert.equal(d.status, 200);
});

test('HTTP/1.0 and "Connection: close" requests get the connection closed after the answer', async () => {
  const net = await import('node:net');
  for (const req of ['GET /_fake/stats HTTP/1.0\r\nHost: x\r\n\r\n',
    `GET /v1beta/models HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${KEY}\r\nConnection: close\r\n\r\n`]) {
    const got = await new Promise((resolve, reject) => {
      const s = net.connect({ port: S.port, host: '127.0.0.1' }, () => s.write(req));
      let d = '';
      const t = setTimeout(() => { s.destroy(); reject(new Error('connection not closed')); }, 3000);
      s.on('data', (c) => { d += c; });
      s.on('end', () => { clearTimeout(t); resolve(d); });
      s.on('error', reject);
    });
    assert.match(got, /^HTTP\/1\.1 200/);
  }
});
