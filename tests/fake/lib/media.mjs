/* Media payloads for the fake API server: real, decodable PNG images and
 * PCM speech, precomputed in small pieces and cached as base64 so that a
 * request only concatenates strings (the fake must stay cheap per request
 * while thousands are in flight).
 *
 * Audio: 24 kHz signed 16-bit little-endian mono. Every clip is built from
 * 50 ms chunks (1200 samples, 2400 bytes; 2400 is a multiple of 3, so the
 * base64 of consecutive chunks concatenates into valid base64 without
 * padding in the middle). A clip is 5 silent chunks (0.25 s), then the tone
 * chunks, then 5 silent chunks. The tones have an integer number of cycles
 * per chunk, so joined chunks are phase-continuous (no clicks). */

import zlib from 'node:zlib';
import { h32 } from './schema.mjs';

export const PCM_RATE = 24000;
export const CHUNK_SAMPLES = 1200;          /* 50 ms */
export const CHUNK_BYTES = CHUNK_SAMPLES * 2;
export const EDGE_CHUNKS = 5;               /* 0.25 s silence each side */
export const SECONDS_PER_CHAR = 0.08;
export const MIN_SECONDS = 0.6;
const TONES_HZ = [220, 340, 440, 520, 660, 760];

let silenceChunk = null;
const toneChunks = [];   /* [{buf, b64}] one per TONES_HZ entry */

function buildChunks() {
  if (silenceChunk) return;
  const z = Buffer.alloc(CHUNK_BYTES);
  silenceChunk = { buf: z, b64: z.toString('base64'), b64buf: Buffer.from(z.toString('base64'), 'latin1') };
  for (const hz of TONES_HZ) {
    const b = Buffer.alloc(CHUNK_BYTES);
    for (let i = 0; i < CHUNK_SAMPLES; i++) {
      const t = i / PCM_RATE;
      /* fundamental + a softer overtone, about -12 dBFS */
      const v = 0.25 * Math.sin(2 * Math.PI * hz * t) + 0.08 * Math.sin(4 * Math.PI * hz * t);
      b.writeInt16LE(Math.round(v * 32767), i * 2);
    }
    toneChunks.push({ buf: b, b64: b.toString('base64'), b64buf: Buffer.from(b.toString('base64'), 'latin1') });
  }
}

/* Number of Unicode code points of the text, the unit of the duration rule. */
export function textChars(text) {
  let n = 0;
  for (const _ of text) n++;  // eslint-disable-line no-unused-vars
  return n;
}

/* The documented duration rule: max(0.6 s, 0.08 s per character), rounded
 * to whole 50 ms chunks; returns the number of tone chunks (>= 2). */
export function toneChunkCount(text) {
  const secs = Math.max(MIN_SECONDS, SECONDS_PER_CHAR * textChars(text));
  return Math.max(2, Math.round((secs - 2 * EDGE_CHUNKS * CHUNK_SAMPLES / PCM_RATE) /
                                (CHUNK_SAMPLES / PCM_RATE)));
}

/* Expected PCM byte length for a text (used by tests and documented). */
export function expectedPcmBytes(text) {
  return (toneChunkCount(text) + 2 * EDGE_CHUNKS) * CHUNK_BYTES;
}

function hashInt(s) {
  return h32(String(s));
}

/* A voice's base tone: hashInt of its lower-cased name, kept per name. */
const voiceBase = new Map();
function voiceHash(v) {
  const k = String(v).toLowerCase();
  let h = voiceBase.get(k);
  if (h === undefined) {
    h = hashInt(k);
    if (voiceBase.size > 1000) voiceBase.clear();
    voiceBase.set(k, h);
  }
  return h;
}

/* Plan a clip as a list of chunk indices (-1 = silence, k = tone k).
 * voices: one or two voice names; with two, the tone alternates between
 * the voices every 0.3 s like a dialogue. Within one voice the pitch steps
 * every 0.2 s so the clip is not one flat tone. */
export function planClip(text, voices) {
  buildChunks();
  const n = toneChunkCount(text);
  const base = voices.map((v) => voiceHash(v) % TONES_HZ.length);
  const plan = [];
  for (let i = 0; i < EDGE_CHUNKS; i++) plan.push(-1);
  for (let i = 0; i < n; i++) {
    const who = voices.length > 1 ? Math.floor(i / 6) % 2 : 0;
    const step = Math.floor(i / 4) % 2;
    plan.push((base[who] + step) % TONES_HZ.length);
  }
  for (let i = 0; i < EDGE_CHUNKS; i++) plan.push(-1);
  return plan;
}

function chunkOf(k) { return k < 0 ? silenceChunk : toneChunks[k]; }

/* base64 of a slice of a plan (valid standalone base64 since every chunk is
 * a multiple of 3 bytes). */
export function planBase64(plan, from = 0, to = plan.length) {
  let s = '';
  for (let i = from; i < to; i++) s += chunkOf(plan[i]).b64;
  return s;
}

/* The same as planBase64, as the cached bytes of each chunk in order (a
 * Raw body part: sent without building a string or a copy). */
export function planBase64Parts(plan, from = 0, to = plan.length) {
  const parts = [];
  for (let i = from; i < to; i++) parts.push(chunkOf(plan[i]).b64buf);
  return parts;
}

/* The same as one Buffer. */
export function planBase64Buf(plan, from = 0, to = plan.length) {
  return Buffer.concat(planBase64Parts(plan, from, to));
}

export function planBuffer(plan) {
  return Buffer.concat(plan.map((k) => chunkOf(k).buf));
}

/* A 44-byte RIFF/WAVE header for PCM s16le mono at PCM_RATE. */
export function wavHeader(dataBytes) {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);           /* PCM */
  h.writeUInt16LE(1, 22);           /* mono */
  h.writeUInt32LE(PCM_RATE, 24);
  h.writeUInt32LE(PCM_RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/* ---------- PNG ---------- */

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length, 0);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td) >>> 0, 0);
  return Buffer.concat([len, td, crc]);
}

/* The filtered scanlines (filter byte 0, then RGB) of the pattern below,
 * built with block copies instead of a per-pixel loop: the gradient
 * depends on x + y only, so each row is a window of one diagonal run; the
 * stripes are the same columns on every row; the disc is one span per row.
 * warmMedia's images share one scratch buffer (a fresh 3 MiB buffer each
 * costs more in page faults than the drawing); the result is valid until
 * the next call. */
let scratch = null;
const scanlinesBytes = (w, h) => (w * 3 + 1) * h + (w + h) * 3 + 2 * w * 3;
function pngScanlines(w, h, variant) {
  const stride = w * 3 + 1, size = stride * h;
  const D = size, C1 = D + (w + h) * 3, C2 = C1 + w * 3;
  const need = scanlinesBytes(w, h);
  const buf = scratch && scratch.length >= need ? scratch : new Uint8Array(need);
  const c1 = [(variant * 67 + 40) & 255, (variant * 131 + 90) & 255, (variant * 29 + 160) & 255];
  const c2 = [255 - c1[1], 255 - c1[2], 255 - c1[0]];
  const cx = w / 2, cy = h / 2, r2 = Math.pow(Math.min(w, h) * (0.2 + 0.03 * variant), 2);
  const stripe = 16 + 8 * variant;
  /* D: the gradient along x + y; C1, C2: a row of each plain colour */
  for (let s = 0, o = D; s < w + h; s++) {
    const g = ((s * 255) / (w + h)) | 0;
    buf[o++] = g; buf[o++] = (g + c1[1]) >> 1; buf[o++] = 255 - g;
  }
  for (let x = 0; x < w; x++) {
    for (let k = 0; k < 3; k++) { buf[C1 + 3 * x + k] = c1[k]; buf[C2 + 3 * x + k] = c2[k]; }
  }
  const inStripe = (x) => ((x + variant * 7) / stripe | 0) % 4 === 0;
  const stripes = [];   /* [from, to) byte offsets within a row */
  for (let x = 0; x < w;) {
    const on = inStripe(x);
    let e = x + 1;
    while (e < w && inStripe(e) === on) e++;
    if (on) stripes.push(x * 3, e * 3);
    x = e;
  }
  const inDisc = (x, dy) => { const dx = x - cx; return dx * dx + dy * dy < r2; };
  for (let y = 0; y < h; y++) {
    const o = y * stride + 1;
    buf[o - 1] = 0; /* filter: none */
    buf.copyWithin(o, D + 3 * y, D + 3 * (y + w));
    for (let i = 0; i < stripes.length; i += 2) buf.copyWithin(o + stripes[i], C1 + stripes[i], C1 + stripes[i + 1]);
    const dy = y - cy, rem = r2 - dy * dy;
    if (rem > 0) {
      /* the disc's span on this row, settled by the exact test */
      const s = Math.sqrt(rem);
      let lo = Math.max(0, Math.floor(cx - s) - 2), hi = Math.min(w - 1, Math.ceil(cx + s) + 2);
      while (lo <= hi && !inDisc(lo, dy)) lo++;
      while (hi >= lo && !inDisc(hi, dy)) hi--;
      if (lo <= hi) buf.copyWithin(o + lo * 3, C2, C2 + (hi - lo + 1) * 3);
    }
  }
  return buf.subarray(0, size);
}

/* An RGB PNG of w x h with a deterministic pattern chosen by variant:
 * a diagonal gradient, a disc and stripes in variant-dependent colours.
 * Per pixel (x, y), first match wins: inside the disc of radius
 * min(w, h) * (0.2 + 0.03 * variant) around the centre -> c2; in a stripe
 * ((x + 7 * variant) / (16 + 8 * variant) | 0) % 4 === 0 -> c1; else the
 * gradient g = ((x + y) * 255 / (w + h)) | 0 as (g, (g + c1[1]) >> 1,
 * 255 - g). tests/fake/media.test.mjs holds that rule as a per-pixel loop
 * and checks these bytes against it. */
export function makePng(w, h, variant) {
  const raw = pngScanlines(w, h, variant);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;  /* bit depth */
  ihdr[9] = 2;  /* colour type RGB */
  ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw, { level: 1 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export const PNG_VARIANTS = 8;
const pngCache = new Map();   /* "wxh/variant" -> {buf, b64, b64buf} */

/* The cached PNG of one variant and size (made on first use). */
export function pngVariant(w, h, variant) {
  const key = `${w}x${h}/${variant}`;
  let e = pngCache.get(key);
  if (!e) {
    const buf = makePng(w, h, variant);
    const b64 = buf.toString('base64');
    e = { buf, b64, b64buf: Buffer.from(b64, 'latin1') };
    if (pngCache.size > 256) pngCache.clear();
    pngCache.set(key, e);
  }
  return e;
}

/* Cached PNG for a prompt: 8 variants (prompt hash mod 8) per size. */
export function pngFor(prompt, w = 1024, h = 1024) {
  return pngVariant(w, h, hashInt(prompt) % PNG_VARIANTS);
}

/* Sizes of the PNG cache, "WxH/variant" keys (for /_fake/cache). */
export function pngCached() {
  return [...pngCache.keys()];
}

/* Make everything a default request needs before the first request: the
 * PCM chunks and the 1024 x 1024 PNGs (Gemini's 1:1 1K size and Imagen's
 * 1:1), so that no request pays for drawing and deflating an image. */
export function warmMedia() {
  buildChunks();
  scratch = new Uint8Array(scanlinesBytes(1024, 1024));
  try {
    for (let v = 0; v < PNG_VARIANTS; v++) pngVariant(1024, 1024, v);
  } finally {
    scratch = null;   /* 3 MiB no request needs */
  }
}

/* Image sizes Gemini image models return per aspect ratio (1K). */
export const GEMINI_ASPECT = {
  '1:1': [1024, 1024], '2:3': [832, 1248], '3:2': [1248, 832], '3:4': [864, 1184],
  '4:3': [1184, 864], '4:5': [896, 1152], '5:4': [1152, 896], '9:16': [768, 1344],
  '16:9': [1344, 768], '21:9': [1536, 672],
};
