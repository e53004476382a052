/**
 * The control center on SQLite: the shared store behaviour (test/support/store-suite.ts),
 * (meter, interval) uniqueness enforced by the database itself, WAL mode, and
 * versioned migrations applied once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
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
});
