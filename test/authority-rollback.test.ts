/**
 * Rollback evidence for the privacy authority's ledger (issue 16), on each
 * backend, over real HTTP on loopback: every answer to a signed request carries
 * the ledger's head signed by the authority's identity key; the center's client
 * keeps the newest (in a file beside its keys), sends it with each request, and
 * refuses an older or contradicting one. An authority restored from an older
 * copy of its store refuses to decide anything for a center that saw a newer
 * head (503 LEDGER_ROLLED_BACK), until the newest store is back. The public log
 * is paged by bytes as well as by count.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../lib/crypto/codec.js';
import type { MeterRecord } from '../lib/protocol/records.js';
import type { AuthorityLimits, AuthorityServer } from '../lib/server/authority-app.js';
import { AuthorityClient } from '../lib/server/authority-client.js';
import type { StoredLedgerEntry } from '../lib/server/authority-store.js';
import { sharedKeyDigest } from '../lib/server/ceremony.js';
import { listeningUrl } from '../lib/server/http.js';
import { fileLogHeadMemory, LOG_HEAD_FILE, memoryLogHeadMemory, signLogHead, verifyLogHead, type LogHeadMemory, type SignedLogHead } from '../lib/server/log-head.js';
import { signRequest } from '../lib/server/signed-request.js';
import { startTestAuthority, testIdentity } from './support/authority.js';
import { TestRng, testSeed } from './support/rng.js';
import { DAY, DAY0, HOURLY, TWO_RATE, World } from './support/world.js';

const seed = testSeed();
console.log(`authority-rollback.test.ts: seed ${seed}`);
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);

const w = new World(rand, HOURLY, TWO_RATE);
const centerIdentity = testIdentity(rand);
const authorityIdentity = testIdentity(rand);
const keyDigest = sharedKeyDigest(w.key);
const DAYS = 4;
const records = new Map<string, MeterRecord[]>();
for (let i = 0; i < 4; i++) {
  const id = `M${i}`;
  w.addMeter(id, 'F1');
  records.set(id, Array.from({ length: DAYS }, (_, d) => w.sealDay(id, d)));
}
const certificates = [...w.meters.values()].flatMap((m) => m.certificates);
/** The request for meter `id`'s bill of day `d`. */
const billRequest = (id: string, d: number) => ({ meterId: id, from: DAY0 + d * DAY, to: DAY0 + (d + 1) * DAY, tariffVersion: TWO_RATE.version, records: [records.get(id)![d]!.bytes] });

const dir = mkdtempSync(join(tmpdir(), 'zkmeter-rollback-'));
const dbFile = join(dir, 'authority.db');
const headFile = join(dir, LOG_HEAD_FILE);
let server: AuthorityServer;
let url: string | undefined;

async function start(limits?: Partial<AuthorityLimits>): Promise<void> {
  // A new port each start: clients are made after it.
  server = await startTestAuthority(w, { db: dbFile, identity: authorityIdentity, centerKeys: [centerIdentity.publicKey], ...(limits !== undefined ? { limits } : {}) });
  url = listeningUrl(server.app, false);
}

const client = (o: { headMemory?: LogHeadMemory; url?: string } = {}) =>
  new AuthorityClient({ url: o.url ?? url!, key: w.key, identity: centerIdentity, authorityKey: authorityIdentity.publicKey, timeoutMs: 30_000, headMemory: o.headMemory ?? fileLogHeadMemory(headFile, keyDigest) });

/** A signed POST sent by hand, on a connection of its own; its body as text (to compare answers byte for byte). */
function post(path: string, json: unknown): Promise<{ status: number; text: string; body: Record<string, unknown> & { error?: { code: string; message: string } } }> {
  const body = Buffer.from(JSON.stringify(json));
  const authorization = signRequest(centerIdentity, authorityIdentity.publicKey, 'POST', path, body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url! + path, { method: 'POST', agent: false, headers: { authorization, 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, text, body: JSON.parse(text) as Record<string, unknown> & { error?: { code: string; message: string } } });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const billJson = (id: string, d: number) => {
  const r = billRequest(id, d);
  return { ...r, records: r.records.map(bytesToHex) };
};

/** A GET on a connection of its own (none kept alive across the service's restarts). */
function getJson<T>(path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    httpGet(url! + path, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T));
    }).on('error', reject);
  });
}

const log = () => getJson<{ entries: StoredLedgerEntry[]; head: SignedLogHead }>('/v1/releases?limit=1000');
const page = async (after: number) => (await getJson<{ entries: StoredLedgerEntry[] }>(`/v1/releases?after=${after}&limit=1000`)).entries;

beforeAll(async () => {
  await start();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('signed log heads', () => {
  it('sign the head of the ledger that holds each answer, deterministically, and nothing else verifies', async () => {
    const c = client();
    await c.registerCertificates(certificates);
    const registered = c.head!;
    expect(verifyLogHead(registered, keyDigest, authorityIdentity.publicKey)).toBe(true);
    const { entries, head } = await log();
    expect(head).toEqual(registered);
    expect(entries.at(-1)!).toMatchObject({ seq: head.seq, chain: head.chain });
    expect((await getJson<{ ledger: unknown }>('/healthz')).ledger).toEqual(head);

    await c.billShare(billRequest('M0', 0));
    const billed = c.head!;
    expect(billed.seq).toBe(registered.seq + 1);
    expect((await log()).entries.at(-1)!.entry.kind).toBe('bill');
    // The identical request again: the same answer, byte for byte, with the same head.
    const a = await post('/v1/bill-shares', billJson('M0', 0));
    const b = await post('/v1/bill-shares', billJson('M0', 0));
    expect(a.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect(a.body.head).toEqual(billed);
    // Deterministic: the same head signs to the same bytes.
    expect(signLogHead(billed, keyDigest, authorityIdentity.secretKey)).toEqual(billed);

    // Any change of its statement or its key breaks it: a randomized search over every field.
    expect(verifyLogHead(billed, new Uint8Array(32), authorityIdentity.publicKey)).toBe(false);
    expect(verifyLogHead(billed, keyDigest, centerIdentity.publicKey)).toBe(false);
    expect(verifyLogHead({ ...billed, seq: billed.seq + 1 }, keyDigest, authorityIdentity.publicKey)).toBe(false);
    for (let i = 0; i < 64; i++) {
      const field = (['chain', 'signature'] as const)[i % 2]!;
      const hex = billed[field];
      const at = rng.int(hex.length);
      const digit = '0123456789abcdef'[(parseInt(hex[at]!, 16) + 1 + rng.int(15)) % 16]!;
      const altered = { ...billed, [field]: hex.slice(0, at) + digit + hex.slice(at + 1) };
      expect(verifyLogHead(altered, keyDigest, authorityIdentity.publicKey), `${field}[${at}] → ${digit}`).toBe(false);
    }
    // The center's client kept the newest head in its file, under the key's digest.
    expect(JSON.parse(readFileSync(headFile, 'utf8'))).toEqual({ key: bytesToHex(keyDigest), ...billed });
  });

  it('refuses a seen head that this authority did not sign, or that is malformed', async () => {
    const forged = signLogHead({ seq: 1, chain: (await log()).entries[0]!.chain }, keyDigest, centerIdentity.secretKey);
    const r = await post('/v1/bill-shares', { ...billJson('M0', 0), seen: forged });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/not a log head signed by this authority/) });
    for (const seen of [{ seq: -1, chain: forged.chain, signature: forged.signature }, { ...forged, chain: forged.chain.toUpperCase() }, { ...forged, extra: 1 }, 'head']) {
      const bad = await post('/v1/bill-shares', { ...billJson('M0', 0), seen });
      expect(bad.status, JSON.stringify(seen)).toBe(400);
    }
  });
});

describe('an authority restored from an older copy of its store', () => {
  it('refuses every signed request once a center shows it a newer head, until restarted on the newest store', async () => {
    // A backup, then one more release the backup does not hold.
    await server.close();
    copyFileSync(dbFile, join(dir, 'backup.db'));
    await start();
    const c = client();
    await c.billShare(billRequest('M1', 0));
    const newest = c.head!;
    await server.close();
    copyFileSync(dbFile, join(dir, 'newest.db'));
    copyFileSync(join(dir, 'backup.db'), dbFile);
    await start();
    expect((await log()).entries.length).toBe(newest.seq - 1);

    // A center that kept nothing is answered (the authority cannot know yet), and the restored
    // ledger grows to the same seq on another chain.
    const forgetful = client({ headMemory: memoryLogHeadMemory() });
    await forgetful.billShare(billRequest('M3', 0));
    expect(forgetful.head!.seq).toBe(newest.seq);
    expect(forgetful.head!.chain).not.toBe(newest.chain);
    // Two signed heads of one seq with different chains: evidence anyone can check.
    expect(verifyLogHead(forgetful.head!, keyDigest, authorityIdentity.publicKey) && verifyLogHead(newest, keyDigest, authorityIdentity.publicKey)).toBe(true);

    // The center that kept its head (a new client, reading it from the file): refused, nothing decided.
    const kept = client();
    expect(kept.head).toEqual(newest);
    const length = (await log()).entries.length;
    await expect(kept.billShare(billRequest('M2', 0))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/another chain/) });
    // From then on, every signed request is refused, also one without a head and the forgetful center's.
    await expect(forgetful.billShare(billRequest('M2', 1))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/older state/) });
    await expect(kept.registerCertificates(certificates)).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/older state/) });
    const bare = await post('/v1/bill-shares', billJson('M2', 0));
    expect([bare.status, bare.body.error?.code]).toEqual([503, 'LEDGER_ROLLED_BACK']);
    expect((await log()).entries.length).toBe(length);

    // Restarted on the backup again, the ledger shorter than the kept head: refused at once.
    await server.close();
    copyFileSync(join(dir, 'backup.db'), dbFile);
    await start();
    await expect(client().billShare(billRequest('M2', 0))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/ends at seq/) });
    const refused = await post('/v1/bill-shares', { ...billJson('M2', 0), seen: newest });
    expect([refused.status, refused.body.error?.code]).toEqual([503, 'LEDGER_ROLLED_BACK']);

    // The newest store restored: the center is answered again.
    await server.close();
    copyFileSync(join(dir, 'newest.db'), dbFile);
    await start();
    const back = client();
    await back.billShare(billRequest('M2', 0));
    expect(back.head!.seq).toBe(newest.seq + 1);
  });
});

describe("the center's client", () => {
  let fake: Server;
  /** The answers the fake authority gives, in order, each after its delay (ms). */
  let answers: { body: unknown; delay: number }[] = [];
  let fakeUrl: string;
  beforeAll(async () => {
    fake = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const a = answers.shift() ?? { body: { error: { code: 'INTERNAL', message: 'no answer queued' } }, delay: 0 };
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(a.body));
        }, a.delay);
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    fakeUrl = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => fake.close(() => r())));

  /** A genuine answer of the real authority, and heads the authority's key signs at will. */
  const genuine = async () => (await post('/v1/bill-shares', billJson('M0', 0))).body;
  const headAt = (seq: number, chain = 'ab'.repeat(32)) => signLogHead({ seq, chain }, keyDigest, authorityIdentity.secretKey);
  const fakeClient = (known?: SignedLogHead) => {
    const memory = memoryLogHeadMemory();
    if (known !== undefined) memory.save(known);
    return client({ url: fakeUrl, headMemory: memory });
  };

  it('refuses an answer whose head is older than the one it sent, contradicts it, or is not signed by the authority', async () => {
    const old = await genuine();
    const c = fakeClient(headAt(9));
    answers = [{ body: { ...old, head: headAt(8) }, delay: 0 }]; // a genuine share, an older head
    await expect(c.billShare(billRequest('M0', 0))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/rolled back/) });
    answers = [{ body: { ...old, head: headAt(9, 'cd'.repeat(32)) }, delay: 0 }]; // the same seq, another chain
    await expect(c.billShare(billRequest('M0', 0))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/rolled back/) });
    answers = [{ body: { ...old, head: signLogHead({ seq: 10, chain: 'ab'.repeat(32) }, keyDigest, centerIdentity.secretKey) }, delay: 0 }];
    await expect(c.billShare(billRequest('M0', 0))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/not signed by the authority/) });
    answers = [{ body: { ...old, head: signLogHead({ seq: 10, chain: 'ab'.repeat(32) }, new Uint8Array(32), authorityIdentity.secretKey) }, delay: 0 }]; // another key's ledger
    await expect(c.billShare(billRequest('M0', 0))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/not signed by the authority/) });
    const { head: _, ...headless } = old;
    answers = [{ body: headless, delay: 0 }];
    await expect(c.billShare(billRequest('M0', 0))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/malformed/) });
    expect(c.head).toEqual(headAt(9));
  });

  it('takes answers of concurrent requests in any order, but not one that contradicts the head known by then', async () => {
    const old = await genuine();
    // Both sent knowing seq 5; the later answer (seq 6) arrives after the newer (seq 7): fine.
    const c = fakeClient(headAt(5));
    answers = [
      { body: { ...old, head: headAt(6) }, delay: 300 }, // the first request's, answered last
      { body: { ...old, head: headAt(7) }, delay: 0 },
    ];
    const first = c.billShare(billRequest('M0', 0));
    await new Promise((r) => setTimeout(r, 50));
    await c.billShare(billRequest('M0', 0));
    expect(c.head).toEqual(headAt(7));
    await first; // seq 6: behind the head known now, but not behind the one it was sent with
    expect(c.head).toEqual(headAt(7));
    // Both sent knowing seq 5; the later answer has seq 7 on another chain than the seq 7 known by then.
    const d = fakeClient(headAt(5));
    answers = [
      { body: { ...old, head: headAt(7, 'ef'.repeat(32)) }, delay: 300 },
      { body: { ...old, head: headAt(7) }, delay: 0 },
    ];
    const a = d.billShare(billRequest('M0', 0));
    a.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    await d.billShare(billRequest('M0', 0));
    expect(d.head).toEqual(headAt(7));
    await expect(a).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/rolled back/) });
    expect(d.head).toEqual(headAt(7));
  });

  it('fails the request when it cannot keep the head, and keeps the one it had', async () => {
    const old = await genuine();
    const broken: LogHeadMemory = {
      load: () => headAt(5),
      save: () => {
        throw new Error('disk full');
      },
    };
    const c = client({ url: fakeUrl, headMemory: broken });
    answers = [{ body: { ...old, head: headAt(6) }, delay: 0 }];
    await expect(c.billShare(billRequest('M0', 0))).rejects.toThrow(/disk full/);
    expect(c.head).toEqual(headAt(5));
    // A file memory refuses a directory it cannot write when it is made, not at the first release.
    expect(() => fileLogHeadMemory(join(dir, 'no-such-dir', LOG_HEAD_FILE), keyDigest)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/cannot write .*no-such-dir.*ENOENT/) }));
  });

  it('keeps the newest head in its file, per key, and refuses a file it cannot trust', async () => {
    const file = join(dir, 'kept.json');
    const m = fileLogHeadMemory(file, keyDigest);
    expect(m.load()).toBeUndefined();
    expect(m.save(headAt(5))).toEqual(headAt(5));
    expect(m.save(headAt(3))).toEqual(headAt(5)); // older: not kept, the newer one answered
    expect(fileLogHeadMemory(file, keyDigest).load()).toEqual(headAt(5));
    m.save(headAt(7));
    expect(fileLogHeadMemory(file, keyDigest).load()).toEqual(headAt(7));
    // Another process kept a newer head meanwhile: save answers it.
    fileLogHeadMemory(file, keyDigest).save(headAt(9));
    expect(m.save(headAt(8))).toEqual(headAt(9));
    // A head kept for another key (before a new ceremony) is ignored, and replaced by the next save.
    const other = new Uint8Array(32).fill(7);
    expect(fileLogHeadMemory(file, other).load()).toBeUndefined();
    expect(fileLogHeadMemory(file, other).save(headAt(1))).toEqual(headAt(1));
    expect(fileLogHeadMemory(file, keyDigest).load()).toBeUndefined();
    expect(fileLogHeadMemory(file, other).load()).toEqual(headAt(1));
    // Not JSON, or not a signed head: refused, naming the file.
    writeFileSync(file, '{"seq": 1');
    expect(() => fileLogHeadMemory(file, keyDigest).load()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/kept\.json is not JSON/) }));
    writeFileSync(file, JSON.stringify({ key: bytesToHex(keyDigest), seq: 1, chain: 'cd'.repeat(32) }));
    expect(() => fileLogHeadMemory(file, keyDigest).load()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/kept\.json/) }));
    // This key's head, not signed by this authority (another's, or altered): refused when the client starts.
    writeFileSync(file, JSON.stringify({ key: bytesToHex(keyDigest), ...signLogHead({ seq: 1, chain: 'cd'.repeat(32) }, keyDigest, centerIdentity.secretKey) }));
    expect(() => client({ headMemory: fileLogHeadMemory(file, keyDigest) })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/not signed by this authority/) }));
  });
});

describe('the public log', () => {
  it('is paged by bytes as well as by count, always moving on', async () => {
    // More entries than one read batch (16).
    const extra = Array.from({ length: 16 }, (_, i) => w.addMeter(`L${i}`, 'F2')).flatMap((m) => m.certificates);
    await client().registerCertificates(extra);
    const all = (await log()).entries;
    expect(all.length).toBeGreaterThan(16);
    const sizes = all.map((e) => Buffer.byteLength(JSON.stringify(e)));
    const budget = Math.max(...sizes) + 1; // at most about one entry a page
    await server.close();
    await start({ logPageBytes: budget });
    const pages: StoredLedgerEntry[][] = [];
    for (let after = 0; ; ) {
      const p = await page(after);
      if (p.length === 0) break;
      pages.push(p);
      after = p.at(-1)!.seq;
    }
    expect(pages.flat()).toEqual(all);
    expect(pages.length).toBeGreaterThan(1);
    for (const p of pages) expect(p.length === 1 || p.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0) <= budget).toBe(true);
    // A budget smaller than any entry: one entry a page; a large one: the count bounds it.
    await server.close();
    await start({ logPageBytes: 1 });
    expect(await page(0)).toEqual(all.slice(0, 1));
    await server.close();
    await start();
    expect((await getJson<{ entries: StoredLedgerEntry[] }>('/v1/releases?after=1&limit=3')).entries).toEqual(all.slice(1, 4));
    expect(await page(0)).toEqual(all);
  });
});
