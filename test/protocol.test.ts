/**
 * The metering protocol end to end, on each backend: meters' signed records,
 * the control center's batch verification and classification, replay and
 * duplicate rejection, tampering, threshold billing with the authority's
 * policy (certified meters, bills of whole days with enough readings, no
 * overlapping bills), feeder grids, and the customer's bill check. Meters are
 * of the compact test classes (test/support/world.ts) so that whole days stay
 * cheap to seal in TypeScript, under the two-rate tariff that fits their
 * price-spread bound.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../lib/crypto/codec.js';
import { getGroup } from '../lib/backend/index.js';
import { concatBytes, scalarsToBytes } from '../lib/backend/bytes.js';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey, signSchnorr } from '../lib/crypto/schnorr.js';
import { dangerouslyGenerateAllShares, partialDecrypt } from '../lib/crypto/threshold.js';
import { ZkmeterError } from '../lib/errors.js';
import { PrivacyAuthority, type AuthorityPolicy } from '../lib/protocol/authority.js';
import { issueBill, releaseFeederGrid, type Bill } from '../lib/protocol/billing.js';
import { ControlCenter } from '../lib/protocol/center.js';
import { certifyMeter } from '../lib/protocol/certificate.js';
import { checkBill } from '../lib/protocol/customer.js';
import { Meter, type MeterClass } from '../lib/protocol/meter.js';
import { RECORD_VERSION, decodeRecord, encodeHeader, proofContext, recordFromJson, recordToJson, signedMessage } from '../lib/protocol/records.js';
import { verifyRange } from '../lib/crypto/bulletproofs/range.js';
import { verifyAggregateEquivalence } from '../lib/crypto/zkpe.js';
import { priceAt } from '../lib/protocol/tariff.js';
import { TestRng, testSeed } from './support/rng.js';
import { errorCode } from './support/errors.js';
import { compressedX, isCurveX } from './support/curve.js';
import { HOURLY, SIX_HOURLY, TWO_RATE } from './support/world.js';

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
const g = getGroup();
console.log(`protocol.test.ts on ${g.name}: seed ${seed}`);

const DAY = 1_764_115_200; // 2025-11-26T00:00Z
const D = 86_400; // a day in seconds
const T = (i: number) => DAY + 3600 * i; // hour i of the day: HOURLY's interval i
const TARIFF = TWO_RATE; // 10 per Wh, 20 from 12:00 to 18:00

/** The rule a POLICY_REFUSED names (any other outcome fails the test). */
async function refusedRule(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ZkmeterError);
    expect((e as ZkmeterError).code).toBe('POLICY_REFUSED');
    return /^refused by rule '([a-z-]+)'/.exec((e as ZkmeterError).message)?.[1] ?? `unnamed: ${(e as ZkmeterError).message}`;
  }
  throw new Error('expected a POLICY_REFUSED');
}

/**
 * A center and an authority sharing a 2-of-2 key; meters of `meterClass` (HOURLY unless
 * said), sealing under TARIFF, registered with the center and certified to the authority
 * by a provisioning key it trusts, long before the test's days (so none counts as new).
 */
function setup(o: { policy?: Partial<AuthorityPolicy>; meterClass?: MeterClass } = {}) {
  const meterClass = o.meterClass ?? HOURLY;
  const { key, shares } = dangerouslyGenerateAllShares(['control-center', 'privacy-authority'], 2);
  const provisioningSecret = randomScalar(rand);
  const center = new ControlCenter({ utilityKey: key.publicKey, tariffVersions: [TARIFF.version] });
  const authority = new PrivacyAuthority({
    key,
    share: shares.get('privacy-authority')!,
    provisioningKeys: [schnorrPublicKey(provisioningSecret)],
    tariffs: [TARIFF],
    policy: o.policy ?? { minIntervals: 4, minMeters: 3, minIntervalsPerPrice: 1 },
    meterClasses: [meterClass],
  });
  const meters = new Map<string, Meter>();
  const makeMeter = (id: string, signingKey = randomScalar(rand)) =>
    new Meter({ meterId: id, signingKey, utilityKey: key.publicKey, meterClass, tariffVersion: TARIFF.version, rng: rand });
  const addMeter = async (id: string, feeder = 'F1', registered = true) => {
    const m = makeMeter(id);
    if (registered) {
      await center.register({ meterId: id, publicKey: m.publicKey, feeder, meterClass });
      authority.register(certifyMeter({ meterId: id, publicKey: m.publicKey, keyEpoch: 0, validFrom: DAY - 400 * D, feeder, meterClass }, provisioningSecret, rand));
    }
    meters.set(id, m);
    return m;
  };
  return { key, centerShare: shares.get('control-center')!, center, authority, meters, meterClass, makeMeter, addMeter };
}

describe(`records (${g.name})`, () => {
  const { key } = setup();
  const meter = new Meter({ meterId: 'MPAN-1', signingKey: randomScalar(rand), utilityKey: key.publicKey, rng: rand });
  const rec = meter.reading(T(0), 321n);

  it('decode(encode) is the identity, and the JSON form round-trips', () => {
    const again = decodeRecord(rec.bytes.slice());
    expect(again.header).toEqual(rec.header);
    expect(recordFromJson(JSON.parse(JSON.stringify(recordToJson(rec)))).bytes).toEqual(rec.bytes);
    expect(errorCode(() => recordFromJson({ ...recordToJson(rec), meterId: 'MPAN-2' }))).toBe('INVALID_RECORD');
  });

  it('rejects truncation, trailing bytes, bad magic, version, kind, flags and bit lengths', () => {
    expect(errorCode(() => decodeRecord(rec.bytes.subarray(0, rec.bytes.length - 1)))).toBe('INVALID_RECORD');
    expect(errorCode(() => decodeRecord(concatBytes(rec.bytes, new Uint8Array(1))))).toBe('INVALID_RECORD');
    for (const [at, value, code] of [[0, 0x00, 'INVALID_RECORD'], [4, RECORD_VERSION - 1, 'UNSUPPORTED_VERSION'], [4, RECORD_VERSION + 1, 'UNSUPPORTED_VERSION'], [5, 3, 'INVALID_RECORD'], [6, 2, 'INVALID_RECORD'], [7, 12, 'INVALID_RECORD']] as const) {
      const b = rec.bytes.slice();
      b[at] = value;
      expect(errorCode(() => decodeRecord(b)), `byte ${at} = ${value}`).toBe(code);
    }
    expect(errorCode(() => encodeHeader({ ...rec.header, bounds: { min: 5n, max: 4n } }))).toBe('INVALID_RECORD');
    expect(errorCode(() => encodeHeader({ ...rec.header, count: 2 }))).toBe('INVALID_RECORD');
  });

  it('a point in the payload that is off the curve is rejected', () => {
    // x = 5 is not the x-coordinate of any secp256k1 point (x³ + 7 = 132 is a non-residue).
    expect(isCurveX(5n)).toBe(false);
    const b = rec.bytes.slice();
    const at = rec.headerBytes.length; // C1's encoding
    b.set(compressedX(5n), at);
    expect(errorCode(() => decodeRecord(b))).toBe('INVALID_POINT');
  });

  it('the meter refuses implausible readings with a typed error', () => {
    expect(errorCode(() => meter.reading(T(1), 70_000n))).toBe('VALUE_OUT_OF_RANGE');
    expect(errorCode(() => meter.reading(T(1), -1n))).toBe('VALUE_OUT_OF_RANGE');
  });
});

describe(`control center, billing and the customer (${g.name})`, () => {
  it('classifies, bills exactly, and the customer’s check passes', async () => {
    const s = setup();
    const a = await s.addMeter('A');
    const readings = [120n, 240n, 0n, 95n, 31n]; // 240 Wh is abnormal for the class (normal up to 200 Wh an hour)
    const records = readings.map((wh, i) => a.reading(T(10 + i), wh)); // from 10:00, into the afternoon band
    expect(new Set(records.map((r) => priceAt(TARIFF, r.header.intervalStart))).size).toBe(2);
    const out = await s.center.submit(records.map((r) => r.bytes));
    expect(out.map((o) => o.status)).toEqual(['accepted', 'abnormal', 'accepted', 'accepted', 'accepted']);
    expect(records[1]!.header.abnormal).toBe(true);
    expect(records[1]!.header.bounds).toEqual(HOURLY.plausible);
    expect((await s.center.inspectionQueue()).map((r) => r.intervalStart)).toEqual([T(11)]);
    expect(await s.center.gaps('A', T(8), T(16))).toEqual([T(8), T(9), T(15)]);

    const bill = await issueBill({ ...s, tariff: TARIFF, meterId: 'A', from: DAY, to: DAY + D, rng: rand });
    const truth = readings.reduce((sum, wh, i) => sum + wh * priceAt(TARIFF, T(10 + i)), 0n);
    expect(bill.energyCharge).toBe(truth); // the abnormal reading is billed, not dropped
    expect(bill.standingCharge).toBe(TARIFF.standingChargePerDay); // one day holds the billed readings
    expect(bill.total).toBe(truth + TARIFF.standingChargePerDay);
    expect([bill.currency, bill.minorPerMajor]).toEqual([TARIFF.currency, TARIFF.minorPerMajor]);
    const check = checkBill({ bill, records: await s.center.evidenceFor(await s.center.readingsOf('A', DAY, DAY + D)), openings: a.export(), tariff: TARIFF, key: s.key, meterPublicKey: a.publicKey });
    expect(check.problems).toEqual([]);
    expect(check.disagreements).toEqual([]);
    expect(check.ok).toBe(true);
  });

  it('replays are idempotent, duplicates and unknown meters are rejected, a daily record is accepted', async () => {
    const s = setup();
    const a = await s.addMeter('A');
    const r0 = a.reading(T(0), 100n);
    expect((await s.center.submit([r0.bytes]))[0]).toMatchObject({ status: 'accepted', repeated: false });
    expect((await s.center.submit([r0.bytes]))[0]).toMatchObject({ status: 'accepted', repeated: true });
    const again = a.reading(T(0), 100n); // a second, different record for the same interval
    expect((await s.center.submit([again.bytes]))[0]).toMatchObject({ status: 'invalid', reason: 'duplicate' });
    const day = a.daily(T(4), [10n, 20n, 30n, 40n]);
    const both = await s.center.submit([day.bytes, a.daily(T(6), [1n, 2n]).bytes]);
    expect(both[0]).toMatchObject({ status: 'accepted', intervals: [T(4), T(5), T(6), T(7)] });
    expect(both[1]).toMatchObject({ status: 'invalid', reason: 'duplicate' });
    const stranger = await s.addMeter('Z', 'F1', false);
    expect((await s.center.submit([stranger.reading(T(0), 5n).bytes]))[0]).toMatchObject({ status: 'invalid', reason: 'unknown-meter' });
    expect((await s.center.submit([new Uint8Array(10)]))[0]).toMatchObject({ status: 'invalid', reason: 'malformed' });
  });

  it('a tampered header fails the signature, and re-signed it still fails both proofs', async () => {
    const s = setup();
    const signingKey = randomScalar(rand);
    const a = s.makeMeter('A', signingKey);
    const meterClass = s.meterClass;
    await s.center.register({ meterId: 'A', publicKey: a.publicKey, meterClass });
    const rec = a.reading(T(8), 200n);
    const idLen = rec.bytes[8]!;
    // The meter id changed to another registered meter's ('A' → 'B'): B's key does not verify A's
    // signature, and if B re-signs the record as its own, both proofs still fail.
    const bKey = randomScalar(rand);
    const meterB = s.makeMeter('B', bKey);
    await s.center.register({ meterId: 'B', publicKey: meterB.publicKey, meterClass });
    const moved = rec.bytes.slice();
    moved[9] = 0x42; // 'A' → 'B' (both ids are one character)
    expect((await s.center.submit([moved]))[0]).toMatchObject({ status: 'invalid', reason: 'signature', meterId: 'B' });
    const claimed = concatBytes(moved.subarray(0, moved.length - 64), signSchnorr([signedMessage(moved.subarray(0, moved.length - 64))], bKey, rand));
    expect((await s.center.submit([claimed]))[0]).toMatchObject({ status: 'invalid', reason: 'range-proof', meterId: 'B' });
    const c = decodeRecord(claimed);
    expect(verifyRange({ commitments: c.commitments, bits: c.header.bits, bounds: c.header.bounds }, c.rangeProof, proofContext(c.headerBytes))).toBe(false);
    expect(verifyAggregateEquivalence({ publicKey: s.key.publicKey, ciphertexts: c.ciphertexts, commitments: c.commitments }, c.equivalenceProof, proofContext(c.headerBytes))).toBe(false);
    // A meter id changed to another registered meter's: the other meter's key does not verify it.
    const other = await s.addMeter('C');
    const forged = other.reading(T(10), 1n);
    const asA = s.makeMeter('A').reading(T(11), 1n);
    expect((await s.center.submit([asA.bytes]))[0]).toMatchObject({ status: 'invalid', reason: 'signature', meterId: 'A' });
    expect((await s.center.submit([forged.bytes]))[0]).toMatchObject({ status: 'accepted' });
    // Tampered header fields after the meter id: intervalStart u64 at +0, keyEpoch u32 at +22.
    // The epoch last: registering A's key at epoch 1 (so that only the signature fails) is a
    // re-key, which the center never undoes.
    const cases: [string, (v: DataView) => void][] = [
      ['interval', (v) => v.setBigUint64(9 + idLen, BigInt(T(9)))], // one interval later: still aligned
      ['epoch', (v) => v.setUint32(9 + idLen + 22, 1)],
    ];
    for (const [name, tamper] of cases) {
      const b = rec.bytes.slice();
      tamper(new DataView(b.buffer));
      const unsigned = b.subarray(0, b.length - 64);
      if (name === 'epoch') await s.center.register({ meterId: 'A', publicKey: a.publicKey, meterClass, keyEpoch: 1 });
      expect((await s.center.submit([b]))[0]).toMatchObject({ status: 'invalid', reason: 'signature' });
      const resigned = concatBytes(unsigned, signSchnorr([signedMessage(unsigned)], signingKey, rand));
      expect((await s.center.submit([resigned]))[0]).toMatchObject({ status: 'invalid', reason: 'range-proof' });
      // Both proofs are bound to the header: each fails on its own.
      const t = decodeRecord(resigned);
      const ctx = proofContext(t.headerBytes);
      expect(verifyRange({ commitments: t.commitments, bits: t.header.bits, bounds: t.header.bounds }, t.rangeProof, ctx)).toBe(false);
      expect(verifyAggregateEquivalence({ publicKey: s.key.publicKey, ciphertexts: t.ciphertexts, commitments: t.commitments }, t.equivalenceProof, ctx)).toBe(false);
    }
  });

  it('one bad record in a batch is isolated; its neighbours are accepted', async () => {
    const s = setup();
    const a = await s.addMeter('A');
    const recs = [0, 1, 2, 3].map((i) => a.reading(T(20 + i), BigInt(50 * i)).bytes);
    const bad = recs[2]!.slice();
    bad[bad.length - 100] = bad[bad.length - 100]! ^ 1; // inside the proof of equivalence's z_s
    recs[2] = bad;
    const out = await s.center.submit(recs);
    expect(out.map((o) => o.status)).toEqual(['accepted', 'accepted', 'invalid', 'accepted']);
    expect(out[2]).toMatchObject({ reason: expect.stringMatching(/signature|equivalence-proof/) });
  });

  it('the authority refuses small bills, overlapping bills and small feeders; one share alone never decrypts', async () => {
    // Four readings a day (SIX_HOURLY), so that the grid's meters report whole days cheaply.
    const s = setup({ policy: { minIntervals: 4, minMeters: 3, minIntervalsPerPrice: 1 }, meterClass: SIX_HOURLY });
    const Q = (day: number, i = 0) => DAY + day * D + SIX_HOURLY.intervalSeconds * i; // reading i of day `day`
    const a = await s.addMeter('A');
    const b = await s.addMeter('B');
    const bill = (from: number, to: number) => issueBill({ ...s, tariff: TARIFF, meterId: 'A', from, to, rng: rand });
    await s.center.submit([0, 1, 2].map((i) => a.reading(Q(0, i), 50n).bytes));
    expect(await refusedRule(() => bill(DAY, DAY + D))).toBe('min-intervals'); // 3 readings, fewer than 4
    await s.center.submit([a.reading(Q(0, 3), 50n).bytes]);
    const first = await bill(DAY, DAY + D);
    expect(first.energyCharge).toBe([0, 1, 2, 3].reduce((acc, i) => acc + 50n * priceAt(TARIFF, Q(0, i)), 0n));
    // The identical request again is answered, with the same charge: it releases nothing new.
    expect((await bill(DAY, DAY + D)).energyCharge).toBe(first.energyCharge);
    // The same readings again in a differently bounded period: refused (differencing two bills
    // would give the readings between their ends). A longer period overlaps the first bill; one
    // that starts earlier, or off midnight, is not the whole days of its readings.
    await s.center.submit([a.daily(Q(1), [60n, 70n, 80n, 90n]).bytes]);
    expect(await refusedRule(() => bill(DAY, DAY + 2 * D))).toBe('overlap');
    expect(await refusedRule(() => bill(DAY - D, DAY + D))).toBe('whole-days');
    expect(await refusedRule(() => bill(Q(-1, 3), DAY + D))).toBe('whole-days');
    // The center's share alone: not a decryption (x_c·C1 ≠ x·C1).
    const ct = (await s.center.readingsOf('A', DAY, Q(0, 1)))[0]!.ciphertext;
    const lone = partialDecrypt(s.key, s.centerShare, ct, new Uint8Array(0), rand);
    expect(g.add(ct.c2, g.negate(lone.share))).not.toEqual(g.mulGen(scalarsToBytes([50n])));
    // Feeder totals come as a grid of whole days, over the meters that reported every interval
    // of it: on day 1, A and B did, D missed one, so two meters count, below minMeters = 3.
    await s.center.submit([b.daily(Q(1), [10n, 20n, 30n, 40n]).bytes]);
    const d = await s.addMeter('D');
    await s.center.submit([d.daily(Q(1), [1n, 2n, 3n]).bytes]);
    const grid = () => releaseFeederGrid({ ...s, tariff: TARIFF, feeder: 'F1', from: DAY + D, to: DAY + 2 * D, meterClass: SIX_HOURLY, rng: rand });
    expect(await refusedRule(grid)).toBe('min-meters');
    const c = await s.addMeter('C');
    await s.center.submit([c.daily(Q(1), [5n, 5n, 5n, 5n]).bytes]);
    const released = await grid();
    expect(released.members).toEqual(['A', 'B', 'C']);
    expect(released.excluded).toEqual([{ meterId: 'D', why: expect.stringMatching(/missing/) }]);
    expect(released.totals).toEqual([75n, 95n, 115n, 135n].map((totalWh, i) => ({ intervalStart: Q(1, i), totalWh })));
  });

  it('the customer’s check names a disagreeing interval and rejects a wrong decryption', async () => {
    const s = setup();
    const a = await s.addMeter('A');
    const wh = [150n, 100n, 50n, 200n];
    await s.center.submit(wh.map((v, i) => a.reading(T(i), v).bytes));
    const bill = await issueBill({ ...s, tariff: TARIFF, meterId: 'A', from: DAY, to: DAY + D, rng: rand });
    const records = await s.center.evidenceFor(await s.center.readingsOf('A', DAY, DAY + D));
    const base = { records, tariff: TARIFF, key: s.key, meterPublicKey: a.publicKey };
    expect(checkBill({ ...base, bill, openings: a.export() }).ok).toBe(true);
    // The display says interval 2 was 50 Wh; suppose the record in the bill said otherwise.
    const openings = a.export().map((o, i) => (i === 2 ? { ...o, reading: 75n } : o));
    const c1 = checkBill({ ...base, bill, openings });
    expect(c1.ok).toBe(false);
    expect(c1.disagreements).toEqual([{ intervalStart: T(2), reason: 'reading-differs', reading: 75n }]);
    // An inflated bill, or a forged decryption share, is caught.
    const inflated: Bill = { ...bill, energyCharge: bill.energyCharge + 1n, total: bill.total + 1n };
    expect(checkBill({ ...base, bill: inflated, openings: a.export() }).problems.join(' ')).toMatch(/do not decrypt/);
    const forged: Bill = { ...bill, decryptionShares: [bill.decryptionShares[0]!, { ...bill.decryptionShares[1]!, share: g.add(bill.decryptionShares[1]!.share, g.mulGen(scalarsToBytes([1n]))) }] };
    expect(checkBill({ ...base, bill: forged, openings: a.export() }).problems.join(' ')).toMatch(/decryption is not valid/);
    // A bill missing one of the meter's records cannot hide it.
    const c2 = checkBill({ ...base, bill, records: records.slice(1), openings: a.export() });
    expect(c2.disagreements).toContainEqual({ intervalStart: T(0), reason: 'no-record', reading: 150n });
    // A period that is not whole days, or has days before its first billed reading (whose standing
    // charges nothing was billed for), or overlaps an earlier bill, is flagged; the same bill again is not.
    const problems = (b: Bill, earlierBills: Bill[] = []) => checkBill({ ...base, bill: b, openings: a.export(), earlierBills }).problems.join(' ');
    expect(problems({ ...bill, to: DAY + D + 3600 })).toMatch(/is not a run of whole days in UTC/);
    expect(problems({ ...bill, from: DAY - D })).toMatch(/runs beyond the days of its billed readings/);
    expect(problems(bill, [{ ...bill, from: DAY - D }])).toMatch(/overlaps the earlier bill/);
    expect(checkBill({ ...base, bill, openings: a.export(), earlierBills: [bill] }).ok).toBe(true);
    // Amounts in another currency than the tariff's are flagged.
    expect(problems({ ...bill, currency: 'EUR' })).toMatch(/the bill is in EUR/);
  });

  it('an interval sealed twice: the bill checks out whichever record was billed, and a wrong reading is still flagged', async () => {
    for (const first of ['reading records', 'daily record'] as const) {
      const s = setup();
      const a = await s.addMeter('A');
      // Four reading records, then the same intervals again in a daily record, whose reading
      // for interval 2 the meter corrected: the export has two openings for every interval.
      const readings = [100n, 120n, 140n, 160n].map((wh, i) => a.reading(T(i), wh));
      const daily = a.daily(T(0), [100n, 120n, 150n, 160n]);
      const sent = first === 'reading records' ? [...readings, daily] : [daily, ...readings];
      const out = await s.center.submit(sent.map((r) => r.bytes));
      expect(out.filter((o) => o.status === 'invalid').map((o) => o.status === 'invalid' && o.reason)).toEqual(first === 'reading records' ? ['duplicate'] : ['duplicate', 'duplicate', 'duplicate', 'duplicate']);
      const bill = await issueBill({ ...s, tariff: TARIFF, meterId: 'A', from: DAY, to: DAY + D, rng: rand });
      const billed = first === 'reading records' ? 140n : 150n;
      const openings = a.export();
      expect(openings.filter((o) => o.intervalStart === T(2)).map((o) => o.reading)).toEqual([140n, 150n]);
      const base = { bill, tariff: TARIFF, key: s.key, meterPublicKey: a.publicKey };
      // With the records the bill was computed from, and with all of the meter's records (as
      // the meter's export gives them to the page), in either order.
      const evidence = await s.center.evidenceFor(await s.center.readingsOf('A', DAY, DAY + D));
      const all = [...readings, daily].map((r) => r.bytes);
      for (const [name, records] of [['evidence', evidence], ['all records', all], ['all, reversed', [...all].reverse()]] as const) {
        const c = checkBill({ ...base, records, openings });
        expect(c.problems, `${first} billed, ${name}`).toEqual([]);
        expect(c.disagreements, `${first} billed, ${name}`).toEqual([]);
        expect(c.ok).toBe(true);
        expect(c.lines.find((l) => l.intervalStart === T(2))!.reading).toBe(billed);
        expect(c.expectedEnergyCharge).toBe(bill.energyCharge);
      }
      // The display says 145 Wh for interval 2, in both of its openings: flagged, whichever record holds it.
      const wrong = openings.map((o) => (o.intervalStart === T(2) ? { ...o, reading: 145n } : o));
      for (const records of [evidence, all]) {
        const c = checkBill({ ...base, records, openings: wrong });
        expect(c.ok).toBe(false);
        expect(c.disagreements).toEqual([{ intervalStart: T(2), reason: 'reading-differs', reading: 145n }]);
      }
      // A bill whose encrypted charge is no choice of the records' ciphertexts is caught too.
      const swapped: Bill = { ...bill, encryptedEnergyCharge: { c1: bill.encryptedEnergyCharge.c2, c2: bill.encryptedEnergyCharge.c1 } };
      expect(checkBill({ ...base, bill: swapped, records: all, openings }).problems).toContain('the encrypted charge is not the tariff-weighted sum of the billed records');
    }
  });

  it('with every interval sealed twice, the bill names its records: right in any order, and a bill naming the wrong ones is caught', async () => {
    const s = setup();
    const a = await s.addMeter('A');
    // Five intervals, each sealed in two reading records; the first ones are billed.
    const firsts = [0, 1, 2, 3, 4].map((i) => a.reading(T(i), BigInt(100 + i)));
    const seconds = [0, 1, 2, 3, 4].map((i) => a.reading(T(i), BigInt(100 + i)));
    await s.center.submit([...firsts, ...seconds].map((r) => r.bytes));
    const bill = await issueBill({ ...s, tariff: TARIFF, meterId: 'A', from: DAY, to: DAY + D, rng: rand });
    const ids = (recs: typeof firsts) => recs.map((r) => bytesToHex(signedMessage(r.bytes.subarray(0, r.bytes.length - 64))));
    expect(bill.recordIds).toEqual(ids(firsts));
    const base = { bill, openings: a.export(), tariff: TARIFF, key: s.key, meterPublicKey: a.publicKey };
    const all = [...firsts, ...seconds].map((r) => r.bytes);
    expect(checkBill({ ...base, records: all }).ok).toBe(true);
    expect(checkBill({ ...base, records: [...all].reverse() }).ok).toBe(true);
    // The same amounts, but naming the re-sealed records: their ciphertexts do not sum to the charge.
    const c = checkBill({ ...base, bill: { ...bill, recordIds: ids(seconds) }, records: all });
    expect(c.ok).toBe(false);
    expect(c.problems).toEqual(['the encrypted charge is not the tariff-weighted sum of the billed records']);
    // Naming a record the customer was not given: that interval has no record.
    const missing = checkBill({ ...base, records: all.filter((_, k) => k !== 2) });
    expect(missing.disagreements).toEqual([{ intervalStart: T(2), reason: 'no-record', reading: 102n }]);
    // An interval listed twice, or outside the period, with its record named again: the charge
    // would be consistent with the list, but the list is wrong.
    const period = /not distinct, ascending and inside the period/;
    const twice = { ...bill, intervals: [...bill.intervals, T(4)], recordIds: [...bill.recordIds, bill.recordIds[4]!] };
    expect(checkBill({ ...base, bill: twice, records: all }).problems.join(' ')).toMatch(period);
    expect(checkBill({ ...base, bill: { ...bill, to: T(4) }, records: all }).problems.join(' ')).toMatch(period);
  });
});
