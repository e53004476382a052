/**
 * The service as a child process (`zkmeter serve --single-operator` from dist/,
 * SQLite, loopback; `--init` makes its keys on first start and finds them after):
 *  - crash safety: SIGKILL mid-stream, restart; every acknowledged record is
 *    still there, re-sent records are accepted exactly once, and the privacy
 *    authority still knows the meters (its registry is its own ledger's);
 *  - bad input: 1200 malformed or random requests, each answered with a 4xx
 *    JSON error, the process stays up, and its resident memory grows by less
 *    than MEMORY_BOUND over the last 1000 of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { bytesToHex } from '../lib/crypto/codec.js';
import { randomScalar } from '../lib/crypto/random.js';
import { certifyMeter } from '../lib/protocol/certificate.js';
import { HOUSEHOLD, Meter } from '../lib/protocol/meter.js';
import { signedMessage } from '../lib/protocol/records.js';
import { ServiceClient } from '../dist/lib/server/client.js';
import { readProvisioningKey } from '../dist/lib/server/keys.js';
import { decodeHexPoint, encodeFrames } from '../dist/lib/server/wire.js';
import { TestRng, testSeed } from './support/rng.js';
import { startPostgres } from './support/postgres.js';
import { startService, type Service } from './support/service.js';

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
console.log(`server-reliability.test.ts on ${getGroup().name}: seed ${seed}`);

const DAY = 1_764_115_200;
/** Meters are certified as installed long before the test's days. */
const INSTALLED = DAY - 400 * 86_400;
const T = (i: number) => DAY + 900 * i;
const TOKEN = 'reliability-token';
/** The stated bound on resident-memory growth over 1000 bad requests. */
const MEMORY_BOUND = 64 * 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'zkmeter-reliability-'));
const running: Service[] = [];
afterAll(async () => {
  for (const s of running) if (s.child.exitCode === null && s.child.signalCode === null) await s.kill();
  rmSync(dir, { recursive: true, force: true });
});

async function start(args: string[]): Promise<Service> {
  const s = await startService(args, { ZKMETER_ADMIN_TOKEN: TOKEN, ZKMETER_BACKEND: getGroup().name });
  running.push(s);
  return s;
}

const recordId = (bytes: Uint8Array) => bytesToHex(signedMessage(bytes.subarray(0, bytes.length - 64)));

// The crash test runs on SQLite and on a throwaway PostgreSQL server (skipped, with the reason printed, where none can start).
const postgres = await startPostgres();
if ('skip' in postgres) console.log(`server-reliability.test.ts: the PostgreSQL crash test is SKIPPED: ${postgres.skip}`);
afterAll(async () => {
  if (!('skip' in postgres)) await postgres.stop();
});

describe(`service reliability (${getGroup().name})`, () => {
  const crashSafety = async (name: string, db: string) => {
    const keys = join(dir, `crash-${name}.keys`);
    const args = ['--single-operator', '--init', '--db', db, '--keys', keys, '--workers', '2'];
    let svc = await start(args);
    let admin = new ServiceClient(svc.url, { token: TOKEN });
    const utilityKey = decodeHexPoint((await admin.config()).utilityKey, 'utilityKey');
    const PER_METER = getGroup().name === 'native' ? 40 : 20; // the TypeScript backend proves and verifies about 10× slower
    const fleet = ['K1', 'K2', 'K3'].map((id) => new Meter({ meterId: id, signingKey: randomScalar(rand), utilityKey, rng: rand }));
    // serve --init made the provisioning key on first start, in its key directory.
    const provisioning = readProvisioningKey(join(keys, 'provisioning.key.json')).secretKey;
    await admin.registerMeters(provisioning, fleet.map((m) => ({ meterId: m.meterId, publicKey: m.publicKey, feeder: 'F0', validFrom: INSTALLED })));
    const records = fleet.flatMap((m) => Array.from({ length: PER_METER }, (_, i) => ({ meterId: m.meterId, t: T(i), bytes: m.reading(T(i), BigInt(10 * i)).bytes })));
    // Interleave the meters, so that a batch holds several.
    records.sort((a, b) => a.t - b.t || a.meterId.localeCompare(b.meterId));

    // Stream in small requests from 4 clients; kill the server once a third is acknowledged.
    const acked = new Set<string>();
    let next = 0;
    let killed: Promise<void> | undefined;
    const client = new ServiceClient(svc.url, { maxRetries: 0 });
    const sender = async () => {
      while (next < records.length && killed === undefined) {
        const chunk = records.slice(next, next + 1 + (next % 3));
        next += chunk.length;
        try {
          const r = await client.submit(chunk.map((c) => c.bytes));
          r.results.forEach((x, i) => {
            expect(x.status).toBe('accepted');
            acked.add(recordId(chunk[i]!.bytes));
          });
        } catch {
          return; // the connection died with the server: these records are unacknowledged
        }
        if (acked.size >= records.length / 3) killed ??= svc.kill();
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
    await killed;
    expect(svc.child.signalCode).toBe('SIGKILL');
    expect(acked.size).toBeGreaterThanOrEqual(records.length / 3);
    expect(acked.size).toBeLessThan(records.length);

    svc = await start(args);
    admin = new ServiceClient(svc.url, { token: TOKEN });
    expect((await admin.health()).store).not.toMatch(/:[^@/]*@/); // no password in what the server shows
    const held = new Map<string, string>();
    for (const m of fleet) {
      for (const s of (await admin.intervals(m.meterId, T(0), T(PER_METER))).intervals as { intervalStart: number; status: string; recordId?: string }[]) {
        if (s.recordId !== undefined) held.set(`${m.meterId}@${s.intervalStart}`, s.recordId);
      }
    }
    for (const r of records) if (acked.has(recordId(r.bytes))) expect(held.get(`${r.meterId}@${r.t}`)).toBe(recordId(r.bytes));

    // Re-send everything: each record is accepted, the acknowledged ones as repeats; then all are repeats.
    const resend = async () => {
      const out = [];
      for (let i = 0; i < records.length; i += 20) out.push(...(await admin.submit(records.slice(i, i + 20).map((r) => r.bytes))).results);
      return out;
    };
    const first = await resend();
    expect(first.every((x) => x.status === 'accepted')).toBe(true);
    first.forEach((x, i) => {
      if (acked.has(recordId(records[i]!.bytes))) expect(x.repeated).toBe(true);
    });
    const fresh = first.filter((x) => x.repeated === false).length;
    expect(fresh).toBe(records.length - held.size); // the committed-but-unacknowledged ones come back as repeats
    expect((await resend()).every((x) => x.status === 'accepted' && x.repeated === true)).toBe(true);
    for (const m of fleet) {
      const st = await admin.intervals(m.meterId, T(0), T(PER_METER));
      expect(st.counts).toEqual({ accepted: PER_METER, abnormal: 0, invalid: 0, missing: 0 });
    }
    // The restarted authority knows the meters from its own ledger: a bill of too few readings is refused for
    // that ('min-intervals'), not because the meter is unknown to it ('registry').
    await expect(admin.bill('K1', DAY, DAY + 86_400)).rejects.toMatchObject({ status: 403, message: expect.stringContaining("refused by rule 'min-intervals'") });
    // The restart found the keys it made and replaced none of them.
    expect(svc.stderr()).not.toMatch(/made single-operator keys/);
    expect(await svc.stop()).toBe(0); // a clean SIGTERM stop
  };
  const claim = 'every acknowledged record survives SIGKILL, and a re-sent record is accepted exactly once';
  it(`crash safety on SQLite: ${claim}`, () => crashSafety('sqlite', join(dir, 'crash.db')), 400_000);
  it.skipIf('skip' in postgres)(`crash safety on PostgreSQL: ${claim}`, async () => {
    if ('skip' in postgres) throw new Error('unreachable');
    await crashSafety('postgres', await postgres.createDatabase());
  }, 400_000);

  it(`1200 malformed or random requests: each gets a 4xx JSON error, the server stays up, memory grows < ${MEMORY_BOUND / 2 ** 20} MiB`, async () => {
    const svc = await start(['--single-operator', '--init', '--db', join(dir, 'fuzz.db'), '--keys', join(dir, 'fuzz.keys'), '--body-limit', String(256 << 10), '--max-records', '20', '--workers', '1']);
    const admin = new ServiceClient(svc.url, { token: TOKEN });
    const utilityKey = decodeHexPoint((await admin.config()).utilityKey, 'utilityKey');
    const m = new Meter({ meterId: 'FUZZ', signingKey: randomScalar(rand), utilityKey, rng: rand });
    const provisioning = readProvisioningKey(join(dir, 'fuzz.keys', 'provisioning.key.json')).secretKey;
    await admin.registerMeters(provisioning, [{ meterId: 'FUZZ', publicKey: m.publicKey, feeder: 'F0', validFrom: INSTALLED }]);
    const untrusted = certifyMeter({ meterId: 'E', publicKey: m.publicKey, keyEpoch: 0, validFrom: INSTALLED, feeder: 'F0', meterClass: HOUSEHOLD }, randomScalar(rand), rand);
    const valid = Array.from({ length: 6 }, (_, i) => m.reading(T(i), BigInt(i)).bytes);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    const int = (n: number) => rng.int(n);
    const pick = <X>(xs: readonly X[]) => xs[int(xs.length)]!;
    const flip = (b: Uint8Array) => {
      const c = b.slice();
      c[int(c.length)]! ^= 1 << int(8);
      return c;
    };
    const json = { 'content-type': 'application/json' };
    const bin = { 'content-type': 'application/octet-stream' };
    type Req = { kind: string; method: string; path: string; body?: string | Uint8Array; headers: Record<string, string> };
    const makers: (() => Req)[] = [
      () => ({ kind: 'bad JSON', method: 'POST', path: '/v1/records', headers: json, body: pick(['{', '{"records":[', 'nul', '{"records":["aa",]}', '\u0000\u0001', JSON.stringify({ records: [hex(valid[0]!)] }).slice(0, 1 + int(40))]) }),
      () => ({ kind: 'wrong types', method: 'POST', path: '/v1/records', headers: json, body: JSON.stringify(pick<unknown>([{ records: 1 }, { records: 'aa' }, { records: [null] }, { records: [1, 2] }, { records: [{}] }, { records: [[]] }, [], 'x', 7, { record: [] }, { records: [hex(valid[0]!)], more: true }])) }),
      () => ({ kind: 'truncated record', method: 'POST', path: '/v1/records', headers: json, body: JSON.stringify({ records: [hex(pick(valid).subarray(0, 1 + int(900)))] }) }),
      () => ({ kind: 'bit-flipped record (JSON)', method: 'POST', path: '/v1/records', headers: json, body: JSON.stringify({ records: [hex(flip(pick(valid)))] }) }),
      () => ({ kind: 'bit-flipped record (binary)', method: 'POST', path: '/v1/records', headers: bin, body: encodeFrames([flip(pick(valid)), flip(pick(valid))]) }),
      () => ({ kind: 'random binary', method: 'POST', path: '/v1/records', headers: bin, body: rand(1 + int(2000)) }),
      () => ({ kind: 'random frames', method: 'POST', path: '/v1/records', headers: bin, body: encodeFrames([rand(1 + int(1500))]) }),
      () => ({ kind: 'too many records', method: 'POST', path: '/v1/records', headers: json, body: JSON.stringify({ records: Array(21).fill(hex(flip(valid[0]!))) }) }),
      () => ({ kind: 'wrong content type', method: 'POST', path: '/v1/records', headers: { 'content-type': pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) }, body: 'records' }),
      () => ({ kind: 'no token', method: 'POST', path: '/v1/meters', headers: json, body: JSON.stringify({ certificates: [hex(untrusted)] }) }),
      () => ({ kind: 'bad registration', method: 'POST', path: '/v1/meters', headers: { ...json, authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(pick<unknown>([{ certificates: [hex(rand(1 + int(400)))] }, { certificates: [hex(flip(untrusted))] }, { certificates: [] }, { meters: [{ meterId: 'E', publicKey: hex(m.publicKey) }] }])) }),
      () => ({ kind: 'untrusted certificate', method: 'POST', path: '/v1/meters', headers: { ...json, authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ certificates: [hex(untrusted)] }) }),
      () => ({ kind: 'bad query', method: 'GET', path: `/v1/meters/FUZZ/intervals?${pick(['from=a&to=1', 'from=1', 'to=1', 'from=5&to=1', 'from=-1&to=1', 'x=1&from=0&to=1'])}`, headers: { authorization: `Bearer ${TOKEN}` } }),
      () => ({ kind: 'unknown route', method: pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']), path: `/${hex(rand(1 + int(8)))}`, headers: {} }),
    ];
    const oversized = (): Req => ({ kind: 'oversized body', method: 'POST', path: '/v1/records', headers: json, body: JSON.stringify({ records: [hex(rand((300 << 10) / 2))] }) });
    const requests: Req[] = Array.from({ length: 1200 }, (_, i) => (i % 60 === 59 ? oversized() : makers[i % makers.length]!()));
    const statuses = new Map<string, Set<number>>();
    const send = async (r: Req) => {
      const res = await fetch(svc.url + r.path, { method: r.method, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}) });
      const text = await res.text();
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      expect(typeof body.error?.code, `${r.kind}: ${text.slice(0, 200)}`).toBe('string');
      expect(typeof body.error?.message).toBe('string');
      expect(res.status >= 400 && res.status < 500, `${r.kind} answered ${res.status}: ${text.slice(0, 200)}`).toBe(true);
      if (!statuses.has(r.kind)) statuses.set(r.kind, new Set());
      statuses.get(r.kind)!.add(res.status);
    };
    const run = async (batch: Req[]) => {
      for (let i = 0; i < batch.length; i += 4) await Promise.all(batch.slice(i, i + 4).map(send));
    };
    await run(requests.slice(0, 200)); // warm-up: code paths compiled, buffers pooled
    const before = svc.rss();
    await run(requests.slice(200));
    const growth = svc.rss() - before;
    console.log(`fuzz: ${requests.length} requests, RSS ${(before / 2 ** 20).toFixed(1)} → ${((before + growth) / 2 ** 20).toFixed(1)} MiB; statuses ${JSON.stringify(Object.fromEntries([...statuses].map(([k, v]) => [k, [...v]])))}`);
    expect(growth).toBeLessThan(MEMORY_BOUND);
    expect(statuses.get('bit-flipped record (JSON)')).toEqual(new Set([422]));
    expect(statuses.get('oversized body')).toEqual(new Set([413]));
    expect(statuses.get('no token')).toEqual(new Set([401]));
    expect(statuses.get('untrusted certificate')).toEqual(new Set([403]));
    expect(svc.child.exitCode).toBeNull();
    expect((await admin.health()).status).toBe('ok');
    // And it still accepts good records.
    expect((await admin.submit(valid)).accepted).toBe(valid.length);
    expect(svc.stderr()).not.toMatch(/internal error/);
    await svc.stop();
  }, 400_000);
});
