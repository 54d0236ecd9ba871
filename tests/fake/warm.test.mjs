/* --warm: the fake answers requests of its own before its readiness line
 * (so that a benchmark's window does not pay for cold code) and then is
 * in its start state: no requests counted, an empty request log, no
 * connection of its own left open, the scenario it was given, and the
 * same seeded random streams (faults, jitter, thoughts) as a fake started
 * without it: the same requests get the same answers. */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request, KEY } from './helpers.mjs';

const SCENARIO = {
  seed: 5,
  default: { latencyMs: 1, jitter: 0.5, faults: { status500: 0.12, status503: 0.05, truncate: 0.1, malformed: 0.1, sseError: 0.15, reset: 0.08 } },
  models: { 'gemini-3.8-flash': { thoughts: true } },
};

let plain, warm;
before(async () => {
  [plain, warm] = await Promise.all([startServer([], SCENARIO), startServer(['--warm'], SCENARIO)]);
});
after(async () => { await Promise.all([plain.stop(), warm.stop()]); });

test('after the warm-up: nothing counted, an empty log, no connection left, the scenario as given', async () => {
  const st = await warm.stats();
  assert.equal(st.totals.requests, 0);
  assert.equal(st.totals.maxInFlight, 0);
  /* a benchmark's start and end are timed from these: not the warm-up's */
  assert.equal(st.totals.firstBeginMonoMs, 0);
  assert.equal(st.totals.lastEndMonoMs, 0);
  assert.deepEqual(st.totals.statuses, {});
  assert.deepEqual(st.models, {});
  assert.ok(Object.values(st.totals.faults).every((n) => n === 0));
  /* the one connection is this stats request's */
  assert.equal(st.totals.connectionsTotal, 1);
  assert.equal(st.totals.maxConnections, 1);
  assert.deepEqual((await warm.req('GET', '/_fake/requests?limit=1000')).json, []);
  assert.deepEqual((await warm.req('GET', '/_fake/scenario')).json, SCENARIO);
  assert.equal(warm.stderr(), '');
});

const cases = (i) => [
  ['/v1beta/models/gemini-3.8-flash:generateContent', { contents: [{ parts: [{ text: `A card for "gato${i}" (cat)` }] }],
    generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { word: { type: 'STRING' } } } } }],
  ['/v1beta/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse', { contents: [{ parts: [{ text: `hola ${i}` }] }],
    generationConfig: { responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } } } }],
  ['/v1beta/models/gemini-3.1-flash-image:generateContent', { contents: [{ parts: [{ text: `a cat ${i}` }] }],
    generationConfig: { responseModalities: ['IMAGE'] } }],
];

/* One request on a fresh connection (faults may end it): its status and
 * body with the random responseId masked, or how it failed. */
async function outcome(S, p, body) {
  try {
    const r = await request(S.port, 'POST', p, { body, headers: { 'x-goog-api-key': KEY, 'accept-encoding': 'gzip' } });
    return `${r.status} ${r.text.replace(/"responseId":"[^"]*"/g, '"responseId":"-"')}`;
  } catch (e) {
    return `failed: ${e.code || e.message}`;
  }
}

test('the same requests get the same answers and faults as from a fake started without --warm', async () => {
  const got = { plain: [], warm: [] };
  for (let i = 0; i < 20; i++) {
    for (const [p, body] of cases(i)) {
      got.plain.push(await outcome(plain, p, body));
      got.warm.push(await outcome(warm, p, body));
    }
  }
  assert.deepEqual(got.warm, got.plain);
  /* the streams were exercised: faults, thoughts and whole answers */
  assert.ok(got.plain.some((o) => o.startsWith('500 ')) && got.plain.some((o) => o.startsWith('failed')));
  assert.ok(got.plain.some((o) => o.includes('"thought":true')) && got.plain.some((o) => o.startsWith('200 ') && !o.includes('"thought"')));
  const [a, b] = await Promise.all([plain.stats(), warm.stats()]);
  assert.deepEqual(b.totals.statuses, a.totals.statuses);
  assert.deepEqual(b.totals.faults, a.totals.faults);
  assert.equal(b.totals.requests, 60);
});

test('firstBeginMonoMs and lastEndMonoMs: the CLOCK_MONOTONIC ms of the first request and of the last answer', async () => {
  const S = await startServer(['--warm'], { seed: 1, default: { latencyMs: 60 } });
  try {
    const mono = () => Number(process.hrtime.bigint()) / 1e6;
    const t0 = mono();
    const [p, body] = cases(0)[0];
    assert.match(await outcome(S, p, body), /^200 /);
    await new Promise((r) => setTimeout(r, 30));
    assert.match(await outcome(S, p, body), /^200 /);
    const t1 = mono();
    const { totals } = await S.stats();
    /* the first request's start, before its 60 ms answer; the second
     * answer's end, 30 ms and another 60 ms later */
    assert.ok(totals.firstBeginMonoMs >= t0 && totals.firstBeginMonoMs <= t1, `${totals.firstBeginMonoMs} ${t0}`);
    assert.ok(totals.lastEndMonoMs - totals.firstBeginMonoMs >= 145, `${totals.lastEndMonoMs - totals.firstBeginMonoMs}`);
    /* on the client's own clock (not the wall clock); the fake notes the
     * end just after handing the bytes over, so the client may have read
     * them a moment before */
    assert.ok(totals.lastEndMonoMs <= t1 + 5, `${totals.lastEndMonoMs} ${t1}`);
  } finally {
    await S.stop();
  }
});
