/* Scale test of the fake: 2,000 HTTP/1.1 keep-alive connections held open
 * at once, each with one request answered after 1 s of latency, all
 * in flight together (stats maxConnections >= 2000; maxInFlight shown),
 * then a second request on every same connection (keep-alive reuse).
 * Needs about 4,100 file descriptors across the two processes: run it
 * through run.sh, which raises `ulimit -n` first. */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, KEY } from './helpers.mjs';

const N = 2000;
let S;
before(async () => { S = await startServer([], { default: { latencyMs: 1000, jitter: 0 } }); });
after(async () => { await S.stop(); });

const body = JSON.stringify({ contents: [{ parts: [{ text: 'card for "gato" (cat)' }] }] });
const raw = `POST /v1beta/models/gemini-3.8-flash:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
  `x-goog-api-key: ${KEY}\r\ncontent-type: application/json\r\nconnection: keep-alive\r\n` +
  `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/* One request on a raw socket; resolves with the status code once the
 * whole Content-Length body has arrived. */
function ask(sock) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const he = buf.indexOf('\r\n\r\n');
      if (he < 0) return;
      const head = buf.subarray(0, he).toString('latin1');
      const len = Number((head.match(/content-length:\s*(\d+)/i) || [])[1]);
      if (buf.length >= he + 4 + len) {
        sock.off('data', onData);
        resolve(Number(head.split(' ')[1]));
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.write(raw);
  });
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

test(`${N} concurrent keep-alive connections, all answered`, { timeout: 50000 }, async (t) => {
  await S.reset();
  const socks = [];
  for (let i = 0; i < N; i += 250) {
    socks.push(...await Promise.all(Array.from({ length: Math.min(250, N - i) }, () => connect(S.port))));
  }
  const t0 = Date.now();
  const codes = await Promise.all(socks.map(ask));
  const first = Date.now() - t0;
  assert.equal(codes.filter((c) => c === 200).length, N);
  const st = await S.stats();
  assert.ok(st.totals.maxConnections >= N, `maxConnections ${st.totals.maxConnections}`);
  assert.ok(st.totals.maxInFlight >= N / 2, `maxInFlight ${st.totals.maxInFlight}`);
  assert.ok(first < 15000, `first round took ${first} ms`);
  /* keep-alive: the same connections carry a second request */
  const again = await Promise.all(socks.map(ask));
  assert.equal(again.filter((c) => c === 200).length, N);
  const st2 = await S.stats();
  assert.ok(st2.totals.connectionsTotal <= N + 2, `no new connections for the second round (${st2.totals.connectionsTotal})`);
  t.diagnostic(`${N} connections: first round ${first} ms (1 s latency), maxInFlight ${st.totals.maxInFlight}`);
  for (const s of socks) s.destroy();
});
