/* OpenAI endpoints of the fake (gemini-api.md §9): chat completions with
 * json_schema structured output (strict mode checked), audio/speech
 * (pcm / wav; other formats answer 400 in the fake) and
 * images/generations (b64_json PNG). Rate-limit headers on every answer;
 * 429s carry Retry-After, retry-after-ms and x-ratelimit-* like the real
 * service. Shares admission, latency and faults with the Gemini side. */

import crypto from 'node:crypto';
import { kindOf, streamGap } from './state.mjs';
import { oErr, openaiStatusBody } from './errors.mjs';
import { sendJson, sendError, sendBody, sendSse, Raw } from './respond.mjs';
import { admit, delayAndFault } from './gemini.mjs';
import { valueFor, promptInfo } from './schema.mjs';
import { planClip, planBuffer, wavHeader } from './media.mjs';
import { pngFor } from './media.mjs';

const OPENAI_VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'onyx', 'nova', 'sage',
  'shimmer', 'verse', 'marin', 'cedar'];
const tokens = (s) => Math.max(1, Math.ceil(String(s).length / 4));

/* "1s", "6m0s", "1h2m3.5s" like OpenAI's reset headers. */
export function goDuration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const sec = Number.isInteger(s) ? String(s) : s.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
  if (h) return `${h}h${m}m${sec}s`;
  if (m) return `${m}m${sec}s`;
  return `${sec}s`;
}

function rateHeaders(ctx, model) {
  const q = ctx.state.quotaInfo(model, ctx.cfg);
  const limit = q ? q.limit : 10000;
  const remaining = q ? q.remaining : 9999;
  const reset = q ? q.resetMs : 6;
  return {
    'x-request-id': `req_${crypto.randomBytes(12).toString('hex')}`,
    'x-ratelimit-limit-requests': String(limit),
    'x-ratelimit-remaining-requests': String(remaining),
    'x-ratelimit-reset-requests': goDuration(reset),
    'x-ratelimit-limit-tokens': '2000000',
    'x-ratelimit-remaining-tokens': '1999000',
    'x-ratelimit-reset-tokens': '30ms',
    'openai-processing-ms': '100',
  };
}

function send429(ctx, model, q) {
  const waitMs = q ? (q.retryDelayS != null ? q.retryDelayS * 1000 : Math.max(0, q.waitMs)) : 1000;
  const secs = Math.max(1, Math.ceil(waitMs / 1000));
  const info = ctx.state.quotaInfo(model, ctx.cfg);
  const limit = q ? q.limit : (info ? info.limit : ctx.cfg.maxConcurrent || 1);
  const body = q
    ? oErr(`Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit ${limit}, Used ${limit}, Requested 1. Please try again in ${(waitMs / 1000).toFixed(3)}s. Visit https://platform.openai.com/account/rate-limits to learn more.`, 'requests', 'rate_limit_exceeded')
    : oErr('Too many concurrent requests for this model. Please try again shortly.', 'requests', 'rate_limit_exceeded');
  sendError(ctx, 429, body, {
    'retry-after': String(secs),
    'retry-after-ms': String(Math.ceil(waitMs)),
    'x-ratelimit-limit-requests': String(limit),
    'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-reset-requests': goDuration(waitMs),
  });
}

function strictCheck(schema, path = '', depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 30) return null;
  const t = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (t.includes('object') || schema.properties) {
    if (schema.additionalProperties !== false) return `In context=(${path}), 'additionalProperties' is required to be supplied and to be false.`;
    const props = Object.keys(schema.properties || {});
    const req = Array.isArray(schema.required) ? schema.required : [];
    const missing = props.find((p) => !req.includes(p));
    if (missing) return `In context=(${path}), 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`;
    for (const p of props) {
      const e = strictCheck(schema.properties[p], path ? `${path}, 'properties', '${p}'` : `'properties', '${p}'`, depth + 1);
      if (e) return e;
    }
  }
  if (schema.items) return strictCheck(schema.items, `${path}, 'items'`, depth + 1);
  for (const k of ['anyOf', 'oneOf']) for (const s of schema[k] || []) { const e = strictCheck(s, path, depth + 1); if (e) return e; }
  for (const s of Object.values(schema.$defs || schema.definitions || {})) { const e = strictCheck(s, path, depth + 1); if (e) return e; }
  return null;
}

async function chat(ctx, model, body) {
  const bad = (msg, param) => sendError(ctx, 400, oErr(msg, 'invalid_request_error', null, param));
  if (!Array.isArray(body.messages) || body.messages.length === 0) return bad("Missing required parameter: 'messages'.", 'messages');
  for (const [i, m] of body.messages.entries()) {
    if (!m || !['system', 'developer', 'user', 'assistant', 'tool'].includes(m.role)) return bad(`Invalid value for 'messages[${i}].role'.`, `messages[${i}].role`);
  }
  const rf = body.response_format;
  let schema = null;
  if (rf) {
    if (rf.type === 'json_schema') {
      const js = rf.json_schema;
      if (!js || typeof js.name !== 'string' || !js.schema) return bad("Missing required parameter: 'response_format.json_schema'.", 'response_format.json_schema');
      if (js.strict) {
        const e = strictCheck(js.schema);
        if (e) return sendError(ctx, 400, oErr(`Invalid schema for response_format '${js.name}': ${e}`, 'invalid_request_error', 'invalid_json_schema', 'response_format'));
      }
      schema = js.schema;
    } else if (!['text', 'json_object'].includes(rf.type)) {
      return bad(`Invalid value: '${rf.type}'. Supported values are: 'json_object', 'json_schema', and 'text'.`, 'response_format.type');
    }
  }
  if (admit(ctx, model, 'v1', 'chat', (q) => send429(ctx, model, q))) return;
  if (await delayAndFault(ctx, !!body.stream, openaiStatusBody)) return;
  const text = body.messages.map((m) => (typeof m.content === 'string' ? m.content
    : Array.isArray(m.content) ? m.content.map((c) => (c && c.text) || '').join(' ') : '')).join('\n');
  const userText = body.messages.filter((m) => m.role === 'user').map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
  const info = promptInfo(userText || text);
  const blocked = ctx.cfg.blocked.find((w) => w && text.toLowerCase().includes(w));
  let content = schema ? JSON.stringify(valueFor(schema, info))
    : rf && rf.type === 'json_object' ? JSON.stringify({ word: info.word, translation: info.translation })
    : `"${info.word}" means "${info.translation}".`;
  const refusal = blocked ? "I'm sorry, I can't help with that." : null;
  if (blocked) content = null;
  const pt = tokens(text), ct = tokens(content || refusal);
  const id = `chatcmpl-${crypto.randomBytes(12).toString('base64url')}`;
  const created = Math.floor(Date.now() / 1000);
  if (body.stream) {
    const chunk = (delta, fr) => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: fr }] });
    const c = content || '';
    const half = Math.floor(c.length / 2);
    await sendSse(ctx, [chunk({ role: 'assistant', content: '' }, null), chunk({ content: c.slice(0, half) }, null),
      chunk({ content: c.slice(half) }, blocked ? 'content_filter' : 'stop')], streamGap(ctx.cfg),
    { done: true, lf: true, errorEvent: openaiStatusBody(500) });
    return;
  }
  sendJson(ctx, 200, { id, object: 'chat.completion', created, model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal, annotations: [] }, logprobs: null,
      finish_reason: blocked ? 'content_filter' : 'stop' }],
    usage: { prompt_tokens: pt, completion_tokens: ct, total_tokens: pt + ct },
    service_tier: 'default', system_fingerprint: 'fp_fake' });
}

async function speech(ctx, model, body) {
  const bad = (msg, param) => sendError(ctx, 400, oErr(msg, 'invalid_request_error', null, param));
  if (typeof body.input !== 'string' || !body.input) return bad("Missing required parameter: 'input'.", 'input');
  if (body.input.length > 4096) return bad("'input' is too long: at most 4096 characters.", 'input');
  if (typeof body.voice !== 'string' || !OPENAI_VOICES.includes(body.voice)) return bad(`Invalid value for 'voice'. Supported: ${OPENAI_VOICES.join(', ')}.`, 'voice');
  const fmt = body.response_format || 'mp3';
  if (!['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'].includes(fmt)) return bad(`Invalid value for 'response_format': '${fmt}'.`, 'response_format');
  if (fmt !== 'wav' && fmt !== 'pcm') return bad(`The fake server supports response_format 'pcm' and 'wav' only (got '${fmt}').`, 'response_format');
  if (body.speed != null && !(body.speed >= 0.25 && body.speed <= 4)) return bad("'speed' must be between 0.25 and 4.0.", 'speed');
  if (admit(ctx, model, 'v1', 'speech', (q) => send429(ctx, model, q))) return;
  if (await delayAndFault(ctx, false, openaiStatusBody)) return;
  const pcm = planBuffer(planClip(body.input.trim(), [body.voice]));
  if (fmt === 'pcm') sendBody(ctx, 200, pcm, 'audio/pcm', { gzip: false });
  else sendBody(ctx, 200, Buffer.concat([wavHeader(pcm.length), pcm]), 'audio/wav', { gzip: false });
}

async function images(ctx, model, body) {
  const bad = (msg, param) => sendError(ctx, 400, oErr(msg, 'invalid_request_error', null, param));
  if (typeof body.prompt !== 'string' || !body.prompt) return bad("Missing required parameter: 'prompt'.", 'prompt');
  const n = body.n == null ? 1 : Number(body.n);
  if (!Number.isInteger(n) || n < 1 || n > 4) return bad("'n' must be between 1 and 4 in the fake.", 'n');
  const size = body.size || (model === 'dall-e-3' ? '1024x1024' : 'auto');
  const sm = size === 'auto' ? [0, 1024, 1024] : String(size).match(/^(\d{3,4})x(\d{3,4})$/);
  if (!sm) return bad(`Invalid value for 'size': '${size}'.`, 'size');
  if (body.response_format && body.response_format !== 'b64_json') return bad("The fake server supports response_format 'b64_json' only.", 'response_format');
  if (body.output_format && body.output_format !== 'png') return bad("The fake server supports output_format 'png' only.", 'output_format');
  if (admit(ctx, model, 'v1', 'images', (q) => send429(ctx, model, q))) return;
  if (await delayAndFault(ctx, false, openaiStatusBody)) return;
  if (ctx.cfg.blocked.find((w) => w && body.prompt.toLowerCase().includes(w))) {
    sendError(ctx, 400, oErr('Your request was rejected as a result of our safety system.', 'image_generation_user_error', 'moderation_blocked'));
    return;
  }
  const data = [];
  for (let i = 0; i < n; i++) data.push({ b64_json: new Raw(pngFor(`${body.prompt}#${i}`, Number(sm[1]), Number(sm[2])).b64buf) });
  sendJson(ctx, 200, { created: Math.floor(Date.now() / 1000), data,
    usage: { input_tokens: tokens(body.prompt), output_tokens: 1056 * n, total_tokens: tokens(body.prompt) + 1056 * n } }, { gzip: false });
}

/* Route one OpenAI request (path after /v1/). */
export async function handleOpenai(ctx, rest, body, compat = false) {
  const st = ctx.state;
  const ep = { 'chat/completions': 'text', 'audio/speech': 'tts', 'images/generations': 'image' }[rest];
  if (!ep || ctx.req.method !== 'POST') {
    sendError(ctx, 404, oErr(`Invalid URL (${ctx.req.method} /v1/${rest})`, 'invalid_request_error'));
    return;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) { sendError(ctx, 400, oErr('We could not parse the JSON body of your request.', 'invalid_request_error')); return; }
  const model = typeof body.model === 'string' ? body.model : '';
  if (model) st.attach(ctx.tok, model);
  ctx.cfg = st.cfg(model);
  ctx.headersFn = () => rateHeaders(ctx, model);
  if (!model) { sendError(ctx, 400, oErr("Missing required parameter: 'model'.", 'invalid_request_error', null, 'model')); return; }
  if (!st.isKnown(model, true) && !(compat && st.isKnown(model, false))) {
    sendError(ctx, 404, oErr(`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'));
    return;
  }
  const kind = kindOf(model, (st.scenario.models || {})[model]);
  const want = ep === 'text' ? ['text'] : ep === 'tts' ? ['tts'] : ['image'];
  if (!want.includes(kind)) {
    sendError(ctx, 400, oErr(`Model ${model} is not supported for /v1/${rest}.`, 'invalid_request_error', 'model_not_supported', 'model'));
    return;
  }
  if (ctx.cfg.status) {
    const s = Number(ctx.cfg.status);
    if (s === 429) send429(ctx, model, null); else sendError(ctx, s, openaiStatusBody(s));
    return;
  }
  if (ep === 'text') await chat(ctx, model, body);
  else if (ep === 'tts') await speech(ctx, model, body);
  else await images(ctx, model, body);
}
