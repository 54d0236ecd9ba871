/* The fake's Files API and batch jobs (lib/files.mjs, the batch part of
 * lib/gemini.mjs): resumable uploads (offsets checked, chunks joined), file
 * batches whose responses file comes back in another order, per-request
 * errors, expired jobs, speech models refused, listing pages. */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, KEY } from './helpers.mjs';

let S;
before(async () => { S = await startServer([], { default: { latencyMs: 1 }, batchDelayMs: 0 }); });
after(async () => { await S.stop(); });

const card = (w) => ({ contents: [{ role: 'user', parts: [{ text: `Make a card for "${w}".` }] }] });

async function upload(bytes, chunk) {
  const start = await S.gem('/upload/v1beta/files', { file: { displayName: 'in.jsonl' } }, {
    headers: { 'X-Goog-Upload-Protocol': 'resumable', 'X-Goog-Upload-Command': 'start',
      'X-Goog-Upload-Header-Content-Length': String(bytes.length),
      'X-Goog-Upload-Header-Content-Type': 'application/jsonl' } });
  assert.equal(start.status, 200);
  assert.equal(start.headers['x-goog-upload-status'], 'active');
  const url = new URL(start.headers['x-goog-upload-url']);
  assert.equal(url.host, `127.0.0.1:${S.port}`);
  let last;
  for (let off = 0; off < bytes.length; off += chunk) {
    const part = bytes.subarray(off, off + chunk);
    const final = off + chunk >= bytes.length;
    last = await S.req('POST', url.pathname + url.search, { body: part, headers: {
      'x-goog-api-key': KEY, 'content-type': 'application/octet-stream',
      'X-Goog-Upload-Command': final ? 'upload, finalize' : 'upload', 'X-Goog-Upload-Offset': String(off) } });
    assert.equal(last.status, 200, last.text);
    assert.equal(last.headers['x-goog-upload-status'], final ? 'final' : 'active');
  }
  return last.json.file;
}

test('resumable upload: chunks joined, wrong offset refused, bytes downloadable', async () => {
  const bytes = Buffer.from('x'.repeat(2500));
  const f = await upload(bytes, 1000);
  assert.match(f.name, /^files\/[0-9a-f]+$/);
  assert.equal(f.sizeBytes, '2500');
  const d = await S.gem(`/download/v1beta/${f.name}:download?alt=media`);
  assert.equal(d.status, 200);
  assert.equal(d.body.length, 2500);
  const start = await S.gem('/upload/v1beta/files', { file: {} }, { headers: { 'X-Goog-Upload-Protocol': 'resumable',
    'X-Goog-Upload-Command': 'start', 'X-Goog-Upload-Header-Content-Length': '10', 'X-Goog-Upload-Header-Content-Type': 'text/plain' } });
  const url = new URL(start.headers['x-goog-upload-url']);
  const bad = await S.req('POST', url.pathname + url.search, { body: Buffer.from('0123456789'), headers: {
    'x-goog-api-key': KEY, 'X-Goog-Upload-Command': 'upload, finalize', 'X-Goog-Upload-Offset': '5' } });
  assert.equal(bad.status, 400);
  const nokey = await S.req('GET', `/download/v1beta/${f.name}:download?alt=media`);
  assert.equal(nokey.status, 403);
});

test('file batch: responses file keyed, in another order; per-request errors counted', async () => {
  await S.scenario({ default: { latencyMs: 1 }, batchDelayMs: 0, batchErrorWords: ['壊'] });
  const lines = ['猫', '犬', '壊'].map((w, i) => JSON.stringify({ key: `k${i}`, request: card(w) })).join('\n') + '\n';
  const f = await upload(Buffer.from(lines), 1 << 20);
  const c = await S.gem('/v1beta/models/gemini-3.8-flash:batchGenerateContent',
    { batch: { inputConfig: { fileName: f.name }, displayName: 'files-test' } });
  assert.equal(c.status, 200, c.text);
  const op = (await S.gem(`/v1beta/${c.json.name}`)).json;
  assert.equal(op.metadata.state, 'BATCH_STATE_SUCCEEDED');
  assert.equal(op.done, true);
  assert.equal(op.metadata.batchStats.failedRequestCount, '1');
  const rf = op.metadata.output.responsesFile;
  assert.match(rf, /^files\//);
  const d = await S.gem(`/download/v1beta/${rf}:download?alt=media`);
  const out = d.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(out.map((o) => o.key), ['k2', 'k1', 'k0']);
  assert.match(out[0].error.message, /refuses "壊"/);
  assert.ok(out[1].response.candidates[0].content.parts[0].text.includes('犬'));
});

test('expired jobs, speech models refused, listing by pages', async () => {
  await S.scenario({ default: { latencyMs: 1 }, batchDelayMs: 0, batchExpire: 1 });
  const body = { batch: { inputConfig: { requests: { requests: [{ request: card('猫'), metadata: { key: 'a' } }] } }, displayName: 'e' } };
  const e = await S.gem('/v1beta/models/gemini-3.8-flash:batchGenerateContent', body);
  const op = (await S.gem(`/v1beta/${e.json.name}`)).json;
  assert.equal(op.metadata.state, 'BATCH_STATE_EXPIRED');
  assert.equal(op.metadata.output, undefined);
  const ok = await S.gem('/v1beta/models/gemini-3.8-flash:batchGenerateContent', body);
  assert.equal((await S.gem(`/v1beta/${ok.json.name}`)).json.metadata.state, 'BATCH_STATE_SUCCEEDED');
  const tts = await S.gem('/v1beta/models/gemini-3.8-flash-tts:batchGenerateContent', body);
  assert.equal(tts.status, 400);
  assert.match(tts.json.error.message, /not supported for batchGenerateContent/);
  const p1 = (await S.gem('/v1beta/batches?pageSize=1')).json;
  assert.equal(p1.operations.length, 1);
  assert.ok(p1.nextPageToken);
  const p2 = (await S.gem(`/v1beta/batches?pageSize=100&pageToken=${p1.nextPageToken}`)).json;
  assert.ok(p2.operations.length >= 2);
  assert.ok(!p2.operations.some((o) => o.name === p1.operations[0].name));
});
