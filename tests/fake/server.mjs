/* wordbank's loopback fake of the Gemini API (and three OpenAI endpoints).
 * Tests and benchmarks start it as a child process:
 *
 *   node tests/fake/server.mjs [--scenario FILE.json] [--tls] [--warm] [--key KEY] [--openai-key KEY]
 *
 * It listens on 127.0.0.1 (ephemeral ports), prints ONE JSON line
 * {"port": N[, "tlsPort": M, "ca": "/tmp/.../ca.pem"]} on stdout when
 * ready, and exits on SIGTERM/SIGINT or when its stdin (a pipe) closes.
 * Protocol: /work/shared/docs/gemini-api.md; details in docs/fake-server.md.
 * Only Node's standard library is used. */

import v8 from 'node:v8';
import http from 'node:http';
import http2 from 'node:http2';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { State } from './lib/state.mjs';
import { gErr, apiKeyInvalid, apiKeyMissing, oErr } from './lib/errors.mjs';
import { sendJson, sendError } from './lib/respond.mjs';
import { handleGemini } from './lib/gemini.mjs';
import { handleOpenai } from './lib/openai.mjs';
import { handleFiles } from './lib/files.mjs';
import { warmMedia, pngCached } from './lib/media.mjs';
import { warmUp } from './lib/warm.mjs';

/* A fake lives for a test or a benchmark run: thousands of requests, not
 * millions. V8's default tiering spends more CPU compiling its handlers
 * with the optimizing compiler (a fifth of the fake's CPU in a 1,200-request
 * profile) than the optimized code then saves; a larger interrupt budget
 * optimizes only what stays hot over a long run. */
v8.setFlagsFromString('--interrupt-budget=1048576');

const BODY_MAX = 20 * 1024 * 1024;
const LOG_BODY_MAX = 1024 * 1024;   /* bigger bodies are logged as {_omitted: bytes} */
const DEBUG = process.env.FAKE_DEBUG === '1';
const dbg = (...a) => { if (DEBUG) process.stderr.write(`[fake] ${a.join(' ')}\n`); };

function parseArgs(argv) {
  const o = { scenario: null, tls: false, warm: false, key: 'test-key-not-secret-123456', openaiKey: 'sk-test-not-secret-123456' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--scenario') o.scenario = val();
    else if (a === '--tls') o.tls = true;
    else if (a === '--warm') o.warm = true;
    else if (a === '--key') o.key = val();
    else if (a === '--openai-key') o.openaiKey = val();
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/* Throwaway CA + server certificate for 127.0.0.1/localhost (openssl CLI). */
function makeCerts(dir) {
  const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  fs.writeFileSync(path.join(dir, 'ext.cnf'),
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n' +
    'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=wordbank fake CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
  const out = {
    ca: path.join(dir, 'ca.pem'),
    key: fs.readFileSync(path.join(dir, 'server.key')),
    cert: fs.readFileSync(path.join(dir, 'server.pem')),
  };
  /* keep only ca.pem on disk: keys live in memory from here on */
  for (const f of fs.readdirSync(dir)) if (f !== 'ca.pem') fs.rmSync(path.join(dir, f), { force: true });
  return out;
}

/* Remove temp dirs of earlier fakes that were killed without cleanup
 * (SIGKILL): they are named wbfake-<pid>-XXXXXX. */
function sweepStale() {
  const tmp = os.tmpdir();
  let names = [];
  try { names = fs.readdirSync(tmp); } catch { return; }
  for (const n of names) {
    const m = n.match(/^wbfake-(\d+)-[A-Za-z0-9]{6}$/);
    if (!m || Number(m[1]) === process.pid) continue;
    try { process.kill(Number(m[1]), 0); continue; } catch (e) { if (e.code !== 'ESRCH') continue; }
    try { fs.rmSync(path.join(tmp, n), { recursive: true, force: true }); } catch { /* not ours to remove */ }
  }
}

function redactHeaders(h) {
  const out = {};
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith(':')) continue;
    const lk = k.toLowerCase();
    out[k] = (lk === 'x-goog-api-key' || lk === 'authorization') ? '[REDACTED]' : v;
  }
  return out;
}

/* One request of the log behind /_fake/requests. What the log shows is
 * built when it is read (toJSON): the body parsed again from the bytes, the
 * query and the headers redacted. Recording keeps only references (the
 * body's bytes, the request's headers object), so a run's hundreds of
 * parsed bodies and header copies no longer sit in V8's heap for its
 * collector to copy and mark. Request bodies are never modified, so the
 * reparse shows what the handler saw. */
class LogEntry {
  constructor(t, req, p, search, raw, bodyErr) {
    this.t = t;
    this.method = req.method;
    this.path = p;
    this.search = search;
    this.httpVersion = req.httpVersion;
    this.headers = req.headers;
    /* bytes to parse on reading, or the logged body itself */
    this.raw = null;
    this.body = null;
    if (bodyErr) this.body = { _unparsed: raw.subarray(0, 4096).toString('utf8') };
    else if (raw && raw.length > LOG_BODY_MAX) this.body = { _omitted: raw.length };
    else if (raw && raw.length) this.raw = raw;
    this.status = null;
  }

  toJSON() {
    const query = {};
    if (this.search) for (const [k, v] of new URLSearchParams(this.search)) query[k] = k === 'key' ? '[REDACTED]' : v;
    return { t: this.t, method: this.method, path: this.path, query, httpVersion: this.httpVersion,
      headers: redactHeaders(this.headers), body: this.raw ? JSON.parse(this.raw.toString('utf8')) : this.body,
      status: this.status };
  }
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    let n = 0, over = false;
    req.on('data', (c) => {
      n += c.length;
      if (n > BODY_MAX) { over = true; return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', () => resolve(null));
    req.on('aborted', () => resolve(null));
  });
}

function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) {
    process.stderr.write(`fake server: ${e.message}\n`); process.exit(2);
  }
  let scenario = {};
  if (opts.scenario) {
    try { scenario = JSON.parse(fs.readFileSync(opts.scenario, 'utf8')); } catch (e) {
      process.stderr.write(`fake server: cannot read scenario ${opts.scenario}: ${e.message}\n`); process.exit(2);
    }
  }
  const st = new State(scenario);
  let tmpDir = null;

  async function onRequest(req, res) {
    const h2 = req.httpVersion === '2.0';
    const url = new URL(req.url, 'http://127.0.0.1');
    const p = url.pathname;
    const ctx = { req, res, state: st, h2, tok: null, cfg: st.cfg(''), fault: null, extraHeaders: null, entry: null };
    res.on('error', () => {});
    res.on('close', () => {
      if (ctx.tok && !ctx.tok.ended) st.end(ctx.tok, 'gone');
      if (ctx.entry) ctx.entry.status = res.headersSent ? res.statusCode : 0;
    });
    /* ---- control endpoints (no auth, not counted) ---- */
    if (p.startsWith('/_fake/')) {
      ctx.tok = { m: null, ended: true };
      const raw = await readBody(req);
      if (p === '/_fake/stats' && req.method === 'GET') return sendJson(ctx, 200, st.stats(), { gzip: false });
      if (p === '/_fake/reset' && req.method === 'POST') { st.reset(); return sendJson(ctx, 200, { ok: true }, { gzip: false }); }
      if (p === '/_fake/requests' && req.method === 'GET') {
        const lim = Math.max(0, Number(url.searchParams.get('limit')) || 100);
        return sendJson(ctx, 200, lim ? st.log.slice(-lim) : [], { gzip: false });
      }
      if (p === '/_fake/scenario' && req.method === 'POST') {
        try { st.setScenario(JSON.parse(raw ? raw.toString('utf8') : '')); } catch (e) {
          return sendJson(ctx, 400, { error: `bad scenario: ${e.message}` }, { gzip: false });
        }
        return sendJson(ctx, 200, { ok: true }, { gzip: false });
      }
      if (p === '/_fake/scenario' && req.method === 'GET') return sendJson(ctx, 200, st.scenario, { gzip: false });
      if (p === '/_fake/cache' && req.method === 'GET') return sendJson(ctx, 200, { png: pngCached() }, { gzip: false });
      return sendJson(ctx, 404, { error: 'unknown control endpoint' }, { gzip: false });
    }
    /* ---- API requests ---- */
    ctx.tok = st.begin(null);
    const hasKeyInUrl = url.searchParams.has('key');
    if (hasKeyInUrl) st.totals.keyInUrl++;
    const raw = await readBody(req);
    let body = null, bodyErr = false;
    if (raw && raw.length) {
      try { body = JSON.parse(raw.toString('utf8')); } catch { bodyErr = true; }
    }
    ctx.entry = new LogEntry(st.now(), req, p, url.search, raw, bodyErr);
    st.record(ctx.entry);
    if (DEBUG) {
      const t0 = Date.now();
      res.on('close', () => dbg(req.method, p, `h${req.httpVersion}`, '->', res.statusCode,
        ctx.tok && ctx.tok.ended ? '' : '(unfinished)', `${Date.now() - t0} ms`));
    }
    if (p.startsWith('/upload/') || p.startsWith('/download/')) {
      const k = req.headers['x-goog-api-key'] ?? (hasKeyInUrl ? url.searchParams.get('key') : undefined);
      if (k === undefined || k === '') { return sendError(ctx, 403, apiKeyMissing()); }
      if (k !== opts.key) { return sendError(ctx, 400, apiKeyInvalid()); }
      if (raw === null) { return sendError(ctx, 413, gErr(413, 'Request payload size exceeds the limit: 20971520 bytes.')); }
      return handleFiles(ctx, p, raw, url);
    }
    const gm = p.match(/^\/(v1beta1|v1beta|v1alpha|v1)\/(.+)$/);
    const isOpenai = gm && gm[1] === 'v1' && /^(chat\/completions|audio\/speech|images\/generations)$/.test(gm[2]);
    if (isOpenai || (gm && gm[1] === 'v1beta' && gm[2].startsWith('openai/'))) {
      const rest = gm[1] === 'v1beta' ? gm[2].slice(7) : gm[2];
      const want = gm[1] === 'v1beta' ? opts.key : opts.openaiKey;
      const auth = String(req.headers.authorization || '');
      if (auth !== `Bearer ${want}`) {
        const msg = auth ? 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.'
          : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
        return sendError(ctx, 401, oErr(msg, 'invalid_request_error', auth ? 'invalid_api_key' : null));
      }
      if (raw === null) { return sendError(ctx, 413, oErr('Request body too large.', 'invalid_request_error')); }
      if (bodyErr) { return sendError(ctx, 400, oErr('We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly.)', 'invalid_request_error')); }
      return handleOpenai(ctx, rest, body, gm[1] === 'v1beta');
    }
    if (!gm) {
      return sendError(ctx, 404, gErr(404, `The requested URL ${p} was not found on this server.`));
    }
    const key = req.headers['x-goog-api-key'] ?? (hasKeyInUrl ? url.searchParams.get('key') : undefined);
    if (key === undefined || key === '') { return sendError(ctx, 403, apiKeyMissing()); }
    if (key !== opts.key) { return sendError(ctx, 400, apiKeyInvalid()); }
    if (raw === null) { return sendError(ctx, 413, gErr(413, 'Request payload size exceeds the limit: 20971520 bytes.')); }
    if (bodyErr) {
      return sendError(ctx, 400, gErr(400, `Invalid JSON payload received. Unexpected token.\n${raw.subarray(0, 40).toString('utf8')}\n^`));
    }
    await handleGemini(ctx, gm[1], gm[2], body, url.searchParams);
  }

  const wrap = (req, res) => {
    onRequest(req, res).catch((e) => {
      dbg('handler error', e && e.stack);
      try {
        if (!res.headersSent) { res.writeHead(500, { 'content-type': 'application/json' }); res.end(JSON.stringify(gErr(500))); }
        else res.destroy();
      } catch { /* ignore */ }
    });
  };

  const countConn = (sock) => {
    const t = st.totals;
    t.connections++; t.connectionsTotal++;
    if (t.connections > t.maxConnections) t.maxConnections = t.connections;
    sock.on('close', () => { st.totals.connections--; });
  };

  const server = http.createServer({ keepAliveTimeout: 65000, headersTimeout: 70000, requestTimeout: 0 }, wrap);
  server.maxHeadersCount = 200;
  server.on('connection', countConn);
  server.on('clientError', (err, sock) => { if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n'); });

  let tlsServer = null;
  let ca = null;
  if (opts.tls) {
    sweepStale();
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `wbfake-${process.pid}-`));
    let c;
    try { c = makeCerts(tmpDir); } catch (e) {
      process.stderr.write(`fake server: openssl failed: ${e.message}\n`);
      fs.rmSync(tmpDir, { recursive: true, force: true });
      process.exit(3);
    }
    ca = c.ca;
    tlsServer = http2.createSecureServer({ key: c.key, cert: c.cert, allowHTTP1: true,
      settings: { maxConcurrentStreams: 1000 }, peerMaxConcurrentStreams: 1000 }, wrap);
    tlsServer.on('connection', countConn);
    tlsServer.on('session', (s) => { st.totals.h2Sessions++; s.on('error', () => {}); });
    tlsServer.on('stream', () => { st.totals.h2Streams++; });
    tlsServer.on('tlsClientError', () => {});
    tlsServer.setTimeout(0);
  }

  let exiting = false;
  const cleanup = () => { if (tmpDir) { try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch { /* ignore */ } tmpDir = null; } };
  const quit = (code = 0) => {
    if (exiting) return;
    exiting = true;
    cleanup();
    process.exit(code);
  };
  process.on('exit', cleanup);
  process.on('SIGTERM', () => quit(0));
  process.on('SIGINT', () => quit(0));
  process.on('SIGHUP', () => quit(0));
  let watchStdin = false;
  try { const s = fs.fstatSync(0); watchStdin = s.isFIFO() || s.isSocket(); } catch { /* no stdin */ }
  if (watchStdin) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => quit(0));
    process.stdin.on('close', () => quit(0));
    process.stdin.on('error', () => quit(0));
    process.stdin.resume();
  }

  const listen = (srv) => new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => resolve(srv.address().port));
  });
  /* Draw the default images now: the readiness line below is where
   * benchmarks start their clocks, and no request should pay for them. */
  warmMedia();
  (async () => {
    const port = await listen(server);
    if (opts.warm) {
      const bad = await warmUp(st, port, opts.key, scenario);
      if (bad) process.stderr.write(`fake server: ${bad} warm-up requests failed\n`);
    }
    const ready = { port };
    if (tlsServer) { ready.tlsPort = await listen(tlsServer); ready.ca = ca; }
    process.stdout.write(JSON.stringify(ready) + '\n');
    dbg('ready', JSON.stringify(ready));
  })().catch((e) => { process.stderr.write(`fake server: listen failed: ${e.message}\n`); quit(3); });
}

main();
