/**
 * A throwaway PostgreSQL server for the store tests: started per test file on
 * a free loopback port with its data in a temporary directory, and removed by
 * `stop()`. ZKMETER_TEST_PG_URL (a server URL whose user may CREATE DATABASE)
 * uses an existing server instead; ZKMETER_PG_BIN_DIR names the directory with
 * initdb and postgres (default: the highest version under
 * /usr/lib/postgresql/<version>/bin, Debian's layout; point it at a missing
 * directory to exercise the "not installed" path). When no server can run, the
 * result is `{ skip: reason }` for the tests to print.
 *
 * The server runs with fsync off (these tests check store semantics, not crash
 * durability); synchronous_commit keeps its default. As root it runs as the
 * `postgres` system user, since PostgreSQL refuses to run as root.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';

export type TestPostgres =
  | {
      /** A server URL (maintenance database `postgres`). */
      readonly url: string;
      /** Creates an empty database with a unique name and returns its URL. */
      createDatabase(): Promise<string>;
      /** Stops the server and removes its files (or, on an external server, drops the databases created). */
      stop(): Promise<void>;
    }
  | { readonly skip: string };

/** A server that started: a TestPostgres without `skip`. */
export type RunningPostgres = Exclude<TestPostgres, { readonly skip: string }>;

/**
 * `startPostgres()` for a test file's top level, stopped after all its tests. `running` is
 * the server, or undefined when none could start, with `skip` the reason; `label` names
 * what is skipped, in the line `${label}: SKIPPED: ${skip}` printed then (none without it).
 */
export async function usePostgres(label?: string): Promise<{ running: RunningPostgres | undefined; skip: string | undefined }> {
  const server = await startPostgres();
  if ('skip' in server) {
    if (label !== undefined) console.log(`${label}: SKIPPED: ${server.skip}`);
    return { running: undefined, skip: server.skip };
  }
  afterAll(() => server.stop());
  return { running: server, skip: undefined };
}

const NOT_INSTALLED = 'PostgreSQL is not installed (apt-get install postgresql)';
const START_TIMEOUT_MS = 20_000;

export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.ZKMETER_TEST_PG_URL;
  if (external !== undefined && external !== '') return onServer(external, async () => {});

  const bin = serverBinDir();
  if (bin === undefined) return { skip: `${NOT_INSTALLED}: no initdb and postgres in ${process.env.ZKMETER_PG_BIN_DIR ?? '/usr/lib/postgresql/*/bin'}` };
  const owner = serverUser();
  if (typeof owner === 'string') return { skip: owner };

  const dir = mkdtempSync(join(tmpdir(), 'zkmeter-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(data, { mode: 0o700 });
  mkdirSync(sock, { mode: 0o700 });
  if (owner !== undefined) for (const d of [dir, data, sock]) chownSync(d, owner.uid, owner.gid);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });

  const init = await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'zkmeter', '--no-sync', '-E', 'UTF8', '--locale=C'], dir, owner);
  if (init.code !== 0) {
    cleanup();
    return { skip: `initdb failed (${init.code}): ${tail(init.output)}` };
  }

  // A free port can be taken again before postgres binds it: try a few.
  let lastLog = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const log: string[] = [];
    const child = spawn(join(bin, 'postgres'), ['-D', data, '-k', sock, '-h', '127.0.0.1', '-p', String(port), '-c', 'fsync=off'], {
      cwd: dir,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...owner,
    });
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (b: Buffer) => log.push(b.toString()));
    let failed = false;
    child.on('error', (e) => {
      failed = true;
      log.push(e.message);
    });
    // If the test process exits without calling stop(), take the server with it.
    const onExit = () => {
      child.kill('SIGKILL');
      cleanup();
    };
    process.once('exit', onExit);
    const url = `postgres://zkmeter@127.0.0.1:${port}/postgres`;
    if (await ready(url, child, () => failed)) {
      return onServer(url, async () => {
        process.removeListener('exit', onExit);
        await kill(child);
        cleanup();
      });
    }
    process.removeListener('exit', onExit);
    await kill(child);
    lastLog = log.join('');
  }
  cleanup();
  return { skip: `PostgreSQL did not start: ${tail(lastLog)}` };
}

/** The handle for a running server at `url`; `shutdown` ends it. */
function onServer(url: string, shutdown: () => Promise<void>): TestPostgres {
  const created: string[] = [];
  return {
    url,
    async createDatabase() {
      const name = `zkmeter_test_${randomBytes(6).toString('hex')}`;
      await withClient(url, (c) => c.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async stop() {
      // On a server of our own everything goes with it; on a shared one, drop ours.
      if (process.env.ZKMETER_TEST_PG_URL) {
        await withClient(url, async (c) => {
          for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        });
      }
      await shutdown();
    },
  };
}

/** Runs `fn` on a new connection to `url`, closed afterwards. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The directory holding initdb and postgres, highest PostgreSQL version first. */
function serverBinDir(): string | undefined {
  const override = process.env.ZKMETER_PG_BIN_DIR;
  let candidates: string[];
  if (override !== undefined) candidates = [override];
  else {
    const root = '/usr/lib/postgresql';
    let versions: string[] = [];
    try {
      versions = readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v));
    } catch {
      // no such directory: not installed
    }
    candidates = versions.sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin'));
  }
  return candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres')));
}

/** undefined: run as ourselves; { uid, gid }: as the postgres user (we are root); a string: why we cannot. */
function serverUser(): { uid: number; gid: number } | undefined | string {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return 'running as root, and there is no "postgres" system user to run the PostgreSQL server as (PostgreSQL refuses to run as root)';
  }
}

/** A minimal, deterministic environment: no PG* variables from the caller, C locale. */
function childEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', TZ: 'UTC' };
}

function run(cmd: string, args: string[], cwd: string, owner: { uid: number; gid: number } | undefined): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const out: string[] = [];
    const child = spawn(cmd, args, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...owner });
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (b: Buffer) => out.push(b.toString()));
    child.on('error', (e) => resolve({ code: -1, output: e.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, output: out.join('') }));
  });
}

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls until the server accepts a connection (true), exits, or the timeout passes (false). */
async function ready(url: string, child: ChildProcess, failed: () => boolean): Promise<boolean> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null && !failed()) {
    try {
      await withClient(url, (c) => c.query('SELECT 1'));
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

/** Fast shutdown (SIGINT), then SIGKILL if it has not exited within 10 s. */
async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function tail(s: string): string {
  const t = s.trim();
  return t.length > 600 ? `…${t.slice(-600)}` : t;
}
