/* HTTP/2 over TLS tests of the fake: the printed CA verifies the server
 * certificate for 127.0.0.1, several streams multiplex on one session
 * (stats: one h2 session, many streams, concurrent in-flight), SSE works
 * over HTTP/2, a reset fault becomes a stream error, HTTP/1.1 over TLS is
 * still accepted (allowHTTP1), and the temp CA dir is removed at exit. */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import fs from 'node:fs';
import { startServer, sseEvents, KEY } from './helpers.mjs';

let S, ca;
before(async () => {
  S = await startServer(['--tls'], { default: { latencyMs: 300 } });
  ca = fs.readFileSync(S.ca);
});
after(async () => { if (S) await S.stop(); });

function h2req(session, path, body) {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':method': 'POST', ':path': path, 'x-goog-api-key': KEY, 'content-type': 'application/json' });
    let status = 0;
    const chunks = [];
    s.on('response', (h) => { status = h[':status']; });
    s.on('data', (c) => chunks.push(c));
    s.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString('utf8') }));
    s.on('error', reject);
    s.end(JSON.stringify(body));
  });
}

const textBody = { contents: [{ parts: [{ text: 'card for "gato" (cat)' }] }] };

test('readiness line has tlsPort and an existing CA file', () => {
  const o = JSON.parse(S.line);
  assert.equal(typeof o.tlsPort, 'number');
  assert.ok(fs.existsSync(o.ca));
  assert.match(fs.readFileSync(o.ca, 'utf8'), /BEGIN CERTIFICATE/);
});

test('HTTP/2: 20 streams multiplexed on one session, answered concurrently', async () => {
  await S.reset();
  const session = http2.connect(`https://127.0.0.1:${S.tlsPort}`, { ca });
  session.on('error', () => {});
  const t = Date.now();
  const rs = await Promise.all(Array.from({ length: 20 }, () => h2req(session, '/v1beta/models/gemini-3.8-flash:generateContent', textBody)));
  const took = Date.now() - t;
  for (const r of rs) { assert.equal(r.status, 200); assert.equal(JSON.parse(r.text).candidates[0].finishReason, 'STOP'); }
  assert.ok(took < 4000, `took ${took} ms, streams not concurrent? (serial would be 6000)`);
  const tts = await h2req(session, '/v1beta/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse',
    { contents: [{ parts: [{ text: 'hola' }] }], generationConfig: { responseModalities: ['AUDIO'] } });
  assert.equal(tts.status, 200);
  assert.equal(sseEvents(tts.text).at(-1).candidates[0].finishReason, 'STOP');
  session.close();
  const st = await S.stats();
  assert.equal(st.totals.h2Sessions, 1);
  assert.equal(st.totals.h2Streams, 21);
  assert.ok(st.models['gemini-3.8-flash'].maxInFlight >= 15, `maxInFlight ${st.models['gemini-3.8-flash'].maxInFlight}`);
});

test('HTTP/2: reset fault -> stream error; the session survives', async () => {
  await S.scenario({ default: { faults: { reset: 1 } } });
  const session = http2.connect(`https://127.0.0.1:${S.tlsPort}`, { ca });
  session.on('error', () => {});
  await assert.rejects(h2req(session, '/v1beta/models/gemini-3.8-flash:generateContent', textBody));
  await S.scenario({});
  const ok = await h2req(session, '/v1beta/models/gemini-3.8-flash:generateContent', textBody);
  assert.equal(ok.status, 200);
  session.close();
});

test('HTTP/1.1 over TLS still works (ALPN fallback)', async () => {
  const r = await new Promise((resolve, reject) => {
    const q = https.request({ host: '127.0.0.1', port: S.tlsPort, method: 'GET', path: '/v1beta/models', ca,
      headers: { 'x-goog-api-key': KEY }, ALPNProtocols: ['http/1.1'], agent: false }, (res) => {
      let d = '';
      res.on('data', (c) => { d += c; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(d), v: res.httpVersion }));
    });
    q.on('error', reject);
    q.end();
  });
  assert.equal(r.status, 200);
  assert.equal(r.v, '1.1');
  assert.ok(r.json.models.length >= 6);
});

test('libcurl (curl --parallel --http2) multiplexes on one session', async (t) => {
  const { execFileSync } = await import('node:child_process');
  try { execFileSync('curl', ['--version'], { stdio: 'ignore' }); } catch { t.skip('no curl'); return; }
  /* Its own latency (an earlier test left the scenario empty): without it
   * the 10 answers come back before curl has sent them all, and they
   * overlap by chance (CI: maxInFlight 4). */
  await S.scenario({ default: { latencyMs: 300 } });
  await S.reset();
  /* one --next group per transfer (curl joins repeated -d into one body) */
  const args = ['-s', '--parallel', '--parallel-max', '10'];
  for (let i = 0; i < 10; i++) {
    if (i) args.push('--next');
    args.push('--http2', '--cacert', S.ca, '-H', `x-goog-api-key: ${KEY}`, '-H', 'content-type: application/json',
      '-w', '%{http_version} %{http_code}\\n', '-d', JSON.stringify(textBody), '-o', '/dev/null',
      `https://127.0.0.1:${S.tlsPort}/v1beta/models/gemini-3.8-flash:generateContent`);
  }
  const out = execFileSync('curl', args, { encoding: 'utf8', timeout: 20000 });
  assert.deepEqual(out.trim().split('\n'), Array(10).fill('2 200'));
  const st = await S.stats();
  assert.equal(st.totals.h2Sessions, 1);
  assert.equal(st.totals.h2Streams, 10);
  assert.ok(st.models['gemini-3.8-flash'].maxInFlight >= 5, `maxInFlight ${st.models['gemini-3.8-flash'].maxInFlight}`);
});

test('the temporary CA directory is removed when the server exits', async () => {
  const dir = S.ca.replace(/\/ca\.pem$/, '');
  await S.stop();
  S = null;
  assert.equal(fs.existsSync(dir), false);
});

test('closing stdin stops the server and removes its CA directory', async () => {
  const T = await startServer(['--tls']);
  const dir = T.ca.replace(/\/ca\.pem$/, '');
  assert.ok(fs.existsSync(dir));
  const exited = new Promise((r) => T.child.once('exit', (code) => r(code)));
  T.child.stdin.end();
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 5000).unref())]);
  assert.equal(code, 0);
  assert.equal(fs.existsSync(dir), false);
  await T.stop();
});
