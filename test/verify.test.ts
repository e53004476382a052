/**
 * The one record-verification path (lib/protocol/verify.ts), on each backend:
 *  - per-record verdicts naming the failing check, and the record ids the center uses;
 *  - signatures first: a record whose signature fails never reaches the range-proof or
 *    ZKPe preparation, nor an accumulator (counted through wrappers of the prepare
 *    functions and a spy on the accumulator's vector-generator terms);
 *  - a record with a broken range proof (signature and ZKPe fine), a broken ZKPe (signature
 *    and range proof fine) or a bad signature (both proofs fine) is refused by the control
 *    center, the privacy authority (before it co-decrypts, burning no reading) and the
 *    customer's check;
 *  - the authority refuses a record that proves bounds outside its meter's class.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { bytesToHex } from '../lib/crypto/codec.js';
import { prepareRangeChecks, verifyRange } from '../lib/crypto/bulletproofs/range.js';
import { MsmAccumulator } from '../lib/crypto/msm-accumulator.js';
import { randomScalar } from '../lib/crypto/random.js';
import { signSchnorr, verifySchnorr } from '../lib/crypto/schnorr.js';
import { distributedKeyGeneration } from '../lib/crypto/threshold.js';
import { prepareAggregateEquivalenceChecks, verifyAggregateEquivalence } from '../lib/crypto/zkpe.js';
import { PrivacyAuthority } from '../lib/protocol/authority.js';
import { issueBill } from '../lib/protocol/billing.js';
import { ControlCenter } from '../lib/protocol/center.js';
import { checkBill } from '../lib/protocol/customer.js';
import { HOUSEHOLD, Meter, type MeterClass } from '../lib/protocol/meter.js';
import { decodeRecord, proofContext, signedMessage, type MeterRecord } from '../lib/protocol/records.js';
import { DEFAULT_TARIFF } from '../lib/protocol/tariff.js';
import { verifyRecords, type RecordCheck } from '../lib/protocol/verify.js';
import { ZkmeterError } from '../lib/errors.js';
import { TestRng, testSeed } from './support/rng.js';

// Counted wrappers: the real functions, so every verification below is the real one.
vi.mock('../lib/crypto/bulletproofs/range.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../lib/crypto/bulletproofs/range.js')>();
  return { ...m, prepareRangeChecks: vi.fn(m.prepareRangeChecks) };
});
vi.mock('../lib/crypto/zkpe.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../lib/crypto/zkpe.js')>();
  return { ...m, prepareAggregateEquivalenceChecks: vi.fn(m.prepareAggregateEquivalenceChecks) };
});

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
const g = getGroup();
console.log(`verify.test.ts on ${g.name}: seed ${seed}`);

const DAY = 1_764_115_200; // 2025-11-26T00:00Z
const T = (i: number) => DAY + 900 * i;

/** How many items the range-proof and ZKPe preparations were given since the last reset. */
function prepared(): { range: number; equivalence: number } {
  const items = (f: unknown) => vi.mocked(f as (items: readonly unknown[]) => unknown).mock.calls.reduce((n, [items]) => n + items.length, 0);
  return { range: items(prepareRangeChecks), equivalence: items(prepareAggregateEquivalenceChecks) };
}

afterEach(() => {
  vi.mocked(prepareRangeChecks).mockClear();
  vi.mocked(prepareAggregateEquivalenceChecks).mockClear();
  vi.restoreAllMocks();
});

function setup(minIntervals = 1) {
  const { key, shares } = distributedKeyGeneration(['control-center', 'privacy-authority'], 2);
  const center = new ControlCenter({ utilityKey: key.publicKey, tariffVersions: [1] });
  const authority = new PrivacyAuthority({ key, share: shares.get('privacy-authority')!, tariffs: [DEFAULT_TARIFF], policy: { minIntervals, minMeters: 1 } });
  return { key, centerShare: shares.get('control-center')!, center, authority };
}

type Setup = ReturnType<typeof setup>;

async function meterOf(s: Setup, meterId: string, meterClass: MeterClass = HOUSEHOLD) {
  const signingKey = randomScalar(rand);
  const meter = new Meter({ meterId, signingKey, utilityKey: s.key.publicKey, meterClass, rng: rand });
  await s.center.register({ meterId, publicKey: meter.publicKey, meterClass });
  s.authority.register(meterId, meter.publicKey, 'F', meterClass);
  return { meter, signingKey };
}

/** Offset of a part of a record in its bytes. */
const offsetOf = (r: MeterRecord, part: Uint8Array) => part.byteOffset - r.bytes.byteOffset;

/**
 * The record with one check broken and the other two intact: a flipped bit in the range
 * proof or the proof of equivalence (their last scalar's low byte), re-signed with the
 * meter's own key (a lying meter), or a flipped bit in the signature.
 */
function broken(r: MeterRecord, check: RecordCheck, signingKey: bigint): Uint8Array {
  const b = r.bytes.slice();
  const part = check === 'range-proof' ? r.rangeProof : check === 'equivalence-proof' ? r.equivalenceProof : r.signature;
  b[offsetOf(r, part) + part.length - 1]! ^= 1;
  if (check !== 'signature') {
    const unsigned = b.subarray(0, b.length - 64);
    b.set(signSchnorr([signedMessage(unsigned)], signingKey, rand), b.length - 64);
  }
  return b;
}

/** Which of the three checks hold for a record, each verified on its own (not through verify.ts). */
function checksOf(bytes: Uint8Array, meterKey: Uint8Array, utilityKey: Uint8Array): Record<RecordCheck, boolean> {
  const r = decodeRecord(bytes);
  const ctx = proofContext(r.headerBytes);
  const holds = (f: () => boolean) => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ZkmeterError) return false;
      throw e;
    }
  };
  return {
    signature: holds(() => verifySchnorr(meterKey, signedMessage(bytes.subarray(0, bytes.length - 64)), r.signature)),
    'range-proof': holds(() => verifyRange({ commitments: r.commitments, bits: r.header.bits, bounds: r.header.bounds }, r.rangeProof, ctx)),
    'equivalence-proof': holds(() => verifyAggregateEquivalence({ publicKey: utilityKey, ciphertexts: r.ciphertexts, commitments: r.commitments }, r.equivalenceProof, ctx)),
  };
}

const CHECKS: readonly RecordCheck[] = ['signature', 'range-proof', 'equivalence-proof'];

describe(`verifyRecords (${g.name})`, () => {
  it('gives one verdict per record, naming the failing check, and the record id the center stores', async () => {
    const s = setup();
    const { meter, signingKey } = await meterOf(s, 'A');
    const honest = [meter.reading(T(0), 100n), meter.daily(T(1), [1n, 2n, 3n])];
    const bad = CHECKS.map((c, i) => decodeRecord(broken(meter.reading(T(10 + i), 50n), c, signingKey)));
    const items = [...honest, ...bad].map((record) => ({ record, meterKey: meter.publicKey }));
    const verdicts = verifyRecords(items, s.key.publicKey);
    expect(verdicts.map((v) => (v.ok ? 'ok' : v.reason))).toEqual(['ok', 'ok', ...CHECKS]);
    const [outcome] = await s.center.submit([honest[0]!.bytes]);
    expect(outcome).toMatchObject({ status: 'accepted', recordId: verdicts[0]!.recordId });
    // Another meter's key: every record is a bad signature, and nothing else is looked at.
    const other = new Meter({ meterId: 'A', signingKey: randomScalar(rand), utilityKey: s.key.publicKey, rng: rand });
    expect(verifyRecords(items.map((it) => ({ ...it, meterKey: other.publicKey })), s.key.publicKey).map((v) => !v.ok && v.reason)).toEqual(items.map(() => 'signature'));
    expect(verifyRecords([], s.key.publicKey)).toEqual([]);
    expect(() => verifyRecords('records' as never, s.key.publicKey)).toThrow(ZkmeterError);
    expect(() => verifyRecords([null as never], s.key.publicKey)).toThrow(ZkmeterError);
  });

  it('signatures first: forged records never reach the range-proof or ZKPe preparation, nor an accumulator', async () => {
    const s = setup();
    const { meter, signingKey } = await meterOf(s, 'A');
    const records = [0, 1, 2, 3, 4, 5].map((i) => meter.reading(T(i), BigInt(10 * i)));
    const forged = records.map((r) => decodeRecord(broken(r, 'signature', signingKey)));
    const vectorTerms = vi.spyOn(MsmAccumulator.prototype, 'addVectorTensor');
    const all = verifyRecords(forged.map((record) => ({ record, meterKey: meter.publicKey })), s.key.publicKey);
    expect(all.map((v) => !v.ok && v.reason)).toEqual(forged.map(() => 'signature'));
    expect(prepared()).toEqual({ range: 0, equivalence: 0 });
    expect(vectorTerms).not.toHaveBeenCalled(); // no range proof term entered any MSM
    // The center's path, from bytes: the same.
    const verdicts = await s.center.submit(forged.map((r) => r.bytes));
    expect(verdicts.map((v) => v.status === 'invalid' && v.reason)).toEqual(forged.map(() => 'signature'));
    expect(prepared()).toEqual({ range: 0, equivalence: 0 });
    expect(vectorTerms).not.toHaveBeenCalled();
    // Mixed with honest records (and a lying meter's, which signed its broken proof): exactly
    // the signed records are prepared, once each, bisection included.
    const lying = decodeRecord(broken(meter.reading(T(9), 7n), 'range-proof', signingKey));
    const mixed = [records[0]!, forged[1]!, records[2]!, forged[3]!, lying, forged[5]!];
    const v = verifyRecords(mixed.map((record) => ({ record, meterKey: meter.publicKey })), s.key.publicKey);
    expect(v.map((x) => (x.ok ? 'ok' : x.reason))).toEqual(['ok', 'signature', 'ok', 'signature', 'range-proof', 'signature']);
    expect(prepared()).toEqual({ range: 3, equivalence: 3 });
    expect(vectorTerms).toHaveBeenCalled();
  });
});

describe(`a record with one broken check is refused everywhere (${g.name})`, () => {
  for (const check of CHECKS) {
    it(`${check}: by the control center, the privacy authority (burning nothing) and the customer's check`, async () => {
      const s = setup(2);
      const { meter, signingKey } = await meterOf(s, 'A');
      const good = meter.reading(T(0), 120n);
      const victim = meter.reading(T(1), 340n);
      const bad = broken(victim, check, signingKey);
      // The premise: exactly `check` fails, each proof verified on its own.
      const holds = checksOf(bad, meter.publicKey, s.key.publicKey);
      for (const c of CHECKS) expect(holds[c], `${c} of a record with a broken ${check}`).toBe(c !== check);

      // The control center.
      const out = await s.center.submit([good.bytes, bad]);
      expect(out[0]).toMatchObject({ status: 'accepted' });
      expect(out[1]).toMatchObject({ status: 'invalid', reason: check, meterId: 'A' });

      // The privacy authority, handed the bad record by a center that did not check: refused, naming it.
      let refusal: unknown;
      try {
        s.authority.billShare({ meterId: 'A', from: DAY, to: DAY + 86_400, tariffVersion: 1, records: [good.bytes, bad] });
      } catch (e) {
        refusal = e;
      }
      expect(refusal).toBeInstanceOf(ZkmeterError);
      expect((refusal as ZkmeterError).code).toBe('POLICY_REFUSED');
      expect((refusal as ZkmeterError).message).toMatch(new RegExp(`record 1 \\(meter A, interval ${T(1)}\\).*\\(${check}\\)`));
      expect(() => s.authority.feederShare({ feeder: 'F', intervalStart: T(1), records: [bad] })).toThrow(new RegExp(`record 0 .*\\(${check}\\)`));
      // Nothing was marked used: the honest records still make a bill.
      await s.center.submit([victim.bytes]);
      const bill = await issueBill({ ...s, tariff: DEFAULT_TARIFF, meterId: 'A', from: DAY, to: DAY + 86_400, rng: rand });
      expect(bill.intervals).toEqual([T(0), T(1)]);

      // The customer's check, handed the bad record for a billed interval.
      const base = { bill, openings: meter.export(), tariff: DEFAULT_TARIFF, key: s.key, meterPublicKey: meter.publicKey };
      expect(checkBill({ ...base, records: [good.bytes, victim.bytes] }).ok).toBe(true);
      // Without the record the bill names, the interval has no record (a broken signature keeps the
      // record's id, its signed message, so that record is the named one, and bad); a bill naming
      // the bad one gets a bad record.
      const without = check === 'signature' ? 'bad-record' : 'no-record';
      expect(checkBill({ ...base, records: [good.bytes, bad] }).disagreements).toEqual([{ intervalStart: T(1), reason: without, reading: 340n }]);
      const badId = bytesToHex(signedMessage(bad.subarray(0, bad.length - 64)));
      const c = checkBill({ ...base, bill: { ...bill, recordIds: [bill.recordIds[0]!, badId] }, records: [good.bytes, bad] });
      expect(c.ok).toBe(false);
      expect(c.disagreements).toEqual([{ intervalStart: T(1), reason: 'bad-record', reading: 340n }]);
      expect(c.invalidRecords).toEqual([{ index: 1, reason: check, detail: expect.any(String), intervals: [T(1)] }]);
      expect(c.verifiedRecords).toBe(1);
      // Beside the good record, the bad one is still reported, though the bill is right.
      const both = checkBill({ ...base, records: [good.bytes, victim.bytes, bad] });
      expect(both.disagreements).toEqual([]);
      expect(both.invalidRecords.map((r) => [r.index, r.reason])).toEqual([[2, check]]);
    });
  }

  it('the authority refuses a record that proves bounds outside its meter’s class, and its unknown meters', async () => {
    const s = setup();
    const commercial: MeterClass = { name: 'commercial', bits: 32, intervalSeconds: 900, normal: { min: 0n, max: 4000n }, plausible: { min: 0n, max: 1_000_000n } };
    const { meter } = await meterOf(s, 'C', commercial);
    const big = meter.reading(T(0), 70_000n); // abnormal: proves [0, 1,000,000]
    expect(big.header.bounds).toEqual(commercial.plausible);
    const req = { meterId: 'C', from: DAY, to: DAY + 86_400, tariffVersion: 1, records: [big.bytes] };
    // Mirrored as a household meter (the default class), the record claims too much.
    s.authority.register('C', meter.publicKey);
    expect(() => s.authority.billShare(req)).toThrow(/outside the plausible \[0, 65535\] of class household/);
    expect(prepared()).toEqual({ range: 0, equivalence: 0 }); // refused before any proof work
    s.authority.register('C', meter.publicKey, undefined, commercial);
    expect(s.authority.billShare(req).intervals).toEqual([T(0)]);
    const stranger = new Meter({ meterId: 'Z', signingKey: randomScalar(rand), utilityKey: s.key.publicKey, rng: rand });
    expect(() => s.authority.billShare({ ...req, meterId: 'Z', records: [stranger.reading(T(0), 1n).bytes] })).toThrow(/meter Z is not registered/);
    expect(() => s.authority.billShare({ ...req, records: [new Uint8Array(12)] })).toThrow(/^record 0: /);
    expect(() => s.authority.register('D', new Uint8Array(31))).toThrow(ZkmeterError);
  });
});
