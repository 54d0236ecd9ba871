/* Gemini API endpoints of the fake (gemini-api.md §1-§8): model listing,
 * generateContent / streamGenerateContent?alt=sse for text (schema-driven
 * JSON), speech (PCM s16le 24 kHz) and images (PNG), countTokens, Imagen
 * :predict (also on the Vertex publishers/google path), and inline batch
 * jobs. Request checks mirror the service's 400s where the doc names them
 * (unknown fields, lower-case responseSchema types, sampling parameters on
 * TTS models, not exactly two speakers, unsupported modalities). */

import crypto from 'node:crypto';
import { kindOf, streamGap } from './state.mjs';
import { gErr, badRequest, modelNotFound, quotaExceeded } from './errors.mjs';
import { sendJson, sendError, sendSse, sleep, Raw, encodeJson } from './respond.mjs';
import { putFile, getFile } from './files.mjs';
import { valueFor, promptInfo, schemaSize } from './schema.mjs';
import { planClip, planBase64Parts, pngFor, GEMINI_ASPECT, PCM_RATE, CHUNK_SAMPLES } from './media.mjs';

export const VOICES = ['Zephyr', 'Puck', 'Charon', 'Kore', 'Fenrir', 'Leda', 'Orus', 'Aoede',
  'Callirrhoe', 'Autonoe', 'Enceladus', 'Iapetus', 'Umbriel', 'Algieba', 'Despina', 'Erinome',
  'Algenib', 'Rasalgethi', 'Laomedeia', 'Achernar', 'Alnilam', 'Schedar', 'Gacrux',
  'Pulcherrima', 'Achird', 'Zubenelgenubi', 'Vindemiatrix', 'Sadachbia', 'Sadaltager', 'Sulafat'];
const VOICE_SET = new Set(VOICES.map((v) => v.toLowerCase()));

const norm = (k) => k.replace(/_/g, '').toLowerCase();
const TOP_FIELDS = new Set(['contents', 'systemInstruction', 'generationConfig', 'safetySettings',
  'tools', 'toolConfig', 'cachedContent', 'continuationToken', 'serviceTier', 'store', 'model',
  'labels'].map(norm));
const GEN_FIELDS = new Set(['temperature', 'topP', 'topK', 'candidateCount', 'maxOutputTokens',
  'stopSequences', 'seed', 'presencePenalty', 'frequencyPenalty', 'responseMimeType',
  'responseSchema', 'responseJsonSchema', '_responseJsonSchema', 'responseModalities',
  'thinkingConfig', 'speechConfig', 'imageConfig', 'mediaResolution', 'responseLogprobs',
  'logprobs', 'enableEnhancedCivicAnswers', 'audioTimestamp', 'enableAffectiveDialog',
  'routingConfig', 'modelSelectionConfig'].map(norm));
const SAMPLING = ['temperature', 'topP', 'topK', 'top_p', 'top_k', 'presencePenalty', 'frequencyPenalty'];
const SCHEMA_TYPES = new Set(['TYPE_UNSPECIFIED', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);

const tokens = (s) => Math.max(1, Math.ceil(String(s).length / 4));
/* responseId: 12 random bytes as base64url, drawn from a pool refilled
 * 4 KiB at a time (a randomBytes call per request showed in profiles). */
let ridPool = null, ridOff = 0;
const rid = () => {
  if (!ridPool || ridOff + 12 > ridPool.length) { ridPool = crypto.randomBytes(4092); ridOff = 0; }
  ridOff += 12;
  return ridPool.toString('base64url', ridOff - 12, ridOff);
};

function getGen(body) { return body.generationConfig || body.generation_config || {}; }

function promptText(body) {
  const out = [];
  for (const c of Array.isArray(body.contents) ? body.contents : []) {
    for (const p of (c && Array.isArray(c.parts)) ? c.parts : []) if (p && typeof p.text === 'string') out.push(p.text);
  }
  return out.join('\n');
}

function systemText(body) {
  const s = body.systemInstruction || body.system_instruction;
  if (!s || !Array.isArray(s.parts)) return '';
  return s.parts.map((p) => (p && typeof p.text === 'string' ? p.text : '')).join('\n');
}

function checkSchemaTypes(s, path, depth = 0) {
  if (!s || typeof s !== 'object' || depth > 40) return null;
  if ('type' in s && !SCHEMA_TYPES.has(s.type)) {
    return `Invalid value at '${path}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), "${s.type}"`;
  }
  for (const [k, v] of Object.entries(s.properties || {})) {
    const e = checkSchemaTypes(v, `${path}.properties[${k}].value`, depth + 1);
    if (e) return e;
  }
  if (s.items) return checkSchemaTypes(s.items, `${path}.items`, depth + 1);
  for (const [i, v] of (s.anyOf || []).entries()) {
    const e = checkSchemaTypes(v, `${path}.any_of[${i}]`, depth + 1);
    if (e) return e;
  }
  return null;
}

function voiceOk(vc) {
  const name = vc && vc.prebuiltVoiceConfig && vc.prebuiltVoiceConfig.voiceName;
  if (name == null) return vc && typeof vc.voice === 'string' ? null : 'voiceConfig.prebuiltVoiceConfig.voiceName is required';
  if (!VOICE_SET.has(String(name).toLowerCase())) return `Voice name ${name} is not supported. Allowed voice names are: ${VOICES.map((v) => v.toLowerCase()).join(', ')}`;
  return null;
}

/* Validate a generateContent body for a model kind; returns
 * {err} (a 400 body) or {mode: 'text'|'image'|'tts', voices, ...}. */
function validate(body, kind, model) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { err: badRequest('Invalid JSON payload received. Expected an object.') };
  for (const k of Object.keys(body)) {
    if (!TOP_FIELDS.has(norm(k))) return { err: badRequest(`Invalid JSON payload received. Unknown name "${k}": Cannot find field.`, k) };
  }
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    return { err: badRequest('* GenerateContentRequest.contents: contents is not specified\n', 'contents') };
  }
  for (const [i, c] of body.contents.entries()) {
    if (!c || !Array.isArray(c.parts) || c.parts.length === 0) {
      return { err: badRequest(`* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`, `contents[${i}].parts`) };
    }
    if (c.role != null && c.role !== 'user' && c.role !== 'model') {
      return { err: badRequest(`Please use a valid role: user, model.`, `contents[${i}].role`) };
    }
  }
  const g = getGen(body);
  if (typeof g !== 'object' || Array.isArray(g)) return { err: badRequest('Invalid JSON payload received. generationConfig must be an object.') };
  for (const k of Object.keys(g)) {
    if (!GEN_FIELDS.has(norm(k))) return { err: badRequest(`Invalid JSON payload received. Unknown name "${k}" at 'generation_config': Cannot find field.`, `generation_config.${k}`) };
  }
  const rmRaw = g.responseModalities || g.response_modalities;
  const rm = Array.isArray(rmRaw) ? rmRaw.map((x) => String(x).toUpperCase()) : [];
  for (const m of rm) {
    if (!['TEXT', 'IMAGE', 'AUDIO'].includes(m)) return { err: badRequest(`Invalid value at 'generation_config.response_modalities[0]' (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), "${m}"`) };
  }
  const unsupported = (mods) => ({ err: badRequest(`Model does not support the requested response modalities: ${mods.map((x) => x.toLowerCase()).join(',')}`) });
  const schema = g.responseSchema || g.response_schema;
  const jschema = g.responseJsonSchema || g.response_json_schema || g._responseJsonSchema;
  const mime = g.responseMimeType || g.response_mime_type || 'text/plain';
  if (!['text/plain', 'application/json', 'text/x.enum'].includes(mime)) {
    return { err: badRequest(`* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are \`text/plain\`, \`application/json\`, \`text/x.enum\`. ${mime} is not supported.\n`) };
  }
  if (schema && jschema) return { err: badRequest('responseSchema and responseJsonSchema cannot both be set.') };
  if ((schema || jschema) && mime === 'text/plain') {
    return { err: badRequest('* GenerateContentRequest.generation_config.response_schema: only supported with response_mime_type application/json or text/x.enum.\n') };
  }
  if (schema) {
    const e = checkSchemaTypes(schema, 'generation_config.response_schema');
    if (e) return { err: badRequest(e) };
    if (schemaSize(schema) > 5000) return { err: badRequest('The specified schema produces a constraint that has too many states for serving.') };
  }
  if (kind === 'tts') {
    if (rm.length !== 1 || rm[0] !== 'AUDIO') return unsupported(rm.length ? rm : ['TEXT']);
    for (const k of SAMPLING) {
      if (k in g) return { err: badRequest(`Sampling parameter ${k} is not supported for model ${model}.`, `generation_config.${k}`) };
    }
    if (schema || jschema) return { err: badRequest('Response schema is not supported for audio output.') };
    let sc = g.speechConfig || g.speech_config || {};
    if (typeof sc === 'string') sc = { voiceConfig: { prebuiltVoiceConfig: { voiceName: sc } } };
    const vc = sc.voiceConfig || sc.voice_config;
    const ms = sc.multiSpeakerVoiceConfig || sc.multi_speaker_voice_config;
    if (vc && ms) return { err: badRequest('voice_config and multi_speaker_voice_config are mutually exclusive.', 'generation_config.speech_config') };
    if (ms) {
      const list = ms.speakerVoiceConfigs || ms.speaker_voice_configs;
      if (!Array.isArray(list) || list.length !== 2) {
        return { err: badRequest(`multi_speaker_voice_config must have exactly 2 speaker_voice_configs, got ${Array.isArray(list) ? list.length : 0}.`, 'generation_config.speech_config.multi_speaker_voice_config.speaker_voice_configs') };
      }
      const voices = [];
      for (const s of list) {
        if (!s || typeof s.speaker !== 'string' || !s.speaker) return { err: badRequest('speaker_voice_configs[].speaker is required.') };
        const e = voiceOk(s.voiceConfig || s.voice_config);
        if (e) return { err: badRequest(e) };
        const vcs = s.voiceConfig || s.voice_config;
        voices.push(vcs.prebuiltVoiceConfig ? vcs.prebuiltVoiceConfig.voiceName : vcs.voice);
      }
      if (list[0].speaker === list[1].speaker) return { err: badRequest('speaker names must be distinct.') };
      return { mode: 'tts', voices };
    }
    if (vc) {
      const e = voiceOk(vc);
      if (e) return { err: badRequest(e) };
      return { mode: 'tts', voices: [vc.prebuiltVoiceConfig ? vc.prebuiltVoiceConfig.voiceName : vc.voice] };
    }
    return { mode: 'tts', voices: ['Kore'] };
  }
  if (rm.includes('AUDIO')) return unsupported(['AUDIO']);
  if (g.speechConfig || g.speech_config) return { err: badRequest('speech_config is only supported with response_modalities AUDIO.') };
  if (kind === 'image') {
    const ic = g.imageConfig || g.image_config || {};
    const ar = ic.aspectRatio || ic.aspect_ratio || '1:1';
    if (!(ar in GEMINI_ASPECT)) return { err: badRequest(`Unsupported aspect ratio ${ar}. Supported: ${Object.keys(GEMINI_ASPECT).join(', ')}`, 'generation_config.image_config.aspect_ratio') };
    const size = ic.imageSize || ic.image_size;
    if (size != null && !['1K', '2K', '4K'].includes(size)) return { err: badRequest(`Unsupported image size ${size}. Supported: 1K, 2K, 4K`, 'generation_config.image_config.image_size') };
    if (rm.length && !rm.includes('IMAGE')) return { mode: 'text', schema, jschema, mime };
    return { mode: 'image', aspect: ar, withText: rm.includes('TEXT') };
  }
  if (rm.includes('IMAGE')) return unsupported(['IMAGE']);
  return { mode: 'text', schema, jschema, mime };
}

function blockedWord(cfg, text) {
  if (!cfg.blocked.length) return null;
  const low = text.toLowerCase();
  return cfg.blocked.find((w) => w && low.includes(w)) || null;
}

const SAFETY_RATINGS = ['HARM_CATEGORY_SEXUALLY_EXPLICIT', 'HARM_CATEGORY_HATE_SPEECH', 'HARM_CATEGORY_HARASSMENT', 'HARM_CATEGORY_DANGEROUS_CONTENT']
  .map((category) => ({ category, probability: 'NEGLIGIBLE' }));

function textAnswer(v, info) {
  if (v.mime === 'text/x.enum') {
    const e = (v.schema && v.schema.enum) || (v.jschema && v.jschema.enum) || ['UNKNOWN'];
    return String(e[info.hash % e.length]);
  }
  if (v.schema || v.jschema) return JSON.stringify(valueFor(v.schema || v.jschema, info));
  if (v.mime === 'application/json') return JSON.stringify({ word: info.word, translation: info.translation, text: `A short answer about ${info.word}.` });
  return `"${info.word}" means "${info.translation}". This is a short answer from the fake server.`;
}

/* Build the unary response and, for streams, the list of events. */
function buildResponse(st, cfg, model, body, v, stream) {
  const prompt = promptText(body);
  const all = systemText(body) + '\n' + prompt;
  const responseId = rid();
  const base = { modelVersion: model, responseId };
  const pt = tokens(all);
  const blocked = v.mode !== 'tts' ? blockedWord(cfg, all) : null;
  if (blocked && v.mode === 'text') {
    const r = { promptFeedback: { blockReason: 'SAFETY', safetyRatings: SAFETY_RATINGS.map((s, i) => (i === 3 ? { ...s, probability: 'HIGH', blocked: true } : s)) },
                usageMetadata: { promptTokenCount: pt, totalTokenCount: pt }, ...base };
    return [r];
  }
  if (v.mode === 'image') {
    if (blocked) {
      return [{ candidates: [{ finishReason: 'IMAGE_SAFETY', finishMessage: 'Unable to show the generated image. The image was filtered out because it violated Google\'s Generative AI Prohibited Use policy.', index: 0 }],
                usageMetadata: { promptTokenCount: pt, totalTokenCount: pt }, ...base }];
    }
    const [w, h] = GEMINI_ASPECT[v.aspect];
    const png = pngFor(prompt, w, h);
    const parts = [];
    if (v.withText) parts.push({ text: `Here is an image of ${promptInfo(prompt).word}.` });
    parts.push({ inlineData: { mimeType: 'image/png', data: new Raw(png.b64buf) } });
    const ct = 1290;
    return [{ candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
              usageMetadata: { promptTokenCount: pt, candidatesTokenCount: ct, totalTokenCount: pt + ct,
                promptTokensDetails: [{ modality: 'TEXT', tokenCount: pt }],
                candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: ct }] }, ...base }];
  }
  if (v.mode === 'tts') {
    const plan = planClip(prompt.trim(), v.voices);
    const secs = plan.length * CHUNK_SAMPLES / PCM_RATE;
    const ct = Math.max(1, Math.round(secs * 25));
    const usage = { promptTokenCount: pt, candidatesTokenCount: ct, totalTokenCount: pt + ct,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: pt }],
      candidatesTokensDetails: [{ modality: 'AUDIO', tokenCount: ct }] };
    const mimeType = `audio/L16;codec=pcm;rate=${PCM_RATE}`;
    const ev = (data, last) => {
      const cand = { content: { role: 'model', parts: [{ inlineData: { mimeType, data } }] }, index: 0 };
      if (last) cand.finishReason = 'STOP';
      const r = { candidates: [cand] };
      if (last) r.usageMetadata = usage;
      return { ...r, ...base };
    };
    if (!stream) return [ev(new Raw(planBase64Parts(plan)), true)];
    const n = Math.max(3, Math.ceil(plan.length / 10));
    const events = [];
    for (let i = 0; i < n; i++) {
      const from = Math.floor(i * plan.length / n), to = Math.floor((i + 1) * plan.length / n);
      events.push(ev(new Raw(planBase64Parts(plan, from, to)), i === n - 1));
    }
    return events;
  }
  const info = promptInfo(prompt);
  const text = textAnswer(v, info);
  const ct = tokens(text);
  const thought = cfg.thoughts && st.miscRng() < 0.5;
  const tt = thought ? 12 : 0;
  const usage = { promptTokenCount: pt, candidatesTokenCount: ct, totalTokenCount: pt + ct + tt,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: pt }] };
  if (tt) usage.thoughtsTokenCount = tt;
  const thoughtPart = { text: `**Planning the card**\n\nI will describe "${info.word}" and write examples.`, thought: true };
  if (!stream) {
    const parts = thought ? [thoughtPart, { text }] : [{ text }];
    return [{ candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }], usageMetadata: usage, ...base }];
  }
  const pieces = [];
  const cps = Array.from(text);
  const n = Math.min(4, Math.max(1, Math.ceil(cps.length / 40)));
  for (let i = 0; i < n; i++) pieces.push(cps.slice(Math.floor(i * cps.length / n), Math.floor((i + 1) * cps.length / n)).join(''));
  const events = [];
  if (thought) events.push({ candidates: [{ content: { role: 'model', parts: [thoughtPart] }, index: 0 }], ...base });
  pieces.forEach((p, i) => {
    const last = i === n - 1;
    const cand = { content: { role: 'model', parts: [{ text: p }] }, index: 0 };
    if (last) cand.finishReason = 'STOP';
    const e = { candidates: [cand] };
    e.usageMetadata = last ? usage : { promptTokenCount: pt, totalTokenCount: pt };
    events.push({ ...e, ...base });
  });
  return events;
}

function modelInfo(id, kind, st) {
  const methods = { text: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
    tts: st && st.scenario.ttsBatch ? ['generateContent', 'countTokens', 'batchGenerateContent'] : ['generateContent', 'countTokens'], image: ['generateContent', 'countTokens', 'batchGenerateContent'],
    imagen: ['predict'] }[kind] || ['generateContent'];
  const m = { name: `models/${id}`, version: '001', displayName: id.replace(/-/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()),
    description: `Fake ${kind} model ${id} (wordbank loopback test server).`,
    inputTokenLimit: kind === 'tts' ? 8192 : kind === 'image' ? 32768 : 1048576,
    outputTokenLimit: kind === 'tts' ? 16384 : kind === 'image' ? 32768 : 65536,
    supportedGenerationMethods: methods };
  if (kind === 'text') Object.assign(m, { temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2, thinking: true });
  return m;
}

/* Admission shared by every model-bound call: forced status, concurrency
 * cap, quota. Returns true when an error was sent. */
export function admit(ctx, model, version, method, onQuota) {
  const { state: st, cfg } = ctx;
  if (cfg.status) {
    const s = Number(cfg.status);
    const body = s === 404 ? modelNotFound(model, version, method) : s === 429 ? gErr(429) : gErr(s);
    if (onQuota && s === 429) onQuota(null);
    else sendError(ctx, s, body);
    return true;
  }
  if (cfg.maxConcurrent > 0 && ctx.tok.m && ctx.tok.m.inFlight > cfg.maxConcurrent) {
    if (onQuota) onQuota(null);
    else sendError(ctx, 429, gErr(429));
    return true;
  }
  const q = st.quotaCheck(model, cfg);
  if (q) {
    if (onQuota) onQuota(q);
    else sendError(ctx, 429, quotaExceeded(model, q));
    return true;
  }
  return false;
}

/* Latency, then the status faults. Returns true when an error was sent. */
export async function delayAndFault(ctx, stream, openaiBody) {
  const { state: st, cfg } = ctx;
  ctx.fault = st.drawFault(cfg, stream);
  await sleep(st.latency(cfg));
  const f = ctx.fault;
  if (f === 'status500' || f === 'status502' || f === 'status503') {
    st.fault(f);
    const code = Number(f.slice(6));
    ctx.fault = null;
    sendError(ctx, code, openaiBody ? openaiBody(code) : gErr(code));
    return true;
  }
  return false;
}

async function generate(ctx, model, method, body, version) {
  const { state: st, cfg } = ctx;
  const kind = kindOf(model, cfg);
  const stream = method === 'streamGenerateContent';
  if (kind === 'imagen') { sendError(ctx, 404, modelNotFound(model, version, method)); return; }
  const v = validate(body, kind, model);
  if (v.err) { sendError(ctx, 400, v.err); return; }
  if (admit(ctx, model, version, method)) return;
  if (await delayAndFault(ctx, stream)) return;
  const events = buildResponse(st, cfg, model, body, v, stream);
  if (!stream) {
    sendJson(ctx, 200, events[0], { gzip: v.mode === 'text' });
    return;
  }
  await sendSse(ctx, events, streamGap(cfg));
}

async function predict(ctx, model, body, version) {
  const { cfg } = ctx;
  if (kindOf(model, cfg) !== 'imagen') { sendError(ctx, 404, modelNotFound(model, version, 'predict')); return; }
  const inst = body && Array.isArray(body.instances) ? body.instances : null;
  if (!inst || !inst.length || !inst[0] || typeof inst[0].prompt !== 'string' || !inst[0].prompt) {
    sendError(ctx, 400, badRequest('instances[0].prompt is required.', 'instances[0].prompt')); return;
  }
  const p = body.parameters || {};
  const n = p.sampleCount == null ? 4 : Number(p.sampleCount);
  if (!Number.isInteger(n) || n < 1 || n > 4) { sendError(ctx, 400, badRequest('sampleCount must be between 1 and 4.', 'parameters.sampleCount')); return; }
  const ar = p.aspectRatio || '1:1';
  const sizes = { '1:1': [1024, 1024], '3:4': [896, 1280], '4:3': [1280, 896], '9:16': [768, 1408], '16:9': [1408, 768] };
  if (!(ar in sizes)) { sendError(ctx, 400, badRequest(`Unsupported aspect ratio ${ar}.`, 'parameters.aspectRatio')); return; }
  if (admit(ctx, model, version, 'predict')) return;
  if (await delayAndFault(ctx, false)) return;
  const prompt = inst[0].prompt;
  const filtered = /\[\[rai\]\]/.test(prompt) || blockedWord(cfg, prompt);
  const preds = [];
  for (let i = 0; i < n; i++) {
    if (filtered) {
      if (p.includeRaiReason) preds.push({ raiFilteredReason: 'Your current safety filter threshold filtered out the generated image. You will not be charged for blocked images. Try rephrasing the prompt.' });
      continue;
    }
    const [w, h] = sizes[ar];
    preds.push({ bytesBase64Encoded: new Raw(pngFor(`${prompt}#${i}`, w, h).b64buf), mimeType: 'image/png' });
  }
  sendJson(ctx, 200, preds.length ? { predictions: preds } : {}, { gzip: false });
}

/* ---------- batches (§8.1, §8.3) ---------- */

/* A per-request error for a prompt that names one of scenario.batchErrorWords. */
function batchErrorFor(st, request) {
  const words = st.scenario.batchErrorWords || [];
  const text = promptText(request || {});
  const w = words.find((x) => text.includes(x));
  return w ? { code: 400, message: `Request contains an invalid argument: the fake refuses "${w}" in batch.`, status: 'INVALID_ARGUMENT' } : null;
}

function batchOutputs(st, b) {
  return b.requests.map((x) => {
    const kind = kindOf(b.model, (st.scenario.models || {})[b.model]);
    const v = validate(x.request || {}, kind, b.model);
    if (v.err) return { error: { code: 400, message: v.err.error.message }, metadata: x.metadata };
    const e = batchErrorFor(st, x.request);
    if (e) return { error: e, metadata: x.metadata };
    return { response: buildResponse(st, st.cfg(b.model), b.model, x.request, v, false)[0], metadata: x.metadata };
  });
}

function batchView(st, b) {
  const done = st.now() - b.created >= b.delayMs || b.state === 'BATCH_STATE_CANCELLED';
  const state = b.state === 'BATCH_STATE_CANCELLED' ? b.state : !done ? 'BATCH_STATE_RUNNING'
    : b.expire ? 'BATCH_STATE_EXPIRED' : 'BATCH_STATE_SUCCEEDED';
  const n = b.requests.length;
  const iso = (ms) => new Date(st.t0 + ms).toISOString();
  if (done && state === 'BATCH_STATE_SUCCEEDED' && !b.output) b.output = batchOutputs(st, b);
  const failed = b.output ? b.output.filter((o) => o.error).length : 0;
  const meta = { '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
    model: `models/${b.model}`, displayName: b.displayName, state, name: b.name,
    createTime: iso(b.created), updateTime: iso(st.now()),
    batchStats: { requestCount: String(n), pendingRequestCount: String(done ? 0 : n),
      successfulRequestCount: String(b.output ? n - failed : 0) } };
  if (failed) meta.batchStats.failedRequestCount = String(failed);
  const r = { name: b.name, metadata: meta };
  if (done) r.done = true;
  if (done && state === 'BATCH_STATE_SUCCEEDED') {
    let output;
    if (b.fileInput) {
      /* One line per request, {key, response} or {key, error}, in an order
       * other than the input's (match by key). */
      if (!b.responsesFile) {
        const lines = b.output.map((o) => Buffer.concat([encodeJson(o.error ? { key: o.metadata.key, error: o.error } : { key: o.metadata.key, response: o.response }), Buffer.from('\n')]));
        lines.reverse();
        b.responsesFile = putFile(st, `${b.displayName}-responses`, 'application/jsonl', Buffer.concat(lines)).name;
      }
      output = { responsesFile: b.responsesFile };
    } else {
      output = { inlinedResponses: { inlinedResponses: b.output } };
    }
    meta.endTime = iso(b.created + b.delayMs);
    meta.output = output;
    r.response = { '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput', ...output };
  }
  return r;
}

async function createBatch(ctx, model, body) {
  const st = ctx.state;
  const b = body && body.batch;
  const ic = b && b.inputConfig;
  let reqs = ic && ic.requests && ic.requests.requests;
  let fileInput = false;
  const kind = kindOf(model, (st.scenario.models || {})[model]);
  if (!modelInfo(model, kind, st).supportedGenerationMethods.includes('batchGenerateContent')) {
    sendError(ctx, 400, badRequest(`models/${model} is not supported for batchGenerateContent.`, 'model'));
    return;
  }
  if (!Array.isArray(reqs) && ic && typeof ic.fileName === 'string') {
    const f = getFile(st, ic.fileName);
    if (!f) { sendError(ctx, 404, gErr(404, `File ${ic.fileName} not found.`)); return; }
    reqs = [];
    const lines = f.buf.toString('utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i].trim()) continue;
      let l;
      try { l = JSON.parse(lines[i]); } catch { sendError(ctx, 400, badRequest(`Line ${i + 1} of ${ic.fileName} is not JSON.`, 'batch.input_config.file_name')); return; }
      reqs.push({ request: l.request, metadata: { key: l.key } });
    }
    fileInput = true;
  }
  if (!Array.isArray(reqs)) {
    sendError(ctx, 400, badRequest('batch.inputConfig is required.', 'batch.input_config'));
    return;
  }
  const name = `batches/${crypto.randomBytes(8).toString('hex')}`;
  let expire = false;
  if (Number(st.scenario.batchExpire) > 0) { expire = true; st.scenario.batchExpire = Number(st.scenario.batchExpire) - 1; }
  const rec = { name, model, displayName: b.displayName || '', requests: reqs, created: st.now(),
    delayMs: Number(st.scenario.batchDelayMs ?? 1000), state: null, output: null, fileInput, expire };
  st.batches.set(name, rec);
  st.totals.batchesCreated = (st.totals.batchesCreated || 0) + 1;
  /* scenario.batchCreateReplyMs: the job exists, its name arrives late (a
   * client killed meanwhile never learns it). */
  if (Number(st.scenario.batchCreateReplyMs) > 0) await sleep(Number(st.scenario.batchCreateReplyMs));
  sendJson(ctx, 200, batchView(st, rec));
}

/* Route one Gemini API request. rest = path after the version segment. */
export async function handleGemini(ctx, version, rest, body, query) {
  const st = ctx.state;
  const method = ctx.req.method;
  let m;
  if (rest === 'models' && method === 'GET') {
    const all = st.knownModels();
    const size = Math.min(1000, Math.max(1, Number(query.get('pageSize')) || 50));
    const tok = query.get('pageToken');
    let off = 0;
    if (tok) {
      off = Number(Buffer.from(tok, 'base64url').toString());
      if (!Number.isInteger(off) || off < 0) { sendError(ctx, 400, badRequest('Invalid page token.', 'page_token')); return; }
    }
    const page = all.slice(off, off + size).map((id) => modelInfo(id, kindOf(id, (st.scenario.models || {})[id]), st));
    const r = { models: page };
    if (off + size < all.length) r.nextPageToken = Buffer.from(String(off + size)).toString('base64url');
    sendJson(ctx, 200, r);
    return;
  }
  if ((m = rest.match(/^models\/([^/:]+)$/)) && method === 'GET') {
    const id = decodeURIComponent(m[1]);
    if (!st.isKnown(id)) { sendError(ctx, 404, gErr(404, `models/${id} is not found for API version ${version}, or is not supported for get. Call ListModels to see the list of available models and their supported methods.`)); return; }
    sendJson(ctx, 200, modelInfo(id, kindOf(id, (st.scenario.models || {})[id]), st));
    return;
  }
  if ((m = rest.match(/^(?:publishers\/google\/)?models\/([^/:]+):(\w+)$/)) && method === 'POST') {
    const model = decodeURIComponent(m[1]);
    const verb = m[2];
    st.attach(ctx.tok, model);
    ctx.cfg = st.cfg(model);
    if (!st.isKnown(model)) { sendError(ctx, 404, modelNotFound(model, version, verb)); return; }
    if (verb === 'generateContent' || verb === 'streamGenerateContent') {
      if (verb === 'streamGenerateContent' && query.get('alt') !== 'sse') {
        sendError(ctx, 400, badRequest('The fake serves streamGenerateContent only with alt=sse.', 'alt')); return;
      }
      await generate(ctx, model, verb, body, version);
      return;
    }
    if (verb === 'predict') { await predict(ctx, model, body, version); return; }
    if (verb === 'countTokens') {
      const v = body && (body.contents || (body.generateContentRequest && body.generateContentRequest.contents));
      if (!Array.isArray(v)) { sendError(ctx, 400, badRequest('contents is required.', 'contents')); return; }
      const t = tokens(promptText({ contents: v }));
      sendJson(ctx, 200, { totalTokens: t, promptTokensDetails: [{ modality: 'TEXT', tokenCount: t }] });
      return;
    }
    if (verb === 'batchGenerateContent') { await createBatch(ctx, model, body); return; }
    sendError(ctx, 404, modelNotFound(model, version, verb));
    return;
  }
  if (rest === 'batches' && method === 'GET') {
    const all = [...st.batches.values()];
    const size = Math.min(1000, Math.max(1, Number(query.get('pageSize')) || 50));
    const off = query.get('pageToken') ? Number(Buffer.from(query.get('pageToken'), 'base64url').toString()) || 0 : 0;
    const r = { operations: all.slice(off, off + size).map((b) => batchView(st, b)) };
    if (off + size < all.length) r.nextPageToken = Buffer.from(String(off + size)).toString('base64url');
    sendJson(ctx, 200, r);
    return;
  }
  if ((m = rest.match(/^(batches\/[^/:]+)(?::(cancel))?$/))) {
    const b = st.batches.get(m[1]);
    if (!b) { sendError(ctx, 404, gErr(404, `Batch ${m[1]} not found.`)); return; }
    if (m[2] === 'cancel' && method === 'POST') { b.state = 'BATCH_STATE_CANCELLED'; sendJson(ctx, 200, {}); return; }
    if (method === 'DELETE') { st.batches.delete(m[1]); sendJson(ctx, 200, {}); return; }
    if (method === 'GET') { sendJson(ctx, 200, batchView(st, b)); return; }
  }
  sendError(ctx, 404, gErr(404, `Method not found: ${method} /${version}/${rest}`));
}
