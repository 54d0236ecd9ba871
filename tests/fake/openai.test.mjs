/* Tests of the fake's OpenAI endpoints: Bearer auth (401), chat
 * completions with strict json_schema (conforming content, strict-mode
 * schema check), streaming with [DONE], audio/speech pcm and wav (mp3 is a
 * documented 400 in the fake), images/generations (b64 PNG), and 429s
 * with Retry-After, retry-after-ms and x-ratelimit-* headers. */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, conforms, checkPng, sseEvents } from './helpers.mjs';

let S;
before(async () => { S = await startServer(['--openai-key', 'sk-test-not-secret-123456']); });
after(async () => { await S.stop(); });

const SCHEMA = { type: 'object', additionalProperties: false, required: ['word', 'translation', 'examples'],
  properties: { word: { type: 'string' }, translation: { type: 'string' },
    examples: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['text', 'translation'],
      properties: { text: { type: 'string' }, translation: { type: 'string' } } } } } };
const chatBody = (schema = SCHEMA, extra = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'JSON only' },
  { role: 'user', content: 'Card for the Japanese word "犬" (dog).' }],
response_format: { type: 'json_schema', json_schema: { name: 'card', strict: true, schema } }, ...extra });

test('Bearer auth: missing or wrong key -> 401 OpenAI error body', async () => {
  const a = await S.req('POST', '/v1/chat/completions', { body: chatBody() });
  assert.equal(a.status, 401);
  assert.deepEqual(Object.keys(a.json.error).sort(), ['code', 'message', 'param', 'type']);
  const b = await S.req('POST', '/v1/chat/completions', { body: chatBody(), headers: { authorization: 'Bearer sk-wrong' } });
  assert.equal(b.status, 401);
  assert.equal(b.json.error.code, 'invalid_api_key');
});

test('chat completions with strict json_schema', async () => {
  const r = await S.oai('/v1/chat/completions', chatBody());
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.object, 'chat.completion');
  const c = r.json.choices[0];
  assert.equal(c.finish_reason, 'stop');
  assert.equal(c.message.role, 'assistant');
  const v = JSON.parse(c.message.content);
  assert.equal(conforms(v, SCHEMA), null);
  assert.equal(v.word, '犬');
  assert.equal(v.translation, 'dog');
  const u = r.json.usage;
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
  assert.ok(r.headers['x-ratelimit-limit-requests'] && r.headers['x-request-id']);
  const loose = structuredClone(SCHEMA);
  delete loose.additionalProperties;
  const bad = await S.oai('/v1/chat/completions', chatBody(loose));
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /additionalProperties/);
  assert.equal((await S.oai('/v1/chat/completions', { ...chatBody(), model: 'gpt-0' })).status, 404);
});

test('chat streaming ends with [DONE]', async () => {
  const r = await S.oai('/v1/chat/completions', chatBody(SCHEMA, { stream: true }));
  assert.equal(r.status, 200);
  const ev = sseEvents(r.text);
  assert.equal(ev.at(-1), '[DONE]');
  const content = ev.slice(0, -1).map((e) => e.choices[0].delta.content || '').join('');
  assert.equal(conforms(JSON.parse(content), SCHEMA), null);
  assert.equal(ev.at(-2).choices[0].finish_reason, 'stop');
});

test('audio/speech: pcm raw 24 kHz s16le, wav header, mp3 unsupported in the fake', async () => {
  const pcm = await S.oai('/v1/audio/speech', { model: 'gpt-4o-mini-tts', input: 'Hello there', voice: 'alloy', response_format: 'pcm' });
  assert.equal(pcm.status, 200);
  assert.equal(pcm.body.length, (Math.max(2, Math.round((Math.max(0.6, 0.08 * 11) - 0.5) / 0.05)) + 10) * 2400);
  const wav = await S.oai('/v1/audio/speech', { model: 'tts-1', input: 'Hello there', voice: 'nova', response_format: 'wav' });
  assert.equal(wav.status, 200);
  assert.equal(wav.body.toString('ascii', 0, 4), 'RIFF');
  assert.equal(wav.body.toString('ascii', 8, 12), 'WAVE');
  assert.equal(wav.body.readUInt32LE(24), 24000);
  assert.equal(wav.body.readUInt32LE(40), wav.body.length - 44);
  const mp3 = await S.oai('/v1/audio/speech', { model: 'tts-1', input: 'x', voice: 'nova' });
  assert.equal(mp3.status, 400);
  assert.equal(mp3.json.error.param, 'response_format');
});

test('images/generations: b64_json PNG of the asked size', async () => {
  const r = await S.oai('/v1/images/generations', { model: 'gpt-image-1', prompt: 'a cat', size: '1024x1536', n: 2 });
  assert.equal(r.status, 200);
  assert.equal(r.json.data.length, 2);
  const ih = checkPng(Buffer.from(r.json.data[0].b64_json, 'base64'));
  assert.deepEqual([ih.width, ih.height], [1024, 1536]);
});

test('429 carries Retry-After, retry-after-ms and x-ratelimit headers', async () => {
  await S.scenario({ models: { 'gpt-4o-mini': { quota: { requests: 2, windowMs: 360000 } } } });
  assert.equal((await S.oai('/v1/chat/completions', chatBody())).status, 200);
  const ok2 = await S.oai('/v1/chat/completions', chatBody());
  assert.equal(ok2.headers['x-ratelimit-limit-requests'], '2');
  assert.equal(ok2.headers['x-ratelimit-remaining-requests'], '0');
  const r = await S.oai('/v1/chat/completions', chatBody());
  assert.equal(r.status, 429);
  assert.equal(r.json.error.code, 'rate_limit_exceeded');
  assert.equal(r.json.error.type, 'requests');
  const ra = Number(r.headers['retry-after']);
  assert.ok(ra >= 359 && ra <= 360, r.headers['retry-after']);
  assert.ok(Number(r.headers['retry-after-ms']) > 358000);
  assert.equal(r.headers['x-ratelimit-remaining-requests'], '0');
  assert.match(r.headers['x-ratelimit-reset-requests'], /^5m5\d(\.\d+)?s$/);
  await S.scenario({ models: { 'tts-1': { maxConcurrent: 1, latencyMs: 200 } } });
  const both = await Promise.all([0, 1].map(() => S.oai('/v1/audio/speech', { model: 'tts-1', input: 'x', voice: 'nova', response_format: 'pcm' })));
  assert.deepEqual(both.map((x) => x.status).sort(), [200, 429]);
  assert.ok(both.find((x) => x.status === 429).headers['retry-after']);
});

test("Gemini's OpenAI compatibility path takes the Gemini key and Gemini model ids", async () => {
  const body = { ...chatBody(), model: 'gemini-3.8-flash' };
  const r = await S.req('POST', '/v1beta/openai/chat/completions', { body, headers: { authorization: 'Bearer test-key-not-secret-123456' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(conforms(JSON.parse(r.json.choices[0].message.content), SCHEMA), null);
  const w = await S.oai('/v1beta/openai/chat/completions', body);
  assert.equal(w.status, 401);
});
