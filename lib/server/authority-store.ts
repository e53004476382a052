/**
 * The privacy authority's durable store (`zkmeter authority serve`): its ledger
 * of the meter certificates it registered, its tariff versions and every bill
 * and grid it released (`LedgerEntry`, protocol/authority.ts), in SQLite (a
 * file path, the default) or PostgreSQL (a `postgres://` or `postgresql://`
 * URL). The authority is rebuilt from `load()` at start
 * (`new PrivacyAuthority({ ledger: new MemoryLedger(entries.map((e) => e.entry)), … })`),
 * and each release is appended, and its commit awaited, before its decryption
 * share leaves (`prepareBill`/`prepareGrid`, `append`, then `commit`). The
 * same rows, paged by `log()`, are the public log of what was released, for
 * whom and when.
 *
 * ## Rows
 *
 * One table, `authority_ledger (seq, at, kind, entry, chain)`: `seq` counts
 * entries from 1 without gaps, `at` is the Unix time in milliseconds when the
 * entry was recorded (one `at` for all the entries of one `append`), `kind` the
 * entry's kind (for filtering), `entry` the entry as canonical JSON (below),
 * `chain` the hash chain (below) as 64 lowercase hex digits. `at` is the
 * recording host's clock, not forced to be monotonic (a clock stepped back is
 * not a reason to stop releasing); `seq` is the order. A table
 * `authority_meta (key, value)` holds `schema_version` (now 1); a store whose
 * version is newer than this code's is refused. Entries hold strings and safe
 * integers only (no bigints: `LedgerEntry` has none), so JSON is exact.
 *
 * ## Canonical JSON
 *
 * The JSON Canonicalization Scheme of RFC 8785 (JCS): no whitespace; object
 * members sorted by their names compared as sequences of UTF-16 code units,
 * recursively; strings serialised as ECMAScript's `JSON.stringify` does (`"`,
 * `\` and U+0000..U+001F escaped, the latter as `\b \t \n \f \r` or `\u00xx`
 * with lowercase hex, everything else literal); numbers as ECMAScript's
 * `Number.prototype.toString` (for the integers a ledger holds: plain decimal,
 * `-0` as `0`); `true`, `false`, `null` as such. Refused: lone surrogates,
 * non-finite numbers, `undefined`, bigints and anything that is not a plain
 * object, an array or one of those values. Any RFC 8785 implementation
 * reproduces it byte for byte.
 *
 * ## Hash chain
 *
 *   chain_0 = 32 zero bytes
 *   chain_i = SHA-256( chain_{i−1} (32 bytes) ‖ UTF-8( canonical JSON of {"seq": i, "at": at_i, "entry": entry_i} ) )
 *
 * so the hashed text of an entry reads `{"at":…,"entry":{…},"seq":…}`
 * (`ledgerChainStep`). `load()` recomputes the whole chain and `log()` checks
 * each row it returns against its predecessor's stored chain: an edited, removed
 * or malformed row is refused (ZkmeterError 'INVALID_ARGUMENT' naming its seq),
 * never skipped, since forgetting a release would let a later request isolate a
 * reading. The chain makes edits evident only relative to a head published
 * elsewhere (`head()`): whoever can write the database can rewrite every later
 * chain, or drop the newest rows, so auditors should keep the heads they saw.
 *
 * ## One authority per store
 *
 * Two authority processes deciding from diverging memories could release what
 * neither alone would, so a store is held by one process at a time: SQLite is
 * opened in `locking_mode = EXCLUSIVE` (with WAL, synchronous = FULL), which
 * holds the file's lock until `close()`, so another process (or another
 * connection in this one) is refused at open; PostgreSQL takes the session
 * advisory lock `AUTHORITY_LOCK` on the connection that then does every write,
 * refusing to open while another session holds it and releasing it at
 * `close()`. If that connection is lost, the store refuses further appends
 * (the lock went with it): restart the authority. A SQLite file is created (if
 * missing) with mode 0600, and an existing one is narrowed to 0600; its WAL
 * file takes the same mode.
 * @module
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, openSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ZkmeterError } from '../errors.js';
import { isLedgerEntry, type LedgerEntry } from '../protocol/authority.js';
import { connectFirst, reasonOf, redactUrl, scrub, type PgStoreOptions } from './pg-store.js';
import { storeKind } from './stores.js';

/** An entry as the store holds it: its place, when it was recorded, and the hash chain through it. */
export interface StoredLedgerEntry {
  readonly seq: number;
  /** Unix milliseconds when it was recorded. */
  readonly at: number;
  readonly entry: LedgerEntry;
  /** chain_seq, 64 lowercase hex digits (module comment). */
  readonly chain: string;
}

export interface AuthorityStore {
  /**
   * Every entry, in order (what the authority is rebuilt from). Validates each with
   * isLedgerEntry and recomputes the hash chain; a broken chain or a malformed row
   * refuses (ZkmeterError INVALID_ARGUMENT naming the seq), never silently skipped.
   */
  load(): Promise<StoredLedgerEntry[]>;
  /** Appends entries in ONE transaction (all or none), durable when the promise resolves; returns them with seq, at and chain. */
  append(entries: readonly LedgerEntry[], at?: number): Promise<StoredLedgerEntry[]>;
  /** A page of the log: entries with seq > after, at most limit (1..1000), in order; optionally only some kinds. */
  log(o: { after?: number; limit: number; kinds?: readonly LedgerEntry['kind'][] }): Promise<StoredLedgerEntry[]>;
  /** The last seq and chain (0 and 64 zero hex digits when empty). */
  head(): Promise<{ seq: number; chain: string }>;
  /**
   * Binds the store to the key it serves: `keyDigest` (the shared key and this party's
   * verifying share, hashed) is recorded the first time, and any other digest is refused
   * (INVALID_ARGUMENT), so a ledger is never applied to, nor filled under, another key.
   */
  bindKey(keyDigest: string): Promise<void>;
  /**
   * The latest timestamp of a signed request any process on this store accepted (0 if
   * none): a restarted authority refuses requests signed at or before it, whose nonces
   * it no longer remembers.
   */
  requestMark(): Promise<number>;
  /** Raises the request mark to `ts` (never lowers it), durable when the promise resolves. */
  raiseRequestMark(ts: number): Promise<void>;
  /** What the store is, for logs: no secrets. */
  describe(): string;
  close(): Promise<void>;
}

const KEY_META = 'key_digest';
const MARK_META = 'request_mark';

function checkDigest(keyDigest: string): void {
  if (typeof keyDigest !== 'string' || !HEX64.test(keyDigest)) throw new ZkmeterError('INVALID_ARGUMENT', 'bindKey: expected 64 lowercase hex digits');
}

function checkMark(ts: number): void {
  if (!Number.isSafeInteger(ts) || ts < 0) throw new ZkmeterError('INVALID_ARGUMENT', 'raiseRequestMark: expected a non-negative integer (Unix seconds)');
}

function otherKey(where: string, held: string, keyDigest: string): ZkmeterError {
  return new ZkmeterError(
    'INVALID_ARGUMENT',
    `authority store ${where} belongs to another key (its ledger was kept under key digest ${held}, this authority's is ${keyDigest}): give the store of this key, or a new one with --init`,
  );
}

/** The stored request mark (0 when there is none): canonical decimal text of a non-negative integer, as raiseRequestMark writes it. */
function markOf(where: string, v: string | undefined): number {
  if (v === undefined) return 0;
  const n = intOf(v);
  if (n === undefined || n < 0 || String(n) !== v) throw new ZkmeterError('INVALID_ARGUMENT', `authority store ${where}: its request mark ${JSON.stringify(v)} is not a Unix time`);
  return n;
}

/** The schema version this code writes. */
export const AUTHORITY_SCHEMA_VERSION = 1;

/** chain_0: 32 zero bytes, in hex. */
export const ZERO_CHAIN = '0'.repeat(64);

/** Most entries one `log` page returns. */
export const MAX_LOG_PAGE = 1000;

/** The PostgreSQL session advisory lock an open authority store holds: "zkauthor" in ASCII. */
export const AUTHORITY_LOCK = '8821251452227317618'; // 0x7a6b617574686f72

const KINDS: readonly LedgerEntry['kind'][] = ['certificate', 'tariff', 'bill', 'grid'];
const HEX64 = /^[0-9a-f]{64}$/;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The canonical JSON of `value` (RFC 8785, module comment). Throws
 * ZkmeterError 'INVALID_ARGUMENT' for a value it does not represent.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, '');
  return out.join('');
}

function write(v: unknown, out: string[], path: string): void {
  const bad = (what: string): never => {
    throw new ZkmeterError('INVALID_ARGUMENT', `canonical JSON: ${what} at ${path === '' ? 'the top' : path}`);
  };
  if (v === null) out.push('null');
  else if (typeof v === 'boolean') out.push(v ? 'true' : 'false');
  else if (typeof v === 'number') {
    if (!Number.isFinite(v)) bad(`the number ${v}`);
    out.push(Object.is(v, -0) ? '0' : String(v));
  } else if (typeof v === 'string') {
    if (LONE_SURROGATE.test(v)) bad('a string with a lone surrogate');
    out.push(JSON.stringify(v));
  } else if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      if (!(i in v)) bad(`a hole in an array (index ${i})`);
      write(v[i], out, `${path}[${i}]`);
    }
    out.push(']');
  } else if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) bad('an object that is not a plain object');
    const o = v as Record<string, unknown>;
    // Array.prototype.sort compares strings by UTF-16 code units, as RFC 8785 requires.
    const keys = Object.keys(o).sort();
    out.push('{');
    keys.forEach((k, i) => {
      if (LONE_SURROGATE.test(k)) bad('a member name with a lone surrogate');
      if (i > 0) out.push(',');
      out.push(JSON.stringify(k), ':');
      write(o[k], out, `${path}.${k}`);
    });
    out.push('}');
  } else bad(`a ${typeof v}`);
}

/** chain_i from chain_{i−1} (`prev`, 64 hex digits) and entry i (module comment). */
export function ledgerChainStep(prev: string, e: { seq: number; at: number; entry: LedgerEntry }): string {
  if (typeof prev !== 'string' || !HEX64.test(prev)) throw new ZkmeterError('INVALID_ARGUMENT', 'ledgerChainStep: "prev" expected 64 lowercase hex digits');
  return createHash('sha256')
    .update(Buffer.from(prev, 'hex'))
    .update(canonicalJson({ seq: e.seq, at: e.at, entry: e.entry }), 'utf8')
    .digest('hex');
}

/** Opens (creating if needed) the authority store `spec` names: a postgres:// or postgresql:// URL, else a SQLite file path. */
export async function openAuthorityStore(spec: string, options: PgStoreOptions = {}): Promise<AuthorityStore> {
  if (typeof spec !== 'string' || spec === '') throw new ZkmeterError('INVALID_ARGUMENT', 'authority store: expected a postgres:// URL or a SQLite file path');
  return storeKind(spec) === 'postgres' ? PgAuthorityStore.open(spec, options) : SqliteAuthorityStore.open(spec);
}

/** A row as either database gives it back (PostgreSQL's BIGINTs as strings). */
interface Row {
  readonly seq: unknown;
  readonly at: unknown;
  readonly kind: unknown;
  readonly entry: unknown;
  readonly chain: unknown;
}

/** A log row with its predecessor's stored chain (null when there is no row seq − 1). */
interface LogRow extends Row {
  readonly prev: unknown;
}

function malformed(where: string, seq: number | string, why: string): never {
  throw new ZkmeterError('INVALID_ARGUMENT', `authority store ${where}: seq ${seq} ${why}: the ledger cannot be trusted, and is not read past it`);
}

/** An integer column (BIGINT text from PostgreSQL, a number from SQLite) as a JS number, or undefined. */
function intOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
}

/**
 * A stored row checked and turned back into an entry: well-formed columns, an entry
 * of the ledger's shape whose kind is the row's, and a chain that follows `prev`.
 */
function fromRow(where: string, row: Row, prev: string): StoredLedgerEntry {
  const seq = intOf(row.seq);
  if (seq === undefined || seq < 1) malformed(where, String(row.seq), 'is not a positive integer');
  const at = intOf(row.at);
  if (at === undefined || at < 0) malformed(where, seq, 'has no valid time ("at")');
  if (typeof row.entry !== 'string') malformed(where, seq, 'has no entry text');
  let entry: unknown;
  try {
    entry = JSON.parse(row.entry);
  } catch {
    malformed(where, seq, 'holds an entry that is not valid JSON');
  }
  if (!isLedgerEntry(entry)) malformed(where, seq, 'holds JSON that is not a ledger entry');
  if (row.kind !== entry.kind) malformed(where, seq, `is filed as kind ${JSON.stringify(row.kind)} but holds a ${entry.kind} entry`);
  if (typeof row.chain !== 'string' || !HEX64.test(row.chain)) malformed(where, seq, 'has a chain that is not 64 lowercase hex digits');
  let expected: string;
  try {
    expected = ledgerChainStep(prev, { seq, at, entry });
  } catch (e) {
    if (!(e instanceof ZkmeterError)) throw e;
    malformed(where, seq, `holds an entry outside canonical JSON (${e.message})`);
  }
  if (expected !== row.chain) malformed(where, seq, 'does not match its hash chain (the row, or one before it, was altered)');
  return { seq, at, entry, chain: row.chain };
}

/** Every row, in seq order, checked as one chain from seq 1. */
function fromRows(where: string, rows: readonly Row[]): StoredLedgerEntry[] {
  let prev = ZERO_CHAIN;
  return rows.map((row, i) => {
    const seq = intOf(row.seq);
    if (seq !== i + 1) malformed(where, String(row.seq), `is not ${i + 1}: ${i === 0 ? 'the ledger does not start at seq 1' : `the entries after seq ${i} are missing`}`);
    const e = fromRow(where, row, prev);
    prev = e.chain;
    return e;
  });
}

/** A page of log rows, each checked against its predecessor's stored chain. */
function fromLogRows(where: string, rows: readonly LogRow[]): StoredLedgerEntry[] {
  return rows.map((row) => {
    const seq = intOf(row.seq);
    if (seq === undefined || seq < 1) malformed(where, String(row.seq), 'is not a positive integer');
    let prev = ZERO_CHAIN;
    if (seq > 1) {
      if (row.prev === null || row.prev === undefined) malformed(where, seq, `follows a missing seq ${seq - 1}`);
      if (typeof row.prev !== 'string' || !HEX64.test(row.prev)) malformed(where, seq - 1, 'has a chain that is not 64 lowercase hex digits');
      prev = row.prev;
    }
    return fromRow(where, row, prev);
  });
}

/** Checks `append`'s arguments and gives each entry its canonical JSON. */
function checkAppend(entries: readonly LedgerEntry[], at: number): string[] {
  if (!Array.isArray(entries)) throw new ZkmeterError('INVALID_ARGUMENT', 'append: "entries" expected an array of ledger entries');
  if (!Number.isSafeInteger(at) || at < 0) throw new ZkmeterError('INVALID_ARGUMENT', 'append: "at" expected Unix milliseconds (a non-negative integer)');
  return entries.map((e, index) => {
    if (!isLedgerEntry(e)) throw new ZkmeterError('INVALID_ARGUMENT', `append: entry ${index} is not a ledger entry`, { index });
    try {
      return canonicalJson(e);
    } catch (err) {
      throw new ZkmeterError('INVALID_ARGUMENT', `append: entry ${index}: ${(err as Error).message}`, { index, cause: err });
    }
  });
}

/** The new rows after `head`: consecutive seqs, one `at`, the chain continued. */
function chainOn(head: { seq: number; chain: string }, entries: readonly LedgerEntry[], texts: readonly string[], at: number): (StoredLedgerEntry & { text: string })[] {
  let { seq, chain } = head;
  return entries.map((entry, i) => {
    seq += 1;
    // The entry as it will read back: what the chain is over.
    const stored = JSON.parse(texts[i]!) as LedgerEntry;
    chain = ledgerChainStep(chain, { seq, at, entry: stored });
    return { seq, at, entry: stored, chain, text: texts[i]! };
  });
}

/** `log`'s options, checked: after ≥ 0, 1 ≤ limit ≤ 1000, known kinds (undefined: all). */
function checkLog(o: { after?: number; limit: number; kinds?: readonly LedgerEntry['kind'][] }): { after: number; limit: number; kinds: LedgerEntry['kind'][] | undefined } {
  if (typeof o !== 'object' || o === null) throw new ZkmeterError('INVALID_ARGUMENT', 'log: expected { after?, limit, kinds? }');
  const after = o.after ?? 0;
  if (!Number.isSafeInteger(after) || after < 0) throw new ZkmeterError('INVALID_ARGUMENT', '"after" expected a seq (a non-negative integer)');
  if (!Number.isSafeInteger(o.limit) || o.limit < 1 || o.limit > MAX_LOG_PAGE) throw new ZkmeterError('INVALID_ARGUMENT', `"limit" expected an integer from 1 to ${MAX_LOG_PAGE}`);
  if (o.kinds === undefined) return { after, limit: o.limit, kinds: undefined };
  if (!Array.isArray(o.kinds) || !o.kinds.every((k) => KINDS.includes(k))) throw new ZkmeterError('INVALID_ARGUMENT', `"kinds" expected a list of ${KINDS.join(', ')}`);
  return { after, limit: o.limit, kinds: [...new Set(o.kinds)] };
}

function closedError(where: string): ZkmeterError {
  return new ZkmeterError('INVALID_ARGUMENT', `authority store ${where} is closed`);
}

const SQLITE_SCHEMA = `
  CREATE TABLE authority_ledger (
    seq   INTEGER PRIMARY KEY,
    at    INTEGER NOT NULL,
    kind  TEXT NOT NULL,
    entry TEXT NOT NULL,
    chain TEXT NOT NULL
  );
  CREATE INDEX authority_ledger_by_kind ON authority_ledger (kind, seq);
`;

const LOG_COLUMNS = 'l.seq, l.at, l.kind, l.entry, l.chain, p.chain AS prev';

/** The authority's ledger in a SQLite file, held exclusively by this connection until `close()`. */
export class SqliteAuthorityStore implements AuthorityStore {
  private readonly db: Database.Database;
  private readonly q: Record<'all' | 'head' | 'insert', Database.Statement>;

  private constructor(
    readonly path: string,
    db: Database.Database,
  ) {
    this.db = db;
    this.q = {
      all: db.prepare('SELECT seq, at, kind, entry, chain FROM authority_ledger ORDER BY seq'),
      head: db.prepare('SELECT seq, at, kind, entry, chain FROM authority_ledger ORDER BY seq DESC LIMIT 1'),
      insert: db.prepare('INSERT INTO authority_ledger (seq, at, kind, entry, chain) VALUES (?, ?, ?, ?, ?)'),
    };
  }

  /**
   * Opens the store at `path` (`:memory:` for a throwaway one), creating the file
   * (mode 0600) if it does not exist. Refused (ZkmeterError 'INVALID_ARGUMENT') if
   * another connection holds it, if its schema is newer than this code's, or if it is
   * a database of something else.
   */
  static open(path: string): SqliteAuthorityStore {
    if (typeof path !== 'string' || path === '') throw new ZkmeterError('INVALID_ARGUMENT', 'authority store: expected a SQLite file path');
    const memory = path === ':memory:';
    if (!memory) secureFile(path);
    let db: Database.Database;
    try {
      db = new Database(path, { fileMustExist: !memory });
    } catch (e) {
      throw new ZkmeterError('INVALID_ARGUMENT', `cannot open authority store ${path}: ${(e as Error).message}`);
    }
    try {
      // Exclusive before the first access: the lock is taken below and held until close.
      db.pragma('busy_timeout = 0');
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('BEGIN EXCLUSIVE; COMMIT');
      migrateSqlite(db, path);
      return new SqliteAuthorityStore(path, db);
    } catch (e) {
      db.close();
      if ((e as { code?: unknown }).code === 'SQLITE_BUSY') {
        throw new ZkmeterError('INVALID_ARGUMENT', `another authority process holds the authority store ${path} (one process at a time, so that no two decide from diverging memories)`);
      }
      if (e instanceof ZkmeterError) throw e;
      throw new ZkmeterError('INVALID_ARGUMENT', `cannot open authority store ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  describe(): string {
    return `SQLite ${this.path}`;
  }

  async bindKey(keyDigest: string): Promise<void> {
    this.open();
    checkDigest(keyDigest);
    const held = this.db.transaction(() => {
      const v = this.db.prepare('SELECT value FROM authority_meta WHERE key = ?').pluck().get(KEY_META) as string | undefined;
      if (v === undefined) this.db.prepare('INSERT INTO authority_meta (key, value) VALUES (?, ?)').run(KEY_META, keyDigest);
      return v ?? keyDigest;
    }).immediate();
    if (held !== keyDigest) throw otherKey(this.path, held, keyDigest);
  }

  async requestMark(): Promise<number> {
    this.open();
    return markOf(this.path, this.db.prepare('SELECT value FROM authority_meta WHERE key = ?').pluck().get(MARK_META) as string | undefined);
  }

  async raiseRequestMark(ts: number): Promise<void> {
    this.open();
    checkMark(ts);
    this.db
      .prepare('INSERT INTO authority_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(authority_meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)')
      .run(MARK_META, String(ts));
  }

  async load(): Promise<StoredLedgerEntry[]> {
    this.open();
    return fromRows(this.path, this.q.all.all() as Row[]);
  }

  async append(entries: readonly LedgerEntry[], at: number = Date.now()): Promise<StoredLedgerEntry[]> {
    this.open();
    const texts = checkAppend(entries, at);
    if (entries.length === 0) return [];
    const write = this.db.transaction(() => {
      const rows = chainOn(this.headOf(this.q.head.get() as Row | undefined), entries, texts, at);
      for (const r of rows) this.q.insert.run(r.seq, r.at, r.entry.kind, r.text, r.chain);
      return rows.map(({ seq, at, entry, chain }) => ({ seq, at, entry, chain }));
    });
    return write.immediate();
  }

  async log(o: { after?: number; limit: number; kinds?: readonly LedgerEntry['kind'][] }): Promise<StoredLedgerEntry[]> {
    this.open();
    const { after, limit, kinds } = checkLog(o);
    const filter = kinds === undefined ? '' : `AND l.kind IN (${kinds.map(() => '?').join(', ')})`;
    const rows = this.db
      .prepare(`SELECT ${LOG_COLUMNS} FROM authority_ledger l LEFT JOIN authority_ledger p ON p.seq = l.seq - 1 WHERE l.seq > ? ${filter} ORDER BY l.seq LIMIT ?`)
      .all(after, ...(kinds ?? []), limit) as LogRow[];
    return fromLogRows(this.path, rows);
  }

  async head(): Promise<{ seq: number; chain: string }> {
    this.open();
    return this.headOf(this.q.head.get() as Row | undefined);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private headOf(row: Row | undefined): { seq: number; chain: string } {
    if (row === undefined) return { seq: 0, chain: ZERO_CHAIN };
    const seq = intOf(row.seq);
    if (seq === undefined || seq < 1) malformed(this.path, String(row.seq), 'is not a positive integer');
    if (typeof row.chain !== 'string' || !HEX64.test(row.chain)) malformed(this.path, seq, 'has a chain that is not 64 lowercase hex digits');
    return { seq, chain: row.chain };
  }

  private open(): void {
    if (!this.db.open) throw closedError(this.path);
  }
}

/** Creates `path` with mode 0600 if it does not exist; narrows an existing file to 0600. */
function secureFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ZkmeterError('INVALID_ARGUMENT', `cannot create authority store ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new ZkmeterError('INVALID_ARGUMENT', `authority store ${path} is not a file`);
    if ((st.mode & 0o777) !== 0o600) chmodSync(path, 0o600);
  } catch (e) {
    if (e instanceof ZkmeterError) throw e;
    throw new ZkmeterError('INVALID_ARGUMENT', `cannot make authority store ${path} private (mode 0600): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function migrateSqlite(db: Database.Database, path: string): void {
  db.transaction(() => {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    if (!tables.includes('authority_meta')) {
      if (tables.length > 0) throw new ZkmeterError('INVALID_ARGUMENT', `${path} is not an authority store (it holds the tables ${tables.join(', ')})`);
      db.exec('CREATE TABLE authority_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    }
    const v = db.prepare("SELECT value FROM authority_meta WHERE key = 'schema_version'").pluck().get() as string | undefined;
    checkVersion(v, path);
    if (v === undefined) {
      db.exec(SQLITE_SCHEMA);
      db.prepare("INSERT INTO authority_meta (key, value) VALUES ('schema_version', ?)").run(String(AUTHORITY_SCHEMA_VERSION));
    }
  }).immediate();
}

/** Refuses a schema version this code does not read. */
function checkVersion(v: string | undefined, where: string): void {
  if (v === undefined) return;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new ZkmeterError('INVALID_ARGUMENT', `authority store ${where} has an unreadable schema version ${JSON.stringify(v)}`);
  if (n > AUTHORITY_SCHEMA_VERSION) {
    throw new ZkmeterError('INVALID_ARGUMENT', `authority store ${where} has schema version ${n}, newer than this zkmeter (${AUTHORITY_SCHEMA_VERSION}): run a zkmeter that knows it`);
  }
}

const PG_SCHEMA = `
  CREATE TABLE authority_ledger (
    seq   BIGINT PRIMARY KEY,
    at    BIGINT NOT NULL,
    kind  TEXT NOT NULL,
    entry TEXT NOT NULL,
    chain TEXT NOT NULL
  );
  CREATE INDEX authority_ledger_by_kind ON authority_ledger (kind, seq);
`;

/**
 * The authority's ledger in PostgreSQL. One connection (`holder`) holds the advisory
 * lock for the store's lifetime and does every write, one at a time; reads go through
 * the pool and see committed rows only. `poolSize` (default 4, at least 2) counts the
 * holder; the database may be shared with the center's PgStore (other tables, other lock).
 */
export class PgAuthorityStore implements AuthorityStore {
  private closed = false;
  /** Why the holder's connection is unusable (the lock is gone with it), if it is. */
  private lost: Error | undefined;
  /** The end of the queue of writes on the holder. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly holder: pg.PoolClient,
    private readonly where: string,
  ) {
    holder.on('error', (e: Error) => {
      this.lost = e;
    });
  }

  /**
   * Connects to `url`, takes the authority lock and creates the schema if needed.
   * Refused (ZkmeterError 'INVALID_ARGUMENT', never showing the password) if the
   * database cannot be reached, another authority process holds it, or its schema is newer.
   */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgAuthorityStore> {
    const where = redactUrl(url);
    // The holder plus a few readers.
    const pool = new pg.Pool({ connectionString: url, max: Math.max(2, options.poolSize ?? 4), connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000 });
    pool.on('error', () => {}); // an idle reader that drops is replaced on next use
    const holder = await connectFirst(pool, url, where);
    const onError = () => {};
    holder.on('error', onError);
    try {
      const got = (await holder.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS got', [AUTHORITY_LOCK])).rows[0]?.got;
      if (got !== true) throw new ZkmeterError('INVALID_ARGUMENT', `another authority process holds this database (PostgreSQL ${where}, advisory lock ${AUTHORITY_LOCK}), and two must never decide from diverging memories`);
      await migratePg(holder, where);
      // Every commit of this session is durable when it returns, whatever the database's default.
      const sync = (await holder.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s")).rows[0]!.s;
      if (sync === 'off') await holder.query('SET synchronous_commit TO on');
    } catch (e) {
      holder.removeListener('error', onError);
      holder.release(true); // ends the session, and any lock it took
      await pool.end().catch(() => {});
      throw e;
    }
    holder.removeListener('error', onError);
    return new PgAuthorityStore(pool, holder, where);
  }

  describe(): string {
    return `PostgreSQL ${this.where}`;
  }

  async load(): Promise<StoredLedgerEntry[]> {
    this.check();
    const rows = (await this.pool.query<Row>('SELECT seq, at, kind, entry, chain FROM authority_ledger ORDER BY seq')).rows;
    return fromRows(this.where, rows);
  }

  async append(entries: readonly LedgerEntry[], at: number = Date.now()): Promise<StoredLedgerEntry[]> {
    this.check();
    const texts = checkAppend(entries, at);
    if (entries.length === 0) return [];
    return this.serial(async () => {
      this.check();
      if (this.lost !== undefined) throw this.lostError();
      const c = this.holder;
      await c.query('BEGIN');
      try {
        const last = (await c.query<Row>('SELECT seq, at, kind, entry, chain FROM authority_ledger ORDER BY seq DESC LIMIT 1')).rows[0];
        const rows = chainOn(this.headOf(last), entries, texts, at);
        await c.query('INSERT INTO authority_ledger (seq, at, kind, entry, chain) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[])', [
          rows.map((r) => r.seq),
          rows.map((r) => r.at),
          rows.map((r) => r.entry.kind),
          rows.map((r) => r.text),
          rows.map((r) => r.chain),
        ]);
        await c.query('COMMIT');
        return rows.map(({ seq, at, entry, chain }) => ({ seq, at, entry, chain }));
      } catch (e) {
        await c.query('ROLLBACK').catch((r: Error) => {
          this.lost ??= r;
        });
        throw e;
      }
    });
  }

  async log(o: { after?: number; limit: number; kinds?: readonly LedgerEntry['kind'][] }): Promise<StoredLedgerEntry[]> {
    this.check();
    const { after, limit, kinds } = checkLog(o);
    const filter = kinds === undefined ? '' : 'AND l.kind = ANY($3::text[])';
    const params: unknown[] = [after, limit, ...(kinds === undefined ? [] : [kinds])];
    const rows = (
      await this.pool.query<LogRow>(`SELECT ${LOG_COLUMNS} FROM authority_ledger l LEFT JOIN authority_ledger p ON p.seq = l.seq - 1 WHERE l.seq > $1 ${filter} ORDER BY l.seq LIMIT $2`, params)
    ).rows;
    return fromLogRows(this.where, rows);
  }

  async head(): Promise<{ seq: number; chain: string }> {
    this.check();
    return this.headOf((await this.pool.query<Row>('SELECT seq, at, kind, entry, chain FROM authority_ledger ORDER BY seq DESC LIMIT 1')).rows[0]);
  }

  async bindKey(keyDigest: string): Promise<void> {
    this.check();
    checkDigest(keyDigest);
    const held = await this.serial(async () => {
      if (this.lost !== undefined) throw this.lostError();
      // Under the authority lock this connection holds: no other process writes meanwhile.
      await this.holder.query('INSERT INTO authority_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [KEY_META, keyDigest]);
      return (await this.holder.query<{ value: string }>('SELECT value FROM authority_meta WHERE key = $1', [KEY_META])).rows[0]!.value;
    });
    if (held !== keyDigest) throw otherKey(this.where, held, keyDigest);
  }

  async requestMark(): Promise<number> {
    this.check();
    return markOf(this.where, (await this.pool.query<{ value: string }>('SELECT value FROM authority_meta WHERE key = $1', [MARK_META])).rows[0]?.value);
  }

  async raiseRequestMark(ts: number): Promise<void> {
    this.check();
    checkMark(ts);
    await this.serial(async () => {
      if (this.lost !== undefined) throw this.lostError();
      await this.holder.query(
        'INSERT INTO authority_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE authority_meta.value::bigint < excluded.value::bigint',
        [MARK_META, String(ts)],
      );
    });
  }

  /** Waits for the write in progress, releases the lock and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    if (this.lost === undefined) await this.holder.query('SELECT pg_advisory_unlock($1::bigint)', [AUTHORITY_LOCK]).catch(() => {});
    this.holder.release(true); // never back to the pool: the session ends, and with it anything it still held
    await this.pool.end();
  }

  private headOf(row: Row | undefined): { seq: number; chain: string } {
    if (row === undefined) return { seq: 0, chain: ZERO_CHAIN };
    const seq = intOf(row.seq);
    if (seq === undefined || seq < 1) malformed(this.where, String(row.seq), 'is not a positive integer');
    if (typeof row.chain !== 'string' || !HEX64.test(row.chain)) malformed(this.where, seq, 'has a chain that is not 64 lowercase hex digits');
    return { seq, chain: row.chain };
  }

  /** Runs `fn` after every earlier write on the holder, one at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private check(): void {
    if (this.closed) throw closedError(this.where);
  }

  private lostError(): ZkmeterError {
    return new ZkmeterError(
      'AUTHORITY_UNAVAILABLE',
      `authority store ${this.where}: the connection holding the authority lock was lost (${scrub(reasonOf(this.lost), '')}); restart the authority to take the lock again`,
      { cause: this.lost },
    );
  }
}

/** Creates the schema in one transaction, under the authority lock the caller holds. */
async function migratePg(c: pg.PoolClient, where: string): Promise<void> {
  await c.query('BEGIN');
  try {
    await c.query('CREATE TABLE IF NOT EXISTS authority_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const v = (await c.query<{ value: string }>("SELECT value FROM authority_meta WHERE key = 'schema_version'")).rows[0]?.value;
    checkVersion(v, `PostgreSQL ${where}`);
    if (v === undefined) {
      await c.query(PG_SCHEMA);
      await c.query("INSERT INTO authority_meta (key, value) VALUES ('schema_version', $1)", [String(AUTHORITY_SCHEMA_VERSION)]);
    }
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}
