/**
 * The control center on PostgreSQL: the shared store behaviour
 * (test/support/store-suite.ts) on a throwaway server (test/support/postgres.ts,
 * one per test file run, so the two vitest projects never share one), then what
 * is PostgreSQL's own: uniqueness enforced by the database, migrations applied
 * once even by racing openers, a newer schema refused, synchronous_commit kept
 * on, crossing batches that deadlock retried, connection errors that never show
 * the password, and openStore choosing the store from its argument.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { keygen } from '../lib/crypto/elgamal.js';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey } from '../lib/crypto/schnorr.js';
import { verifyRecordBatch } from '../lib/protocol/center.js';
import { HOUSEHOLD, Meter } from '../lib/protocol/meter.js';
import type { RecordToStore } from '../lib/protocol/store.js';
import { PgStore, SCHEMA_VERSION } from '../lib/server/pg-store.js';
import { SqliteStore } from '../lib/server/sqlite-store.js';
import { openStore, redactUrl, storeKind } from '../lib/server/stores.js';
import { failure } from './support/errors.js';
import { freePort, usePostgres, withClient } from './support/postgres.js';
import { TestRng, testSeed } from './support/rng.js';
import { DAY, describeStore } from './support/store-suite.js';

// The skip reason is printed by describeStore.
const { running, skip } = await usePostgres();
// One database for the shared suite: its open() must reopen the same one.
const url = running === undefined ? '' : await running.createDatabase();

describeStore(`PgStore on ${getGroup().name}`, { open: () => PgStore.open(url), skip });

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
const { publicKey: utilityKey } = keygen(rand);

/** Verified records of a fresh meter, as the center hands them to putRecords. */
function recordsOf(meterId: string, make: (m: Meter) => { bytes: Uint8Array }[]): RecordToStore[] {
  const m = new Meter({ meterId, signingKey: randomScalar(rand), utilityKey, rng: rand });
  return verifyRecordBatch(
    make(m).map((r) => r.bytes),
    () => ({ publicKey: m.publicKey, meterClass: HOUSEHOLD, keyEpoch: 0 }),
    utilityKey,
  ).map((v) => {
    if (!v.ok) throw new Error(v.detail);
    return v;
  });
}

async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(skip !== undefined)(`PgStore on PostgreSQL (seed ${seed})`, () => {
  it('the database itself refuses a second reading for a (meter, interval); values come back as numbers and Uint8Arrays', async () => {
    await withClient(url, async (c) => {
      const row = (await c.query('SELECT * FROM readings LIMIT 1')).rows[0] as Record<string, unknown> | undefined;
      expect(row).toBeDefined();
      const again = await c
        .query('INSERT INTO readings (meter_id, interval_start, c1, c2, abnormal, record_id) VALUES ($1, $2, $3, $4, false, $5)', [row!.meter_id, row!.interval_start, row!.c1, row!.c2, row!.record_id])
        .catch((e: unknown) => e);
      expect(again).toMatchObject({ code: '23505', constraint: 'readings_pkey' });
      const cols = (await c.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'readings' ORDER BY column_name")).rows;
      expect(Object.fromEntries(cols.map((r: { column_name: string; data_type: string }) => [r.column_name, r.data_type]))).toMatchObject({ interval_start: 'bigint', c1: 'bytea', c2: 'bytea' });
    });
    const s = await PgStore.open(url);
    const [r] = await s.readings('MPAN-7', DAY, DAY + 1);
    expect(typeof r!.intervalStart).toBe('number');
    expect(r!.intervalStart).toBe(DAY);
    expect(Object.getPrototypeOf(r!.ciphertext.c1)).toBe(Uint8Array.prototype);
    expect(Object.getPrototypeOf((await s.evidence(r!.recordId))!)).toBe(Uint8Array.prototype);
    expect(Object.getPrototypeOf((await s.getMeter('MPAN-7'))!.publicKey)).toBe(Uint8Array.prototype);
    await s.close();
  });

  it('migrations are versioned and applied once; a newer database is refused', async () => {
    const db = await running!.createDatabase();
    const s = await PgStore.open(db);
    expect(await s.schemaVersion()).toBe(SCHEMA_VERSION);
    await s.close();
    await (await PgStore.open(db)).close();
    await withClient(db, async (c) => {
      expect((await c.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r: { version: number }) => r.version)).toEqual(
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
      await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)', [SCHEMA_VERSION + 1]);
    });
    const e = await failure(PgStore.open(db));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(`schema version ${SCHEMA_VERSION + 1}, newer than this zkmeter (${SCHEMA_VERSION})`);
  });

  it('a database from before key histories (schema 1) is migrated: its meters keep their key, with an empty history', async () => {
    const db = await running!.createDatabase();
    const publicKey = schnorrPublicKey(randomScalar(rand));
    const s = await PgStore.open(db);
    await s.putMeter({ meterId: 'OLD', publicKey, meterClass: HOUSEHOLD, feeder: 'F1', keyEpoch: 3 });
    await s.close();
    // Back to schema 1, as an earlier zkmeter left it.
    await withClient(db, (c) => c.query('DROP TABLE bills; ALTER TABLE meters DROP COLUMN history_json, DROP COLUMN certificate, DROP COLUMN valid_from; DELETE FROM schema_migrations WHERE version > 1'));
    const again = await PgStore.open(db);
    expect(await again.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(await again.getMeter('OLD')).toEqual({ meterId: 'OLD', publicKey, meterClass: HOUSEHOLD, feeder: 'F1', keyEpoch: 3, validFrom: 0, history: [] });
    await again.close();
  });

  it('a database from before stored bills (schema 3) is migrated: its meters kept, bills stored from then on', async () => {
    const db = await running!.createDatabase();
    const publicKey = schnorrPublicKey(randomScalar(rand));
    const s = await PgStore.open(db);
    await s.putMeter({ meterId: 'OLD', publicKey, meterClass: HOUSEHOLD, feeder: 'F1', keyEpoch: 0 });
    await s.close();
    await withClient(db, (c) => c.query('DROP TABLE bills; DELETE FROM schema_migrations WHERE version > 3'));
    const again = await PgStore.open(db);
    expect(SCHEMA_VERSION).toBe(4);
    expect(await again.schemaVersion()).toBe(4);
    expect((await again.getMeter('OLD'))?.publicKey).toEqual(publicKey);
    expect(await again.getBill('00'.repeat(32))).toBeUndefined();
    expect(await again.putBill('00'.repeat(32), '{"id":"x"}')).toBe('{"id":"x"}');
    await again.close();
  });

  it('stores opening one fresh database at once migrate it exactly once', async () => {
    const db = await running!.createDatabase();
    const stores = await Promise.all(Array.from({ length: 8 }, () => PgStore.open(db, { poolSize: 2 })));
    expect(await Promise.all(stores.map((s) => s.schemaVersion()))).toEqual(stores.map(() => SCHEMA_VERSION));
    await Promise.all(stores.map((s) => s.close()));
    await withClient(db, async (c) => {
      expect((await c.query('SELECT count(*)::int AS n FROM schema_migrations')).rows[0]).toEqual({ n: SCHEMA_VERSION });
    });
  });

  it('commits with synchronous_commit on even where the database has it off', async () => {
    const db = await running!.createDatabase();
    const name = new URL(db).pathname.slice(1);
    await withClient(running!.url, (c) => c.query(`ALTER DATABASE ${name} SET synchronous_commit = off`));
    const s = await PgStore.open(db);
    // A trigger notes the setting each records row is written under.
    await withClient(db, async (c) => {
      expect((await c.query('SHOW synchronous_commit')).rows[0]).toEqual({ synchronous_commit: 'off' });
      await c.query(`
        CREATE TABLE seen (setting TEXT);
        CREATE FUNCTION note_sync() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN INSERT INTO seen VALUES (current_setting('synchronous_commit')); RETURN NEW; END $$;
        CREATE TRIGGER note AFTER INSERT ON records FOR EACH ROW EXECUTE FUNCTION note_sync();`);
    });
    expect(await s.putRecords(recordsOf('M-sync', (m) => [m.reading(DAY, 5n)]))).toEqual([{ status: 'stored' }]);
    await s.close();
    await withClient(db, async (c) => expect((await c.query('SELECT setting FROM seen')).rows).toEqual([{ setting: 'on' }]));
  });

  it('two batches that cross (each waiting for the other) deadlock; PostgreSQL aborts one and the store retries it', async () => {
    const db = await running!.createDatabase();
    const [one, two] = await Promise.all([PgStore.open(db), PgStore.open(db)]);
    const T = DAY + 10 * 86_400;
    const [x1, x2] = recordsOf('M-x', (m) => [m.reading(T, 1n), m.reading(T, 2n)]);
    const [y] = recordsOf('M-y', (m) => [m.reading(T, 3n)]);
    const [z1, z2] = recordsOf('M-z', (m) => [m.reading(T, 4n), m.reading(T, 5n)]);
    const waiting = () =>
      withClient(db, async (c) => (await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0].n as number);
    // A plain session holds M-y's interval uncommitted, so batch one stops after x1.
    const blocker = new pg.Client({ connectionString: db });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query("INSERT INTO records VALUES ('blocker', 'M-y', '\\x00')");
    await blocker.query("INSERT INTO readings VALUES ('M-y', $1, '\\x00', '\\x00', false, 'blocker')", [T]);
    const first = one!.putRecords([x1!, y!, z2!]);
    await until('batch one to wait for the blocker', async () => (await waiting()) === 1);
    const second = two!.putRecords([z1!, x2!]); // holds z1, then waits for batch one's x1
    await until('batch two to wait for batch one', async () => (await waiting()) === 2);
    await blocker.query('ROLLBACK'); // batch one goes on to z2, held by batch two: a deadlock
    await blocker.end();
    const [a, b] = await Promise.all([first, second]);
    // Usually batch two, waiting longest, is the victim; on a slow machine it can be batch one.
    const stored = { status: 'stored' };
    const taken = { status: 'taken', intervalStart: T };
    const oneWon = a[0]!.status === 'stored';
    expect([a, b]).toEqual(oneWon ? [[stored, stored, stored], [taken, taken]] : [[taken, stored, taken], [stored, stored]]);
    const holder = async (meterId: string) => (await one!.readings(meterId, T, T + 1)).map((r) => r.recordId);
    expect([await holder('M-x'), await holder('M-y'), await holder('M-z')]).toEqual(oneWon ? [[x1!.recordId], [y!.recordId], [z2!.recordId]] : [[x2!.recordId], [y!.recordId], [z1!.recordId]]);
    await Promise.all([one!.close(), two!.close()]);
  });
});

describe('PgStore connection errors', () => {
  it('an unreachable server is a ZkmeterError naming the URL without its password', async () => {
    const port = await freePort();
    const e = await failure(PgStore.open(`postgres://zkuser:s3cret-pw@127.0.0.1:${port}/zk`, { connectTimeoutMs: 5_000 }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(new RegExp(`^cannot connect to PostgreSQL postgres://zkuser@127\\.0\\.0\\.1:${port}/zk: .*ECONNREFUSED`));
    expect(e.message).not.toMatch('s3cret');
    const q = await failure(PgStore.open(`postgresql://zkuser@127.0.0.1:${port}/zk?password=s3cret-pw&application_name=zk`));
    expect(q.message).toMatch(`postgresql://zkuser@127.0.0.1:${port}/zk?application_name=zk: `);
    expect(q.message).not.toMatch('s3cret');
    const bad = await failure(PgStore.open('postgres://zkuser:s3cret-pw@[::1/zk'));
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).not.toMatch('s3cret');
  });

  it.skipIf(skip !== undefined)('a database that does not exist is a ZkmeterError without the password', async () => {
    const u = new URL(running!.url);
    u.password = 's3cret-pw';
    u.pathname = '/no_such_db';
    const e = await failure(PgStore.open(u.toString()));
    expect(e.code).toBe('INVALID_ARGUMENT');
    u.password = '';
    expect(e.message).toBe(`cannot connect to PostgreSQL ${u.toString()}: database "no_such_db" does not exist`);
    expect(e.message).not.toMatch('s3cret');
  });
});

describe('openStore', () => {
  it('a postgres:// or postgresql:// URL is PostgreSQL; anything else a SQLite path', () => {
    expect(storeKind('postgres://u@h/db')).toBe('postgres');
    expect(storeKind('PostgreSQL://u@h:5433/db')).toBe('postgres');
    expect(storeKind('/var/lib/zkmeter/center.db')).toBe('sqlite');
    expect(storeKind('center.db')).toBe('sqlite');
    expect(storeKind(':memory:')).toBe('sqlite');
    expect(storeKind('postgres-data/center.db')).toBe('sqlite');
  });

  it('redacts passwords from URLs for logs', () => {
    expect(redactUrl('postgres://u:p%40ss@h:5432/db?sslmode=require&password=x&sslpassword=y')).toBe('postgres://u@h:5432/db?sslmode=require');
    expect(redactUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redactUrl('postgres://u:pw@[::1/db')).toBe('postgres:(unparseable URL)');
  });

  it('opens a SQLite file and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zkmeter-stores-'));
    try {
      const path = join(dir, 'center.db');
      const s = await openStore(path);
      expect(s).toBeInstanceOf(SqliteStore);
      expect(s.describe()).toBe(`SQLite ${path}`);
      await s.close();
      expect((await failure(openStore(''))).code).toBe('INVALID_ARGUMENT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(skip !== undefined)('opens PostgreSQL for a URL and describes it without the password', async () => {
    const u = new URL(url);
    u.password = 'hunter2'; // trust authentication ignores it
    const s = await openStore(u.toString());
    expect(s).toBeInstanceOf(PgStore);
    expect(s.describe()).toBe(`PostgreSQL ${url}`);
    expect(s.describe()).not.toMatch('hunter2');
    expect(await s.meterIds()).toContain('MPAN-7');
    await s.close();
  });
});
