/**
 * The privacy authority's store (lib/server/authority-store.ts) on SQLite and on
 * PostgreSQL (a throwaway server, test/support/postgres.ts; skipped with its reason
 * when PostgreSQL is not installed), over real ledger entries made by running a
 * PrivacyAuthority: entries come back identical and in order after a reopen, and
 * rebuild an authority that remembers its releases; an append is all or nothing
 * (an entry refused before writing, and a row the database itself refuses); the
 * chain is the documented one (canonical JSON, ledgerChainStep); a tampered,
 * removed or malformed row refuses load naming its seq; log pages and filters;
 * one process per store (a second SQLite opener, another process, a second
 * PostgreSQL store); the SQLite file is 0600; no password is shown.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { ZkmeterError } from '../lib/errors.js';
import { MemoryLedger, type LedgerEntry } from '../lib/protocol/authority.js';
import { decryptionShareToJson } from '../lib/protocol/json.js';
import type { MeterRecord } from '../lib/protocol/records.js';
import {
  AUTHORITY_LOCK,
  AUTHORITY_SCHEMA_VERSION,
  canonicalJson,
  ledgerChainStep,
  openAuthorityStore,
  SqliteAuthorityStore,
  ZERO_CHAIN,
  type AuthorityStore,
  type StoredLedgerEntry,
} from '../lib/server/authority-store.js';
import { failure } from './support/errors.js';
import { freePort, usePostgres, withClient } from './support/postgres.js';
import { TestRng, testSeed } from './support/rng.js';
import { DAY, DAY0, SIX_HOURLY, TWO_RATE, World } from './support/world.js';

const seed = testSeed();
console.log(`authority-store.test.ts on ${getGroup().name}: seed ${seed}`);
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);

const dir = mkdtempSync(join(tmpdir(), 'zkmeter-authority-store-'));
const { running, skip: pgSkip } = await usePostgres('authority store on PostgreSQL');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Real ledger entries: five meters on feeder F, two days of four readings; the authority
// registers them, releases feeder F's grid of day 0, the members' bills of day 0 and A0's of day 1.

const P = { minIntervals: 3, minMeters: 5 };
const world = new World(rand, SIX_HOURLY, TWO_RATE);
const sealed = new Map<string, MeterRecord[]>();
for (let i = 0; i < 5; i++) {
  world.addMeter(`A${i}`, 'F');
  sealed.set(`A${i}`, [0, 1].map((d) => world.sealDay(`A${i}`, d)));
}
const dayRecords = (id: string, d: number) => [sealed.get(id)![d]!.bytes];
const billRequest = (id: string, d: number) => ({ meterId: id, from: DAY0 + d * DAY, to: DAY0 + (d + 1) * DAY, tariffVersion: TWO_RATE.version, records: dayRecords(id, d) });
const authorityOver = (entries: readonly LedgerEntry[]) => world.authority({ policy: P, ledger: new MemoryLedger(entries), register: false });

/** What the service would append, in order, as separate decisions: [setup (tariff and certificates), ...releases]. */
function makeEntries(): { setup: LedgerEntry[]; releases: LedgerEntry[] } {
  const ledger = new MemoryLedger();
  const a = world.authority({ policy: P, ledger }); // appends the tariff, then each certificate
  const setup = [...ledger.entries];
  const releases: LedgerEntry[] = [];
  const decide = <R>(p: { release: R; entry: LedgerEntry | undefined }) => {
    expect(p.entry).toBeDefined();
    releases.push(p.entry!);
    a.commit(p.entry);
  };
  decide(a.prepareGrid({ feeder: 'F', from: DAY0, to: DAY0 + DAY, tariffVersion: TWO_RATE.version, intervalSeconds: SIX_HOURLY.intervalSeconds, records: [...sealed.keys()].flatMap((id) => dayRecords(id, 0)) }));
  for (const id of sealed.keys()) decide(a.prepareBill(billRequest(id, 0)));
  decide(a.prepareBill(billRequest('A0', 1)));
  return { setup, releases };
}

const { setup, releases } = makeEntries();
const all: LedgerEntry[] = [...setup, ...releases];

// ---------------------------------------------------------------------------------------------
// The two backends: a fresh store spec, and raw access to the database behind it (the store closed).

interface Backend {
  readonly name: string;
  readonly skip: string | undefined;
  fresh(): Promise<string>;
  /** Runs SQL on the database directly; returns the rows of a query. */
  sql(spec: string, text: string): Promise<Record<string, unknown>[]>;
  /** Makes the database refuse to insert the row with this seq (a trigger), or, with undefined, stop refusing. */
  refuseSeq(spec: string, seq: number | undefined): Promise<void>;
}

let files = 0;
const sqlite: Backend = {
  name: 'SQLite',
  skip: undefined,
  fresh: async () => join(dir, `authority-${++files}.db`),
  async sql(spec, text) {
    const db = new Database(spec, { fileMustExist: true });
    try {
      const st = db.prepare(text);
      if (st.reader) return st.all() as Record<string, unknown>[];
      st.run();
      return [];
    } finally {
      db.close();
    }
  },
  async refuseSeq(spec, seq) {
    const db = new Database(spec, { fileMustExist: true });
    db.exec('DROP TRIGGER IF EXISTS refuse_seq');
    if (seq !== undefined) db.exec(`CREATE TRIGGER refuse_seq BEFORE INSERT ON authority_ledger WHEN NEW.seq = ${seq} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    db.close();
  },
};

const postgres: Backend = {
  name: 'PostgreSQL',
  skip: pgSkip,
  fresh: () => running!.createDatabase(),
  sql: (spec, text) => withClient(spec, async (c) => (await c.query(text)).rows),
  refuseSeq: (spec, seq) =>
    withClient(spec, async (c) => {
      await c.query('DROP TRIGGER IF EXISTS refuse_seq ON authority_ledger');
      if (seq === undefined) return;
      await c.query(`CREATE OR REPLACE FUNCTION refuse_seq() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.seq = ${seq} THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
      await c.query('CREATE TRIGGER refuse_seq BEFORE INSERT ON authority_ledger FOR EACH ROW EXECUTE FUNCTION refuse_seq()');
    }),
};

/** A store at `spec` holding `all`: the setup in one append, each release in its own, at distinct times. */
async function filled(spec: string): Promise<StoredLedgerEntry[]> {
  const s = await openAuthorityStore(spec);
  try {
    const out = await s.append(setup, 1_764_000_000_000);
    for (const [i, e] of releases.entries()) out.push(...(await s.append([e], 1_764_000_000_000 + (i + 1) * 1000)));
    return out;
  } finally {
    await s.close();
  }
}

/** The chain over `stored`, recomputed from nothing but the documented definition. */
function recomputed(stored: readonly StoredLedgerEntry[]): string[] {
  let prev = Buffer.alloc(32);
  return stored.map((s) => {
    prev = createHash('sha256').update(prev).update(canonicalJson({ seq: s.seq, at: s.at, entry: s.entry }), 'utf8').digest();
    return prev.toString('hex');
  });
}

const firstOf = (kind: LedgerEntry['kind']) => all.findIndex((e) => e.kind === kind) + 1;

for (const b of [sqlite, postgres]) {
  describe.skipIf(b.skip !== undefined)(`the authority store on ${b.name} (${getGroup().name})`, () => {
    it('gives back every entry, identical and in order, after close and reopen; an authority rebuilt from it remembers its releases', async () => {
      const spec = await b.fresh();
      let s = await openAuthorityStore(spec);
      expect(await s.load()).toEqual([]);
      expect(await s.head()).toEqual({ seq: 0, chain: ZERO_CHAIN });
      const before = Date.now();
      const first = await s.append(setup);
      const after = Date.now();
      expect(first.map((e) => e.seq)).toEqual(setup.map((_, i) => i + 1));
      expect(new Set(first.map((e) => e.at)).size).toBe(1);
      expect(first[0]!.at).toBeGreaterThanOrEqual(before);
      expect(first[0]!.at).toBeLessThanOrEqual(after);
      const rest: StoredLedgerEntry[] = [];
      for (const [i, e] of releases.entries()) rest.push(...(await s.append([e], 1_800_000_000_000 + i)));
      const stored = [...first, ...rest];
      await s.close();

      s = await openAuthorityStore(spec);
      const loaded = await s.load();
      expect(loaded).toEqual(stored);
      expect(loaded.map((e) => e.entry)).toEqual(all);
      expect(loaded.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
      expect(await s.head()).toEqual({ seq: all.length, chain: stored.at(-1)!.chain });
      // Appending continues the sequence and the chain.
      const [again] = await s.append([setup[0]!], 1_900_000_000_000);
      expect(again).toEqual({ seq: all.length + 1, at: 1_900_000_000_000, entry: setup[0], chain: ledgerChainStep(stored.at(-1)!.chain, { seq: all.length + 1, at: 1_900_000_000_000, entry: setup[0]! }) });
      await s.close();

      // The authority rebuilt from the store: the same bill again gets the same share, an overlapping one is refused.
      const rebuilt = authorityOver(loaded.map((e) => e.entry));
      const bill = releases.find((e): e is Extract<LedgerEntry, { kind: 'bill' }> => e.kind === 'bill' && e.meterId === 'A0' && e.from === DAY0 + DAY)!;
      const repeat = rebuilt.prepareBill(billRequest('A0', 1));
      expect(repeat.entry).toBeUndefined();
      expect(decryptionShareToJson(repeat.release.share)).toEqual(bill.share);
      expect(() => rebuilt.prepareBill({ ...billRequest('A0', 0), to: DAY0 + 2 * DAY, records: [...dayRecords('A0', 0), ...dayRecords('A0', 1)] })).toThrow(/refused by rule 'overlap'/);
    });

    it('stores each entry as its canonical JSON, and its chain is the documented SHA-256 chain (ledgerChainStep)', async () => {
      const spec = await b.fresh();
      const stored = await filled(spec);
      const rows = await b.sql(spec, 'SELECT seq, kind, entry, chain FROM authority_ledger ORDER BY seq');
      expect(rows.map((r) => Number(r.seq))).toEqual(stored.map((e) => e.seq));
      expect(rows.map((r) => r.kind)).toEqual(all.map((e) => e.kind));
      expect(rows.map((r) => r.entry)).toEqual(all.map((e) => canonicalJson(e)));
      expect(rows.map((r) => r.chain)).toEqual(recomputed(stored));
      let prev = ZERO_CHAIN;
      for (const e of stored) {
        expect(e.chain).toBe((prev = ledgerChainStep(prev, e)));
      }
    });

    it('appends all or nothing: an entry refused before writing, or a row the database refuses, stores none of the batch', async () => {
      const spec = await b.fresh();
      const stored = await filled(spec);
      const head = { seq: stored.length, chain: stored.at(-1)!.chain };
      const [x, y] = [setup[1]!, releases[0]!];

      let s = await openAuthorityStore(spec);
      const bad = { kind: 'bill', meterId: 'A0' } as unknown as LedgerEntry;
      const refused = await failure(s.append([x, bad, y]));
      expect(refused.code).toBe('INVALID_ARGUMENT');
      expect(refused.index).toBe(1);
      const unsafe = { ...y, from: 2 ** 60 } as LedgerEntry;
      expect((await failure(s.append([x, unsafe]))).message).toMatch(/entry 1 is not a ledger entry/);
      expect(await s.head()).toEqual(head);
      await s.close();

      // The database refuses the batch's second row after inserting its first.
      await b.refuseSeq(spec, head.seq + 2);
      s = await openAuthorityStore(spec);
      await expect(s.append([x, y, x])).rejects.toThrow(/refused by the test/);
      expect(await s.head()).toEqual(head);
      expect(await s.load()).toEqual(stored);
      await s.close();
      expect((await b.sql(spec, 'SELECT count(*) AS n FROM authority_ledger'))[0]!.n).toEqual(b === sqlite ? stored.length : String(stored.length));

      // Once the database accepts it again, the same batch goes in whole, right after the head.
      await b.refuseSeq(spec, undefined);
      s = await openAuthorityStore(spec);
      const added = await s.append([x, y, x], 2_000_000_000_000);
      expect(added.map((e) => e.seq)).toEqual([head.seq + 1, head.seq + 2, head.seq + 3]);
      expect(await s.load()).toEqual([...stored, ...added]);
      await s.close();
    });

    it('refuses to load a tampered row, naming its seq', async () => {
      const spec = await b.fresh();
      await filled(spec);
      const seq = firstOf('bill');
      // A well-formed bill whose charge differs by one hex digit: only the chain tells.
      const row = (await b.sql(spec, `SELECT entry FROM authority_ledger WHERE seq = ${seq}`))[0]!;
      const entry = JSON.parse(row.entry as string) as { charge: string };
      const charge = entry.charge.slice(0, -1) + (entry.charge.endsWith('0') ? '1' : '0');
      await b.sql(spec, `UPDATE authority_ledger SET entry = '${canonicalJson({ ...entry, charge })}' WHERE seq = ${seq}`);
      const s = await openAuthorityStore(spec);
      const e = await failure(s.load());
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(new RegExp(`seq ${seq} does not match its hash chain`));
      // The log refuses the row too, and serves the rows around it (each checked against its predecessor's chain).
      expect((await failure(s.log({ after: seq - 1, limit: 5 }))).message).toMatch(new RegExp(`seq ${seq} `));
      expect((await s.log({ after: seq, limit: 1 }))[0]!.seq).toBe(seq + 1);
      await s.close();

      // A changed time is tampering too; so is a chain rewritten for an edited row (the next row no longer follows).
      const spec2 = await b.fresh();
      await filled(spec2);
      await b.sql(spec2, 'UPDATE authority_ledger SET at = at + 1 WHERE seq = 2');
      expect((await failure(openAuthorityStore(spec2).then((x) => x.load().finally(() => x.close())))).message).toMatch(/seq 2 does not match its hash chain/);
      const spec3 = await b.fresh();
      const stored = await filled(spec3);
      const forged = { ...stored[1]!, at: stored[1]!.at + 1 };
      await b.sql(spec3, `UPDATE authority_ledger SET at = at + 1, chain = '${ledgerChainStep(stored[0]!.chain, forged)}' WHERE seq = 2`);
      expect((await failure(openAuthorityStore(spec3).then((x) => x.load().finally(() => x.close())))).message).toMatch(/seq 3 does not match its hash chain/);
    });

    it('refuses to load when a row is missing, naming where', async () => {
      const spec = await b.fresh();
      await filled(spec);
      await b.sql(spec, 'DELETE FROM authority_ledger WHERE seq = 3');
      const s = await openAuthorityStore(spec);
      expect((await failure(s.load())).message).toMatch(/seq 4 is not 3: the entries after seq 2 are missing/);
      expect((await failure(s.log({ after: 2, limit: 10 }))).message).toMatch(/seq 4 follows a missing seq 3/);
      await s.close();
      const spec2 = await b.fresh();
      await filled(spec2);
      await b.sql(spec2, 'DELETE FROM authority_ledger WHERE seq = 1');
      expect((await failure(openAuthorityStore(spec2).then((x) => x.load().finally(() => x.close())))).message).toMatch(/seq 2 is not 1: the ledger does not start at seq 1/);
    });

    it('refuses to load a malformed row, naming its seq', async () => {
      const cases: [string, RegExp][] = [
        ["entry = 'not json'", /seq 4 holds an entry that is not valid JSON/],
        [`entry = '{"kind":"bill","meterId":"A0"}'`, /seq 4 holds JSON that is not a ledger entry/],
        ["kind = 'grid'", /seq 4 is filed as kind "grid" but holds a certificate entry/],
        ["chain = 'zz'", /seq 4 has a chain that is not 64 lowercase hex digits/],
        ['chain = upper(chain)', /seq 4 has a chain that is not 64 lowercase hex digits/],
      ];
      expect(all[3]!.kind).toBe('certificate');
      for (const [set, message] of cases) {
        const spec = await b.fresh();
        await filled(spec);
        await b.sql(spec, `UPDATE authority_ledger SET ${set} WHERE seq = 4`);
        const s = await openAuthorityStore(spec);
        const e = await failure(s.load());
        expect(e.code).toBe('INVALID_ARGUMENT');
        expect(e.message).toMatch(message);
        await s.close();
      }
    });

    it('pages the log in order, optionally by kind', async () => {
      const spec = await b.fresh();
      const stored = await filled(spec);
      const s = await openAuthorityStore(spec);
      try {
        const pages: StoredLedgerEntry[][] = [];
        for (let after = 0; ; ) {
          const page = await s.log({ after, limit: 3 });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(3);
          pages.push(page);
          after = page.at(-1)!.seq;
        }
        expect(pages.flat()).toEqual(stored);
        expect(pages.length).toBe(Math.ceil(stored.length / 3));
        expect(await s.log({ limit: 1000 })).toEqual(stored);
        expect(await s.log({ after: stored.length, limit: 10 })).toEqual([]);

        const bills = stored.filter((e) => e.entry.kind === 'bill');
        expect(bills.length).toBe(6);
        expect(await s.log({ limit: 1000, kinds: ['bill'] })).toEqual(bills);
        const two = await s.log({ after: bills[1]!.seq, limit: 2, kinds: ['bill'] });
        expect(two).toEqual(bills.slice(2, 4));
        const releasesOnly = await s.log({ limit: 1000, kinds: ['grid', 'bill', 'bill'] });
        expect(releasesOnly).toEqual(stored.filter((e) => e.entry.kind === 'bill' || e.entry.kind === 'grid'));
        expect(releasesOnly.map((e) => e.seq)).toEqual([...releasesOnly.map((e) => e.seq)].sort((p, q) => p - q));
        expect(await s.log({ limit: 1000, kinds: [] })).toEqual([]);
        expect(await s.log({ limit: 1000, kinds: ['tariff'] })).toEqual([stored[0]]);

        for (const bad of [{ limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { after: -1, limit: 10 }, { limit: 10, kinds: ['release'] }]) {
          expect((await failure(s.log(bad as Parameters<AuthorityStore['log']>[0]))).code).toBe('INVALID_ARGUMENT');
        }
      } finally {
        await s.close();
      }
    });

    it('refuses work once closed', async () => {
      const s = await openAuthorityStore(await b.fresh());
      await s.close();
      await s.close();
      expect((await failure(s.load())).message).toMatch(/is closed/);
      expect((await failure(s.append([setup[0]!]))).message).toMatch(/is closed/);
    });

    it('is bound to one key, and keeps a request mark that only rises, across close and reopen', async () => {
      const spec = await b.fresh();
      const [mine, theirs] = ['ab'.repeat(32), 'cd'.repeat(32)];
      let s = await openAuthorityStore(spec);
      expect(await s.requestMark()).toBe(0);
      await s.bindKey(mine);
      await s.bindKey(mine); // the same key again: accepted
      await s.raiseRequestMark(1_800_000_100);
      await s.raiseRequestMark(1_800_000_050); // never lowered
      expect(await s.requestMark()).toBe(1_800_000_100);
      await s.close();
      s = await openAuthorityStore(spec);
      try {
        expect(await s.requestMark()).toBe(1_800_000_100);
        const e = await failure(s.bindKey(theirs));
        expect([e.code, e.message]).toEqual(['INVALID_ARGUMENT', expect.stringMatching(new RegExp(`belongs to another key \\(its ledger was kept under key digest ${mine}, this authority's is ${theirs}\\)`))]);
        await s.bindKey(mine);
        for (const bad of ['AB'.repeat(32), 'ab', '']) expect((await failure(s.bindKey(bad))).code).toBe('INVALID_ARGUMENT');
        for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1]) expect((await failure(s.raiseRequestMark(bad))).code).toBe('INVALID_ARGUMENT');
        expect(await s.requestMark()).toBe(1_800_000_100);
      } finally {
        await s.close();
      }
      // A mark that is not a time is refused, not read as 0.
      await b.sql(spec, "UPDATE authority_meta SET value = 'soon' WHERE key = 'request_mark'");
      s = await openAuthorityStore(spec);
      try {
        expect((await failure(s.requestMark())).message).toMatch(/request mark "soon" is not a Unix time/);
      } finally {
        await s.close();
      }
    });

    it('refuses a store of a newer schema version', async () => {
      const spec = await b.fresh();
      await filled(spec);
      await b.sql(spec, `UPDATE authority_meta SET value = '${AUTHORITY_SCHEMA_VERSION + 1}' WHERE key = 'schema_version'`);
      const e = await failure(openAuthorityStore(spec));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(new RegExp(`schema version ${AUTHORITY_SCHEMA_VERSION + 1}, newer than this zkmeter \\(${AUTHORITY_SCHEMA_VERSION}\\)`));
    });
  });
}

describe(`the authority store on SQLite: files and locks (${getGroup().name})`, () => {
  it('creates the file with mode 0600 (its WAL too), and narrows an existing one', async () => {
    const spec = await sqlite.fresh();
    const s = await openAuthorityStore(spec);
    await s.append(setup);
    expect(statSync(spec).mode & 0o777).toBe(0o600);
    expect(existsSync(`${spec}-wal`)).toBe(true);
    expect(statSync(`${spec}-wal`).mode & 0o777).toBe(0o600);
    expect(s.describe()).toBe(`SQLite ${spec}`);
    await s.close();
    chmodSync(spec, 0o644);
    const again = await openAuthorityStore(spec);
    expect(statSync(spec).mode & 0o777).toBe(0o600);
    expect((await again.load()).map((e) => e.entry)).toEqual(setup);
    await again.close();
  });

  it('holds the file: a second store on it, or another process, is refused until it closes', async () => {
    const spec = await sqlite.fresh();
    const first = await openAuthorityStore(spec);
    await first.append(setup);
    const e = await failure(openAuthorityStore(spec));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/another authority process holds the authority store/);
    // Another process cannot even read it.
    const script = `const D = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
      const db = new D(process.argv[1], { fileMustExist: true }); db.pragma('busy_timeout = 0');
      try { console.log(db.prepare('SELECT count(*) AS n FROM authority_ledger').get().n); } catch (e) { console.log(e.code); }`;
    const child = () => spawnSync(process.execPath, ['-e', script, spec], { encoding: 'utf8' }).stdout.trim();
    expect(child()).toBe('SQLITE_BUSY');
    await first.close();
    expect(child()).toBe(String(setup.length));
    const second = await openAuthorityStore(spec);
    expect((await second.load()).length).toBe(setup.length);
    await second.close();
  });

  it('refuses a file that is not an authority store, and a directory that does not exist', async () => {
    const other = join(dir, 'center.db');
    const db = new Database(other);
    db.exec('CREATE TABLE meters (meter_id TEXT PRIMARY KEY)');
    db.close();
    expect((await failure(openAuthorityStore(other))).message).toMatch(/is not an authority store \(it holds the tables meters\)/);
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not a database, not even a little'.repeat(50));
    expect((await failure(openAuthorityStore(junk))).code).toBe('INVALID_ARGUMENT');
    expect((await failure(openAuthorityStore(join(dir, 'no', 'such', 'dir', 'a.db')))).message).toMatch(/cannot create authority store .*ENOENT/);
    expect((await failure(openAuthorityStore(''))).code).toBe('INVALID_ARGUMENT');
  });

  it('a :memory: store works (for tests) and is an SqliteAuthorityStore', async () => {
    const s = await openAuthorityStore(':memory:');
    expect(s).toBeInstanceOf(SqliteAuthorityStore);
    expect((await s.append(all)).length).toBe(all.length);
    expect((await s.load()).map((e) => e.entry)).toEqual(all);
    await s.close();
  });
});

describe.skipIf(pgSkip !== undefined)(`the authority store on PostgreSQL: the lock and the connection (${getGroup().name})`, () => {
  let url = '';
  beforeAll(async () => {
    url = await running!.createDatabase();
  });

  it('refuses a second store on the database while the first is open, and allows it after it closes', async () => {
    const first = await openAuthorityStore(url);
    await first.append(setup);
    const e = await failure(openAuthorityStore(url));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/^another authority process holds this database \(PostgreSQL .*\), and two must never decide from diverging memories$/);
    // The refused opener left nothing behind: still only the first holds the lock.
    expect((await failure(openAuthorityStore(url))).message).toMatch(/another authority process holds this database/);
    await first.close();
    const second = await openAuthorityStore(url);
    expect((await second.load()).map((x) => x.entry)).toEqual(setup);
    await second.close();
  });

  it('serialises concurrent appends of one store into one chain', async () => {
    const s = await openAuthorityStore(await running!.createDatabase());
    const out = await Promise.all(all.map((e, i) => s.append([e], 3_000_000_000_000 + i)));
    expect(out.flat().map((e) => e.seq).sort((p, q) => p - q)).toEqual(all.map((_, i) => i + 1));
    const loaded = await s.load();
    expect(loaded.map((e) => e.chain)).toEqual(recomputed(loaded));
    await s.close();
  });

  it('a lost lock connection refuses further appends', async () => {
    const spec = await running!.createDatabase();
    const s = await openAuthorityStore(spec);
    await s.append(setup);
    // Another session ends the store's lock-holding connection (as a server restart would);
    // pg_locks splits the lock's bigint key into classid (high 32 bits) and objid (low).
    await withClient(spec, (c) =>
      c.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = $1::bigint", [AUTHORITY_LOCK]),
    );
    await expect(s.append([releases[0]!])).rejects.toThrow();
    const e = await failure(s.append([releases[0]!]));
    expect(e.code).toBe('AUTHORITY_UNAVAILABLE');
    expect(e.message).toMatch(/the connection holding the authority lock was lost/);
    await s.close();
    // The lock went with the connection: a new authority process may start, and finds only what was committed.
    const next = await openAuthorityStore(spec);
    expect((await next.load()).map((x) => x.entry)).toEqual(setup);
    await next.close();
  });

  it('describes itself and refuses a connection without showing the password', async () => {
    const u = new URL(url);
    u.username = 'zkmeter';
    u.password = 'hunter2-secret';
    const s = await openAuthorityStore(u.toString()); // the test server trusts local connections
    expect(s.describe()).toMatch(/^PostgreSQL postgres:\/\/zkmeter@/);
    expect(s.describe()).not.toContain('hunter2');
    await s.close();
    const port = await freePort();
    const e = await failure(openAuthorityStore(`postgresql://zkmeter:hunter2-secret@127.0.0.1:${port}/x?sslpassword=also-secret`, { connectTimeoutMs: 2000 }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/^cannot connect to PostgreSQL /);
    expect(e.message).not.toMatch(/hunter2|also-secret/);
  });
});

describe('canonical JSON (RFC 8785) and the chain step', () => {
  it('sorts members recursively, writes no whitespace, and escapes as JSON.stringify', () => {
    expect(canonicalJson({ b: 1, a: [{ z: null, y: true }, 'x'], A: { d: false, c: -0 } })).toBe('{"A":{"c":0,"d":false},"a":[{"y":true,"z":null},"x"],"b":1}');
    expect(canonicalJson('a"b\\c\n\u0001é😀')).toBe('"a\\"b\\\\c\\n\\u0001é😀"');
    // UTF-16 code unit order: "\u20ac" (€) sorts before "\ud83d\ude00" (😀), and "a" before "b" before "é".
    expect(canonicalJson({ '😀': 1, '€': 2, é: 3, b: 4, a: 5 })).toBe('{"a":5,"b":4,"é":3,"€":2,"😀":1}');
    expect(canonicalJson(1e21)).toBe('1e+21');
    for (const bad of [1n, undefined, Number.NaN, Infinity, '\ud800', new Map(), new Date(0), [1, , 2], { x: undefined }, () => 1]) {
      expect(() => canonicalJson(bad)).toThrow(ZkmeterError);
    }
  });

  it('chain_1 is SHA-256 of 32 zero bytes and {"at","entry","seq"}, as documented', () => {
    const entry: LedgerEntry = { kind: 'tariff', version: 7, digest: 'ab' };
    const text = '{"at":1000,"entry":{"digest":"ab","kind":"tariff","version":7},"seq":1}';
    const chain1 = createHash('sha256').update(Buffer.alloc(32)).update(text).digest('hex');
    expect(ledgerChainStep(ZERO_CHAIN, { seq: 1, at: 1000, entry })).toBe(chain1);
    const chain2 = createHash('sha256').update(Buffer.from(chain1, 'hex')).update('{"at":1001,"entry":{"certificate":"00","kind":"certificate"},"seq":2}').digest('hex');
    expect(ledgerChainStep(chain1, { seq: 2, at: 1001, entry: { kind: 'certificate', certificate: '00' } })).toBe(chain2);
    expect(() => ledgerChainStep('00', { seq: 1, at: 0, entry })).toThrow(ZkmeterError);
    expect(() => ledgerChainStep(ZERO_CHAIN.toUpperCase().replace(/0/g, 'A'), { seq: 1, at: 0, entry })).toThrow(ZkmeterError);
  });

  it('ledger entries hold no bigints: every real entry survives JSON exactly', () => {
    for (const e of all) expect(JSON.parse(canonicalJson(e))).toEqual(e);
    expect(new Set(all.map((e) => e.kind))).toEqual(new Set(['tariff', 'certificate', 'bill', 'grid']));
  });
});

