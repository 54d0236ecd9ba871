/* Throughput of the fake server on loopback (not a test): starts it with
 * zero latency and drives it from this process for a few seconds per case,
 * over HTTP/1.1 keep-alive (32 connections) and HTTP/2 (one session, 64
 * concurrent streams). Prints requests/s per case. The client shares the
 * CPU with the server, so figures are a lower bound.
 *   node tests/fake/bench.mjs [seconds-per-case] */

import http from 'node:http';
import http2 from 'node:http2';
import fs from 'node:fs';
import { startServer, request, KEY } from './helpers.mjs';

const SECS = Number(process.argv[2]) || 3;
const CASES = [
  ['text+schema', '/v1beta/models/gemini-3.8-flash:generateContent',
    { contents: [{ role: 'user', parts: [{ text: 'Word: 猫\nTranslation: cat\n' }] }],
      generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'OBJECT',
        properties: { word: { type: 'STRING' }, examples: { type: 'ARRAY', items: { type: 'STRING' } } } } } }],
  ['tts sse 3 s', '/v1beta/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse',
    { contents: [{ parts: [{ text: 'Say cheerfully: Have a wonderful day!' }] }],
      generationConfig: { responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } } } }],
  ['image 1024px', '/v1beta/models/gemini-3.1-flash-image:generateContent',
    { contents: [{ parts: [{ text: 'A red bicycle' }] }], generationConfig: { responseModalities: ['IMAGE'] } }],
];

async function h1(S, path, body) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  let n = 0, bytes = 0;
  const end = Date.now() + SECS * 1000;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (Date.now() < end) {
      const r = await request(S.port, 'POST', path, { agent, body, headers: { 'x-goog-api-key': KEY } });
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      n++; bytes += r.body.length;
    }
  }));
  agent.destroy();
  return [n / SECS, bytes / SECS];
}

async function h2(S, path, body) {
  const session = http2.connect(`https://127.0.0.1:${S.tlsPort}`, { ca: fs.readFileSync(S.ca) });
  const payload = JSON.stringify(body);
  let n = 0, bytes = 0;
  const end = Date.now() + SECS * 1000;
  const one = () => new Promise((resolve, reject) => {
    const s = session.request({ ':method': 'POST', ':path': path, 'x-goog-api-key': KEY, 'content-type': 'application/json' });
    s.on('data', (c) => { bytes += c.length; });
    s.on('end', resolve);
    s.on('error', reject);
    s.end(payload);
  });
  await Promise.all(Array.from({ length: 64 }, async () => { while (Date.now() < end) { await one(); n++; } }));
  session.close();
  return [n / SECS, bytes / SECS];
}

/* server CPU seconds (Linux /proc), to report CPU per request */
function cpu(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch { return NaN; }
}

const S = await startServer(['--tls'], { default: { latencyMs: 0 } });
for (const [name, path, body] of CASES) {
  for (const [proto, f] of [['h1', h1], ['h2', h2]]) {
    const c0 = cpu(S.child.pid);
    const [rps, bps] = await f(S, path, body);
    const per = (cpu(S.child.pid) - c0) / (rps * SECS) * 1e3;
    console.log(`${name.padEnd(14)} ${proto}  ${rps.toFixed(0).padStart(6)} req/s  ${(bps / 1e6).toFixed(1).padStart(6)} MB/s  server CPU ${per.toFixed(2)} ms/req`);
  }
}
await S.stop();
