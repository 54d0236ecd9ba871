/* Schema-driven fake content: produce a JSON value that conforms to a
 * response schema, filled with plausible text derived from the prompt.
 *
 * Accepts both schema dialects of the Gemini API (docs §2.2): the OpenAPI
 * subset of `responseSchema` (upper-case types, propertyOrdering, nullable)
 * and plain JSON Schema of `responseJsonSchema` / OpenAI json_schema
 * (lower-case types, type arrays, $ref/$defs, const, anyOf/oneOf/allOf,
 * prefixItems). Objects list properties in propertyOrdering order, then the
 * rest in declaration order; every declared property is filled (that
 * satisfies both `required` and OpenAI strict mode). Deterministic: the
 * same prompt and schema always give the same value. */

import crypto from 'node:crypto';

const LANGS = {
  spanish: 'es', japanese: 'ja', french: 'fr', german: 'de', italian: 'it',
  portuguese: 'pt', chinese: 'zh', korean: 'ko', russian: 'ru', english: 'en',
  dutch: 'nl', swedish: 'sv', polish: 'pl', turkish: 'tr', arabic: 'ar',
};

/* The first 4 bytes of the SHA-1 of s (one-shot crypto.hash where Node
 * has it: no Hash object per call). */
export function h32(s) {
  if (crypto.hash) return crypto.hash('sha1', s, 'buffer').readUInt32BE(0);
  return crypto.createHash('sha1').update(s).digest().readUInt32BE(0);
}

const LANG_ENTRIES = Object.entries(LANGS);
const LANG_CODE = '([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)';
const LANG_IN_PARENS = new RegExp(`language[^\\n]*?\\(${LANG_CODE}\\)`);
const LANG_FIELD = new RegExp(`\\b(?:language_code|lang)\\s*[:=]\\s*"?${LANG_CODE}"?\\s*(?:$|[,.;\\n])`, 'm');

/* What the fake "understands" of a prompt: the quoted word, its translation
 * in parentheses after it, the language. */
export function promptInfo(prompt) {
  const p = String(prompt || '');
  let word = null, translation = null;
  /* wordbank's own prompts: "Word: X" / "Translation: Y" lines */
  const wl = p.match(/^\s*(?:word|term)\s*:\s*(\S[^\n]{0,79})$/im);
  if (wl) word = wl[1].trim();
  const tl = p.match(/^\s*(?:translation|meaning)\s*:\s*(\S[^\n]{0,79})$/im);
  if (tl && !/^\(none/i.test(tl[1])) translation = tl[1].trim();
  if (!word) {
    const m = p.match(/"([^"\n]{1,80})"\s*(?:\(([^)\n]{1,80})\))?/) ||
              p.match(/“([^”\n]{1,80})”\s*(?:\(([^)\n]{1,80})\))?/) ||
              p.match(/「([^」\n]{1,80})」\s*(?:[(（]([^)）\n]{1,80})[)）])?/);
    if (m) { word = m[1]; translation = translation || m[2] || null; }
  }
  if (!word) word = (p.trim().split(/\s+/)[0] || 'word').slice(0, 40);
  let lang = null;
  const m1 = p.match(LANG_IN_PARENS);
  if (m1) lang = m1[1];
  else {
    /* only when needed: this one backtracks at every "lang" of a long prompt */
    const m2 = p.match(LANG_FIELD);
    if (m2) lang = m2[1];
  }
  if (!lang) {
    const low = p.toLowerCase();
    let best = Infinity;
    for (const [name, c] of LANG_ENTRIES) {
      const i = low.indexOf(name);
      if (i >= 0 && i < best) { best = i; lang = c; }
    }
  }
  if (!lang) lang = /[\u3040-\u30ff\u4e00-\u9fff]/.test(word) ? 'ja' : 'en';
  if (!translation) translation = `meaning of ${word}`;
  return { prompt: p, word, translation, lang, hash: h32(p) };
}

function cut(s, schema) {
  const max = schema.maxLength ?? schema.max_length;
  const min = schema.minLength ?? schema.min_length;
  /* no bound: the string as it is (what splitting into code points and
   * joining them gives back) */
  if (typeof max !== 'number' && typeof min !== 'number') return s;
  let cps = Array.from(s);
  if (typeof max === 'number' && cps.length > max) cps = cps.slice(0, Math.max(0, max));
  if (typeof min === 'number') while (cps.length < min) cps.push('x');
  return cps.join('');
}

function stringFor(name, parent, idx, info, schema) {
  const n = String(name || '').toLowerCase();
  const { word, translation, lang } = info;
  const i = (idx ?? 0) + 1;
  const inExample = /example|sentence/.test(parent || '');
  if (schema.format === 'date-time') return '2026-11-26T12:00:00Z';
  if (schema.format === 'date') return '2026-11-26';
  if (inExample) {
    if (/transl|english|meaning/.test(n)) return `Example ${i}: a sentence with "${translation}".`;
    if (/text|sentence|example|^$|item/.test(n)) return `${word} — example sentence ${i}.`;
  }
  if (/^(word|term|lemma|headword|vocab)/.test(n)) return word;
  if (/transl|english|meaning|gloss/.test(n)) return translation;
  if (/lang|locale/.test(n)) return lang;
  if (/reading|kana|furigana|pronunc|romaji/.test(n)) return word;
  if (/image|picture|illustr/.test(n)) return `A clear, friendly illustration of ${translation} (${word}) on a plain background.`;
  if (/descr|defin|expla|summary/.test(n)) return `"${word}" means "${translation}". It is a common, everyday word.`;
  if (/example|sentence/.test(n)) return `${word} — example sentence ${i}.`;
  if (/title|name|label/.test(n)) return `${word} (${translation})`;
  if (/context|note|hint|tag/.test(n)) return `${n || 'note'} ${i} for ${word}`;
  return `${n || 'text'} ${i} for ${word}`;
}

function typeOf(schema) {
  let t = schema.type;
  if (Array.isArray(t)) t = t.find((x) => String(x).toLowerCase() !== 'null') || 'null';
  if (t) return String(t).toLowerCase();
  if (schema.properties) return 'object';
  if (schema.items || schema.prefixItems) return 'array';
  if (Array.isArray(schema.enum)) return typeof schema.enum[0] === 'number' ? 'number' : 'string';
  return 'string';
}

function resolveRef(ref, root) {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return {};
  let cur = root;
  for (const seg of ref.slice(2).split('/')) {
    const k = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur == null || typeof cur !== 'object') return {};
    cur = cur[k];
  }
  return cur && typeof cur === 'object' ? cur : {};
}

function numberFor(schema, integer, info, path) {
  let lo = schema.minimum ?? schema.exclusiveMinimum;
  let hi = schema.maximum ?? schema.exclusiveMaximum;
  if (typeof schema.exclusiveMinimum === 'number') lo = schema.exclusiveMinimum + (integer ? 1 : 0.001);
  if (typeof schema.exclusiveMaximum === 'number') hi = schema.exclusiveMaximum - (integer ? 1 : 0.001);
  let v;
  if (typeof lo === 'number' && typeof hi === 'number') v = lo + ((h32(info.prompt + path) % 1000) / 1000) * (hi - lo);
  else if (typeof lo === 'number') v = lo + 1;
  else if (typeof hi === 'number') v = Math.min(hi, 3);
  else v = integer ? 3 : 0.5;
  if (integer) {
    v = Math.round(v);
    if (typeof lo === 'number' && v < lo) v = Math.ceil(lo);
    if (typeof hi === 'number' && v > hi) v = Math.floor(hi);
  }
  return integer ? v : Math.round(v * 1000) / 1000;
}

/* Produce a value for schema. name/parent/idx give the property context. */
export function valueFor(schema, info, root = schema, ctx = {}) {
  const { name = '', parent = '', idx = 0, depth = 0, path = '' } = ctx;
  if (!schema || typeof schema !== 'object' || depth > 12) return null;
  if (schema.$ref) return valueFor({ ...resolveRef(schema.$ref, root), ...schema, $ref: undefined }, info, root, { ...ctx, depth: depth + 1 });
  if ('const' in schema) return schema.const;
  const alts = schema.anyOf || schema.oneOf;
  if (Array.isArray(alts) && alts.length) {
    const pick = alts.find((a) => a && typeOf(a) !== 'null') || alts[0];
    const { anyOf, oneOf, ...rest } = schema; // eslint-disable-line no-unused-vars
    return valueFor({ ...rest, ...pick }, info, root, { ...ctx, depth: depth + 1 });
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length) {
    const merged = { ...schema, allOf: undefined, properties: { ...(schema.properties || {}) } };
    for (const part of schema.allOf) {
      const p = part.$ref ? resolveRef(part.$ref, root) : part;
      Object.assign(merged.properties, p.properties || {});
      if (!merged.type && p.type) merged.type = p.type;
    }
    return valueFor(merged, info, root, { ...ctx, depth: depth + 1 });
  }
  if (Array.isArray(schema.enum) && schema.enum.length) {
    return schema.enum[h32(info.prompt + path) % schema.enum.length];
  }
  const t = typeOf(schema);
  switch (t) {
    case 'null': return null;
    case 'boolean': return (h32(info.prompt + path) & 1) === 0;
    case 'integer': return numberFor(schema, true, info, path);
    case 'number': return numberFor(schema, false, info, path);
    case 'array': {
      const min = schema.minItems ?? 0, max = schema.maxItems ?? Infinity;
      const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : [];
      let n = 2 + (h32(info.prompt + path) % 2);
      n = Math.max(n, min, prefix.length);
      n = Math.min(n, max);
      const out = [];
      for (let i = 0; i < n; i++) {
        const item = i < prefix.length ? prefix[i] : (schema.items || { type: 'string' });
        out.push(valueFor(item, info, root, { name, parent: name, idx: i, depth: depth + 1, path: `${path}[${i}]` }));
      }
      return out;
    }
    case 'object': {
      const props = schema.properties || {};
      const order = Array.isArray(schema.propertyOrdering) ? schema.propertyOrdering.filter((k) => k in props) : [];
      for (const k of Object.keys(props)) if (!order.includes(k)) order.push(k);
      const out = {};
      for (const k of order) {
        out[k] = valueFor(props[k], info, root, { name: k, parent: name, idx, depth: depth + 1, path: `${path}.${k}` });
      }
      return out;
    }
    default:
      return cut(stringFor(name, parent, idx, info, schema), schema);
  }
}

/* Count schema nodes, to refuse absurd schemas like the service does. */
export function schemaSize(schema, depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 64) return depth > 64 ? 1e9 : 0;
  let n = 1;
  for (const v of Object.values(schema)) if (v && typeof v === 'object') n += schemaSize(v, depth + 1);
  return n;
}
