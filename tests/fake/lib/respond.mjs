/* Response plumbing shared by the Gemini and OpenAI handlers: JSON bodies
 * (optionally gzip'd), raw bodies, SSE streams, and the injected transport
 * faults (reset = connection/stream torn down mid-response, truncate =
 * fewer bytes than Content-Length, malformed = invalid JSON with 200).
 * Works the same on HTTP/1.1 and on HTTP/2 (compat API) requests.
 *
 * ctx = {req, res, state, tok, h2, cfg, fault, extraHeaders} where tok is
 * the stats token of State.begin(); every path ends it exactly once. */

import zlib from 'node:zlib';
import http2 from 'node:http2';

const GZIP_MAX = 256 * 1024;

/* A pre-encoded JSON string value (e.g. cached base64 of a PNG or PCM)
 * spliced into a serialized body as bytes, never re-stringified nor
 * copied: buf is a Buffer or an array of Buffers (sent one after the
 * other). The bytes must not need JSON escaping (base64 does not). */
let rawSink = null;   /* the Raw values of the encodeJsonParts call under way */
export class Raw {
  constructor(buf) { this.buf = buf; }
  toJSON() {
    if (!rawSink) return this;
    rawSink.push(this.buf);
    return `@@RAW${rawSink.length - 1}@@`;
  }
}

const RAW_MARK = /"@@RAW(\d+)@@"/g;

/* JSON.stringify with Raw values spliced in as bytes; returns the body as
 * a list of Buffers (the Raw ones themselves, not copies). Plain
 * JSON.stringify (no replacer: its fast path) with Raw.toJSON leaving a
 * mark for each; the marks' quotes stay, around the spliced bytes. */
export function encodeJsonParts(obj) {
  const raws = [];
  const prev = rawSink;
  rawSink = raws;
  let s;
  try { s = JSON.stringify(obj); } finally { rawSink = prev; }
  if (!raws.length) return [Buffer.from(s)];
  const parts = [];
  let last = 0, m;
  RAW_MARK.lastIndex = 0;
  while ((m = RAW_MARK.exec(s))) {
    parts.push(Buffer.from(s.slice(last, m.index + 1)));
    const r = raws[Number(m[1])];
    if (Array.isArray(r)) parts.push(...r); else parts.push(r);
    last = m.index + m[0].length - 1;
  }
  parts.push(Buffer.from(s.slice(last)));
  return parts;
}

/* The same as one Buffer. */
export function encodeJson(obj) {
  const parts = encodeJsonParts(obj);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

export function sleep(ms) {
  return new Promise((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));
}

function finish(ctx, status) {
  ctx.state.end(ctx.tok, status);
}

/* Tear the transport down: RST_STREAM on HTTP/2, socket destroy on 1.1. */
export function abort(ctx, label = 'reset') {
  finish(ctx, label);
  try {
    if (ctx.h2) ctx.req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    else ctx.res.socket && ctx.res.socket.destroy();
  } catch { /* already gone */ }
}

function baseHeaders(ctx, type, len) {
  const h = { 'content-type': type, ...(ctx.headersFn ? ctx.headersFn() : {}), ...(ctx.extraHeaders || {}) };
  if (len != null) h['content-length'] = String(len);
  /* no explicit Connection header: Node keeps HTTP/1.1 alive by itself and
   * closes after HTTP/1.0 or "Connection: close" requests */
  return h;
}

/* Send a complete body (a Buffer, a string, or a list of Buffers written
 * one after the other: the same bytes without copying them into one),
 * applying a pending transport fault if the response is a success (errors
 * are always delivered whole). */
export function sendBody(ctx, status, body, type, opts = {}) {
  const { res } = ctx;
  if (res.destroyed || (ctx.req.stream && ctx.req.stream.destroyed)) { finish(ctx, 'gone'); return; }
  const fault = status === 200 ? ctx.fault : null;
  const ae = ctx.req.headers['accept-encoding'];
  const gzip = opts.gzip !== false && ctx.cfg && ctx.cfg.gzip && ae && /\bgzip\b/.test(ae);
  if (Array.isArray(body) && body.length > 1 && !fault && !gzip) {
    /* the common large case (an image or a clip): no fault, no gzip */
    let len = 0;
    for (const b of body) len += b.length;
    const headers = baseHeaders(ctx, type, len);
    res.writeHead(status, headers);
    for (let i = 0; i < body.length - 1; i++) res.write(body[i]);
    res.end(body[body.length - 1]);
    finish(ctx, status);
    return;
  }
  let buf = Array.isArray(body) ? (body.length === 1 ? body[0] : Buffer.concat(body))
    : Buffer.isBuffer(body) ? body : Buffer.from(body);
  if (fault === 'malformed') {
    ctx.state.fault('malformed');
    buf = Buffer.from('{"candidates": [{"content": {"parts": [{"text": "{\\"word\\": ');
  }
  const headers = baseHeaders(ctx, type, null);
  if (gzip && buf.length > 256 && buf.length < GZIP_MAX) {
    buf = zlib.gzipSync(buf, { level: 1 });
    headers['content-encoding'] = 'gzip';
    headers['vary'] = 'Origin, X-Origin, Referer';
  }
  headers['content-length'] = String(buf.length);
  if (fault === 'reset' || fault === 'truncate') {
    ctx.state.fault(fault);
    res.writeHead(status, headers);
    if (fault === 'reset') {
      /* let the partial body reach the wire, then tear down */
      res.write(buf.subarray(0, Math.floor(buf.length / 2)), () => abort(ctx, 'reset'));
      setTimeout(() => abort(ctx, 'reset'), 50).unref();
      return;
    }
    res.write(buf.subarray(0, Math.floor(buf.length / 2)));
    finish(ctx, 'truncate');
    /* HTTP/1.1: FIN after the partial body; HTTP/2: END_STREAM early. */
    if (ctx.h2) res.end();
    else res.socket && res.socket.end();
    return;
  }
  res.writeHead(status, headers);
  res.end(buf);
  finish(ctx, status);
}

export function sendJson(ctx, status, obj, opts) {
  sendBody(ctx, status, encodeJsonParts(obj), 'application/json; charset=UTF-8', opts);
}

/* Send an error body with no faults applied. */
export function sendError(ctx, status, obj, extraHeaders) {
  const saved = ctx.fault;
  ctx.fault = null;
  if (extraHeaders) ctx.extraHeaders = { ...(ctx.extraHeaders || {}), ...extraHeaders };
  sendJson(ctx, status, obj, { gzip: false });
  ctx.fault = saved;
}

/* Stream events as SSE. events: array of JSON-able objects (the last is
 * the final one, carrying finishReason). gapMs between events. Faults:
 * reset (tear down after the first event), truncate (end cleanly without
 * the final event), malformed (an unparsable event), sseError (an error
 * event after the first one). done: optional [DONE] line (OpenAI). */
const DATA = Buffer.from('data: ');
const CRLF2 = Buffer.from('\r\n\r\n'), LF2 = Buffer.from('\n\n');

export async function sendSse(ctx, events, gapMs, opts = {}) {
  const { res } = ctx;
  const fault = ctx.fault;
  const headers = baseHeaders(ctx, 'text/event-stream', null);
  headers['cache-control'] = 'no-cache';
  let closed = false;
  const onClose = () => { closed = true; };
  res.on('close', onClose);
  res.writeHead(200, headers);
  const nl = opts.lf ? '\n\n' : '\r\n\r\n';
  for (let i = 0; i < events.length; i++) {
    if (closed) { finish(ctx, 'gone'); return; }
    if (i > 0 && gapMs > 0) await sleep(gapMs);
    if (closed) { finish(ctx, 'gone'); return; }
    const last = i === events.length - 1;
    if (i === 1 || (last && events.length === 1)) {
      if (fault === 'reset') {
        ctx.state.fault('reset');
        abort(ctx, 'reset');
        return;
      }
      if (fault === 'sseError') {
        ctx.state.fault('sseError');
        const err = opts.errorEvent || { error: { code: 500, message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting', status: 'INTERNAL' } };
        res.end(`data: ${JSON.stringify(err)}${nl}`);
        finish(ctx, 'sseError');
        return;
      }
      if (fault === 'malformed') {
        ctx.state.fault('malformed');
        res.end(`data: {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType"${nl}`);
        finish(ctx, 'malformed');
        return;
      }
    }
    if (last && fault === 'truncate') {
      ctx.state.fault('truncate');
      res.end();
      finish(ctx, 'truncate');
      return;
    }
    /* one write per event: one chunk of the chunked response each */
    const ok = res.write(Buffer.concat([DATA, ...encodeJsonParts(events[i]), opts.lf ? LF2 : CRLF2]));
    if (!ok && !closed) {
      /* whichever comes first; the other listener goes too (a long clip
       * waits once per event: they piled up on the response) */
      await new Promise((r) => {
        const go = () => { res.off('drain', go); res.off('close', go); r(); };
        res.on('drain', go);
        res.on('close', go);
      });
    }
  }
  if (opts.done) res.write(`data: [DONE]${nl}`);
  res.end();
  res.off('close', onClose);
  finish(ctx, 200);
}
