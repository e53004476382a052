/**
 * The privacy authority as its own service (issue 16), on each backend, over
 * real HTTP on loopback: the center's client (AuthorityClient) signs its
 * requests and checks what comes back; the authority re-verifies records,
 * applies its policy, records every release in its own store before the share
 * leaves, answers the identical request with the same share (also after a
 * restart), keeps a hash-chained public log and signs its tariffs. Requests
 * signed by any other key, replayed or altered are 401; malformed ones a 4xx
 * JSON error; over HTTPS, only a client pinning the service's CA gets answers; an authority that answers wrongly or not at all makes the center's
 * bill fail with AUTHORITY_UNAVAILABLE, never a wrong amount.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../lib/crypto/codec.js';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey } from '../lib/crypto/schnorr.js';
import { encodeCiphertext } from '../lib/crypto/elgamal.js';
import { encryptedEnergyCharge, issueBill, releaseFeederGrid } from '../lib/protocol/billing.js';
import { ControlCenter } from '../lib/protocol/center.js';
import { checkBill } from '../lib/protocol/customer.js';
import { priceAt, verifyTariffSignature } from '../lib/protocol/tariff.js';
import { tariffFromJson } from '../lib/protocol/json.js';
import type { MeterRecord } from '../lib/protocol/records.js';
import type { AuthorityLimits, AuthorityServer } from '../lib/server/authority-app.js';
import { AuthorityClient } from '../lib/server/authority-client.js';
import { ledgerChainStep, ZERO_CHAIN, type StoredLedgerEntry } from '../lib/server/authority-store.js';
import { billReleaseToJson } from '../lib/server/authority-wire.js';
import { listeningUrl } from '../lib/server/http.js';
import { signRequest } from '../lib/server/signed-request.js';
import { startTestAuthority, testIdentity } from './support/authority.js';
import { TestRng, testSeed } from './support/rng.js';
import { makeTestCa } from './support/tls.js';
import { DAY, DAY0, HOURLY, TWO_RATE, World } from './support/world.js';

const seed = testSeed();
console.log(`authority-service.test.ts: seed ${seed}`);
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);

const w = new World(rand, HOURLY, TWO_RATE);
const centerIdentity = testIdentity(rand);
const authorityIdentity = testIdentity(rand);
const records = new Map<string, MeterRecord[]>();
for (let i = 0; i < 6; i++) {
  const id = `M${i}`;
  w.addMeter(id, 'F1');
  records.set(id, [w.sealDay(id, 0), w.sealDay(id, 1)]);
}
const certificates = [...w.meters.values()].flatMap((m) => m.certificates);
const bytesOf = (id: string, days: number[] = [0, 1]) => days.map((d) => records.get(id)![d]!.bytes);

const dir = mkdtempSync(join(tmpdir(), 'zkmeter-authority-'));
const dbFile = join(dir, 'authority.db');
let server: AuthorityServer;
let url: string;

/** The authority's service on `db`, listening on a loopback port. */
const build = (db: string, limits?: Partial<AuthorityLimits>, https?: { key: string; cert: string }): Promise<AuthorityServer> =>
  startTestAuthority(w, { db, identity: authorityIdentity, centerKeys: [centerIdentity.publicKey], ...(limits !== undefined ? { limits } : {}), ...(https !== undefined ? { https } : {}) });

async function start(): Promise<AuthorityServer> {
  const s = await build(dbFile);
  url = listeningUrl(s.app, false);
  return s;
}

const client = (o: { identity?: typeof centerIdentity; url?: string } = {}) =>
  new AuthorityClient({ url: o.url ?? url, key: w.key, identity: o.identity ?? centerIdentity, authorityKey: authorityIdentity.publicKey, timeoutMs: 30_000 });

/** A signed request sent by hand (to alter it after signing). */
async function raw(method: string, path: string, body: string | undefined, authorization: string | undefined, contentType = 'application/json') {
  const res = await fetch(url + path, {
    method,
    headers: { ...(authorization !== undefined ? { authorization } : {}), ...(body !== undefined ? { 'content-type': contentType } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } & Record<string, unknown> };
}

const sign = (method: string, path: string, body: string, identity = centerIdentity, audience = authorityIdentity.publicKey) =>
  signRequest(identity, audience, method, path, new TextEncoder().encode(body));

async function releases(): Promise<StoredLedgerEntry[]> {
  const out: StoredLedgerEntry[] = [];
  for (let after = 0; ; ) {
    const page = (await (await fetch(`${url}/v1/releases?after=${after}&limit=2`)).json()) as { entries: StoredLedgerEntry[] };
    if (page.entries.length === 0) return out;
    out.push(...page.entries);
    after = page.entries.at(-1)!.seq;
  }
}

beforeAll(async () => {
  server = await start();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the authority service', () => {
  it('registers certificates from a signed request, all or nothing', async () => {
    const c = client();
    const changes = await c.registerCertificates(certificates);
    expect(changes.map((x) => x.change)).toEqual(certificates.map(() => 'registered'));
    expect((await c.registerCertificates(certificates)).map((x) => x.change)).toEqual(certificates.map(() => 'unchanged'));
    // A certificate of an untrusted provisioning key refuses the whole request.
    const rogue = w.certify('X9', w.meters.get('M0')!.meter, 0, 'F1', DAY0 - 400 * DAY, randomScalar(rand));
    await expect(c.registerCertificates([rogue])).rejects.toMatchObject({ code: 'POLICY_REFUSED', message: expect.stringMatching(/certificates\[0\]/) });
    expect(server.authority.certificates('X9')).toEqual([]);
  });

  it('releases a bill share the center combines into the right amount, recorded before it leaves', async () => {
    const c = client();
    const req = { meterId: 'M0', from: DAY0, to: DAY0 + DAY, tariffVersion: TWO_RATE.version, records: bytesOf('M0', [0]) };
    const r = await c.billShare(req);
    const m = w.meters.get('M0')!;
    const expected = [...m.readings].filter(([t]) => t < DAY0 + DAY).reduce((acc, [t, v]) => acc + priceAt(TWO_RATE, t) * v, 0n);
    expect(w.openBill('M0', DAY0, DAY0 + DAY, r)).toBe(expected);
    const log = await releases();
    const bill = log.filter((e) => e.entry.kind === 'bill');
    expect(bill).toHaveLength(1);
    expect(bill[0]!.entry).toMatchObject({ kind: 'bill', meterId: 'M0', from: DAY0, to: DAY0 + DAY, share: billReleaseToJson(r).share });
    // The identical request: the same share, nothing new in the ledger.
    const again = await c.billShare(req);
    expect(billReleaseToJson(again)).toEqual(billReleaseToJson(r));
    expect((await releases()).filter((e) => e.entry.kind === 'bill')).toHaveLength(1);
    // A longer period overlapping it is refused.
    await expect(c.billShare({ ...req, to: DAY0 + 2 * DAY, records: bytesOf('M0') })).rejects.toMatchObject({ code: 'POLICY_REFUSED', message: expect.stringMatching(/^refused by rule 'overlap'/) });
  });

  it('keeps its ledger across a restart: the same share again, the same refusals', async () => {
    const c = client();
    const req = { meterId: 'M0', from: DAY0, to: DAY0 + DAY, tariffVersion: TWO_RATE.version, records: bytesOf('M0', [0]) };
    const before = billReleaseToJson(await c.billShare(req));
    const head = (await releases()).at(-1)!;
    await server.close();
    server = await start();
    const c2 = client();
    expect(billReleaseToJson(await c2.billShare(req))).toEqual(before);
    expect((await releases()).at(-1)).toEqual(head);
    expect(server.authority.certificates('M1')).toHaveLength(1);
  });

  it('publishes a hash-chained log of every entry', async () => {
    const log = await releases();
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    let chain = ZERO_CHAIN;
    for (const e of log) {
      chain = ledgerChainStep(chain, e);
      expect(e.chain).toBe(chain);
    }
    expect(log.map((e) => e.entry.kind)).toEqual(expect.arrayContaining(['tariff', 'certificate', 'bill']));
  });

  it('signs its tariffs with its identity key', async () => {
    const t = (await (await fetch(`${url}/v1/tariffs`)).json()) as { identityKey: string; tariffs: { tariff: unknown; signature: string }[] };
    expect(t.identityKey).toBe(bytesToHex(authorityIdentity.publicKey));
    const tariff = tariffFromJson(t.tariffs[0]!.tariff);
    const sig = hexToBytes(t.tariffs[0]!.signature, 'signature', 64);
    expect(verifyTariffSignature(tariff, sig, authorityIdentity.publicKey)).toBe(true);
    expect(verifyTariffSignature({ ...tariff, standingChargePerDay: tariff.standingChargePerDay + 1n }, sig, authorityIdentity.publicKey)).toBe(false);
    expect(verifyTariffSignature(tariff, sig, centerIdentity.publicKey)).toBe(false);
    expect((await client().tariffs())[0]!.tariff).toEqual(tariff);
  });

  it('issues bills and grids end to end through the client, which the customer checks', async () => {
    const center = new ControlCenter({ utilityKey: w.key.publicKey, provisioningKeys: [w.provisioningKey] });
    await center.registerCertificates(certificates);
    for (const rs of records.values()) await center.submit(rs.map((r) => r.bytes));
    const authority = client();
    const bill = await issueBill({ center, centerShare: w.centerShare, key: w.key, authority, tariff: TWO_RATE, meterId: 'M1', from: DAY0, to: DAY0 + 2 * DAY });
    const m = w.meters.get('M1')!;
    const openings = m.meter.export();
    const verdict = checkBill({ bill, key: w.key, tariff: TWO_RATE, meterPublicKey: m.meter.publicKey, records: bytesOf('M1'), openings });
    expect(verdict.ok).toBe(true);
    const grid = await releaseFeederGrid({ center, centerShare: w.centerShare, key: w.key, authority, tariff: TWO_RATE, feeder: 'F1', from: DAY0 + DAY, to: DAY0 + 2 * DAY, meterClass: HOURLY });
    // M1's bill covers days 0 and 1, not exactly the grid's day 1: it is left out (M0's covers day 0 only).
    expect(grid.members).toEqual(['M0', 'M2', 'M3', 'M4', 'M5']);
    expect(grid.excluded.map((x) => x.meterId)).toEqual(['M1']);
    for (const t of grid.totals) {
      expect(t.totalWh).toBe([...w.meters.values()].filter((x) => grid.members.includes(x.id)).reduce((acc, x) => acc + x.readings.get(t.intervalStart)!, 0n));
    }
  });
});

describe('who may ask', () => {
  const path = '/v1/grid-checks';
  const body = JSON.stringify({ feeder: 'F1', from: DAY0, to: DAY0 + DAY, tariffVersion: TWO_RATE.version });

  it('accepts the center signature and refuses every other', async () => {
    expect((await raw('POST', path, body, sign('POST', path, body))).status).toBe(200);
    const other = { secretKey: randomScalar(rand), publicKey: new Uint8Array() };
    const stranger = { ...other, publicKey: schnorrPublicKey(other.secretKey) };
    for (const [why, auth] of [
      ['unsigned', undefined],
      ['a bearer token', 'Bearer x'],
      ['another key', sign('POST', path, body, stranger)],
      ['the center key claimed, signed by another', sign('POST', path, body, stranger).replace(/key=[0-9a-f]{64}/, `key=${bytesToHex(centerIdentity.publicKey)}`)],
      ['another path', sign('POST', '/v1/meters', body)],
      ['an old timestamp', signRequest(centerIdentity, authorityIdentity.publicKey, 'POST', path, new TextEncoder().encode(body), Math.floor(Date.now() / 1000) - 3600)],
      // Signed by the center, for another authority that trusts it: not to be replayed here.
      ['addressed to another authority', sign('POST', path, body, centerIdentity, stranger.publicKey)],
    ] as const) {
      const r = await raw('POST', path, body, auth);
      expect(r.status, why).toBe(401);
      expect(r.body.error?.code, why).toBe('UNAUTHORIZED');
    }
    // Nothing unsigned is parsed: a body that is not JSON, or names __proto__, is 401 unsigned, 400 signed.
    for (const bad of ['{', '{"__proto__":{"x":1},"feeder":"F1"}']) {
      expect((await raw('POST', path, bad, undefined)).status).toBe(401);
      const signedBad = await raw('POST', path, bad, sign('POST', path, bad));
      expect([signedBad.status, signedBad.body.error?.code]).toEqual([400, 'INVALID_JSON']);
    }
    // An altered body under a valid signature.
    const r = await raw('POST', path, body.replace('F1', 'F2'), sign('POST', path, body));
    expect(r.status).toBe(401);
    // A replay of a request that was accepted.
    const auth = sign('POST', path, body);
    expect((await raw('POST', path, body, auth)).status).toBe(200);
    expect((await raw('POST', path, body, auth)).body.error?.message).toMatch(/replayed/);
    // And after a restart, which forgets the nonces seen: refused by the store's request mark.
    const fresh = sign('POST', path, body);
    expect((await raw('POST', path, body, fresh)).status).toBe(200);
    await server.close();
    server = await start();
    const replayed = await raw('POST', path, body, fresh);
    expect([replayed.status, replayed.body.error?.message]).toEqual([401, expect.stringMatching(/before this authority's memory of requests begins/)]);
  });

  it('makes the client report a refused signature as AUTHORITY_UNAVAILABLE', async () => {
    const secretKey = randomScalar(rand);
    await expect(client({ identity: { secretKey, publicKey: schnorrPublicKey(secretKey) } }).checkGridRequest({ feeder: 'F1', from: DAY0, to: DAY0 + DAY, tariffVersion: TWO_RATE.version })).rejects.toMatchObject({
      code: 'AUTHORITY_UNAVAILABLE',
      message: expect.stringMatching(/refuses this center's signed request/),
    });
  });
});

describe('bad input to the authority', () => {
  it('answers every malformed request with a 4xx JSON error and keeps serving', async () => {
    const cases: [string, string, string | undefined, number, string?][] = [
      ['POST', '/v1/bill-shares', '{', 400],
      ['POST', '/v1/bill-shares', '[]', 400],
      ['POST', '/v1/bill-shares', JSON.stringify({ meterId: 'M0' }), 400],
      ['POST', '/v1/bill-shares', JSON.stringify({ meterId: 'M0', from: DAY0, to: DAY0 + DAY, tariffVersion: 7, records: ['zz'] }), 400],
      ['POST', '/v1/bill-shares', JSON.stringify({ meterId: 'M0', from: DAY0, to: DAY0 + DAY, tariffVersion: 7, records: ['00ff'] }), 400],
      ['POST', '/v1/bill-shares', JSON.stringify({ meterId: 'M0', from: DAY0, to: DAY0 + DAY, tariffVersion: 7, records: [bytesToHex(bytesOf('M0', [0])[0]!)], extra: 1 }), 400],
      ['POST', '/v1/bill-shares', JSON.stringify({ meterId: 'M0', from: '0', to: DAY0 + DAY, tariffVersion: 7, records: ['00'] }), 400],
      ['POST', '/v1/grid-shares', JSON.stringify({ feeder: '', from: DAY0, to: DAY0 + DAY, tariffVersion: 7, records: ['00'] }), 400],
      ['POST', '/v1/grid-shares', JSON.stringify({ feeder: 'F1', from: DAY0, to: DAY0 + DAY, tariffVersion: 99, records: [bytesToHex(bytesOf('M0', [0])[0]!)] }), 403],
      ['POST', '/v1/meters', JSON.stringify({ certificates: ['00'] }), 400],
      ['POST', '/v1/meters', JSON.stringify({ certificates: [] }), 400],
      ['POST', '/v1/grid-checks', 'x', 415, 'text/plain'],
      ['GET', '/v1/releases?limit=0', undefined, 400],
      ['GET', '/v1/releases?limit=abc', undefined, 400],
      ['GET', '/v1/nothing', undefined, 404],
    ];
    for (const [method, path, body, status, type] of cases) {
      const auth = body !== undefined ? sign(method, path, body) : undefined;
      const r = await raw(method, path, body, auth, type);
      expect(r.status, `${method} ${path} ${body?.slice(0, 80)}`).toBe(status);
      expect(typeof r.body.error?.code).toBe('string');
      expect(typeof r.body.error?.message).toBe('string');
    }
    expect(((await (await fetch(`${url}/healthz`)).json()) as { status: string }).status).toBe('ok');
  });

  it('refuses a body past its limit before reading it', async () => {
    const big = await build(join(dir, 'small.db'), { bodyBytes: 4096 });
    const body = JSON.stringify({ certificates: Array.from({ length: 40 }, () => 'ab'.repeat(200)) });
    const res = await fetch(listeningUrl(big.app, false) + '/v1/meters', { method: 'POST', headers: { 'content-type': 'application/json', authorization: sign('POST', '/v1/meters', body) }, body });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BODY_TOO_LARGE');
    await big.close();
  });
});

describe('an authority that answers wrongly or not at all', () => {
  let fake: Server;
  let answer: unknown;
  beforeAll(async () => {
    fake = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => fake.close(() => r())));

  it('fails the bill with AUTHORITY_UNAVAILABLE, never a wrong amount', async () => {
    const center = new ControlCenter({ utilityKey: w.key.publicKey, provisioningKeys: [w.provisioningKey] });
    await center.registerCertificates(certificates);
    for (const id of ['M2', 'M3']) await center.submit(bytesOf(id));
    // The real authority's share of M1's bill, replayed as the answer for M2's: its DLEQ proof and sum do not fit.
    const real = client();
    const m1 = await real.billShare({ meterId: 'M1', from: DAY0, to: DAY0 + 2 * DAY, tariffVersion: TWO_RATE.version, records: bytesOf('M1') });
    const head = real.head!; // the real authority's signed head, so that only the share is wrong
    const a = (port: number) => client({ url: `http://127.0.0.1:${port}` });
    const port = (fake.address() as { port: number }).port;
    const bill = (authority: AuthorityClient) => issueBill({ center, centerShare: w.centerShare, key: w.key, authority, tariff: TWO_RATE, meterId: 'M2', from: DAY0, to: DAY0 + 2 * DAY });
    answer = { ...billReleaseToJson(m1), head };
    await expect(bill(a(port))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE' });
    // M2's true charge with M1's share: the sum fits, the share does not.
    const own = await center.readingsOf('M2', DAY0, DAY0 + 2 * DAY);
    answer = { ...billReleaseToJson(m1), encryptedCharge: bytesToHex(encodeCiphertext(encryptedEnergyCharge(own, TWO_RATE))), intervals: own.map((r) => r.intervalStart), head };
    await expect(bill(a(port))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/does not verify/) });
    answer = { nonsense: true };
    await expect(bill(a(port))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/malformed/) });
    // Nobody listening.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const gone = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(bill(a(gone))).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE', message: expect.stringMatching(/unavailable/) });
  });
});

describe('over HTTPS', () => {
  it('serves HTTPS; a client pinning the throwaway CA gets its answers, one without it or with another CA does not', async (ctx) => {
    const ca = makeTestCa(join(dir, 'tls'));
    if ('skip' in ca) {
      console.log(`authority-service.test.ts: HTTPS test skipped: ${ca.skip}`);
      ctx.skip();
      return;
    }
    const other = makeTestCa(join(dir, 'tls-other')) as Exclude<typeof ca, { skip: string }>;
    const s = await build(join(dir, 'tls.db'), undefined, { key: ca.server.key, cert: ca.server.cert });
    const tlsUrl = listeningUrl(s.app, true);
    expect(tlsUrl).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const over = (pem?: string) => new AuthorityClient({ url: tlsUrl, key: w.key, identity: centerIdentity, authorityKey: authorityIdentity.publicKey, timeoutMs: 10_000, ...(pem !== undefined ? { ca: pem } : {}) });
    const pinned = over(ca.ca);
    expect((await pinned.health()).party).toBe('privacy-authority');
    await pinned.checkGridRequest({ feeder: 'F1', from: DAY0, to: DAY0 + DAY, tariffVersion: TWO_RATE.version });
    for (const c of [over(), over(other.ca)]) {
      await expect(c.health()).rejects.toMatchObject({ code: 'AUTHORITY_UNAVAILABLE' });
      c.close();
    }
    pinned.close();
    await s.close();
  });
});
