/**
 * The one record-verification path (lib/protocol/verify.ts), on each backend:
 *  - per-record verdicts naming the failing check, and the record ids the center uses;
 *  - signatures first: a record whose signature fails never reaches the range-proof or
 *    ZKPe preparation, nor an accumulator (counted through wrappers of the prepare
 *    functions and a spy on the accumulator's vector-generator terms);
 *  - a record with a broken range proof (signature and ZKPe fine), a broken ZKPe (signature
 *    and range proof fine) or a bad signature (both proofs fine) is refused by the control
 *    center, the privacy authority (in a bill and in a feeder grid, before it co-decrypts,
 *    burning no reading) and the customer's check;
 *  - the authority refuses a record that proves bounds other than its meter's certified class
 *    for the record's key epoch, and records of meters or key epochs it holds no certificate for.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { bytesToHex } from '../lib/crypto/codec.js';
import { prepareRangeChecks, verifyRange } from '../lib/crypto/bulletproofs/range.js';
import { MsmAccumulator } from '../lib/crypto/msm-accumulator.js';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey, signSchnorr, verifySchnorr } from '../lib/crypto/schnorr.js';
import { dangerouslyGenerateAllShares } from '../lib/crypto/threshold.js';
import { prepareAggregateEquivalenceChecks, verifyAggregateEquivalence } from '../lib/crypto/zkpe.js';
import { PrivacyAuthority } from '../lib/protocol/authority.js';
import { issueBill, releaseFeederGrid } from '../lib/protocol/billing.js';
import { ControlCenter } from '../lib/protocol/center.js';
import { certifyMeter, type CertificateFields } from '../lib/protocol/certificate.js';
import { checkBill } from '../lib/protocol/customer.js';
import { HOUSEHOLD, Meter, type MeterClass } from '../lib/protocol/meter.js';
import { decodeRecord, proofContext, signedMessage, type MeterRecord } from '../lib/protocol/records.js';
import { DEFAULT_TARIFF, validateTariff, type Tariff } from '../lib/protocol/tariff.js';
import { verifyRecords, type RecordCheck } from '../lib/protocol/verify.js';
import { ZkmeterError } from '../lib/errors.js';
import { TestRng, testSeed } from './support/rng.js';
import { SIX_HOURLY } from './support/world.js';

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
const D = 86_400; // a day in seconds
const T = (i: number) => DAY + 900 * i; // a household's interval i of the day
const S = (i: number) => DAY + SIX_HOURLY.intervalSeconds * i; // SIX_HOURLY's reading i of the day
/** When the meters' first key epochs start: long before the test's days. */
const LONG_AGO = DAY - 400 * D;
/** One price all day: a bill is a plain sum, within the price-spread bound of every class. */
const FLAT: Tariff = validateTariff({ ...DEFAULT_TARIFF, bands: [{ name: 'flat', fromHour: 0, pricePerWh: 28n }] });

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

/** The smallest policy the authority allows: bills of 3 readings, grids of 3 meters. */
function setup(minIntervals = 3) {
  const { key, shares } = dangerouslyGenerateAllShares(['control-center', 'privacy-authority'], 2);
  const provisioningSecret = randomScalar(rand);
  const center = new ControlCenter({ utilityKey: key.publicKey, tariffVersions: [FLAT.version] });
  const authority = new PrivacyAuthority({
    key,
    share: shares.get('privacy-authority')!,
    provisioningKeys: [schnorrPublicKey(provisioningSecret)],
    tariffs: [FLAT],
    policy: { minIntervals, minMeters: 3, minIntervalsPerPrice: 1 },
    meterClasses: [HOUSEHOLD, SIX_HOURLY],
  });
  /** A certificate by the provisioning key the authority trusts (epoch 0, feeder F, from LONG_AGO unless said). */
  const certify = (f: Pick<CertificateFields, 'meterId' | 'publicKey' | 'meterClass'> & Partial<CertificateFields>) =>
    certifyMeter({ keyEpoch: 0, validFrom: LONG_AGO, feeder: 'F', ...f }, provisioningSecret, rand);
  return { key, centerShare: shares.get('control-center')!, center, authority, certify };
}

type Setup = ReturnType<typeof setup>;

/** A meter on feeder F, registered with the center and certified to the authority. */
async function meterOf(s: Setup, meterId: string, meterClass: MeterClass = HOUSEHOLD) {
  const signingKey = randomScalar(rand);
  const meter = new Meter({ meterId, signingKey, utilityKey: s.key.publicKey, meterClass, rng: rand });
  await s.center.register({ meterId, publicKey: meter.publicKey, feeder: 'F', meterClass });
  s.authority.register(s.certify({ meterId, publicKey: meter.publicKey, meterClass }));
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
      // Four readings a day (SIX_HOURLY): bills of a whole day, and a grid of three meters, stay cheap.
      const s = setup(4);
      const { meter, signingKey } = await meterOf(s, 'A', SIX_HOURLY);
      const good = meter.reading(S(0), 120n);
      const victim = meter.reading(S(1), 140n);
      const rest = meter.daily(S(2), [60n, 80n]);
      const bad = broken(victim, check, signingKey);
      // The premise: exactly `check` fails, each proof verified on its own.
      const holds = checksOf(bad, meter.publicKey, s.key.publicKey);
      for (const c of CHECKS) expect(holds[c], `${c} of a record with a broken ${check}`).toBe(c !== check);

      // The control center.
      const out = await s.center.submit([good.bytes, bad, rest.bytes]);
      expect(out[0]).toMatchObject({ status: 'accepted' });
      expect(out[1]).toMatchObject({ status: 'invalid', reason: check, meterId: 'A' });
      expect(out[2]).toMatchObject({ status: 'accepted' });

      // The privacy authority, handed the bad record by a center that did not check: refused, naming it,
      // in a bill of the day and in the feeder's grid of the day (with two complete neighbours).
      let refusal: unknown;
      try {
        s.authority.billShare({ meterId: 'A', from: DAY, to: DAY + D, tariffVersion: FLAT.version, records: [good.bytes, bad, rest.bytes] });
      } catch (e) {
        refusal = e;
      }
      expect(refusal).toBeInstanceOf(ZkmeterError);
      expect((refusal as ZkmeterError).code).toBe('POLICY_REFUSED');
      expect((refusal as ZkmeterError).message).toMatch(new RegExp(`^refused by rule 'record': record 1 \\(meter A, interval ${S(1)}\\).*\\(${check}\\)`));
      const neighbours: Uint8Array[] = [];
      for (const id of ['B', 'C']) neighbours.push((await meterOf(s, id, SIX_HOURLY)).meter.daily(S(0), [10n, 20n, 30n, 40n]).bytes);
      const gridRequest = (records: Uint8Array[]) => ({ feeder: 'F', from: DAY, to: DAY + D, tariffVersion: FLAT.version, intervalSeconds: SIX_HOURLY.intervalSeconds, records });
      expect(() => s.authority.gridShares(gridRequest([bad, good.bytes, rest.bytes, ...neighbours]))).toThrow(new RegExp(`^refused by rule 'record': record 0 .*\\(${check}\\)`));
      // Nothing was marked used: the honest records still make a bill, and the grid.
      await s.center.submit([victim.bytes, ...neighbours]);
      const bill = await issueBill({ ...s, tariff: FLAT, meterId: 'A', from: DAY, to: DAY + D, rng: rand });
      expect(bill.intervals).toEqual([S(0), S(1), S(2), S(3)]);
      const grid = await releaseFeederGrid({ ...s, tariff: FLAT, feeder: 'F', from: DAY, to: DAY + D, meterClass: SIX_HOURLY, rng: rand });
      expect(grid.members).toEqual(['A', 'B', 'C']);
      expect(grid.totals.map((t) => t.totalWh)).toEqual([140n, 180n, 120n, 160n]);

      // The customer's check, handed the bad record for a billed interval.
      const base = { bill, openings: meter.export(), tariff: FLAT, key: s.key, meterPublicKey: meter.publicKey };
      expect(checkBill({ ...base, records: [good.bytes, victim.bytes, rest.bytes] }).ok).toBe(true);
      // Without the record the bill names, the interval has no record (a broken signature keeps the
      // record's id, its signed message, so that record is the named one, and bad); a bill naming
      // the bad one gets a bad record.
      const without = check === 'signature' ? 'bad-record' : 'no-record';
      expect(checkBill({ ...base, records: [good.bytes, bad, rest.bytes] }).disagreements).toEqual([{ intervalStart: S(1), reason: without, reading: 140n }]);
      const badId = bytesToHex(signedMessage(bad.subarray(0, bad.length - 64)));
      const c = checkBill({ ...base, bill: { ...bill, recordIds: bill.recordIds.map((id, i) => (i === 1 ? badId : id)) }, records: [good.bytes, bad, rest.bytes] });
      expect(c.ok).toBe(false);
      expect(c.disagreements).toEqual([{ intervalStart: S(1), reason: 'bad-record', reading: 140n }]);
      expect(c.invalidRecords).toEqual([{ index: 1, reason: check, detail: expect.any(String), intervals: [S(1)] }]);
      expect(c.verifiedRecords).toBe(2);
      // Beside the good record, the bad one is still reported, though the bill is right.
      const both = checkBill({ ...base, records: [good.bytes, victim.bytes, rest.bytes, bad] });
      expect(both.disagreements).toEqual([]);
      expect(both.invalidRecords.map((r) => [r.index, r.reason])).toEqual([[3, check]]);
    });
  }

  it('the authority refuses a record that proves bounds other than its meter’s certified class, and records without a certificate', async () => {
    const s = setup();
    const commercial: MeterClass = { name: 'commercial', bits: 32, intervalSeconds: 900, normal: { min: 0n, max: 4000n }, plausible: { min: 0n, max: 1_000_000n } };
    // Meter C, certified as a household meter at key epoch 0, though it proves a commercial meter's bounds.
    const key0 = randomScalar(rand);
    const epoch0 = new Meter({ meterId: 'C', signingKey: key0, utilityKey: s.key.publicKey, meterClass: commercial, rng: rand });
    s.authority.register(s.certify({ meterId: 'C', publicKey: epoch0.publicKey, meterClass: HOUSEHOLD }));
    const early = epoch0.reading(DAY - 20 * D, 70_000n); // abnormal: proves [0, 1,000,000]
    expect(early.header.bounds).toEqual(commercial.plausible);
    // Certified as a household meter, the record claims too much: refused before any proof work.
    const earlyBill = { meterId: 'C', from: DAY - 20 * D, to: DAY - 19 * D, tariffVersion: FLAT.version, records: [early.bytes] };
    expect(() => s.authority.billShare(earlyBill)).toThrow(/^refused by rule 'class-bounds': record 0 \(meter C, .*\) proves bounds \[0, 1000000\] in 32 bits, not its class household's plausible bounds/);
    expect(prepared()).toEqual({ range: 0, equivalence: 0 });
    // Its commercial key epoch, not certified yet: refused.
    const epoch1 = new Meter({ meterId: 'C', signingKey: randomScalar(rand), utilityKey: s.key.publicKey, meterClass: commercial, keyEpoch: 1, rng: rand });
    const records = [epoch1.reading(T(0), 70_000n), epoch1.daily(T(1), [5n, 6n])];
    const req = { meterId: 'C', from: DAY, to: DAY + D, tariffVersion: FLAT.version, records: records.map((r) => r.bytes) };
    expect(() => s.authority.billShare(req)).toThrow(/^refused by rule 'registry': record 0 \(meter C, .*\): meter C has no certificate for key epoch 1/);
    // Re-keyed as a commercial meter from ten days before DAY: the records of that epoch are billed,
    // checked against its class; the household epoch's record is still checked against household.
    expect(s.authority.register(s.certify({ meterId: 'C', publicKey: epoch1.publicKey, keyEpoch: 1, validFrom: DAY - 10 * D, meterClass: commercial }))).toMatchObject({ change: 're-keyed', keyEpoch: 1 });
    expect(s.authority.billShare(req).intervals).toEqual([T(0), T(1), T(2)]);
    expect(() => s.authority.billShare(earlyBill)).toThrow(/^refused by rule 'class-bounds'/);
    // Epoch 0's key signs nothing after epoch 1 starts, nor before its own certificate's start.
    const household0 = new Meter({ meterId: 'C', signingKey: key0, utilityKey: s.key.publicKey, rng: rand });
    for (const t of [T(8), LONG_AGO - 900]) {
      const r = household0.reading(t, 10n);
      const day = t - (t % D);
      expect(() => s.authority.billShare({ meterId: 'C', from: day, to: day + D, tariffVersion: FLAT.version, records: [r.bytes] })).toThrow(
        new RegExp(`^refused by rule 'registry': record 0 \\(meter C, interval ${t}\\): key epoch 0 of meter C signs intervals in \\[${LONG_AGO}, ${DAY - 10 * D}\\)`),
      );
    }
    // A meter without a certificate, and a certificate by a provisioning key the authority does not trust.
    const stranger = new Meter({ meterId: 'Z', signingKey: randomScalar(rand), utilityKey: s.key.publicKey, rng: rand });
    expect(() => s.authority.billShare({ ...req, meterId: 'Z', records: [stranger.reading(T(0), 1n).bytes] })).toThrow(/^refused by rule 'registry': record 0 \(meter Z, .*\): meter Z has no certificate from a trusted provisioning key/);
    const untrusted = certifyMeter({ meterId: 'Z', publicKey: stranger.publicKey, keyEpoch: 0, validFrom: LONG_AGO, feeder: 'F', meterClass: HOUSEHOLD }, randomScalar(rand), rand);
    expect(() => s.authority.register(untrusted)).toThrow(/^refused by rule 'registry': meter Z's certificate is signed by [0-9a-f]{64}, not a trusted provisioning key/);
    const forged = s.certify({ meterId: 'Z', publicKey: stranger.publicKey, meterClass: HOUSEHOLD });
    forged[forged.length - 65 - 37]! ^= 1; // the class name's last letter: the signature no longer covers it
    expect(() => s.authority.register(forged)).toThrow(/^refused by rule 'registry': meter Z's certificate signature does not verify/);
    expect(s.authority.certificates('Z')).toEqual([]);
    expect(() => s.authority.billShare({ ...req, records: [new Uint8Array(12)] })).toThrow(/^record 0: /);
    expect(() => s.authority.register(new Uint8Array(31))).toThrow(ZkmeterError);
    expect(() => s.certify({ meterId: 'D', publicKey: new Uint8Array(31), meterClass: HOUSEHOLD })).toThrow(ZkmeterError);
  });
});
