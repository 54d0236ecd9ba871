// Shared by the Anki tests: a scratch folder, and the wordbank command run
// with its exit status and output checked by the caller.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const WB = process.env.WB_BIN;
export const ROOT = process.env.WB_SOURCE_ROOT;

export function scratch(t) {
  const dir = mkdtempSync(path.join(tmpdir(), 'wb-anki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Run wordbank in dir with a private database and cache; never leaves the
// machine (every remote endpoint is a closed loopback port).
export function wb(dir, args, extraEnv = {}) {
  const env = {
    ...process.env,
    HOME: dir,
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    WORDBANK_DB: path.join(dir, 'wb.db'),
    GEMINI_BASE_URL: 'http://127.0.0.1:9',
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    ...extraEnv,
  };
  for (const k of ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'OPENAI_API_KEY', 'WORDBANK_MEDIA',
                   'WORDBANK_ANKI_URL'])
    if (!(k in extraEnv)) delete env[k];
  return spawnSync(WB, args, { cwd: dir, env, encoding: 'utf8', timeout: 60000 });
}

// Like wb, but the run must succeed.
export function wbOk(assert, dir, args, extraEnv) {
  const r = wb(dir, args, extraEnv);
  assert.equal(r.status, 0, `wordbank ${args.join(' ')}: ${r.stderr}`);
  return r;
}

// The same, without blocking the event loop (a fake server in this process
// must answer while wordbank runs).
export function wbAsync(dir, args, extraEnv = {}) {
  const env = {
    ...process.env,
    HOME: dir,
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    WORDBANK_DB: path.join(dir, 'wb.db'),
    GEMINI_BASE_URL: 'http://127.0.0.1:9',
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    ...extraEnv,
  };
  for (const k of ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'OPENAI_API_KEY', 'WORDBANK_MEDIA',
                   'WORDBANK_ANKI_URL', 'WORDBANK_ANKI_KEY'])
    if (!(k in extraEnv)) delete env[k];
  return new Promise((resolve) => {
    const child = spawn(WB, args, { cwd: dir, env });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}
