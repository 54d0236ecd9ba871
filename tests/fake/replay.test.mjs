/* Replays every request the official SDK sent (fixtures/sdk-requests.jsonl,
 * a copy of shared/docs/sdk-requests.jsonl: method, path, query, headers,
 * body, recorded status) against the fake and checks that the fake answers
 * each with the recorded status and a body of the right shape. The SDK
 * used model ids older than the fake's defaults (gemini-2.5-*, Imagen 4),
 * so the scenario declares them. The recorded batch polls name the batch
 * id the real service chose; they are mapped to the id the fake returned
 * for the recorded create. */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, request, sseEvents, checkPng, HERE, KEY } from './helpers.mjs';

const recs = fs.readFileSync(path.join(HERE, 'fixtures', 'sdk-requests.jsonl'), 'utf8')
  .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

let S;
before(async () => {
  const models = {};
  for (const r of recs) {
    const m = r.path.match(/models\/([^/:]+):/);
    if (m) models[m[1]] = {};
  }
  S = await startServer([], { models, batchDelayMs: 0 });
});
after(async () => { await S.stop(); });

test('fixture holds the recorded SDK requests, without a real key', () => {
  assert.ok(recs.length >= 16);
  for (const r of recs) {
    const k = Object.entries(r.headers).find(([h]) => h.toLowerCase() === 'x-goog-api-key');
    assert.equal(k[1], '[REDACTED]');
  }
});

let batchName = null;
for (const r of recs) {
  test(`replay ${r.id}: ${r.method} ${r.path}`, async () => {
    let p = r.path;
    if (batchName && /^\/v1beta\/batches\//.test(p)) p = `/v1beta/${batchName}`;
    const q = new URLSearchParams(r.query).toString();
    const headers = {};
    for (const [k, v] of Object.entries(r.headers)) {
      const lk = k.toLowerCase();
      if (lk === 'content-length' || lk === 'connection' || lk === 'accept-encoding') continue;
      headers[k] = lk === 'x-goog-api-key' ? KEY : v;
    }
    const res = await request(S.port, r.method, q ? `${p}?${q}` : p,
      { headers, body: r.body == null ? undefined : r.body });
    assert.equal(res.status, r.status, res.text.slice(0, 300));
    if (/:generateContent$/.test(p)) {
      const c = res.json.candidates[0];
      assert.equal(c.finishReason, 'STOP');
      const inline = c.content.parts.find((x) => x.inlineData);
      if (/image/.test(p)) checkPng(Buffer.from(inline.inlineData.data, 'base64'));
      else if (/tts/.test(p)) assert.match(inline.inlineData.mimeType, /^audio\/L16;codec=pcm;rate=24000$/);
      else JSON.parse(c.content.parts.map((x) => x.text).join(''));
    } else if (/:streamGenerateContent$/.test(p)) {
      const ev = sseEvents(res.text);
      assert.equal(ev.at(-1).candidates[0].finishReason, 'STOP');
    } else if (/:predict$/.test(p)) {
      const preds = res.json.predictions || [];
      const want = r.body.parameters.sampleCount;
      if (/\[\[rai\]\]/.test(r.body.instances[0].prompt)) assert.ok(preds.every((x) => x.raiFilteredReason));
      else assert.equal(preds.filter((x) => x.bytesBase64Encoded).length, want);
    } else if (/:batchGenerateContent$/.test(p)) {
      assert.match(res.json.name, /^batches\//);
      batchName = res.json.name;
    } else if (/\/batches\//.test(p)) {
      assert.equal(res.json.metadata.state, 'BATCH_STATE_SUCCEEDED');
      const out = res.json.response.inlinedResponses.inlinedResponses;
      assert.equal(out.length, 2);
      assert.deepEqual(out.map((o) => o.metadata.key), ['w1', 'w2']);
      const card = JSON.parse(out[1].response.candidates[0].content.parts[0].text);
      assert.equal(card.word, 'casa');
    }
  });
}

test('the fake recorded the replayed requests (same paths and bodies)', async () => {
  const log = (await S.req('GET', `/_fake/requests?limit=${recs.length}`)).json;
  assert.equal(log.length, recs.length);
  for (let i = 0; i < recs.length; i++) {
    if (recs[i].body != null) assert.deepEqual(log[i].body, recs[i].body);
    assert.equal(log[i].headers['x-goog-api-key'], '[REDACTED]');
    assert.equal(log[i].status, recs[i].status);
  }
});
