// A loopback fake of the AnkiConnect add-on, written from its documented API
// (version 6: every request {"action", "version", "params", "key"?}, every
// answer {"result", "error"}; "multi" answers each action the same way). It
// keeps decks, note types, notes and media in memory and records every
// action it was asked, so tests can check what a client sent.
import http from 'node:http';

export function startFake({ requireKey = null, models = {}, renameMedia = (n) => `anki-${n}` } = {}) {
  const state = {
    decks: new Set(['Default']),
    models: { ...models }, // name -> { fields: [...], templates: [...], css }
    notes: new Map(),      // id -> { modelName, deckName, fields: {name: value}, tags }
    media: new Map(),      // name -> Buffer
    nextId: 1700000000000,
  };
  const log = [];      // every action, inner ones of multi included: { action, version, inner }
  const requests = []; // top-level requests
  const violations = [];

  function fieldsOf(note) {
    const m = state.models[note.modelName];
    const out = {};
    m.fields.forEach((name, order) => { out[name] = { value: note.fields[name] ?? '', order }; });
    return out;
  }

  // Anki's search, as far as a client keyed by a field uses it:
  // "note:NAME" "Field:value" (quotes optional), all terms must match.
  function search(query) {
    const terms = [...query.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
    const ids = [];
    for (const [id, note] of state.notes) {
      const ok = terms.every((t) => {
        const i = t.indexOf(':');
        if (i < 0) return Object.values(note.fields).some((v) => v.includes(t));
        const k = t.slice(0, i), v = t.slice(i + 1);
        if (k === 'note') return note.modelName === v;
        if (k === 'deck') return note.deckName === v;
        const field = Object.keys(note.fields).find((f) => f.toLowerCase() === k.toLowerCase());
        return field !== undefined && note.fields[field] === v;
      });
      if (ok) ids.push(id);
    }
    return ids;
  }

  const actions = {
    version: () => 6,
    requestPermission: () => ({ permission: 'granted', requireApiKey: !!requireKey, version: 6 }),
    deckNames: () => [...state.decks],
    createDeck: ({ deck }) => {
      // Anki makes the parents of A::B::C too.
      const parts = deck.split('::');
      for (let i = 1; i <= parts.length; i++) state.decks.add(parts.slice(0, i).join('::'));
      return state.nextId++;
    },
    modelNames: () => Object.keys(state.models),
    createModel: ({ modelName, inOrderFields, css, cardTemplates }) => {
      if (state.models[modelName]) throw new Error('Model name already exists');
      if (!Array.isArray(inOrderFields) || !Array.isArray(cardTemplates) || !cardTemplates.length)
        throw new Error('createModel: fields and templates needed');
      state.models[modelName] = { fields: inOrderFields, templates: cardTemplates, css };
      return { id: state.nextId++, name: modelName };
    },
    modelFieldNames: ({ modelName }) => {
      const m = state.models[modelName];
      if (!m) throw new Error(`model was not found: ${modelName}`);
      return m.fields;
    },
    storeMediaFile: ({ filename, data }) => {
      if (typeof filename !== 'string' || typeof data !== 'string')
        throw new Error('storeMediaFile: filename and data needed');
      const name = renameMedia(filename);
      state.media.set(name, Buffer.from(data, 'base64'));
      return name;
    },
    findNotes: ({ query }) => search(query),
    notesInfo: ({ notes }) => notes.map((id) => {
      const n = state.notes.get(id);
      if (!n) return {};
      return { noteId: id, modelName: n.modelName, tags: n.tags, fields: fieldsOf(n), cards: [] };
    }),
    updateNoteFields: ({ note }) => {
      const n = state.notes.get(note.id);
      if (!n) throw new Error(`note was not found: ${note.id}`);
      for (const [k, v] of Object.entries(note.fields)) {
        if (!state.models[n.modelName].fields.includes(k)) throw new Error(`no field ${k}`);
        n.fields[k] = v;
      }
      return null;
    },
    addNotes: ({ notes }) => {
      const errors = [];
      const ids = notes.map((note) => {
        const m = state.models[note.modelName];
        if (!m) { errors.push(`model was not found: ${note.modelName}`); return null; }
        if (!state.decks.has(note.deckName)) { errors.push(`deck was not found: ${note.deckName}`); return null; }
        const first = m.fields[0];
        const dup = [...state.notes.values()].some((n) => n.modelName === note.modelName &&
          n.fields[first] === note.fields[first]);
        if (dup && !note.options?.allowDuplicate) {
          errors.push('cannot create note because it is a duplicate');
          return null;
        }
        const id = state.nextId++;
        state.notes.set(id, { modelName: note.modelName, deckName: note.deckName,
                              fields: { ...note.fields }, tags: note.tags ?? [] });
        return id;
      });
      if (errors.length) throw new Error(errors.join(', '));
      return ids;
    },
  };

  function run(req, inner) {
    log.push({ action: req?.action, version: req?.version, inner });
    if (req?.version !== 6) {
      violations.push(`${req?.action} without version 6`);
      return { result: null, error: 'fake AnkiConnect: this test needs "version": 6' };
    }
    if (req.action === 'multi') {
      if (inner) return { result: null, error: 'multi inside multi' };
      return { result: req.params.actions.map((a) => run(a, true)), error: null };
    }
    const fn = actions[req.action];
    if (!fn) return { result: null, error: 'unsupported action' };
    try {
      return { result: fn(req.params ?? {}), error: null };
    } catch (e) {
      return { result: null, error: e.message };
    }
  }

  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      let msg;
      try { msg = JSON.parse(body); } catch { res.writeHead(400).end(); return; }
      requests.push(msg);
      let out;
      if (requireKey && msg.key !== requireKey)
        out = { result: null, error: 'valid api key must be provided' };
      else
        out = run(msg, false);
      const text = JSON.stringify(out);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        state, log, requests, violations,
        close: () => new Promise((r) => server.close(r)),
      });
    });
  });
}
