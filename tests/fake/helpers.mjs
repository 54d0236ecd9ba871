/* Test helpers for the fake server's own tests: start server.mjs as a
 * child process (stdin kept as a pipe so it dies with the test), wait for
 * its readiness line, and make plain HTTP/1.1 requests with a keep-alive
 * agent. Also a tiny JSON-schema conformance checker used to verify the
 * fake's structured output. */

import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SERVER = path.join(HERE, 'server.mjs');
export const KEY = 'test-key-not-secret-123456';
export const OKEY = 'sk-test-not-secret-123456';

export async function startServer(args = [], scenario = null) {
  const a = [...args];
  let scFile = null;
  if (scenario) {
    scFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wbfake-test-')), 'scenario.json');
    fs.writeFileSync(scFile, JSON.stringify(scenario));
    a.push('--scenario', scFile);
  }
  const child = spawn(process.execPath, [SERVER, ...a], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const line = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`server not ready in 10 s: ${err}`)), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const i = out.indexOf('\n');
      if (i >= 0) { clearTimeout(t); resolve(out.slice(0, i)); }
    });
    child.on('exit', (c) => { clearTimeout(t); reject(new Error(`server exited ${c}: ${err}`)); });
  });
  const info = JSON.parse(line);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const srv = {
    ...info, child, agent, line,
    stderr: () => err,
    async stop() {
      agent.destroy();
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      if (scFile) fs.rmSync(path.dirname(scFile), { recursive: true, force: true });
    },
    req: (method, p, opts = {}) => request(info.port, method, p, { agent, ...opts }),
    gem: (p, body, opts = {}) => request(info.port, body === undefined ? 'GET' : 'POST', p,
      { agent, ...opts, body, headers: { 'x-goog-api-key': KEY, ...(opts.headers || {}) } }),
    oai: (p, body, opts = {}) => request(info.port, 'POST', p,
      { agent, ...opts, body, headers: { authorization: `Bearer ${OKEY}`, ...(opts.headers || {}) } }),
    stats: async () => (await request(info.port, 'GET', '/_fake/stats', { agent })).json,
    scenario: async (sc) => request(info.port, 'POST', '/_fake/scenario', { agent, body: sc }),
    reset: async () => request(info.port, 'POST', '/_fake/reset', { agent, body: {} }),
  };
  return srv;
}

export function request(port, method, p, opts = {}) {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? null
      : Buffer.isBuffer(opts.body) ? opts.body
      : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    const headers = { ...(opts.headers || {}) };
    if (body) { headers['content-type'] = headers['content-type'] || 'application/json'; headers['content-length'] = body.length; }
    const r = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: opts.agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let buf = Buffer.concat(chunks);
        const wire = buf;   /* as sent (gzip'd or not) */
        if (res.headers['content-encoding'] === 'gzip') buf = zlib.gunzipSync(buf);
        let json = null;
        try { json = JSON.parse(buf.toString('utf8')); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, body: buf, wire, text: buf.toString('utf8'), json });
      });
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('aborted')));
    });
    r.on('error', reject);
    if (body) r.write(body);
    r.end();
  });
}

/* Parse an SSE body into JSON events (CRLF or LF separated). */
export function sseEvents(text) {
  return text.split(/\r\n\r\n|\n\n|\r\r/).map((s) => s.trim()).filter(Boolean).map((s) => {
    if (!s.startsWith('data:')) throw new Error(`not a data line: ${s.slice(0, 40)}`);
    const d = s.slice(5).trim();
    return d === '[DONE]' ? '[DONE]' : JSON.parse(d);
  });
}

/* Check a value against a Gemini responseSchema or a JSON Schema; returns
 * null or a description of the first mismatch. */
export function conforms(v, s, root = s, at = '$') {
  if (!s || typeof s !== 'object') return null;
  if (s.$ref) return conforms(v, s.$ref.slice(2).split('/').reduce((o, k) => o[k], root), root, at);
  if (s.enum && !s.enum.includes(v)) return `${at}: ${JSON.stringify(v)} not in enum`;
  let types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  types = types.map((t) => String(t).toLowerCase());
  if (s.nullable) types.push('null');
  const tOf = (x) => (x === null ? 'null' : Array.isArray(x) ? 'array' : Number.isInteger(x) ? 'integer' : typeof x);
  if (types.length) {
    const t = tOf(v);
    const ok = types.includes(t) || (t === 'integer' && types.includes('number'));
    if (!ok) return `${at}: type ${t}, want ${types.join('|')}`;
  }
  if (typeof v === 'string') {
    if (s.maxLength != null && Array.from(v).length > s.maxLength) return `${at}: too long`;
    if (s.minLength != null && Array.from(v).length < s.minLength) return `${at}: too short`;
  }
  if (typeof v === 'number') {
    if (s.minimum != null && v < s.minimum) return `${at}: below minimum`;
    if (s.maximum != null && v > s.maximum) return `${at}: above maximum`;
  }
  if (Array.isArray(v)) {
    if (s.minItems != null && v.length < s.minItems) return `${at}: too few items`;
    if (s.maxItems != null && v.length > s.maxItems) return `${at}: too many items`;
    for (let i = 0; i < v.length; i++) { const e = conforms(v[i], s.items, root, `${at}[${i}]`); if (e) return e; }
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const r of s.required || []) if (!(r in v)) return `${at}: missing ${r}`;
    for (const [k, x] of Object.entries(v)) {
      if (s.properties && !(k in s.properties)) {
        if (s.additionalProperties === false) return `${at}: extra property ${k}`;
        continue;
      }
      const e = conforms(x, s.properties && s.properties[k], root, `${at}.${k}`);
      if (e) return e;
    }
    if (s.propertyOrdering) {
      const keys = Object.keys(v).filter((k) => s.propertyOrdering.includes(k));
      const want = s.propertyOrdering.filter((k) => k in v);
      if (keys.join() !== want.join()) return `${at}: order ${keys} != ${want}`;
    }
  }
  return null;
}

/* Minimal PNG check: signature, IHDR, CRCs of all chunks, IDAT inflates
 * to the right size. Returns {width, height, colorType}. */
export function checkPng(buf) {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!buf.subarray(0, 8).equals(sig)) throw new Error('bad PNG signature');
  let o = 8, ihdr = null;
  const idat = [];
  let sawEnd = false;
  while (o + 12 <= buf.length) {
    const len = buf.readUInt32BE(o);
    const type = buf.toString('ascii', o + 4, o + 8);
    const data = buf.subarray(o + 8, o + 8 + len);
    const crc = buf.readUInt32BE(o + 8 + len);
    if ((zlib.crc32(buf.subarray(o + 4, o + 8 + len)) >>> 0) !== crc) throw new Error(`bad CRC in ${type}`);
    if (type === 'IHDR') ihdr = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8], colorType: data[9] };
    if (type === 'IDAT') idat.push(data);
    if (type === 'IEND') { sawEnd = true; break; }
    o += 12 + len;
  }
  if (!ihdr || !sawEnd) throw new Error('missing IHDR or IEND');
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const bpp = ihdr.colorType === 2 ? 3 : ihdr.colorType === 6 ? 4 : 1;
  if (raw.length !== (ihdr.width * bpp + 1) * ihdr.height) throw new Error('IDAT size mismatch');
  return ihdr;
}
