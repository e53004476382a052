/**
 * The control center on SQLite: the same classification as in memory, state
 * that survives closing and reopening, (meter, interval) uniqueness enforced by
 * the database itself, and versioned migrations applied once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { keygen } from '../lib/crypto/elgamal.js';
import { randomScalar } from '../lib/crypto/random.js';
import { ControlCenter } from '../lib/protocol/center.js';
import { HOUSEHOLD, Meter } from '../lib/protocol/meter.js';
import { SCHEMA_VERSION, SqliteStore } from '../lib/server/sqlite-store.js';
import { TestRng, testSeed } from './support/rng.js';
import { errorCode } from './support/errors.js';

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
console.log(`sqlite-store.test.ts on ${getGroup().name}: seed ${seed}`);
const dir = mkdtempSync(join(tmpdir(), 'zkmeter-db-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 1_764_115_200;

describe('SqliteStore', () => {
  const { publicKey: utilityKey } = keygen(rand);
  const meter = new Meter({ meterId: 'MPAN-7', signingKey: randomScalar(rand), utilityKey, rng: rand });
  const records = [meter.reading(DAY, 120n), meter.reading(DAY + 900, 4500n), meter.daily(DAY + 1800, [10n, 20n, 30n])];
  const path = join(dir, 'center.db');

  it('classifies and stores like the in-memory center, and keeps everything across a reopen', () => {
    const store = new SqliteStore(path);
    const center = new ControlCenter({ utilityKey, store });
    center.register({ meterId: 'MPAN-7', publicKey: meter.publicKey, feeder: 'F9' });
    expect(center.submit(records.map((r) => r.bytes)).map((o) => o.status)).toEqual(['accepted', 'abnormal', 'accepted']);
    const before = center.readingsOf('MPAN-7', DAY, DAY + 86_400);
    expect(before.map((r) => r.intervalStart)).toEqual([0, 1, 2, 3, 4].map((i) => DAY + 900 * i));
    store.close();

    const again = new SqliteStore(path);
    const reopened = new ControlCenter({ utilityKey, store: again });
    expect(again.getMeter('MPAN-7')).toEqual({ meterId: 'MPAN-7', publicKey: meter.publicKey, meterClass: HOUSEHOLD, feeder: 'F9', keyEpoch: 0 });
    expect(reopened.readingsOf('MPAN-7', DAY, DAY + 86_400)).toEqual(before);
    expect(reopened.inspectionQueue().map((r) => r.intervalStart)).toEqual([DAY + 900]);
    expect(reopened.feederReadings('F9', DAY).map((r) => r.meterId)).toEqual(['MPAN-7']);
    expect(reopened.evidenceFor(before)).toEqual(records.map((r) => r.bytes));
    expect(reopened.gaps('MPAN-7', DAY, DAY + 6 * 900)).toEqual([DAY + 5 * 900]);
    // The same records again: idempotent. Another record for a held interval: a duplicate.
    expect(reopened.submit([records[0]!.bytes])[0]).toMatchObject({ status: 'accepted', repeated: true });
    expect(reopened.submit([meter.reading(DAY, 121n).bytes])[0]).toMatchObject({ status: 'invalid', reason: 'duplicate' });
    again.close();
  });

  it('the database itself refuses a second reading for a (meter, interval)', () => {
    const db = new Database(path);
    const row = db.prepare('SELECT * FROM readings LIMIT 1').get() as Record<string, unknown>;
    expect(() =>
      db.prepare('INSERT INTO readings (meter_id, interval_start, c1, c2, abnormal, record_id) VALUES (?, ?, ?, ?, ?, ?)').run(row.meter_id, row.interval_start, row.c1, row.c2, 0, row.record_id),
    ).toThrow(/UNIQUE constraint failed/);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('migrations are versioned and applied once; a newer database is refused', () => {
    const s = new SqliteStore(path);
    expect(s.schemaVersion()).toBe(SCHEMA_VERSION);
    s.close();
    const db = new Database(path);
    expect(db.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get()).toBe(SCHEMA_VERSION);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)').run(SCHEMA_VERSION + 1);
    db.close();
    expect(errorCode(() => new SqliteStore(path))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => new SqliteStore(join(dir, 'no', 'such', 'dir', 'x.db')))).toBe('INVALID_ARGUMENT');
  });
});
