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
import crypto from 'node:crypto';

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
  return crypto.createHash('sha1').update(String(s)).digest().readUInt32BE(0);
}

/* Plan a clip as a list of chunk indices (-1 = silence, k = tone k).
 * voices: one or two voice names; with two, the tone alternates between
 * the voices every 0.3 s like a dialogue. Within one voice the pitch steps
 * every 0.2 s so the clip is not one flat tone. */
export function planClip(text, voices) {
  buildChunks();
  const n = toneChunkCount(text);
  const base = voices.map((v) => hashInt(String(v).toLowerCase()) % TONES_HZ.length);
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

/* The same as planBase64, as bytes (no string building: cheap to send). */
export function planBase64Buf(plan, from = 0, to = plan.length) {
  const parts = [];
  for (let i = from; i < to; i++) parts.push(chunkOf(plan[i]).b64buf);
  return Buffer.concat(parts);
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

/* An RGB PNG of w x h with a deterministic pattern chosen by variant:
 * a diagonal gradient, a disc and stripes in variant-dependent colours. */
export function makePng(w, h, variant) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  const c1 = [(variant * 67 + 40) & 255, (variant * 131 + 90) & 255, (variant * 29 + 160) & 255];
  const c2 = [255 - c1[1], 255 - c1[2], 255 - c1[0]];
  const cx = w / 2, cy = h / 2, r2 = Math.pow(Math.min(w, h) * (0.2 + 0.03 * variant), 2);
  const stripe = 16 + 8 * variant;
  let o = 0;
  for (let y = 0; y < h; y++) {
    raw[o++] = 0; /* filter: none */
    for (let x = 0; x < w; x++) {
      const g = ((x + y) * 255 / (w + h)) | 0;
      const dx = x - cx, dy = y - cy;
      let r, gg, b;
      if (dx * dx + dy * dy < r2) { r = c2[0]; gg = c2[1]; b = c2[2]; }
      else if (((x + variant * 7) / stripe | 0) % 4 === 0) { r = c1[0]; gg = c1[1]; b = c1[2]; }
      else { r = g; gg = (g + c1[1]) >> 1; b = 255 - g; }
      raw[o++] = r; raw[o++] = gg; raw[o++] = b;
    }
  }
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

const pngCache = new Map();   /* "wxh/variant" -> {buf, b64} */

/* Cached PNG for a prompt: 8 variants (prompt hash mod 8) per size. */
export function pngFor(prompt, w = 1024, h = 1024) {
  const variant = hashInt(prompt) % 8;
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

/* Image sizes Gemini image models return per aspect ratio (1K). */
export const GEMINI_ASPECT = {
  '1:1': [1024, 1024], '2:3': [832, 1248], '3:2': [1248, 832], '3:4': [864, 1184],
  '4:3': [1184, 864], '4:5': [896, 1152], '5:4': [1152, 896], '9:16': [768, 1344],
  '16:9': [1344, 768], '21:9': [1536, 672],
};
