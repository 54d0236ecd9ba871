/* Scenario tests of the fake: sliding-window quota (429 with QuotaFailure,
 * RetryInfo, Help; per-minute and per-day quotaIds; retryDelay = real time
 * until the window frees), maxConcurrent -> 429, forced status, seeded
 * fault injection (rates and reproducibility), latency, stats counters
 * and reset. */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, sseEvents } from './helpers.mjs';

let S;
before(async () => { S = await startServer(); });
after(async () => { await S.stop(); });

const M = '/v1beta/models/gemini-3.8-flash:generateContent';
const body = { contents: [{ parts: [{ text: 'card for "gato" (cat)' }] }] };
const detail = (j, t) => j.error.details.find((d) => d['@type'] === `type.googleapis.com/google.rpc.${t}`);

test('per-minute quota: 429 RESOURCE_EXHAUSTED with QuotaFailure, Help, RetryInfo until the window frees', async () => {
  await S.scenario({ default: { quota: { requests: 3, windowMs: 4000 } } });
  const t0 = Date.now();
  for (let i = 0; i < 3; i++) assert.equal((await S.gem(M, body)).status, 200);
  const r = await S.gem(M, body);
  const elapsed = Date.now() - t0;
  assert.equal(r.status, 429);
  const e = r.json.error;
  assert.equal(e.code, 429);
  assert.equal(e.status, 'RESOURCE_EXHAUSTED');
  assert.match(e.message, /You exceeded your current quota.*Please retry in [0-9.]+s\./s);
  const v = detail(r.json, 'QuotaFailure').violations[0];
  assert.match(v.quotaId, /PerMinute/);
  assert.ok(v.quotaMetric && v.quotaDimensions.model === 'gemini-3.8-flash' && v.quotaValue === '3');
  assert.ok(detail(r.json, 'Help').links[0].url);
  const delay = detail(r.json, 'RetryInfo').retryDelay;
  assert.match(delay, /^\d+s$/);
  const secs = Number(delay.slice(0, -1));
  assert.ok(secs >= 1 && secs <= Math.ceil((4000 - elapsed + 1000) / 1000) && secs <= 4, delay);
  /* other models are not affected */
  assert.equal((await S.gem('/v1beta/models/gemini-3.1-flash-lite:generateContent', body)).status, 200);
  const st = await S.stats();
  assert.equal(st.models['gemini-3.8-flash'].statuses['429'], 1);
  assert.equal(st.models['gemini-3.8-flash'].statuses['200'], 3);
});

test('per-day quota and a fixed retryDelayS', async () => {
  await S.scenario({ models: { 'gemini-3.8-flash-tts': { quota: { requests: 1, windowMs: 86400000, perDay: true, retryDelayS: 38 } } } });
  const tts = { contents: [{ parts: [{ text: 'hola' }] }], generationConfig: { responseModalities: ['AUDIO'] } };
  const u = '/v1beta/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse';
  assert.equal((await S.gem(u, tts)).status, 200);
  const r = await S.gem(u, tts);
  assert.equal(r.status, 429);
  assert.match(r.headers['content-type'], /application\/json/);
  assert.match(detail(r.json, 'QuotaFailure').violations[0].quotaId, /PerDay/);
  assert.equal(detail(r.json, 'RetryInfo').retryDelay, '38s');
  assert.match(r.json.error.message, /Please retry in 38s\./);
});

test('maxConcurrent: requests over the cap get 429, stats show maxInFlight', async () => {
  await S.scenario({ default: { latencyMs: 300, maxConcurrent: 2 } });
  await S.reset();
  const rs = await Promise.all(Array.from({ length: 5 }, () => S.gem(M, body)));
  const codes = rs.map((r) => r.status).sort();
  assert.deepEqual(codes, [200, 200, 429, 429, 429]);
  const st = await S.stats();
  assert.ok(st.models['gemini-3.8-flash'].maxInFlight >= 2);
  assert.equal(st.models['gemini-3.8-flash'].inFlight, 0);
  assert.equal(st.totals.requests, 5);
  assert.equal(st.models['gemini-3.8-flash'].sent.length, 5);
});

test('latency: answers take latencyMs +- jitter', async () => {
  await S.scenario({ default: { latencyMs: 200, jitter: 0.2 } });
  const t = Date.now();
  assert.equal((await S.gem(M, body)).status, 200);
  const d = Date.now() - t;
  assert.ok(d >= 155 && d < 2000, `${d} ms`);
});

test('forced status: 404 with the real NOT_FOUND body, 503 UNAVAILABLE', async () => {
  await S.scenario({ models: { 'gemini-3.8-flash': { status: 404 }, 'gemini-3.1-flash-lite': { status: 503 } } });
  const a = await S.gem(M, body);
  assert.equal(a.status, 404);
  assert.match(a.json.error.message, /is not found for API version v1beta/);
  const b = await S.gem('/v1beta/models/gemini-3.1-flash-lite:generateContent', body);
  assert.equal(b.status, 503);
  assert.equal(b.json.error.status, 'UNAVAILABLE');
});

async function faultRun(n) {
  await S.scenario({ seed: 7, default: { faults: { status503: 0.2, status500: 0.1, reset: 0.1, malformed: 0.1 } } });
  await S.reset();
  const out = [];
  for (let i = 0; i < n; i++) {
    try {
      const r = await S.gem(M, body);
      out.push(r.status === 200 && !r.json ? 'malformed' : String(r.status));
    } catch { out.push('reset'); }
  }
  return out;
}

test('seeded faults: rates roughly as configured and reproducible', async () => {
  const n = 300;
  const a = await faultRun(n);
  const b = await faultRun(n);
  assert.deepEqual(a, b, 'same seed, same sequence');
  const count = (k) => a.filter((x) => x === k).length;
  const near = (k, p) => assert.ok(Math.abs(count(k) / n - p) < 0.07, `${k}: ${count(k)}/${n} vs ${p}`);
  near('503', 0.2); near('500', 0.1); near('reset', 0.1); near('malformed', 0.1); near('200', 0.5);
  const st = await S.stats();
  assert.equal(st.totals.faults.reset, count('reset'));
  assert.equal(st.totals.faults.status503, count('503'));
  const c = await S.scenario({ seed: 8, default: { faults: { status503: 0.2, status500: 0.1, reset: 0.1, malformed: 0.1 } } });
  assert.equal(c.status, 200);
});

test('SSE faults: sseError event, truncated stream without finishReason, slow stream', async () => {
  const u = '/v1beta/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse';
  const tts = { contents: [{ parts: [{ text: 'a longer sentence to make several events' }] }], generationConfig: { responseModalities: ['AUDIO'] } };
  await S.scenario({ default: { faults: { sseError: 1 } } });
  let ev = sseEvents((await S.gem(u, tts)).text);
  assert.ok(ev.at(-1).error && ev.at(-1).error.code === 500);
  await S.scenario({ default: { faults: { truncate: 1 } } });
  ev = sseEvents((await S.gem(u, tts)).text);
  assert.ok(ev.length >= 1 && ev.every((e) => !e.candidates[0].finishReason));
  await S.scenario({ default: { faults: { slowStreamMs: 100 } } });
  const t = Date.now();
  ev = sseEvents((await S.gem(u, tts)).text);
  assert.ok(Date.now() - t >= 100 * (ev.length - 1) - 10);
  await S.scenario({ default: { faults: { truncate: 1 } } });
  await assert.rejects(S.gem(M, body));
  await S.scenario({});
});

test('reset zeroes counters; bad scenario is refused', async () => {
  await S.reset();
  const st = await S.stats();
  assert.equal(st.totals.requests, 0);
  assert.deepEqual(st.models, {});
  const bad = await S.req('POST', '/_fake/scenario', { body: '[1,2' });
  assert.equal(bad.status, 400);
});
