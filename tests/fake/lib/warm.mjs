/* --warm: before the readiness line, the fake answers a few hundred
 * requests of its own (over loopback HTTP/1.1 keep-alive, 1 ms latency):
 * card text with a responseSchema (gzip'd), speech over SSE and 1:1
 * pictures, the three kinds a `wordbank propagate` asks for. A fake
 * process is short-lived, so in a benchmark its first requests ran on
 * cold code: V8 compiling and gathering type feedback for its handlers and
 * Node's HTTP machinery, first-use allocations. Paid before the line, they
 * are not in the window a benchmark measures. Afterwards the state is as
 * at start: the scenario is set again (same seeds, so the same random
 * streams), statistics and the request log are empty, and the warm-up's
 * connections are closed. */

import net from 'node:net';

const SCHEMA = {
  type: 'OBJECT',
  properties: {
    word: { type: 'STRING' }, translation: { type: 'STRING' }, language_code: { type: 'STRING' },
    reading: { type: 'STRING' }, description: { type: 'STRING' },
    examples: { type: 'ARRAY', items: { type: 'OBJECT', properties: { text: { type: 'STRING' }, translation: { type: 'STRING' } },
      required: ['text', 'translation'], propertyOrdering: ['text', 'translation'] }, minItems: 2, maxItems: 3 },
    image_description: { type: 'STRING' },
  },
  required: ['word', 'translation', 'language_code', 'reading', 'description', 'examples', 'image_description'],
  propertyOrdering: ['word', 'translation', 'language_code', 'reading', 'description', 'examples', 'image_description'],
};

function bodies(i) {
  const text = { contents: [{ parts: [{ text: `A flashcard for a learner of Japanese.\n\nWord: 語${i}\nTranslation: word ${i}\nContext: warm-up ${i}\n\nFill in the fields.` }], role: 'user' }],
    generationConfig: { responseMimeType: 'application/json', responseSchema: SCHEMA } };
  const tts = { contents: [{ parts: [{ text: `語${i}` }] }],
    generationConfig: { responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } } } };
  const image = { contents: [{ parts: [{ text: `A clear illustration of word ${i} on a plain background.` }], role: 'user' }],
    generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '1:1', imageSize: '1K' } } };
  return [
    ['/v1beta/models/gemini-3.8-flash:generateContent', text],
    ['/v1beta/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse', tts],
    ['/v1beta/models/gemini-3.1-flash-image:generateContent', image],
  ];
}

/* One keep-alive connection as a bare socket writing request bytes and
 * reading each answer to its end (Content-Length or the last chunk): no
 * HTTP client objects in the process, whose type feedback would mix with
 * the server's in the Node code both use. */
class Conn {
  constructor(port) {
    this.sock = net.connect({ port, host: '127.0.0.1' });
    this.sock.setNoDelay(true);
    this.buf = Buffer.alloc(0);
    this.want = null;
    this.sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.check(); });
    this.sock.on('error', () => this.fail());
    this.sock.on('close', () => this.fail());
  }

  fail() { if (this.want) { const w = this.want; this.want = null; w(0); } }

  check() {
    if (!this.want) return;
    const he = this.buf.indexOf('\r\n\r\n');
    if (he < 0) return;
    const head = this.buf.subarray(0, he).toString('latin1');
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length: (\d+)/i.exec(head);
    let end = -1;
    if (m) { if (this.buf.length >= he + 4 + Number(m[1])) end = he + 4 + Number(m[1]); }
    else { const z = this.buf.indexOf('\r\n0\r\n\r\n', he); if (z >= 0) end = z + 7; }
    if (end < 0) return;
    this.buf = this.buf.subarray(end);
    const w = this.want;
    this.want = null;
    w(status);
  }

  post(p, key, body) {
    const data = Buffer.from(JSON.stringify(body));
    return new Promise((resolve) => {
      this.want = resolve;
      this.sock.write(`POST ${p} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
        `x-goog-api-key: ${key}\r\naccept-encoding: deflate, gzip\r\ncontent-length: ${data.length}\r\n\r\n`);
      this.sock.write(data);
    });
  }
}

/* rounds x 3 requests, `parallel` at a time; then back to the start state.
 * Returns the number of answers that were not 200 (0 unless broken). */
export async function warmUp(st, port, key, scenario, rounds = 150, parallel = 32) {
  st.setScenario({ seed: 1, default: { latencyMs: 1 } });   /* timers as in a run */
  const todo = [];
  for (let i = 0; i < rounds; i++) todo.push(...bodies(i + 1));
  let bad = 0, next = 0;
  const conns = [];
  const worker = async () => {
    const c = new Conn(port);
    conns.push(c);
    while (next < todo.length) {
      const [p, b] = todo[next++];
      if (await c.post(p, key, b) !== 200) bad++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  for (const c of conns) c.sock.destroy();
  /* the server sees the warm-up's sockets close a moment later */
  for (let i = 0; i < 1000 && st.totals.connections > 0; i++) await new Promise((r) => setTimeout(r, 1));
  st.setScenario(scenario);
  st.reset();
  st.log.length = 0;
  return bad;
}
