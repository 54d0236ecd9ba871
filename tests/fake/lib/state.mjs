/* Mutable state of the fake API server: the scenario (latency, quotas,
 * faults per model), seeded random streams, counters for /_fake/stats,
 * sliding-window quotas and the ring of recorded requests for
 * /_fake/requests. One State object per server process. */

export const DEFAULT_MODELS = [
  'gemini-3.8-flash', 'gemini-3.8-flash-tts', 'gemini-3.8-flash-lite-tts',
  'gemini-3.1-flash-image', 'gemini-3-pro-image', 'gemini-3.1-flash-lite',
];
export const OPENAI_MODELS = [
  'gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'gpt-5-mini',
  'gpt-4o-mini-tts', 'tts-1', 'tts-1-hd', 'gpt-image-1', 'dall-e-3',
];

const BASE = {
  latencyMs: 0, jitter: 0, maxConcurrent: 0, quota: null,
  faults: {}, blocked: [], status: null, thoughts: false, gzip: true,
};
const FAULT_KEYS = ['status500', 'status503', 'status502', 'reset', 'truncate', 'malformed', 'sseError'];
const SENT_KEEP = 10000;
const LOG_KEEP = 2000;
/* CLOCK_MONOTONIC in ms (libuv's hrtime). */
const monoMs = () => Number(process.hrtime.bigint()) / 1e6;

/* Gap between SSE events: faults.slowStreamMs (or a top-level slowStreamMs). */
export function streamGap(cfg) {
  return Number((cfg.faults && cfg.faults.slowStreamMs) ?? cfg.slowStreamMs) || 0;
}

/* mulberry32: small, fast, seedable PRNG. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/* The model kind decides which endpoints/modalities the model serves. */
export function kindOf(id, cfg) {
  if (cfg && typeof cfg.kind === 'string') return cfg.kind;
  if (/^imagen/.test(id)) return 'imagen';
  if (/tts/.test(id)) return 'tts';
  if (/^(gpt-image|dall-e)/.test(id)) return 'image';
  if (/image/.test(id)) return 'image';
  return 'text';
}

export class State {
  constructor(scenario) {
    this.t0 = Date.now();
    this.setScenario(scenario || {});
    this.reset();
    this.log = [];
    this.batches = new Map();
  }

  now() { return Date.now() - this.t0; }

  setScenario(sc) {
    if (!sc || typeof sc !== 'object' || Array.isArray(sc)) throw new Error('scenario must be a JSON object');
    this.scenario = sc;
    const seed = Number.isFinite(sc.seed) ? sc.seed : 42;
    this.faultRng = prng(seed);
    this.jitterRng = prng(seed ^ 0x9e3779b9);
    this.miscRng = prng(seed ^ 0x85ebca6b);
    this.windows = new Map();   /* model -> accepted request times (ms) */
    this.cfgCache = new Map();
    this.known = null;          /* knownModels() and a Set of it, made on first use */
  }

  /* Effective config of a model: BASE < scenario.default < scenario.models[m]
   * (quota and faults merged key by key). */
  cfg(model) {
    let c = this.cfgCache.get(model);
    if (c) return c;
    const d = this.scenario.default || {};
    const m = (this.scenario.models && this.scenario.models[model]) || {};
    c = { ...BASE, ...d, ...m };
    c.faults = { ...(d.faults || {}), ...(m.faults || {}) };
    const q = { ...(d.quota || {}), ...(m.quota || {}) };
    c.quota = Object.keys(q).length ? q : null;
    if (c.thoughts === false && this.scenario.thoughts) c.thoughts = true;
    c.blocked = (c.blocked || []).map((w) => String(w).toLowerCase());
    this.cfgCache.set(model, c);
    return c;
  }

  /* Gemini model ids: the defaults plus scenario models that are not
   * OpenAI's (a scenario may tune gpt-4o-mini without listing it here). */
  knownModels() {
    return this.knownList().list.slice();
  }

  /* The list, made once per scenario (every API request asks isKnown). */
  knownList() {
    if (!this.known) {
      const extra = Object.keys(this.scenario.models || {}).filter((id) => !OPENAI_MODELS.includes(id));
      const list = [...new Set([...DEFAULT_MODELS, ...extra])];
      this.known = { list, set: new Set(list) };
    }
    return this.known;
  }

  isKnown(model, openai = false) {
    if (openai) return OPENAI_MODELS.includes(model) || !!(this.scenario.models && model in this.scenario.models);
    return this.knownList().set.has(model);
  }

  reset() {
    this.models = {};
    const open = this.totals ? this.totals.connections : 0;
    this.totals = {
      requests: 0, inFlight: 0, maxInFlight: 0, connections: open, maxConnections: open,
      connectionsTotal: 0, h2Sessions: 0, h2Streams: 0, keyInUrl: 0, statuses: {},
      faults: Object.fromEntries(FAULT_KEYS.map((k) => [k, 0])),
      /* CLOCK_MONOTONIC ms (fractional; the clock every process of the
       * machine shares: Python's time.monotonic) of the first request's
       * start and of the last answer's end: a benchmark times a command's
       * own start and end around its requests with them */
      firstBeginMonoMs: 0, lastEndMonoMs: 0,
    };
    if (this.windows) this.windows.clear();
  }

  model(id) {
    let m = this.models[id];
    if (!m) m = this.models[id] = { requests: 0, statuses: {}, inFlight: 0, maxInFlight: 0, sent: [] };
    return m;
  }

  /* An API request starts; returns a token for attach() and end(). */
  begin(id) {
    const t = this.totals;
    t.requests++;
    if (!t.firstBeginMonoMs) t.firstBeginMonoMs = monoMs();
    t.inFlight++;
    if (t.inFlight > t.maxInFlight) t.maxInFlight = t.inFlight;
    const tok = { m: null, ended: false };
    if (id) this.attach(tok, id);
    return tok;
  }

  /* The request turned out to be for model id (counted per model). */
  attach(tok, id) {
    if (tok.m || tok.ended) return;
    const m = this.model(id);
    m.requests++;
    m.inFlight++;
    if (m.inFlight > m.maxInFlight) m.maxInFlight = m.inFlight;
    m.sent.push(this.now());
    if (m.sent.length > SENT_KEEP * 1.2) m.sent.splice(0, m.sent.length - SENT_KEEP);
    tok.m = m;
  }

  end(tok, status) {
    if (tok.ended) return;
    tok.ended = true;
    const k = String(status);
    this.totals.inFlight--;
    this.totals.lastEndMonoMs = monoMs();
    this.totals.statuses[k] = (this.totals.statuses[k] || 0) + 1;
    if (tok.m) {
      tok.m.inFlight--;
      tok.m.statuses[k] = (tok.m.statuses[k] || 0) + 1;
    }
  }

  fault(name) { this.totals.faults[name] = (this.totals.faults[name] || 0) + 1; }

  /* One draw from the fault stream; returns a fault name or null.
   * stream: whether SSE-only faults apply. */
  drawFault(cfg, stream) {
    const f = cfg.faults || {};
    let r = this.faultRng();
    for (const k of FAULT_KEYS) {
      const p = Number(f[k]) || 0;
      if (p <= 0) continue;
      if (r < p) return (k === 'sseError' && !stream) ? null : k;
      r -= p;
    }
    return null;
  }

  latency(cfg) {
    const base = Number(cfg.latencyMs) || 0;
    const j = Number(cfg.jitter) || 0;
    const r = this.jitterRng();
    return Math.max(0, base * (1 + j * (2 * r - 1)));
  }

  /* Sliding-window quota. Returns null when the request is admitted (and
   * counts it), else {waitMs, limit, perDay}. */
  quotaCheck(model, cfg) {
    const q = cfg.quota;
    if (!q || !(q.requests > 0)) return null;
    const windowMs = Number(q.windowMs) || 60000;
    const now = this.now();
    let w = this.windows.get(model);
    if (!w) { w = []; this.windows.set(model, w); }
    let drop = 0;
    while (drop < w.length && w[drop] <= now - windowMs) drop++;
    if (drop) w.splice(0, drop);
    if (w.length >= q.requests) {
      return { waitMs: w[0] + windowMs - now, limit: q.requests, perDay: !!q.perDay,
               retryDelayS: q.retryDelayS ?? null, windowMs };
    }
    w.push(now);
    return null;
  }

  /* Remaining requests in the window (for OpenAI x-ratelimit headers). */
  quotaInfo(model, cfg) {
    const q = cfg.quota;
    if (!q || !(q.requests > 0)) return null;
    const windowMs = Number(q.windowMs) || 60000;
    const w = this.windows.get(model) || [];
    const now = this.now();
    const live = w.filter((t) => t > now - windowMs);
    return { limit: q.requests, remaining: Math.max(0, q.requests - live.length),
             resetMs: live.length ? live[0] + windowMs - now : 0 };
  }

  record(entry) {
    this.log.push(entry);
    if (this.log.length > LOG_KEEP) this.log.splice(0, this.log.length - LOG_KEEP);
  }

  stats() {
    return { uptimeMs: this.now(), models: this.models, totals: this.totals };
  }
}
