/**
 * The control center's state in SQLite (better-sqlite3), zero setup: one file,
 * WAL mode, synchronous = FULL, versioned migrations. The database enforces
 * (meter, interval) uniqueness with the readings table's primary key, and a
 * batch of records is written in one IMMEDIATE transaction (a group commit), so
 * each record is stored whole or not at all and, once `putRecords` resolves,
 * survives a crash. better-sqlite3 is synchronous: each call runs to completion
 * on the calling thread, which also serialises writers within a process.
 * Issued bills are kept in their own table, the first one stored under an id for good.
 * @module
 */
import Database from 'better-sqlite3';
import { ZkmeterError } from '../errors.js';
import { recordIntervals } from '../protocol/records.js';
import type { CenterStore, PutOutcome, RecordToStore, Rejection, StoredMeter, StoredReading } from '../protocol/store.js';
import { METER_COLUMNS, meterValues, rowBytes as bytes, toMeter, toReading, type MeterRow, type ReadingRow } from './rows.js';

/** Versioned schema changes, applied in order, each once, in its own transaction. */
const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE meters (
        meter_id   TEXT PRIMARY KEY,
        public_key BLOB NOT NULL,
        class_json TEXT NOT NULL,
        feeder     TEXT,
        key_epoch  INTEGER NOT NULL
      );
      CREATE INDEX meters_by_feeder ON meters (feeder);
      CREATE TABLE records (
        record_id  TEXT PRIMARY KEY,
        meter_id   TEXT NOT NULL,
        bytes      BLOB NOT NULL
      );
      CREATE TABLE readings (
        meter_id       TEXT NOT NULL,
        interval_start INTEGER NOT NULL,
        c1             BLOB NOT NULL,
        c2             BLOB NOT NULL,
        abnormal       INTEGER NOT NULL,
        record_id      TEXT NOT NULL REFERENCES records (record_id),
        PRIMARY KEY (meter_id, interval_start)
      ) WITHOUT ROWID;
      CREATE TABLE inspection (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        meter_id       TEXT NOT NULL,
        interval_start INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE rejections (
        meter_id       TEXT NOT NULL,
        interval_start INTEGER NOT NULL,
        reason         TEXT NOT NULL,
        rejected_at    INTEGER NOT NULL,
        PRIMARY KEY (meter_id, interval_start)
      ) WITHOUT ROWID;
    `,
  },
  {
    // Key histories: the current epoch's validity start and certificate, the earlier epochs as JSON.
    version: 3,
    sql: `
      ALTER TABLE meters ADD COLUMN valid_from INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE meters ADD COLUMN certificate BLOB;
      ALTER TABLE meters ADD COLUMN history_json TEXT NOT NULL DEFAULT '[]';
    `,
  },
  {
    // Issued bills, as answered, under the id of their request: asked again, a bill is served, not decrypted again.
    version: 4,
    sql: `
      CREATE TABLE bills (
        bill_id   TEXT PRIMARY KEY,
        json      TEXT NOT NULL,
        issued_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export class SqliteStore implements CenterStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly q: Record<string, Database.Statement>;

  /** Opens (creating if needed) the database at `path` (`:memory:` for tests) and migrates it. */
  constructor(path: string) {
    this.path = path;
    try {
      this.db = new Database(path);
    } catch (e) {
      throw new ZkmeterError('INVALID_ARGUMENT', `cannot open database ${path}: ${(e as Error).message}`);
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.q = {
      putMeter: this.db.prepare(
        `INSERT INTO meters (${METER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (meter_id) DO UPDATE SET public_key = excluded.public_key, class_json = excluded.class_json,
           feeder = excluded.feeder, key_epoch = excluded.key_epoch, valid_from = excluded.valid_from,
           certificate = excluded.certificate, history_json = excluded.history_json`,
      ),
      getMeter: this.db.prepare('SELECT * FROM meters WHERE meter_id = ?'),
      meterIds: this.db.prepare('SELECT meter_id FROM meters ORDER BY meter_id').pluck(),
      held: this.db.prepare('SELECT interval_start, record_id FROM readings WHERE meter_id = ? AND interval_start >= ? AND interval_start <= ?'),
      putRecord: this.db.prepare('INSERT INTO records (record_id, meter_id, bytes) VALUES (?, ?, ?)'),
      putReading: this.db.prepare('INSERT INTO readings (meter_id, interval_start, c1, c2, abnormal, record_id) VALUES (?, ?, ?, ?, ?, ?)'),
      putInspection: this.db.prepare('INSERT INTO inspection (meter_id, interval_start) VALUES (?, ?)'),
      readings: this.db.prepare('SELECT * FROM readings WHERE meter_id = ? AND interval_start >= ? AND interval_start < ? ORDER BY interval_start'),
      feeder: this.db.prepare('SELECT r.* FROM readings r JOIN meters m ON m.meter_id = r.meter_id WHERE m.feeder = ? AND r.interval_start >= ? AND r.interval_start < ? ORDER BY r.meter_id, r.interval_start'),
      feederMeters: this.db.prepare('SELECT meter_id FROM meters WHERE feeder = ? ORDER BY meter_id').pluck(),
      evidence: this.db.prepare('SELECT bytes FROM records WHERE record_id = ?').pluck(),
      putRejection: this.db.prepare(
        `INSERT INTO rejections (meter_id, interval_start, reason, rejected_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (meter_id, interval_start) DO UPDATE SET reason = excluded.reason, rejected_at = excluded.rejected_at`,
      ),
      rejections: this.db.prepare('SELECT * FROM rejections WHERE meter_id = ? AND interval_start >= ? AND interval_start < ? ORDER BY interval_start'),
      inspection: this.db.prepare(
        'SELECT r.* FROM inspection i JOIN readings r ON r.meter_id = i.meter_id AND r.interval_start = i.interval_start ORDER BY i.seq',
      ),
      putBill: this.db.prepare('INSERT INTO bills (bill_id, json, issued_at) VALUES (?, ?, ?) ON CONFLICT (bill_id) DO NOTHING'),
      getBill: this.db.prepare('SELECT json FROM bills WHERE bill_id = ?').pluck(),
    };
  }

  /** The schema version of the open database. */
  schemaVersion(): number {
    return (this.db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get() as number | null) ?? 0;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const current = this.schemaVersion();
    if (current > SCHEMA_VERSION) {
      throw new ZkmeterError('INVALID_ARGUMENT', `database ${this.path} has schema version ${current}, newer than this zkmeter (${SCHEMA_VERSION})`);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Math.floor(Date.now() / 1000));
      })();
    }
  }

  async putMeter(m: StoredMeter): Promise<void> {
    this.q.putMeter!.run(...meterValues(m));
  }

  async putMeters(ms: readonly StoredMeter[]): Promise<void> {
    this.db.transaction(() => {
      for (const m of ms) this.q.putMeter!.run(...meterValues(m));
    })();
  }

  async getMeter(meterId: string): Promise<StoredMeter | undefined> {
    const r = this.q.getMeter!.get(meterId) as MeterRow | undefined;
    return r === undefined ? undefined : toMeter(r);
  }

  async getMeters(meterIds: readonly string[]): Promise<Map<string, StoredMeter>> {
    const out = new Map<string, StoredMeter>();
    for (const id of new Set(meterIds)) {
      const r = this.q.getMeter!.get(id) as MeterRow | undefined;
      if (r !== undefined) out.set(id, toMeter(r));
    }
    return out;
  }

  async meterIds(): Promise<string[]> {
    return this.q.meterIds!.all() as string[];
  }

  async putRecords(records: readonly RecordToStore[], rejections: readonly Rejection[] = []): Promise<PutOutcome[]> {
    const write = this.db.transaction((): PutOutcome[] => {
      for (const j of rejections) this.q.putRejection!.run(j.meterId, j.intervalStart, j.reason, j.at);
      return records.map((r) => this.putRecord(r));
    });
    return write.immediate();
  }

  /** One record inside putRecords' transaction. */
  private putRecord(r: RecordToStore): PutOutcome {
    const h = r.header;
    const intervals = recordIntervals(h);
    const held = new Map(
      (this.q.held!.all(h.meterId, intervals[0], intervals[intervals.length - 1]) as { interval_start: number; record_id: string }[]).map((x) => [x.interval_start, x.record_id]),
    );
    const mine = intervals.filter((t) => held.get(t) === r.recordId).length;
    if (mine === intervals.length) return { status: 'repeated' };
    const clash = intervals.find((t) => held.has(t));
    if (clash !== undefined) return { status: 'taken', intervalStart: clash };
    this.q.putRecord!.run(r.recordId, h.meterId, Buffer.from(r.bytes));
    intervals.forEach((t, j) => {
      // The primary key (meter_id, interval_start) is the last word on uniqueness.
      this.q.putReading!.run(h.meterId, t, Buffer.from(r.ciphertexts[j]!.c1), Buffer.from(r.ciphertexts[j]!.c2), h.abnormal ? 1 : 0, r.recordId);
      if (h.abnormal) this.q.putInspection!.run(h.meterId, t);
    });
    return { status: 'stored' };
  }

  async readings(meterId: string, from: number, to: number): Promise<StoredReading[]> {
    return (this.q.readings!.all(meterId, from, to) as ReadingRow[]).map(toReading);
  }

  async rejections(meterId: string, from: number, to: number): Promise<Rejection[]> {
    return (this.q.rejections!.all(meterId, from, to) as { meter_id: string; interval_start: number; reason: string; rejected_at: number }[]).map((r) => ({
      meterId: r.meter_id,
      intervalStart: r.interval_start,
      reason: r.reason,
      at: r.rejected_at,
    }));
  }

  async feederReadings(feeder: string, from: number, to: number): Promise<StoredReading[]> {
    return (this.q.feeder!.all(feeder, from, to) as ReadingRow[]).map(toReading);
  }

  async feederMeters(feeder: string): Promise<string[]> {
    return this.q.feederMeters!.all(feeder) as string[];
  }

  async evidence(recordId: string): Promise<Uint8Array | undefined> {
    const b = this.q.evidence!.get(recordId) as Buffer | undefined;
    return b === undefined ? undefined : bytes(b);
  }

  async inspectionQueue(): Promise<StoredReading[]> {
    return (this.q.inspection!.all() as ReadingRow[]).map(toReading);
  }

  async putBill(id: string, json: string): Promise<string> {
    // IMMEDIATE: another process's bill under the same id is either committed before ours is tried, or waits for ours.
    const put = this.db.transaction((): string => {
      this.q.putBill!.run(id, json, Math.floor(Date.now() / 1000));
      return this.q.getBill!.get(id) as string;
    });
    return put.immediate();
  }

  async getBill(id: string): Promise<string | undefined> {
    return (this.q.getBill!.get(id) as string | undefined) ?? undefined;
  }
}
