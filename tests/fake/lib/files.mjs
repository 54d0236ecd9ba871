/* The Files API of the fake (gemini-api.md §8.2): resumable uploads
 * (POST /upload/v1beta/files with X-Goog-Upload-Command start, then the bytes
 * to the x-goog-upload-url with "upload" / "upload, finalize" and
 * X-Goog-Upload-Offset) and downloads (GET /download/v1beta/files/{id}:download
 * ?alt=media). Batch jobs read their JSONL input here and write their
 * responses file here (see batch output in gemini.mjs). */
import crypto from 'node:crypto';
import { gErr, badRequest } from './errors.mjs';
import { sendJson, sendError, sendBody } from './respond.mjs';

function files(st) {
  if (!st.files) { st.files = new Map(); st.uploads = new Map(); }
  return st.files;
}

export function putFile(st, displayName, mimeType, buf) {
  const name = `files/${crypto.randomBytes(6).toString('hex')}`;
  const f = { name, displayName, mimeType, sizeBytes: String(buf.length), buf,
    createTime: new Date().toISOString(), state: 'ACTIVE' };
  files(st).set(name, f);
  return f;
}

export function getFile(st, name) { return files(st).get(name); }

function fileView(f, base) {
  return { name: f.name, displayName: f.displayName, mimeType: f.mimeType, sizeBytes: f.sizeBytes,
    createTime: f.createTime, updateTime: f.createTime, uri: `${base}/v1beta/${f.name}`, state: f.state, source: 'UPLOADED' };
}

/* Route /upload/... and /download/... requests (key already checked). */
export function handleFiles(ctx, p, raw, url) {
  const st = ctx.state;
  const req = ctx.req;
  const base = `http://${req.headers.host}`;
  files(st);
  const cmd = String(req.headers['x-goog-upload-command'] || '').toLowerCase();
  if (p === '/upload/v1beta/files' && req.method === 'POST' && !url.searchParams.get('upload_id')) {
    if (req.headers['x-goog-upload-protocol'] !== 'resumable' || cmd !== 'start') {
      return sendError(ctx, 400, badRequest('The fake supports the resumable upload protocol only.', 'X-Goog-Upload-Protocol'));
    }
    const len = Number(req.headers['x-goog-upload-header-content-length']);
    if (!Number.isInteger(len) || len < 0) return sendError(ctx, 400, badRequest('X-Goog-Upload-Header-Content-Length is required.', 'X-Goog-Upload-Header-Content-Length'));
    let meta = {};
    try { meta = JSON.parse(raw && raw.length ? raw.toString('utf8') : '{}'); } catch { return sendError(ctx, 400, gErr(400, 'Invalid JSON payload received.')); }
    const id = crypto.randomBytes(8).toString('hex');
    st.uploads.set(id, { len, got: [], n: 0, mime: req.headers['x-goog-upload-header-content-type'] || 'application/octet-stream',
      displayName: (meta.file && (meta.file.displayName || meta.file.display_name)) || '' });
    ctx.res.setHeader('x-goog-upload-url', `${base}/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`);
    ctx.res.setHeader('x-goog-upload-status', 'active');
    ctx.res.setHeader('x-goog-upload-chunk-granularity', '8388608');
    return sendJson(ctx, 200, {}, { gzip: false });
  }
  if (p === '/upload/v1beta/files' && req.method === 'POST') {
    const up = st.uploads.get(url.searchParams.get('upload_id'));
    if (!up) return sendError(ctx, 404, gErr(404, 'Upload session not found.'));
    const off = Number(req.headers['x-goog-upload-offset']);
    if (off !== up.n) return sendError(ctx, 400, badRequest(`X-Goog-Upload-Offset ${off} does not match the ${up.n} bytes received.`, 'X-Goog-Upload-Offset'));
    if (cmd !== 'upload' && cmd !== 'upload, finalize') return sendError(ctx, 400, badRequest(`Unknown upload command "${cmd}".`, 'X-Goog-Upload-Command'));
    const body = raw || Buffer.alloc(0);
    up.got.push(body); up.n += body.length;
    st.totals.uploadedBytes = (st.totals.uploadedBytes || 0) + body.length;
    if (cmd === 'upload') { ctx.res.setHeader('x-goog-upload-status', 'active'); return sendJson(ctx, 200, {}, { gzip: false }); }
    st.uploads.delete(url.searchParams.get('upload_id'));
    if (up.n !== up.len) return sendError(ctx, 400, badRequest(`Received ${up.n} bytes, announced ${up.len}.`, 'X-Goog-Upload-Header-Content-Length'));
    const f = putFile(st, up.displayName, up.mime, Buffer.concat(up.got));
    ctx.res.setHeader('x-goog-upload-status', 'final');
    return sendJson(ctx, 200, { file: fileView(f, base) }, { gzip: false });
  }
  const m = p.match(/^\/download\/v1beta\/(files\/[^/:]+):download$/);
  if (m && req.method === 'GET') {
    const f = files(st).get(m[1]);
    if (!f) return sendError(ctx, 404, gErr(404, `File ${m[1]} not found.`));
    if (url.searchParams.get('alt') !== 'media') return sendError(ctx, 400, badRequest('alt=media is required.', 'alt'));
    return sendBody(ctx, 200, f.buf, f.mimeType, { gzip: false });
  }
  return sendError(ctx, 404, gErr(404, `The requested URL ${p} was not found on this server.`));
}
