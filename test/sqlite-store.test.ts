/**
 * The control center on SQLite: the shared store behaviour (test/support/store-suite.ts),
 * (meter, interval) uniqueness enforced by the database itself, WAL mode,
 * versioned migrations applied once, a database from before key histories
 * migrated with an empty history per meter, and one from before stored bills
 * (schema 3) migrated with its state kept and an empty bill table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey } from '../lib/crypto/schnorr.js';
import { HOUSEHOLD } from '../lib/protocol/meter.js';
import { SCHEMA_VERSION, SqliteStore } from '../lib/server/sqlite-store.js';
import { errorCode } from './support/errors.js';
import { describeStore } from './support/store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'zkmeter-db-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'center.db');

describeStore(`SqliteStore on ${getGroup().name}`, { open: async () => new SqliteStore(path) });

describe('SqliteStore schema', () => {
  it('the database itself refuses a second reading for a (meter, interval)', () => {
    const db = new Database(path);
    const row = db.prepare('SELECT * FROM readings LIMIT 1').get() as Record<string, unknown>;
    expect(row).toBeDefined();
    expect(() =>
      db.prepare('INSERT INTO readings (meter_id, interval_start, c1, c2, abnormal, record_id) VALUES (?, ?, ?, ?, ?, ?)').run(row.meter_id, row.interval_start, row.c1, row.c2, 0, row.record_id),
    ).toThrow(/UNIQUE constraint failed/);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('migrations are versioned and applied once; a newer database is refused', async () => {
    const s = new SqliteStore(path);
    expect(s.schemaVersion()).toBe(SCHEMA_VERSION);
    await s.close();
    const db = new Database(path);
    expect(db.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get()).toBe(SCHEMA_VERSION);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)').run(SCHEMA_VERSION + 1);
    db.close();
    expect(errorCode(() => new SqliteStore(path))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => new SqliteStore(join(dir, 'no', 'such', 'dir', 'x.db')))).toBe('INVALID_ARGUMENT');
  });

  it('a database from before key histories (schema 2) is migrated: its meters keep their key, with an empty history', async () => {
    const file = join(dir, 'v2.db');
    const publicKey = schnorrPublicKey(randomScalar());
    const s = new SqliteStore(file);
    await s.putMeter({ meterId: 'OLD', publicKey, meterClass: HOUSEHOLD, feeder: 'F1', keyEpoch: 3 });
    await s.close();
    // Back to schema 2, as an earlier zkmeter left it.
    const db = new Database(file);
    db.exec('DROP TABLE bills; ALTER TABLE meters DROP COLUMN history_json; ALTER TABLE meters DROP COLUMN certificate; ALTER TABLE meters DROP COLUMN valid_from; DELETE FROM schema_migrations WHERE version > 2');
    expect(db.prepare('SELECT * FROM meters').get()).not.toHaveProperty('history_json');
    db.close();
    const again = new SqliteStore(file);
    expect(again.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(await again.getMeter('OLD')).toEqual({ meterId: 'OLD', publicKey, meterClass: HOUSEHOLD, feeder: 'F1', keyEpoch: 3, validFrom: 0, history: [] });
    await again.close();
  });

  it('a database from before stored bills (schema 3) is migrated: its meters kept, bills stored from then on', async () => {
    const file = join(dir, 'v3.db');
    const publicKey = schnorrPublicKey(randomScalar());
    const s = new SqliteStore(file);
    await s.putMeter({ meterId: 'OLD', publicKey, meterClass: HOUSEHOLD, feeder: 'F1', keyEpoch: 0 });
    await s.close();
    const db = new Database(file);
    db.exec('DROP TABLE bills; DELETE FROM schema_migrations WHERE version > 3');
    db.close();
    const again = new SqliteStore(file);
    expect(SCHEMA_VERSION).toBe(4);
    expect(again.schemaVersion()).toBe(4);
    expect((await again.getMeter('OLD'))?.publicKey).toEqual(publicKey);
    expect(await again.getBill('00'.repeat(32))).toBeUndefined();
    expect(await again.putBill('00'.repeat(32), '{"id":"x"}')).toBe('{"id":"x"}');
    await again.close();
  });
});
