/**
 * The control center's state in PostgreSQL (node-postgres `pg`, one pool per
 * store), for several center processes sharing one database.
 *
 * Durability: a batch of records is written in one transaction (a group
 * commit) and `putRecords` resolves only after COMMIT, with synchronous_commit
 * on (the store turns it back on for its transactions if the database or role
 * has it off), so what it reports stored survives a crash of the server.
 *
 * Uniqueness is the database's: the readings table's primary key
 * (meter_id, interval_start) holds at most one reading per interval, whoever
 * writes. Each record is inserted under its own SAVEPOINT with
 * `ON CONFLICT DO NOTHING`: an insert that meets a row another transaction has
 * not committed yet waits for it, so a short count means some interval is
 * held (committed, or earlier in this batch). The record is then rolled back to
 * its savepoint (whole or not at all) and the holders re-read to answer
 * `repeated` or `taken`. Records are decided in order within the transaction.
 * Two batches that cross (each waiting on a row the other inserted) deadlock;
 * PostgreSQL aborts one and the store retries that whole batch, which
 * wrote nothing.
 *
 * Issued bills: one row per bill id, the first one committed wins (INSERT …
 * ON CONFLICT DO NOTHING waits for a racing insert of the same id, and the
 * SELECT after it, a new snapshot, then sees whichever was committed).
 *
 * Migrations are versioned (table schema_migrations) and applied under a
 * transaction-scoped advisory lock, so stores opening a fresh database at once
 * migrate it exactly once.
 *
 * Columns: ids TEXT in the "C" collation (byte order, like SQLite and
 * MemoryStore), keys and ciphertext points BYTEA, times BIGINT Unix seconds,
 * read back as JS numbers.
 * @module
 */
import pg from 'pg';
import { ZkmeterError } from '../errors.js';
import { recordIntervals } from '../protocol/records.js';
import type { CenterStore, PutOutcome, RecordToStore, Rejection, StoredMeter, StoredReading } from '../protocol/store.js';
import { METER_COLUMNS, meterValues, rowBytes as bytes, toMeter, toReading, type MeterRow, type ReadingRow } from './rows.js';

/** Versioned schema changes, applied in order, each once; later changes append a version. */
const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE meters (
        meter_id   TEXT COLLATE "C" PRIMARY KEY,
        public_key BYTEA NOT NULL,
        class_json TEXT NOT NULL,
        feeder     TEXT COLLATE "C",
        key_epoch  INTEGER NOT NULL
      );
      CREATE INDEX meters_by_feeder ON meters (feeder);
      CREATE TABLE records (
        record_id TEXT COLLATE "C" PRIMARY KEY,
        meter_id  TEXT COLLATE "C" NOT NULL,
        bytes     BYTEA NOT NULL
      );
      CREATE TABLE readings (
        meter_id       TEXT COLLATE "C" NOT NULL,
        interval_start BIGINT NOT NULL,
        c1             BYTEA NOT NULL,
        c2             BYTEA NOT NULL,
        abnormal       BOOLEAN NOT NULL,
        record_id      TEXT COLLATE "C" NOT NULL REFERENCES records (record_id),
        PRIMARY KEY (meter_id, interval_start)
      );
      CREATE TABLE inspection (
        seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        meter_id       TEXT COLLATE "C" NOT NULL,
        interval_start BIGINT NOT NULL
      );
      CREATE TABLE rejections (
        meter_id       TEXT COLLATE "C" NOT NULL,
        interval_start BIGINT NOT NULL,
        reason         TEXT NOT NULL,
        rejected_at    BIGINT NOT NULL,
        PRIMARY KEY (meter_id, interval_start)
      );
    `,
  },
  {
    // Key histories: the current epoch's validity start and certificate, the earlier epochs as JSON.
    version: 2,
    sql: `
      ALTER TABLE meters
        ADD COLUMN valid_from BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN certificate BYTEA,
        ADD COLUMN history_json TEXT NOT NULL DEFAULT '[]';
    `,
  },
  {
    // Key epochs are 32-bit unsigned: a certificate may carry any up to 2^32 − 1.
    version: 3,
    sql: `ALTER TABLE meters ALTER COLUMN key_epoch TYPE BIGINT;`,
  },
  {
    // Issued bills, as answered, under the id of their request: asked again, a bill is served, not decrypted again.
    version: 4,
    sql: `
      CREATE TABLE bills (
        bill_id   TEXT COLLATE "C" PRIMARY KEY,
        json      TEXT NOT NULL,
        issued_at BIGINT NOT NULL
      );
    `,
  },
];

const PUT_METER = `INSERT INTO meters (${METER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (meter_id) DO UPDATE SET public_key = excluded.public_key, class_json = excluded.class_json,
    feeder = excluded.feeder, key_epoch = excluded.key_epoch, valid_from = excluded.valid_from,
    certificate = excluded.certificate, history_json = excluded.history_json`;

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Advisory lock key serialising migrations: "zkmeter" in ASCII. */
const MIGRATION_LOCK = '34473727694906738'; // 0x7a6b6d65746572

/** How often a batch is retried after PostgreSQL aborted it for a deadlock or serialization failure. */
const MAX_ATTEMPTS = 5;
const RETRYABLE = new Set(['40P01', '40001']);

export interface PgStoreOptions {
  /** Most connections the pool opens (default 10). */
  readonly poolSize?: number;
  /** Milliseconds to wait for a connection before failing (default 10,000). */
  readonly connectTimeoutMs?: number;
}

/**
 * The URL without secrets, for logs and messages: no password in the
 * authority and no `password`/`sslpassword` query parameter. An unparseable
 * URL is not echoed at all.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    for (const k of [...u.searchParams.keys()]) if (/password/i.test(k)) u.searchParams.delete(k);
    return u.toString();
  } catch {
    return `${/^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? ''}(unparseable URL)`;
  }
}

/** `message` without the password (or `*password*` query parameters) of `url`, should a driver echo one. */
export function scrub(message: string, url: string): string {
  for (const s of secretsOf(url)) message = message.split(s).join('***');
  return message;
}

/** The secrets `url` carries (none for an unparseable URL), as given and percent-decoded. */
function secretsOf(url: string): string[] {
  try {
    const u = new URL(url);
    const out = [u.password, ...[...u.searchParams].filter(([k]) => /password/i.test(k)).map(([, v]) => v)];
    return out.flatMap((s) => [s, safeDecode(s)]).filter((s) => s.length > 0);
  } catch {
    return [];
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A connection error's reason; Node reports refused dual-stack connects as an AggregateError with an empty message. */
export function reasonOf(e: unknown): string {
  if (e instanceof AggregateError && e.message === '') return [...new Set(e.errors.map(reasonOf))].join('; ');
  if (e instanceof Error) return e.message || String((e as { code?: unknown }).code ?? e.name);
  return String(e);
}

/**
 * The first connection of a new `pool` on `url`. A database that cannot be reached ends
 * the pool and is a ZkmeterError 'INVALID_ARGUMENT' naming `where`, never the password.
 */
export async function connectFirst(pool: pg.Pool, url: string, where: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new ZkmeterError('INVALID_ARGUMENT', `cannot connect to PostgreSQL ${where}: ${scrub(reasonOf(e), url)}`);
  }
}

/** int8 (BIGINT, and count(*)) as a JS number: every value stored here is a Unix time or a count. */
function parseInt8(s: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new Error(`BIGINT ${s} is beyond JS number precision`);
  return n;
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};


/** A Buffer view (no copy) for a BYTEA parameter. */
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

const READING_COLUMNS = 'r.meter_id, r.interval_start, r.c1, r.c2, r.abnormal, r.record_id';

/**
 * One record in one statement: its records row (already there when repeated),
 * its readings in one multi-row INSERT, and abnormal ones queued for
 * inspection. Returns how many readings it inserted; fewer than the record's
 * intervals means some interval is held.
 * $1 record_id, $2 meter_id, $3 bytes, $4 interval starts, $5 c1s, $6 c2s, $7 abnormal.
 */
const PUT_RECORD = `
  WITH rec AS (
    INSERT INTO records (record_id, meter_id, bytes) VALUES ($1, $2, $3) ON CONFLICT (record_id) DO NOTHING
  ), rd AS (
    INSERT INTO readings (meter_id, interval_start, c1, c2, abnormal, record_id)
    SELECT $2, u.t, u.c1, u.c2, $7, $1 FROM unnest($4::bigint[], $5::bytea[], $6::bytea[]) AS u (t, c1, c2)
    ON CONFLICT (meter_id, interval_start) DO NOTHING
    RETURNING interval_start
  ), insp AS (
    INSERT INTO inspection (meter_id, interval_start) SELECT $2, interval_start FROM rd WHERE $7 ORDER BY interval_start
  )
  SELECT count(*)::int AS n FROM rd`;

/** Rejections, one row per (meter, interval): $1 meter ids, $2 interval starts, $3 reasons, $4 times. */
const PUT_REJECTIONS = `
  INSERT INTO rejections (meter_id, interval_start, reason, rejected_at)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[])
  ON CONFLICT (meter_id, interval_start) DO UPDATE SET reason = excluded.reason, rejected_at = excluded.rejected_at`;

export class PgStore implements CenterStore {
  private readonly pool: pg.Pool;
  /** The URL without its password. */
  private readonly where: string;
  /** What starts a write transaction: with synchronous_commit forced on where the database has it off. */
  private readonly begin: string;
  private closed = false;

  private constructor(pool: pg.Pool, where: string, begin: string) {
    this.pool = pool;
    this.where = where;
    this.begin = begin;
  }

  /**
   * Connects to the database at `url` (postgres:// or postgresql://) and
   * migrates it. A database that cannot be reached, or whose schema is newer
   * than this code's, is a ZkmeterError 'INVALID_ARGUMENT' (never showing the
   * password).
   */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
    const where = redactUrl(url);
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000, types });
    // An idle connection that drops (a server restart) is discarded by the pool and
    // replaced on next use; without a listener its error would crash the process.
    pool.on('error', () => {});
    const client = guard(await connectFirst(pool, url, where));
    try {
      const sync = await migrate(client, where);
      client.release();
      return new PgStore(pool, where, sync === 'off' ? 'BEGIN; SET LOCAL synchronous_commit TO on' : 'BEGIN');
    } catch (e) {
      client.release(true);
      await pool.end().catch(() => {});
      throw e;
    }
  }

  /** For logs: the database URL without its password. */
  describe(): string {
    return `PostgreSQL ${this.where}`;
  }

  /** The schema version of the open database. */
  async schemaVersion(): Promise<number> {
    return (await this.pool.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]?.v ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  async putMeter(m: StoredMeter): Promise<void> {
    await this.pool.query(PUT_METER, meterValues(m));
  }

  async putMeters(ms: readonly StoredMeter[]): Promise<void> {
    await this.transaction(async (client) => {
      for (const m of ms) await client.query(PUT_METER, meterValues(m));
    });
  }

  async getMeter(meterId: string): Promise<StoredMeter | undefined> {
    return (await this.getMeters([meterId])).get(meterId);
  }

  async getMeters(meterIds: readonly string[]): Promise<Map<string, StoredMeter>> {
    const ids = [...new Set(meterIds)];
    const rows = (await this.pool.query<MeterRow>('SELECT * FROM meters WHERE meter_id = ANY($1::text[])', [ids])).rows;
    const found = new Map(rows.map((r) => [r.meter_id, toMeter(r)]));
    const out = new Map<string, StoredMeter>();
    for (const id of ids) {
      const m = found.get(id);
      if (m !== undefined) out.set(id, m);
    }
    return out;
  }

  async meterIds(): Promise<string[]> {
    return (await this.pool.query<{ meter_id: string }>('SELECT meter_id FROM meters ORDER BY meter_id')).rows.map((r) => r.meter_id);
  }

  async putRecords(records: readonly RecordToStore[], rejections: readonly Rejection[] = []): Promise<PutOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction(async (client) => {
          await putRejections(client, rejections);
          const out: PutOutcome[] = [];
          for (const [i, r] of records.entries()) out.push(await putRecord(client, r, i > 0));
          return out;
        });
      } catch (e) {
        if (attempt < MAX_ATTEMPTS && RETRYABLE.has(String((e as { code?: unknown }).code))) continue;
        throw e;
      }
    }
  }

  /**
   * `fn` in one transaction begun as `this.begin` (synchronous commit on), committed if it
   * returns; rolled back if it throws, and a connection that cannot even roll back is
   * destroyed rather than returned to the pool.
   */
  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    try {
      await client.query(this.begin);
      const out = await fn(client);
      await client.query('COMMIT');
      client.release();
      return out;
    } catch (e) {
      const broken = await client.query('ROLLBACK').then(
        () => false,
        () => true,
      );
      client.release(broken);
      throw e;
    }
  }

  /** A pooled connection for a transaction, released with `release()`. */
  private async checkout(): Promise<pg.PoolClient> {
    return guard(await this.pool.connect());
  }

  async readings(meterId: string, from: number, to: number): Promise<StoredReading[]> {
    const q = `SELECT ${READING_COLUMNS} FROM readings r WHERE r.meter_id = $1 AND r.interval_start >= $2 AND r.interval_start < $3 ORDER BY r.interval_start`;
    return (await this.pool.query<ReadingRow>(q, [meterId, from, to])).rows.map(toReading);
  }

  async rejections(meterId: string, from: number, to: number): Promise<Rejection[]> {
    const q = 'SELECT * FROM rejections WHERE meter_id = $1 AND interval_start >= $2 AND interval_start < $3 ORDER BY interval_start';
    const rows = (await this.pool.query<{ meter_id: string; interval_start: number; reason: string; rejected_at: number }>(q, [meterId, from, to])).rows;
    return rows.map((r) => ({ meterId: r.meter_id, intervalStart: r.interval_start, reason: r.reason, at: r.rejected_at }));
  }

  async feederReadings(feeder: string, from: number, to: number): Promise<StoredReading[]> {
    const q = `SELECT ${READING_COLUMNS} FROM readings r JOIN meters m ON m.meter_id = r.meter_id WHERE m.feeder = $1 AND r.interval_start >= $2 AND r.interval_start < $3 ORDER BY r.meter_id, r.interval_start`;
    return (await this.pool.query<ReadingRow>(q, [feeder, from, to])).rows.map(toReading);
  }

  async feederMeters(feeder: string): Promise<string[]> {
    return (await this.pool.query<{ meter_id: string }>('SELECT meter_id FROM meters WHERE feeder = $1 ORDER BY meter_id', [feeder])).rows.map((r) => r.meter_id);
  }

  async evidence(recordId: string): Promise<Uint8Array | undefined> {
    const row = (await this.pool.query<{ bytes: Buffer }>('SELECT bytes FROM records WHERE record_id = $1', [recordId])).rows[0];
    return row === undefined ? undefined : bytes(row.bytes);
  }

  async inspectionQueue(): Promise<StoredReading[]> {
    const q = `SELECT ${READING_COLUMNS} FROM inspection i JOIN readings r ON r.meter_id = i.meter_id AND r.interval_start = i.interval_start ORDER BY i.seq`;
    return (await this.pool.query<ReadingRow>(q)).rows.map(toReading);
  }

  async putBill(id: string, json: string): Promise<string> {
    // The first bill stored under an id is the bill: a concurrent writer gets that one back.
    return this.transaction(async (client) => {
      await client.query('INSERT INTO bills (bill_id, json, issued_at) VALUES ($1, $2, $3) ON CONFLICT (bill_id) DO NOTHING', [id, json, Math.floor(Date.now() / 1000)]);
      return (await client.query<{ json: string }>('SELECT json FROM bills WHERE bill_id = $1', [id])).rows[0]!.json;
    });
  }

  async getBill(id: string): Promise<string | undefined> {
    return (await this.pool.query<{ json: string }>('SELECT json FROM bills WHERE bill_id = $1', [id])).rows[0]?.json;
  }
}

/**
 * A checked-out connection lost between two statements is reported as an
 * 'error' event on the client (not on a query), which without a listener would
 * crash the process; with one, the next statement fails instead. Removed on
 * release, where the pool's own listener takes over.
 */
function guard(client: pg.PoolClient): pg.PoolClient {
  const lost = () => {};
  client.on('error', lost);
  const release = client.release.bind(client);
  client.release = (err?: Error | boolean) => {
    client.removeListener('error', lost);
    release(err);
  };
  return client;
}

/**
 * Applies the missing migrations in one transaction under the migration lock
 * (PostgreSQL's DDL is transactional: a failure leaves the previous version).
 * Returns the session's synchronous_commit setting.
 */
async function migrate(client: pg.PoolClient, where: string): Promise<string> {
  await client.query('BEGIN');
  try {
    // Before CREATE TABLE IF NOT EXISTS, which itself races between sessions.
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const current = (await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]?.v ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new ZkmeterError('INVALID_ARGUMENT', `database ${where} has schema version ${current}, newer than this zkmeter (${SCHEMA_VERSION})`);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [m.version, Math.floor(Date.now() / 1000)]);
    }
    const sync = (await client.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s")).rows[0]!.s;
    await client.query('COMMIT');
    return sync;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/** The latest rejection per (meter, interval), in key order so concurrent batches lock rows in one order. */
async function putRejections(client: pg.PoolClient, rejections: readonly Rejection[]): Promise<void> {
  if (rejections.length === 0) return;
  const latest = new Map<string, Rejection>();
  for (const j of rejections) latest.set(JSON.stringify([j.meterId, j.intervalStart]), j);
  const rows = [...latest.values()].sort((a, b) => (a.meterId < b.meterId ? -1 : a.meterId > b.meterId ? 1 : a.intervalStart - b.intervalStart));
  await client.query(PUT_REJECTIONS, [rows.map((j) => j.meterId), rows.map((j) => j.intervalStart), rows.map((j) => j.reason), rows.map((j) => j.at)]);
}

/** One record inside putRecords' transaction; `release` drops the previous record's savepoint first. */
async function putRecord(client: pg.PoolClient, r: RecordToStore, release: boolean): Promise<PutOutcome> {
  const h = r.header;
  const intervals = recordIntervals(h);
  await client.query(release ? 'RELEASE SAVEPOINT record; SAVEPOINT record' : 'SAVEPOINT record');
  const put = await client.query<{ n: number }>(PUT_RECORD, [
    r.recordId,
    h.meterId,
    buf(r.bytes),
    intervals,
    r.ciphertexts.map((c) => buf(c.c1)),
    r.ciphertexts.map((c) => buf(c.c2)),
    h.abnormal,
  ]);
  if (put.rows[0]!.n === intervals.length) return { status: 'stored' };
  // Some interval is held: undo this record's rows, then see by whom (a fresh
  // snapshot under READ COMMITTED shows the holder the insert waited for).
  await client.query('ROLLBACK TO SAVEPOINT record');
  const rows = (
    await client.query<{ interval_start: number; record_id: string }>('SELECT interval_start, record_id FROM readings WHERE meter_id = $1 AND interval_start = ANY($2::bigint[])', [
      h.meterId,
      intervals,
    ])
  ).rows;
  const held = new Map(rows.map((x) => [x.interval_start, x.record_id]));
  if (intervals.every((t) => held.get(t) === r.recordId)) return { status: 'repeated' };
  const clash = intervals.find((t) => held.has(t));
  if (clash === undefined) throw new Error(`readings of ${h.meterId} conflicted but none is visible`);
  return { status: 'taken', intervalStart: clash };
}
