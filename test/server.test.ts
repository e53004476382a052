/**
 * The control-center service in-process, on loopback, over a SQLite store:
 * routes and their JSON errors, the admin token, registration from meter
 * certificates (what each changed, refusals that apply nothing, re-keys that
 * keep earlier epochs billable), idempotent resubmission, racing duplicate
 * submissions, micro-batching with a bad record isolated, back-pressure (503
 * with Retry-After), interval status, a bill whose decryption proof the
 * customer checks, feeder grids under the authority's policy, durable bills
 * (stored before they are answered, the same request answered the same bill,
 * across a restart too), 503 AUTHORITY_UNAVAILABLE with Retry-After from an
 * unreachable authority while ingest goes on, /metrics and /openapi.json; and
 * the privacy authority's own service (authority-app.ts over its SQLite store,
 * reached through the signed AuthorityClient) restarted on the same file:
 * its registry and its releases survive, a tampered ledger is refused.
 *
 * For the center's routes the privacy authority runs in this process (a
 * `PrivacyAuthority` over a `MemoryLedger`), built from dist/ like the
 * service, so that its errors are the service's ZkmeterError class.
 *
 * Meters here are of a compact class (half-hourly, 8-bit proofs: 48 readings a
 * day, the fewest a bill takes under the default policy), so that whole days of
 * readings stay quick to seal on the TypeScript backend.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey } from '../lib/crypto/schnorr.js';
import { dangerouslyGenerateAllShares } from '../lib/crypto/threshold.js';
import { billContext, issueBill, type BillingAuthority } from '../lib/protocol/billing.js';
import { ControlCenter } from '../lib/protocol/center.js';
import { certifyMeter } from '../lib/protocol/certificate.js';
import { checkBill } from '../lib/protocol/customer.js';
import { billFromJson, decryptionShareToJson } from '../lib/protocol/json.js';
import { Meter, type MeterClass } from '../lib/protocol/meter.js';
import { recordToJson, type MeterRecord } from '../lib/protocol/records.js';
import { DEFAULT_TARIFF, verifyTariffSignature } from '../lib/protocol/tariff.js';
import { buildAuthorityServer, type AuthorityServer } from '../lib/server/authority-app.js';
import { AuthorityClient } from '../lib/server/authority-client.js';
import { openAuthorityStore, type AuthorityStore, type StoredLedgerEntry } from '../lib/server/authority-store.js';
import { listeningUrl } from '../lib/server/http.js';
// The service from dist/ (built by npm test's pretest step): its worker threads run compiled JavaScript.
import { buildServer, type ZkmeterServer } from '../dist/lib/server/app.js';
import { ServiceClient } from '../dist/lib/server/client.js';
import { SqliteStore } from '../dist/lib/server/sqlite-store.js';
import { encodeFrames } from '../dist/lib/server/wire.js';
import { MemoryLedger as ServiceLedger, PrivacyAuthority as ServiceAuthority } from '../dist/lib/protocol/authority.js';
import { ZkmeterError as ServiceZkmeterError } from '../dist/lib/errors.js';
import { asyncErrorCode } from './support/errors.js';
import { TestRng, testSeed } from './support/rng.js';

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
console.log(`server.test.ts on ${getGroup().name}: seed ${seed}`);

/** 2025-11-26T00:00Z. */
const DAY = 1_764_115_200;
const DAY_S = 86_400;
/** Half-hourly readings in 8 bits: 48 a day. */
const HALF: MeterClass = Object.freeze({
  name: 'test-half-hourly',
  bits: 8,
  intervalSeconds: 1800,
  normal: Object.freeze({ min: 0n, max: 200n }),
  plausible: Object.freeze({ min: 0n, max: 255n }),
});
const PER_DAY = DAY_S / HALF.intervalSeconds;
const T = (i: number) => DAY + HALF.intervalSeconds * i;
const TOKEN = 'test-admin-token';
const dir = mkdtempSync(join(tmpdir(), 'zkmeter-server-'));
const { key, shares } = dangerouslyGenerateAllShares(['control-center', 'privacy-authority'], 2);
const provisioning = randomScalar(rand);
const provisioningKey = schnorrPublicKey(provisioning);
/** Certified long before the test's days, so that grids count the meters as established (not new). */
const INSTALLED = DAY - 400 * DAY_S;
const meters = new Map<string, { meter: Meter; signingKey: bigint }>();
function meter(id: string): Meter {
  let m = meters.get(id);
  if (m === undefined) {
    const signingKey = randomScalar(rand);
    m = { meter: new Meter({ meterId: id, signingKey, utilityKey: key.publicKey, meterClass: HALF, rng: rand }), signingKey };
    meters.set(id, m);
  }
  return m.meter;
}
/** A certificate for `m` (epoch 0 on `feeder`, HALF class, installed long ago, by the trusted provisioning key unless told). */
function certify(m: Meter, feeder: string, o: { keyEpoch?: number; validFrom?: number; issuer?: bigint } = {}): Uint8Array {
  return certifyMeter({ meterId: m.meterId, publicKey: m.publicKey, keyEpoch: o.keyEpoch ?? 0, validFrom: o.validFrom ?? INSTALLED, feeder, meterClass: HALF }, o.issuer ?? provisioning, rand);
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** One reading record per interval of `values`, from `start`. */
function readings(m: Meter, start: number, values: readonly bigint[]): MeterRecord[] {
  return values.map((wh, i) => m.reading(start + i * HALF.intervalSeconds, wh));
}
const whOf = (i: number) => BigInt((i * 37) % 190);
/** Meter C's day of readings (one abnormal), shared by the bill test and the ledger test. */
let cDay: MeterRecord[] | undefined;
const dayOfC = () => (cDay ??= readings(meter('C'), DAY, Array.from({ length: PER_DAY }, (_, i) => (i === 30 ? 240n : whOf(i) + 5n))));

let server: ZkmeterServer;
let url: string;
/** Half-hourly readings: the default tariff's three-hour peak holds 6 a day. */
const POLICY = { minIntervalsPerPrice: 6 };
/** The in-process authority of a service, over its own ledger (a new one unless given: a restarted authority is one rebuilt from its ledger's entries). */
const authorityOn = (ledger = new ServiceLedger()) =>
  new ServiceAuthority({ key, share: shares.get('privacy-authority')!, provisioningKeys: [provisioningKey], tariffs: [DEFAULT_TARIFF], policy: POLICY, ledger });
/** A bill's id: hex SHA-256 of its context. */
const billIdOf = (meterId: string, from: number, to: number) => createHash('sha256').update(billContext(meterId, from, to, DEFAULT_TARIFF.version)).digest('hex');
let admin: ServiceClient;
let anonymous: ServiceClient;

beforeAll(async () => {
  server = await buildServer({
    store: new SqliteStore(join(dir, 'center.db')),
    storeDescription: 'sqlite:test',
    key,
    centerShare: shares.get('control-center')!,
    authority: authorityOn(),
    provisioningKeys: [provisioningKey],
    adminToken: TOKEN,
    workers: 2,
    limits: { bodyBytes: 1 << 20, recordsPerRequest: 50 },
  });
  url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  admin = new ServiceClient(url, { token: TOKEN });
  anonymous = new ServiceClient(url, { maxRetries: 0 });
  const ids = ['A', 'B', 'C', 'D', 'RACE', 'F1', 'F2', 'F3', 'F4', 'F5'];
  const r = await admin.registerCertificates(ids.map((id) => certify(meter(id), id.startsWith('F') ? 'feeder-9' : 'feeder-1')));
  expect(r.changes.map((c) => c.change)).toEqual(ids.map(() => 'registered'));
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function raw(method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json: json as { error?: { code: string; message: string } } & Record<string, unknown>, text, headers: res.headers };
}

describe(`service routes (${getGroup().name})`, () => {
  it('healthz, config, openapi.json', async () => {
    expect(await anonymous.health()).toMatchObject({ status: 'ok', backend: getGroup().name, store: 'sqlite:test', workers: 2, authority: { mode: 'single-operator' } });
    const config = await anonymous.config();
    expect(config.utilityKey).toMatch(/^0[23][0-9a-f]{64}$/);
    expect(config.billing).toBe(true);
    expect((config as unknown as { provisioningKeys: string[] }).provisioningKeys).toEqual([hex(provisioningKey)]);
    const spec = (await raw('GET', '/openapi.json')).json as { openapi: string; paths: Record<string, Record<string, { security?: unknown }>> };
    expect(spec.openapi).toMatch(/^3\./);
    for (const p of ['/healthz', '/metrics', '/v1/config', '/v1/meters', '/v1/records', '/v1/meters/{meterId}/intervals', '/v1/bills', '/v1/bills/{id}', '/v1/feeders/{feeder}/grid']) {
      expect(Object.keys(spec.paths)).toContain(p);
    }
    expect(spec.paths['/v1/bills']!.post!.security).toEqual([{ admin: [] }]);
    expect(spec.paths['/v1/bills/{id}']!.get!.security).toEqual([{ admin: [] }]);
    expect(spec.paths['/v1/records']!.post!.security).toBeUndefined(); // meters authenticate by signature
  });

  it('admin routes refuse requests without the token, or with a wrong one', async () => {
    const wrong = new ServiceClient(url, { token: 'not-it', maxRetries: 0 });
    for (const c of [anonymous, wrong]) {
      await expect(c.registerCertificates([certify(meter('X'), 'feeder-1')])).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
      await expect(c.intervals('A', DAY, DAY + 900)).rejects.toMatchObject({ status: 401 });
      await expect(c.bill('A', DAY, DAY + 86_400)).rejects.toMatchObject({ status: 401 });
      await expect(c.grid('feeder-9', DAY, DAY + DAY_S)).rejects.toMatchObject({ status: 401 });
    }
    expect((await raw('GET', '/v1/meters/A', undefined, { authorization: `Basic ${TOKEN}` })).status).toBe(401);
    expect((await raw('GET', '/v1/meters/A', undefined, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    // X was never registered by the refused requests.
    expect((await raw('GET', '/v1/meters/X', undefined, { authorization: `Bearer ${TOKEN}` })).json.error?.code).toBe('UNKNOWN_METER');
  });

  it('a meter cannot submit under another meter’s id: the signature binds it', async () => {
    // Meter B's key, but a record claiming to be A's.
    const impostor = new Meter({ meterId: 'A', signingKey: meters.get('B')!.signingKey, utilityKey: key.publicKey, meterClass: HALF, rng: rand });
    const r = await anonymous.submit([impostor.reading(T(90), 10n).bytes]);
    expect(r.results[0]).toMatchObject({ status: 'invalid', reason: 'signature', meterId: 'A' });
    expect((await admin.intervals('A', T(90), T(91))).intervals[0]!.status).toBe('missing');
  });

  it('a version 1 record gets a 4xx naming the version, and nothing is stored', async () => {
    const v1 = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'records-v1.json'), 'utf8')) as { meterPublicKey: string; daily: string; reading: string };
    await admin.registerMeters(provisioning, [{ meterId: 'MTR-V1', publicKey: Buffer.from(v1.meterPublicKey, 'hex'), feeder: 'feeder-1', validFrom: INSTALLED }]);
    for (const hex of [v1.daily, v1.reading]) {
      const json = await raw('POST', '/v1/records', JSON.stringify({ records: [hex] }), { 'content-type': 'application/json' });
      expect(json.status).toBe(422);
      expect(json.json).toMatchObject({ error: { code: 'RECORDS_REJECTED' }, results: [{ status: 'invalid', reason: 'unsupported-version' }] });
      expect((json.json.results as { detail: string }[])[0]!.detail).toMatch(/record version 1 /);
      const binary = await raw('POST', '/v1/records', encodeFrames([Buffer.from(hex, 'hex')]), { 'content-type': 'application/octet-stream' });
      expect(binary.status).toBe(422);
    }
    const status = await admin.intervals('MTR-V1', DAY, DAY + 2 * 86_400);
    expect(status.intervals.every((s) => s.status === 'missing')).toBe(true);
  });

  it('accepts binary and JSON submissions; resubmission is idempotent; a bad record fails only itself', async () => {
    const a = meter('A');
    const recs = [0, 1, 2, 3].map((i) => a.reading(T(i), BigInt(100 + i)).bytes);
    const bad = recs[2]!.slice();
    bad[bad.length - 100]! ^= 1;
    const first = await anonymous.submit([recs[0]!, recs[1]!, bad, recs[3]!]);
    expect(first.results.map((x) => x.status)).toEqual(['accepted', 'accepted', 'invalid', 'accepted']);
    expect(first.results.map((x) => x.repeated)).toEqual([false, false, undefined, false]);
    const again = await anonymous.submit([recs[0]!, recs[1]!], { json: true });
    expect(again.results.map((x) => [x.status, x.repeated, x.recordId])).toEqual(first.results.slice(0, 2).map((x) => [x.status, true, x.recordId]));
    // A different record for an interval already held: a duplicate, as a 422 when nothing in the request was accepted.
    const dup = await raw('POST', '/v1/records', JSON.stringify({ records: [Buffer.from(a.reading(T(0), 99n).bytes).toString('hex')] }), { 'content-type': 'application/json' });
    expect(dup.status).toBe(422);
    expect(dup.json).toMatchObject({ error: { code: 'RECORDS_REJECTED' }, results: [{ status: 'invalid', reason: 'duplicate' }] });
    // The record JSON form (as `meter seal` writes it) is accepted too.
    const r4 = a.reading(T(4), 4n);
    expect((await admin.request<{ accepted: number }>('POST', '/v1/records', { records: [recordToJson(r4)] })).body.accepted).toBe(1);
    const status = await admin.intervals('A', T(0), T(6));
    expect(status.intervals.map((s) => s.status)).toEqual(['accepted', 'accepted', 'missing', 'accepted', 'accepted', 'missing']);
  });

  it('duplicate submissions racing from several clients give exactly one accepted record', async () => {
    const m = meter('RACE');
    const rec = m.reading(T(10), 42n).bytes;
    const rivals = [1n, 2n, 3n].map((wh) => m.reading(T(11), wh).bytes); // three different records for one interval
    const clients = Array.from({ length: 8 }, () => new ServiceClient(url));
    const results = await Promise.all(clients.flatMap((c, i) => [c.submit([rec]), c.submit([rivals[i % 3]!]), c.submit([rec, rivals[(i + 1) % 3]!])]));
    const all = results.flatMap((r) => r.results);
    const forRec = all.filter((x) => x.intervals?.[0] === T(10));
    expect(forRec).toHaveLength(16);
    expect(forRec.filter((x) => x.status === 'accepted' && x.repeated === false)).toHaveLength(1);
    expect(forRec.every((x) => x.status === 'accepted')).toBe(true);
    const forRival = all.filter((x) => x.intervals?.[0] === T(11) || x.reason === 'duplicate');
    expect(forRival).toHaveLength(16);
    expect(forRival.filter((x) => x.status === 'accepted' && x.repeated === false)).toHaveLength(1);
    expect(forRival.filter((x) => x.status === 'invalid').every((x) => x.reason === 'duplicate')).toBe(true);
    const held = await admin.intervals('RACE', T(10), T(12));
    expect(held.counts).toMatchObject({ accepted: 2 });
  });

  it('a bill for whole days with its decryption proof, which the customer checks; the authority’s refusals name their rule', async () => {
    const c = meter('C');
    const recs = dayOfC();
    const submitted = await anonymous.submit(recs.map((r) => r.bytes));
    expect(submitted.results.filter((x) => x.status === 'abnormal')).toHaveLength(1);
    expect(submitted.accepted).toBe(PER_DAY - 1);
    const json = await admin.bill('C', DAY, DAY + DAY_S);
    expect(json).toMatchObject({ currency: DEFAULT_TARIFF.currency, minorPerMajor: String(DEFAULT_TARIFF.minorPerMajor) });
    const bill = billFromJson(Object.fromEntries(Object.entries(json).filter(([k]) => k !== 'display' && k !== 'id')));
    expect(bill.intervals).toEqual(recs.map((r) => r.header.intervalStart));
    const check = checkBill({ bill, records: recs.map((r) => r.bytes), openings: c.export(), tariff: DEFAULT_TARIFF, key, meterPublicKey: c.publicKey });
    expect(check.problems).toEqual([]);
    expect(check.ok).toBe(true);
    const inflated = { ...bill, energyCharge: bill.energyCharge + 1n, total: bill.total + 1n };
    expect(checkBill({ bill: inflated, records: recs.map((r) => r.bytes), openings: c.export(), tariff: DEFAULT_TARIFF, key, meterPublicKey: c.publicKey }).ok).toBe(false);
    // The same bill again is the stored one, the same JSON; a period that is not whole days, or has a day without readings, is refused.
    expect(json.id).toBe(billIdOf('C', DAY, DAY + DAY_S));
    expect(await admin.bill('C', DAY, DAY + DAY_S)).toEqual(json);
    const refusal = (rule: string) => ({ status: 403, code: 'POLICY_REFUSED', message: expect.stringContaining(`refused by rule '${rule}'`) });
    await expect(admin.bill('C', DAY - DAY_S, DAY + DAY_S)).rejects.toMatchObject(refusal('whole-days'));
    await expect(admin.bill('C', DAY, DAY + DAY_S / 2)).rejects.toMatchObject(refusal('whole-days'));
    await admin.request('POST', '/v1/records', undefined, { binary: encodeFrames([meter('D').reading(T(0), 1n).bytes]) });
    await expect(admin.bill('D', DAY, DAY + DAY_S)).rejects.toMatchObject(refusal('min-intervals'));
    await expect(admin.bill('D', DAY + DAY_S, DAY + 2 * DAY_S)).rejects.toMatchObject({ status: 404, code: 'NO_READINGS' });
    await expect(admin.bill('nobody', DAY, DAY + DAY_S)).rejects.toMatchObject({ status: 404, code: 'UNKNOWN_METER' });
  }, 300_000);

  it('a feeder grid releases every interval total of a whole day over 5 complete meters, and is refused (naming the rule) with fewer', async () => {
    const G = DAY + 2 * DAY_S;
    const ids = ['F1', 'F2', 'F3', 'F4', 'F5'];
    const values = (k: number) => Array.from({ length: PER_DAY }, (_, i) => whOf(i + 7 * k));
    const day = ids.map((id, k) => readings(meter(id), G, values(k)));
    // F5 misses its last interval: only 4 meters are complete.
    const held = day.flatMap((recs, k) => (k === 4 ? recs.slice(0, -1) : recs));
    for (let i = 0; i < held.length; i += 50) expect((await anonymous.submit(held.slice(i, i + 50).map((r) => r.bytes))).invalid).toBe(0);
    await expect(admin.grid('feeder-9', G, G + DAY_S)).rejects.toMatchObject({ status: 403, code: 'POLICY_REFUSED', message: expect.stringMatching(/refused by rule 'min-meters': .*F5: 1 of its 48 readings are missing/) });
    await expect(admin.grid('feeder-9', G, G + 3600)).rejects.toMatchObject({ status: 403, message: expect.stringContaining("refused by rule 'whole-days'") });
    await expect(admin.grid('no-such-feeder', G, G + DAY_S)).rejects.toMatchObject({ status: 404, code: 'UNKNOWN_FEEDER' });
    await anonymous.submit([day[4]!.at(-1)!.bytes]);
    const grid = await admin.grid('feeder-9', G, G + DAY_S);
    expect(grid).toMatchObject({ feeder: 'feeder-9', from: G, to: G + DAY_S, members: ids, excluded: [] });
    expect(grid.totals.map((t) => t.intervalStart)).toEqual(Array.from({ length: PER_DAY }, (_, i) => G + i * HALF.intervalSeconds));
    expect(grid.totals.map((t) => t.totalWh)).toEqual(Array.from({ length: PER_DAY }, (_, i) => String(ids.reduce((acc, _id, k) => acc + values(k)[i]!, 0n))));
  }, 300_000);

  it('registration answers what each certificate changed; a refusal names the certificate and its rule, and applies nothing', async () => {
    const r = meter('R1');
    const first = certify(r, 'feeder-1');
    expect(await admin.registerCertificates([first])).toEqual({ registered: 1, changes: [{ meterId: 'R1', change: 'registered', keyEpoch: 0, feeder: 'feeder-1', meterClass: HALF.name }] });
    expect((await admin.registerCertificates([first])).changes).toEqual([{ meterId: 'R1', change: 'unchanged', keyEpoch: 0, feeder: 'feeder-1', meterClass: HALF.name }]);
    const next = new Meter({ meterId: 'R1', signingKey: randomScalar(rand), utilityKey: key.publicKey, meterClass: HALF, keyEpoch: 1, rng: rand });
    const rekey = certify(next, 'feeder-2', { keyEpoch: 1, validFrom: DAY + 10 * DAY_S });
    expect((await admin.registerCertificates([rekey])).changes).toEqual([
      { meterId: 'R1', change: 're-keyed', keyEpoch: 1, feeder: 'feeder-2', meterClass: HALF.name, previous: { keyEpoch: 0, feeder: 'feeder-1', meterClass: HALF.name } },
    ]);
    const registration = async (id: string) => (await raw('GET', `/v1/meters/${id}`, undefined, { authorization: `Bearer ${TOKEN}` })).json;
    expect(await registration('R1')).toMatchObject({
      keyEpoch: 1,
      publicKey: hex(next.publicKey),
      feeder: 'feeder-2',
      validFrom: DAY + 10 * DAY_S,
      certified: true,
      history: [{ keyEpoch: 0, publicKey: hex(r.publicKey), feeder: 'feeder-1', validFrom: INSTALLED, certified: true }],
    });
    // Another key at the same epoch, in a request whose first certificate is fine: 403 naming it, and R2 is not registered.
    const rival = certify(new Meter({ meterId: 'R1', signingKey: randomScalar(rand), utilityKey: key.publicKey, meterClass: HALF }), 'feeder-2', { keyEpoch: 1, validFrom: DAY + 11 * DAY_S });
    await expect(admin.registerCertificates([certify(meter('R2'), 'feeder-1'), rival])).rejects.toMatchObject({
      status: 403,
      code: 'POLICY_REFUSED',
      message: expect.stringMatching(/certificates\[1\]: refused by rule 'registry': meter R1 is at key epoch 1/),
    });
    expect((await registration('R2')).error?.code).toBe('UNKNOWN_METER');
    // A certificate by a key the service does not trust.
    const untrusted = certify(meter('R3'), 'feeder-1', { issuer: randomScalar(rand) });
    await expect(admin.registerCertificates([untrusted])).rejects.toMatchObject({ status: 403, code: 'POLICY_REFUSED', message: expect.stringMatching(/certificates\[0\]: refused by rule 'registry': .*not a trusted provisioning key/) });
    expect((await registration('R3')).error?.code).toBe('UNKNOWN_METER');
    // Bytes that are no certificate: a 400 naming it.
    const garbage = first.slice();
    garbage[0] = 0;
    await expect(admin.registerCertificates([first, garbage])).rejects.toMatchObject({ status: 400, code: 'INVALID_ARGUMENT', message: expect.stringMatching(/certificates\[1\]: certificate: not a meter certificate/) });
    expect((await registration('R1')).keyEpoch).toBe(1);
  });

  it('after a re-key, a record of the earlier epoch is still accepted (inside that epoch) and billable', async () => {
    const K = DAY + 4 * DAY_S;
    const old = meter('K');
    expect((await admin.registerCertificates([certify(old, 'feeder-1')])).changes[0]!.change).toBe('registered');
    const day = readings(old, K, Array.from({ length: PER_DAY }, (_, i) => whOf(i)));
    expect((await anonymous.submit(day.slice(0, 24).map((r) => r.bytes))).accepted).toBe(24);
    const fresh = new Meter({ meterId: 'K', signingKey: randomScalar(rand), utilityKey: key.publicKey, meterClass: HALF, keyEpoch: 1, rng: rand });
    expect((await admin.registerCertificates([certify(fresh, 'feeder-1', { keyEpoch: 1, validFrom: K + DAY_S })])).changes[0]).toMatchObject({ change: 're-keyed', previous: { keyEpoch: 0 } });
    // The rest of the day under the old key, after the re-key: accepted.
    expect((await anonymous.submit(day.slice(24).map((r) => r.bytes))).accepted).toBe(PER_DAY - 24);
    const next = await anonymous.submit([old.reading(K + DAY_S, 1n).bytes, fresh.reading(K + DAY_S, 2n).bytes, fresh.reading(K, 3n).bytes]);
    expect(next.results.map((x) => (x.status === 'invalid' ? x.reason : x.status))).toEqual(['key-epoch', 'accepted', 'key-epoch']);
    const json = await admin.bill('K', K, K + DAY_S);
    const bill = billFromJson(Object.fromEntries(Object.entries(json).filter(([k]) => k !== 'display' && k !== 'id')));
    expect(bill.intervals).toHaveLength(PER_DAY);
    expect(checkBill({ bill, records: day.map((r) => r.bytes), openings: old.export(), tariff: DEFAULT_TARIFF, key, meterPublicKey: old.publicKey }).ok).toBe(true);
  }, 300_000);

  it('bad requests get a 4xx JSON error and never a stack trace', async () => {
    const hexRec = Buffer.from(meter('B').reading(T(50), 1n).bytes).toString('hex');
    const json = { 'content-type': 'application/json' };
    const cases: [string, string, string | Uint8Array | undefined, Record<string, string>, number, string][] = [
      ['POST', '/v1/records', '{"records": [', json, 400, 'INVALID_JSON'],
      ['POST', '/v1/records', '{"records": []}', json, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/records', '{"records": 5}', json, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/records', '{"records": ["abc"]}', json, 400, 'INVALID_REQUEST'], // odd hex
      ['POST', '/v1/records', `{"records": ["${hexRec}"], "extra": 1}`, json, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/records', JSON.stringify({ records: Array(51).fill(hexRec) }), json, 400, 'INVALID_REQUEST'], // over recordsPerRequest
      ['POST', '/v1/records', 'x'.repeat((1 << 20) + 1), json, 413, 'BODY_TOO_LARGE'],
      ['POST', '/v1/records', 'hello', { 'content-type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['POST', '/v1/records', new Uint8Array([0, 0, 0, 9, 1, 2]), { 'content-type': 'application/octet-stream' }, 400, 'INVALID_FRAMING'],
      ['POST', '/v1/records', new Uint8Array([0, 0, 0]), { 'content-type': 'application/octet-stream' }, 400, 'INVALID_FRAMING'],
      ['POST', '/v1/records', JSON.stringify({ records: [hexRec.slice(0, 200)] }), json, 422, 'RECORDS_REJECTED'], // truncated
      ['POST', '/v1/meters', '{"meters":[{"meterId":"Q","publicKey":"00"}]}', { ...json, authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'], // the uncertified form is gone
      ['POST', '/v1/meters', '{"certificates":[]}', { ...json, authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/meters', '{"certificates":["0g"]}', { ...json, authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/meters', `{"certificates":["${'00'.repeat(513)}"]}`, { ...json, authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/meters', `{"certificates":["${hex(certify(meter('Q'), 'feeder-1'))}"],"meters":[]}`, { ...json, authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/meters', '{"certificates":["5a4b4d43"]}', { ...json, authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_LENGTH'], // truncated
      ['GET', `/v1/feeders/feeder-9/grid?from=${DAY}`, undefined, { authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['GET', `/v1/feeders/feeder-9/aggregate?interval=${DAY}`, undefined, { authorization: `Bearer ${TOKEN}` }, 404, 'NOT_FOUND'],
      ['GET', '/v1/meters/A/intervals?from=10', undefined, { authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['GET', '/v1/meters/A/intervals?from=10&to=5', undefined, { authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['GET', `/v1/meters/A/intervals?from=0&to=${2 ** 39}`, undefined, { authorization: `Bearer ${TOKEN}` }, 400, 'PERIOD_TOO_LONG'],
      ['POST', '/v1/bills', '{"meterId":"A","from":"0","to":10}', { ...json, authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['GET', '/v1/bills/not-an-id', undefined, { authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['GET', `/v1/bills/${'AB'.repeat(32)}`, undefined, { authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'], // lowercase hex only
      ['GET', `/v1/bills/${billIdOf('nobody', DAY, DAY + DAY_S)}`, undefined, { authorization: `Bearer ${TOKEN}` }, 404, 'UNKNOWN_BILL'],
      ['GET', `/v1/bills/${billIdOf('nobody', DAY, DAY + DAY_S)}`, undefined, {}, 401, 'UNAUTHORIZED'],
      ['GET', '/v1/nothing', undefined, {}, 404, 'NOT_FOUND'],
      ['DELETE', '/v1/records', undefined, {}, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, body, headers, status, code] of cases) {
      const r = await raw(method, path, body, headers);
      expect([method, path, String(body).slice(0, 40), r.status, r.json?.error?.code]).toEqual([method, path, String(body).slice(0, 40), status, code]);
      expect(r.text).not.toMatch(/at .*\.(js|ts):\d+/); // no stack trace
    }
    expect((await anonymous.health()).status).toBe('ok');
  });

  it('/metrics counts verified readings, rejections by reason, batch latency and queue depth', async () => {
    const text = (await raw('GET', '/metrics')).text;
    const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('zkmeter_readings_verified_total')).toBeGreaterThanOrEqual(10);
    expect(value('zkmeter_records_rejected_total{reason="signature"}')).toBeGreaterThanOrEqual(2);
    expect(value('zkmeter_records_rejected_total{reason="duplicate"}')).toBeGreaterThanOrEqual(1);
    expect(value('zkmeter_records_rejected_total{reason="malformed"}')).toBeGreaterThanOrEqual(1);
    expect(value('zkmeter_batch_seconds_count')).toBeGreaterThan(0);
    expect(value('zkmeter_queue_depth')).toBe(0);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });
});

describe(`back-pressure (${getGroup().name})`, () => {
  it('a full queue answers 503 with Retry-After, and the records behind it are still answered', async () => {
    const s = await buildServer({
      store: new SqliteStore(join(dir, 'small.db')),
      key,
      provisioningKeys: [provisioningKey],
      adminToken: TOKEN,
      workers: 1,
      batching: { maxQueuedBytes: 4000, maxWaitMs: 50 },
      retryAfterSeconds: 2,
    });
    try {
      const u = await s.app.listen({ port: 0, host: '127.0.0.1' });
      const m = meter('A');
      await new ServiceClient(u, { token: TOKEN }).registerCertificates([certify(m, 'feeder-1')]);
      const client = new ServiceClient(u, { maxRetries: 0 });
      const recs = Array.from({ length: 12 }, (_, i) => m.reading(T(60 + i), 5n).bytes); // about 1 kB each
      const attempts = await Promise.allSettled(recs.map((r, i) => (i % 3 === 0 ? client.submit([r]) : client.submit([r, recs[(i + 1) % recs.length]!]))));
      const refused = attempts.filter((a) => a.status === 'rejected');
      expect(refused.length).toBeGreaterThan(0);
      for (const a of refused) expect((a as PromiseRejectedResult).reason).toMatchObject({ status: 503, code: 'OVERLOADED' });
      const res = await fetch(u + '/v1/records', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records: recs.map((r) => Buffer.from(r).toString('hex')) }) });
      expect([200, 503]).toContain(res.status);
      if (res.status === 503) expect(res.headers.get('retry-after')).toBe('2');
      await res.text();
      // The retrying client gets everything in, once.
      const patient = new ServiceClient(u);
      const r = await patient.submit(recs);
      expect(r.results.every((x) => x.status === 'accepted')).toBe(true);
      expect(s.verifier.depth.records).toBe(0);
    } finally {
      await s.close();
    }
  });
});

describe(`bodies in flight (${getGroup().name})`, () => {
  it('past the in-flight body bound a request is answered 503 before its body is read, and the bound is released', async () => {
    const s = await buildServer({ store: new SqliteStore(':memory:'), key, provisioningKeys: [], workers: 1, limits: { bodyBytes: 64 << 10, inflightBodyBytes: 100 << 10 } });
    try {
      const u = new URL(await s.app.listen({ port: 0, host: '127.0.0.1' }));
      // A slow upload holding 60 kB of the bound: headers sent, body not finished.
      const slow = request({ host: u.hostname, port: u.port, method: 'POST', path: '/v1/records', headers: { 'content-type': 'application/json', 'content-length': '60000' } });
      slow.on('error', () => {});
      slow.write('{"records":[');
      await new Promise((r) => setTimeout(r, 200));
      const body = JSON.stringify({ records: ['00'.repeat(29_000)] }); // about 58 kB
      const refused = await fetch(u.href + 'v1/records', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('OVERLOADED');
      slow.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const after = await fetch(u.href + 'v1/records', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(after.status).toBe(400); // read and judged now: a record longer than recordBytes
      expect(((await after.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST');
    } finally {
      await s.close();
    }
  });
});

describe(`durable bills (${getGroup().name})`, () => {
  it('a bill is stored before it is answered: the same request answers the same bill (also after a restart, with the authority down), GET serves it, an overlapping period is still refused', async () => {
    const db = join(dir, 'durable.db');
    // The authority's ledger; each authority started below is rebuilt from its entries, as a restarted one is.
    const ledger = new ServiceLedger();
    const start = async (authority: BillingAuthority) =>
      buildServer({ store: new SqliteStore(db), key, centerShare: shares.get('control-center')!, authority, provisioningKeys: [provisioningKey], adminToken: TOKEN, workers: 1 });
    let s = await start(authorityOn(ledger));
    try {
      let u = await s.app.listen({ port: 0, host: '127.0.0.1' });
      let c = new ServiceClient(u, { token: TOKEN, maxRetries: 0 });
      const m = meter('DUR');
      await c.registerCertificates([certify(m, 'feeder-d')]);
      const two = readings(m, DAY, Array.from({ length: 2 * PER_DAY }, (_, i) => whOf(i + 3)));
      for (let i = 0; i < two.length; i += 50) expect((await c.submit(two.slice(i, i + 50).map((r) => r.bytes))).accepted).toBe(Math.min(50, two.length - i));
      const id = billIdOf('DUR', DAY, DAY + DAY_S);
      const get = async (path: string) => {
        const res = await fetch(u + path, { headers: { authorization: `Bearer ${TOKEN}` } });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> & { error?: { code: string } } };
      };
      expect(await get(`/v1/bills/${id}`)).toMatchObject({ status: 404, json: { error: { code: 'UNKNOWN_BILL' } } });
      // Asked twice at once, and once more: one bill, the same JSON each time, under its id.
      const [first, racing] = await Promise.all([c.bill('DUR', DAY, DAY + DAY_S), c.bill('DUR', DAY, DAY + DAY_S)]);
      expect(first.id).toBe(id);
      expect(racing).toEqual(first);
      expect(await c.bill('DUR', DAY, DAY + DAY_S)).toEqual(first);
      expect(await get(`/v1/bills/${id}`)).toEqual({ status: 200, json: first });
      const bill = billFromJson(Object.fromEntries(Object.entries(first).filter(([k]) => k !== 'display' && k !== 'id')));
      expect(checkBill({ bill, records: two.slice(0, PER_DAY).map((r) => r.bytes), openings: m.export(), tariff: DEFAULT_TARIFF, key, meterPublicKey: m.publicKey }).ok).toBe(true);
      // A period that overlaps the billed one is another request: the authority refuses it.
      await expect(c.bill('DUR', DAY, DAY + 2 * DAY_S)).rejects.toMatchObject({ status: 403, code: 'POLICY_REFUSED', message: expect.stringContaining("refused by rule 'overlap'") });
      expect((await get(`/v1/bills/${billIdOf('DUR', DAY, DAY + 2 * DAY_S)}`)).status).toBe(404);

      // Restarted on the same store, and with the authority unreachable: the stored bill is still the answer.
      await s.close();
      const released = ledger.entries.filter((e) => e.kind === 'bill');
      expect(released.map((e) => [e.meterId, e.from, e.to])).toEqual([['DUR', DAY, DAY + DAY_S]]); // one release for the three requests, none for the refused one
      s = await start(unreachable);
      u = await s.app.listen({ port: 0, host: '127.0.0.1' });
      c = new ServiceClient(u, { token: TOKEN, maxRetries: 0 });
      expect(await get(`/v1/bills/${id}`)).toEqual({ status: 200, json: first });
      expect(await c.bill('DUR', DAY, DAY + DAY_S)).toEqual(first);
      await expect(c.bill('DUR', DAY + DAY_S, DAY + 2 * DAY_S)).rejects.toMatchObject({ status: 503, code: 'AUTHORITY_UNAVAILABLE' });
      // And with it back (its ledger remembers the first bill): the next day is billable, an overlap still refused.
      await s.close();
      s = await start(authorityOn(new ServiceLedger(ledger.entries)));
      u = await s.app.listen({ port: 0, host: '127.0.0.1' });
      c = new ServiceClient(u, { token: TOKEN, maxRetries: 0 });
      expect(await c.bill('DUR', DAY, DAY + DAY_S)).toEqual(first);
      await expect(c.bill('DUR', DAY, DAY + 2 * DAY_S)).rejects.toMatchObject({ status: 403, message: expect.stringContaining("refused by rule 'overlap'") });
      const next = await c.bill('DUR', DAY + DAY_S, DAY + 2 * DAY_S);
      expect(next.id).toBe(billIdOf('DUR', DAY + DAY_S, DAY + 2 * DAY_S));
      expect(next.id).not.toBe(first.id);
    } finally {
      await s.close();
    }
  }, 300_000);
});

/**
 * An authority that cannot be reached, as the service sees one (authority-client.ts throws
 * this for a refused connection, a timeout or a fault): every call fails with AUTHORITY_UNAVAILABLE.
 */
const unreachable: BillingAuthority = {
  billShare: async () => {
    throw new ServiceZkmeterError('AUTHORITY_UNAVAILABLE', 'the privacy authority at http://127.0.0.1:9 is unavailable: cannot reach http://127.0.0.1:9: ECONNREFUSED');
  },
  gridShares: async () => {
    throw new ServiceZkmeterError('AUTHORITY_UNAVAILABLE', 'the privacy authority at http://127.0.0.1:9 is unavailable: cannot reach http://127.0.0.1:9: ECONNREFUSED');
  },
  checkGridRequest: async () => {
    throw new ServiceZkmeterError('AUTHORITY_UNAVAILABLE', 'the privacy authority at http://127.0.0.1:9 is unavailable: cannot reach http://127.0.0.1:9: ECONNREFUSED');
  },
  registerCertificates: async () => {
    throw new ServiceZkmeterError('AUTHORITY_UNAVAILABLE', 'the privacy authority at http://127.0.0.1:9 is unavailable: cannot reach http://127.0.0.1:9: ECONNREFUSED');
  },
};

describe(`an unreachable privacy authority (${getGroup().name})`, () => {
  it('registration, bills and grids answer 503 AUTHORITY_UNAVAILABLE with Retry-After; records are still accepted', async () => {
    const s = await buildServer({
      store: new SqliteStore(':memory:'),
      key,
      centerShare: shares.get('control-center')!,
      authority: unreachable,
      authorityMode: { mode: 'remote', url: 'https://center:s3cret@authority.example:8443/?token=hidden' },
      provisioningKeys: [provisioningKey],
      adminToken: TOKEN,
      workers: 1,
      retryAfterSeconds: 7,
    });
    try {
      const u = await s.app.listen({ port: 0, host: '127.0.0.1' });
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(u + path, {
          method,
          headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as { error?: { code: string; message: string } } & Record<string, unknown> };
      };
      const m = meter('U1');
      const unavailable = { status: 503, retryAfter: '7', json: { error: { code: 'AUTHORITY_UNAVAILABLE', message: expect.stringContaining('ECONNREFUSED') } } };
      expect(await call('POST', '/v1/meters', { certificates: [hex(certify(m, 'feeder-u'))] })).toMatchObject(unavailable);
      expect((await call('GET', '/v1/meters/U1')).json.error?.code).toBe('UNKNOWN_METER'); // the center registered nothing
      // Registered with the center alone (as if the authority had taken it earlier), the meter's records go in.
      await s.center.registerCertificates([certify(m, 'feeder-u')]);
      const day = readings(m, DAY, Array.from({ length: PER_DAY }, (_, i) => whOf(i)));
      const res = await fetch(u + '/v1/records', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: encodeFrames(day.map((r) => r.bytes)) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { accepted: number }).accepted).toBe(PER_DAY);
      expect(await call('POST', '/v1/bills', { meterId: 'U1', from: DAY, to: DAY + DAY_S })).toMatchObject(unavailable);
      expect(await call('GET', `/v1/feeders/feeder-u/grid?from=${DAY}&to=${DAY + DAY_S}`)).toMatchObject(unavailable);
      // Nothing was stored for the bill that could not be issued; the service itself is fine.
      expect((await call('GET', `/v1/bills/${billIdOf('U1', DAY, DAY + DAY_S)}`)).status).toBe(404);
      const health = await call('GET', '/healthz');
      expect(health.json).toMatchObject({ status: 'ok', authority: { mode: 'remote', url: 'https://center@authority.example:8443/' } });
      expect(JSON.stringify(health.json)).not.toMatch(/s3cret|hidden/);
      expect((await call('GET', '/v1/config')).json.billing).toBe(true);
    } finally {
      await s.close();
    }
  }, 120_000);

  it('without an authority, billing is off: config says so, bills and grids answer 503 BILLING_UNAVAILABLE, registration is the center’s', async () => {
    const s = await buildServer({ store: new SqliteStore(':memory:'), key, centerShare: shares.get('control-center')!, provisioningKeys: [provisioningKey], adminToken: TOKEN, workers: 1 });
    try {
      const u = await s.app.listen({ port: 0, host: '127.0.0.1' });
      const c = new ServiceClient(u, { token: TOKEN, maxRetries: 0 });
      expect((await c.config()).billing).toBe(false);
      expect(await c.health()).toMatchObject({ authority: { mode: 'none' } });
      expect((await c.registerCertificates([certify(meter('N1'), 'feeder-n')])).changes[0]!.change).toBe('registered');
      await expect(c.bill('N1', DAY, DAY + DAY_S)).rejects.toMatchObject({ status: 503, code: 'BILLING_UNAVAILABLE' });
      await expect(c.grid('feeder-n', DAY, DAY + DAY_S)).rejects.toMatchObject({ status: 503, code: 'BILLING_UNAVAILABLE' });
    } finally {
      await s.close();
    }
  });
});

describe(`the privacy authority's service across a restart (${getGroup().name})`, () => {
  // What test/authority-service.test.ts does not: a restart that is never told of the meter again, refusals after it,
  // and a service that will not start on a tampered ledger (test/authority-store.test.ts covers the store's own checks).
  it('keeps its registry and its releases in its SQLite store: the same bill again, an overlap refused; a tampered ledger refuses to start', async () => {
    const file = join(dir, 'privacy-authority.db');
    const signing = () => {
      const secretKey = randomScalar(rand);
      return { secretKey, publicKey: schnorrPublicKey(secretKey) };
    };
    const centerIdentity = signing();
    const authorityIdentity = signing();
    let store: AuthorityStore | undefined;
    let service: AuthorityServer | undefined;
    let client: AuthorityClient | undefined;
    /** The authority's service on `file`, and the center's signed client of it. */
    const start = async () => {
      store = await openAuthorityStore(file);
      service = await buildAuthorityServer({
        store,
        key,
        share: shares.get('privacy-authority')!,
        identity: authorityIdentity,
        centerKeys: [centerIdentity.publicKey],
        provisioningKeys: [provisioningKey],
        tariffs: [DEFAULT_TARIFF],
        policy: POLICY,
      });
      await service.app.listen({ host: '127.0.0.1', port: 0 });
      client = new AuthorityClient({ url: listeningUrl(service.app, false), key, identity: centerIdentity, authorityKey: authorityIdentity.publicKey, timeoutMs: 60_000 });
      return client;
    };
    const stop = async () => {
      client?.close();
      if (service !== undefined) await service.close();
      else await store?.close(); // a service that failed to build leaves its store to its opener
      [store, service, client] = [undefined, undefined, undefined];
    };
    /** Its public log, whole. */
    const log = async (): Promise<{ entries: StoredLedgerEntry[]; head: { seq: number; chain: string } }> =>
      (await fetch(`${client!.url.origin}/v1/releases?limit=1000`)).json() as Promise<{ entries: StoredLedgerEntry[]; head: { seq: number; chain: string } }>;

    const c = meter('C');
    const cert = certify(c, 'feeder-1');
    const center = new ControlCenter({ utilityKey: key.publicKey, provisioningKeys: [provisioningKey] });
    await center.registerCertificate(cert);
    const nextDay = c.reading(DAY + DAY_S, 10n); // for a period that overlaps the first bill
    await center.submit([...dayOfC(), nextDay].map((r) => r.bytes));
    const bill = (a: BillingAuthority, to: number) => issueBill({ center, centerShare: shares.get('control-center')!, key, authority: a, tariff: DEFAULT_TARIFF, meterId: 'C', from: DAY, to });
    try {
      let a = await start();
      expect((await a.registerCertificates([cert])).map((x) => x.change)).toEqual(['registered']);
      const first = await bill(a, DAY + DAY_S);
      expect(first.energyCharge).toBeGreaterThan(0n);
      expect(verifyTariffSignature(DEFAULT_TARIFF, first.signedTariff!.signature, authorityIdentity.publicKey)).toBe(true);
      const before = await log();
      expect(before.entries.map((e) => e.entry.kind)).toEqual(['tariff', 'certificate', 'bill']);
      expect(before.head.seq).toBe(3);
      await stop();

      // Restarted on the same file, and never told of the meter again: its registry and its bills come from the store.
      a = await start();
      expect(service!.authority.certificates('C').map((x) => x.keyEpoch)).toEqual([0]);
      const again = await bill(a, DAY + DAY_S);
      expect(again.energyCharge).toBe(first.energyCharge);
      expect(decryptionShareToJson(again.decryptionShares[1]!)).toEqual(decryptionShareToJson(first.decryptionShares[1]!)); // the very share it released before
      await expect(bill(a, DAY + 2 * DAY_S)).rejects.toMatchObject({ code: 'POLICY_REFUSED', message: expect.stringContaining("refused by rule 'overlap'") });
      expect((await a.registerCertificates([cert])).map((x) => x.change)).toEqual(['unchanged']);
      expect(await log()).toEqual(before); // the repeat, the refusal and the known certificate added nothing
      await stop();

      // A ledger edited behind its back (the bill's entry made another meter's: well-formed, only the chain tells) is refused at start.
      const db = new Database(file);
      const row = db.prepare("SELECT entry FROM authority_ledger WHERE kind = 'bill'").get() as { entry: string };
      const tampered = row.entry.replace('"meterId":"C"', '"meterId":"Z"');
      expect(tampered).not.toBe(row.entry);
      db.prepare("UPDATE authority_ledger SET entry = ? WHERE kind = 'bill'").run(tampered);
      db.close();
      await expect(start()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/seq 3 does not match its hash chain/) });
      expect(service).toBeUndefined();
      await stop();
      // Put back as it was, the same store starts again, and still remembers the bill.
      const fix = new Database(file);
      fix.prepare("UPDATE authority_ledger SET entry = ? WHERE kind = 'bill'").run(row.entry);
      fix.close();
      a = await start();
      await expect(bill(a, DAY + 2 * DAY_S)).rejects.toMatchObject({ code: 'POLICY_REFUSED', message: expect.stringContaining("refused by rule 'overlap'") });
      expect((await log()).head).toEqual(before.head);
    } finally {
      await stop();
    }
  }, 300_000);
});
