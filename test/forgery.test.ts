/**
 * Issue 14's forgery, on each backend: a meter sends V = v·G + s·H with an honest
 * range proof and C2 = v·G + r·Y + δ·H, and proves equivalence with the witness
 * s − δ. ZKPe v1 accepted that (the relation it proved holds), and the ciphertext
 * decrypts to v·G + δ·H, which nobody can decrypt. ZKPe v2 must reject it: the
 * single proof and the aggregated one, at every position of a daily record, the
 * stealth variant whose shifts cancel in the bill (Σ price·δ = 0), and a randomized
 * search over shifts a·G + b·H with every witness the forger could feed the
 * prover. At the protocol level, a lying meter is refused at the door, and no
 * honest reading is burned: its neighbours' bills and their feeder's grid are
 * released (certified meters of a six-hourly test class, four readings a day,
 * so that whole days stay cheap to seal in TypeScript).
 */
import { describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { CURVE_ORDER } from '../lib/backend/bytes.js';
import * as eg from '../lib/crypto/elgamal.js';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey } from '../lib/crypto/schnorr.js';
import { dangerouslyGenerateAllShares } from '../lib/crypto/threshold.js';
import { proveAggregateEquivalence, proveEquivalence, verifyAggregateEquivalence, verifyEquivalence } from '../lib/crypto/zkpe.js';
import { PrivacyAuthority } from '../lib/protocol/authority.js';
import { encryptedEnergyCharge, issueBill, releaseFeederGrid, type Bill } from '../lib/protocol/billing.js';
import { ControlCenter } from '../lib/protocol/center.js';
import { certifyMeter } from '../lib/protocol/certificate.js';
import { checkBill } from '../lib/protocol/customer.js';
import { Meter, type MeterClass } from '../lib/protocol/meter.js';
import { DEFAULT_TARIFF, priceAt } from '../lib/protocol/tariff.js';
import { signedMessage } from '../lib/protocol/records.js';
import { bytesToHex } from '../lib/crypto/codec.js';
import { forgePairs, forgeRecord, satisfiesV1Relation, shiftPoint, type ForgerWitness } from './support/forge.js';
import { asyncErrorCode } from './support/errors.js';
import { TestRng, testSeed } from './support/rng.js';
import { SIX_HOURLY, TWO_RATE } from './support/world.js';

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
const g = getGroup();
console.log(`forgery.test.ts on ${g.name}: seed ${seed}`);
const u = (s: string) => new TextEncoder().encode(s);
const ctx = u('zkmeter/record v2 header');
const { secretKey, publicKey } = eg.keygen(rand);
const DAY = 1_764_115_200; // 2025-11-26T00:00Z, a Wednesday
const day = Array.from({ length: 96 }, (_, i) => BigInt((i * 37) % 4001));
const nonzero = () => randomScalar(rand);
const WITNESSES: ForgerWitness[] = ['honest', 'v1', 'shifted-value', 'both'];

describe(`the δ·H shift (${g.name})`, () => {
  it('is accepted by the v1 relation and cannot be decrypted: the attack is real', () => {
    const delta = 5n;
    const f = forgePairs({ utilityKey: publicKey, values: [1234n], b: [delta], witness: 'v1', rng: rand });
    // ZKPe v1 proved knowledge of (r, s′) with C1 = r·G and C2 − V = r·Y − s′·H; the forger has it.
    expect(satisfiesV1Relation(publicKey, f.ciphertexts[0]!, f.commitments[0]!, f.r[0]!, f.witness.s[0]!)).toBe(true);
    // The ciphertext decrypts to 1234·G + 5·H: no value in any search range.
    expect(() => eg.decrypt(secretKey, f.ciphertexts[0]!, { max: 1n << 20n })).toThrowError(/range|found/i);
    // The honest pair (no shift) is the control: it decrypts.
    const honest = forgePairs({ utilityKey: publicKey, values: [1234n], b: [0n], witness: 'honest', rng: rand });
    expect(eg.decrypt(secretKey, honest.ciphertexts[0]!, { max: 1n << 20n })).toBe(1234n);
  });

  it('the single proof rejects it at every position of a daily record, with any witness the forger has', () => {
    let rejected = 0;
    day.forEach((v, j) => {
      const f = forgePairs({ utilityKey: publicKey, values: [v], b: [nonzero()], witness: WITNESSES[j % 4]!, rng: rand });
      const statement = { publicKey, ciphertext: f.ciphertexts[0]!, commitment: f.commitments[0]! };
      const witness = { m: f.witness.m[0]!, r: f.witness.r[0]!, s: f.witness.s[0]! };
      if (!verifyEquivalence(statement, proveEquivalence(statement, witness, ctx, rand), ctx)) rejected++;
    });
    expect(rejected).toBe(day.length);
    const control = forgePairs({ utilityKey: publicKey, values: [day[5]!], b: [0n], witness: 'honest', rng: rand });
    const statement = { publicKey, ciphertext: control.ciphertexts[0]!, commitment: control.commitments[0]! };
    expect(verifyEquivalence(statement, proveEquivalence(statement, { m: day[5]!, r: control.r[0]!, s: control.s[0]! }, ctx, rand), ctx)).toBe(true);
  });

  it('the aggregated proof rejects it at every position of a daily record', () => {
    // One honest day, then the shift at position j alone (encrypting 96 readings per position would be slow in TypeScript).
    const f = forgePairs({ utilityKey: publicKey, values: day, b: day.map(() => 0n), witness: 'honest', rng: rand });
    const accepted: number[] = [];
    for (let j = 0; j < day.length; j++) {
      const delta = nonzero();
      const ciphertexts = f.ciphertexts.map((ct, i) => (i === j ? { c1: ct.c1, c2: shiftPoint(ct.c2, 0n, delta) } : ct));
      const v1Witness = { ...f.witness, s: f.witness.s.map((x, i) => (i === j ? (x - delta + CURVE_ORDER) % CURVE_ORDER : x)) };
      const statement = { publicKey, ciphertexts, commitments: f.commitments };
      if (verifyAggregateEquivalence(statement, proveAggregateEquivalence(statement, j % 2 === 0 ? v1Witness : f.witness, ctx, rand), ctx)) accepted.push(j);
    }
    expect(accepted).toEqual([]);
    const statement = { publicKey, ciphertexts: f.ciphertexts, commitments: f.commitments };
    expect(verifyAggregateEquivalence(statement, proveAggregateEquivalence(statement, f.witness, ctx, rand), ctx)).toBe(true);
  });

  it('the stealth variant, whose shifts cancel in the tariff-weighted bill, is rejected', () => {
    // Two intervals in different bands, shifts with price_i·δ_i + price_k·δ_k = 0 (mod n).
    const i = 10; // 02:30, off-peak
    const k = 70; // 17:30, peak
    const [pi, pk] = [priceAt(DEFAULT_TARIFF, DAY + 900 * i), priceAt(DEFAULT_TARIFF, DAY + 900 * k)];
    expect(pi).not.toBe(pk);
    const t = nonzero();
    const b = day.map((_, j) => (j === i ? (pk * t) % CURVE_ORDER : j === k ? (CURVE_ORDER - ((pi * t) % CURVE_ORDER)) % CURVE_ORDER : 0n));
    expect((pi * b[i]! + pk * b[k]!) % CURVE_ORDER).toBe(0n);
    const f = forgePairs({ utilityKey: publicKey, values: day, b, witness: 'v1', rng: rand });
    // What made it stealthy: every pair satisfies the v1 relation, and the bill's sum is that of honest ciphertexts.
    for (const j of [i, k]) expect(satisfiesV1Relation(publicKey, f.ciphertexts[j]!, f.commitments[j]!, f.r[j]!, f.witness.s[j]!)).toBe(true);
    const readings = f.ciphertexts.map((ciphertext, j) => ({ intervalStart: DAY + 900 * j, ciphertext }));
    const expected = day.reduce((acc, v, j) => acc + v * priceAt(DEFAULT_TARIFF, DAY + 900 * j), 0n);
    expect(eg.decrypt(secretKey, encryptedEnergyCharge(readings, DEFAULT_TARIFF), { max: 1n << 32n })).toBe(expected);
    const statement = { publicKey, ciphertexts: f.ciphertexts, commitments: f.commitments };
    for (const w of WITNESSES) {
      const again = forgePairs({ utilityKey: publicKey, values: day, b, witness: w, rng: rand });
      const st = { publicKey, ciphertexts: again.ciphertexts, commitments: again.commitments };
      expect(verifyAggregateEquivalence(st, proveAggregateEquivalence(st, again.witness, ctx, rand), ctx)).toBe(false);
    }
    expect(verifyAggregateEquivalence(statement, proveAggregateEquivalence(statement, f.witness, ctx, rand), ctx)).toBe(false);
  });

  it('a C1 that is not r·G for the r of C2 (only the first equation fails) is rejected, single and aggregated', () => {
    const f = forgePairs({ utilityKey: publicKey, values: day.slice(0, 8), b: Array(8).fill(0n), witness: 'honest', rng: rand });
    for (let j = 0; j < 8; j++) {
      for (const [a, b] of [[1n, 0n], [0n, 1n], [nonzero(), nonzero()]] as const) {
        const ciphertexts = f.ciphertexts.map((ct, i) => (i === j ? { c1: shiftPoint(ct.c1, a, b), c2: ct.c2 } : ct));
        const statement = { publicKey, ciphertexts, commitments: f.commitments };
        expect(verifyAggregateEquivalence(statement, proveAggregateEquivalence(statement, f.witness, ctx, rand), ctx)).toBe(false);
        const single = { publicKey, ciphertext: ciphertexts[j]!, commitment: f.commitments[j]! };
        const w = { m: f.witness.m[j]!, r: f.witness.r[j]!, s: f.witness.s[j]! };
        expect(verifyEquivalence(single, proveEquivalence(single, w, ctx, rand), ctx)).toBe(false);
      }
    }
  });

  it('a randomized search over shifts a·G + b·H, positions and witnesses finds nothing accepted', () => {
    const trials = 40;
    let rejected = 0;
    for (let trial = 0; trial < trials; trial++) {
      const K = 1 + rng.int(12);
      const values = Array.from({ length: K }, () => BigInt(rng.int(4001)));
      const pick = (): bigint => [0n, 1n, CURVE_ORDER - 1n, BigInt(rng.int(1000)), nonzero()][rng.int(5)]!;
      const a = values.map(() => (rng.int(3) === 0 ? pick() : 0n));
      const b = values.map(() => (rng.int(2) === 0 ? pick() : 0n));
      const lie = rng.int(K);
      if (a[lie] === 0n && b[lie] === 0n) b[lie] = nonzero(); // at least one pair lies
      const f = forgePairs({ utilityKey: publicKey, values, a, b, witness: WITNESSES[rng.int(4)]!, rng: rand });
      const statement = { publicKey, ciphertexts: f.ciphertexts, commitments: f.commitments };
      if (!verifyAggregateEquivalence(statement, proveAggregateEquivalence(statement, f.witness, ctx, rand), ctx)) rejected++;
    }
    expect(rejected).toBe(trials);
    // The search can find an accepted proof where one exists: no shift at all.
    const values = [3n, 4n, 5n];
    const f = forgePairs({ utilityKey: publicKey, values, b: [0n, 0n, 0n], witness: 'honest', rng: rand });
    const statement = { publicKey, ciphertexts: f.ciphertexts, commitments: f.commitments };
    expect(verifyAggregateEquivalence(statement, proveAggregateEquivalence(statement, f.witness, ctx, rand), ctx)).toBe(true);
  });
});

describe(`a lying meter is refused at the door (${g.name})`, () => {
  // Whole days of SIX_HOURLY (four readings) under the two-rate tariff: bills of a day, grids of three meters.
  const policy = { minIntervals: 4, minMeters: 3, minIntervalsPerPrice: 1 }; // the per-price minimum has its own tests (privacy.test.ts)
  const tariff = TWO_RATE;
  const readings = [120n, 95n, 130n, 12n];
  const T = (i: number) => DAY + SIX_HOURLY.intervalSeconds * i;
  const WHOLE_DAY = { from: DAY, to: DAY + 86_400 };
  /** Proves far more than a household's 65,535 Wh, every six hours, within the price-spread bound of the tariff. */
  const commercial: MeterClass = { name: 'commercial', bits: 32, intervalSeconds: SIX_HOURLY.intervalSeconds, normal: { min: 0n, max: 800_000n }, plausible: { min: 0n, max: 1_000_000n } };

  async function fleet() {
    const { key, shares } = dangerouslyGenerateAllShares(['control-center', 'privacy-authority'], 2);
    const provisioningSecret = randomScalar(rand);
    const center = new ControlCenter({ utilityKey: key.publicKey, tariffVersions: [tariff.version] });
    const authority = new PrivacyAuthority({
      key,
      share: shares.get('privacy-authority')!,
      provisioningKeys: [schnorrPublicKey(provisioningSecret)],
      tariffs: [tariff],
      policy,
      meterClasses: [SIX_HOURLY, commercial],
    });
    /** A meter on feeder F1, registered with the center and certified to the authority long before DAY. */
    const enrol = async (meterId: string, signingKey = randomScalar(rand), meterClass = SIX_HOURLY) => {
      const m = new Meter({ meterId, signingKey, utilityKey: key.publicKey, meterClass, tariffVersion: tariff.version, rng: rand });
      await center.register({ meterId, publicKey: m.publicKey, feeder: 'F1', meterClass });
      authority.register(certifyMeter({ meterId, publicKey: m.publicKey, keyEpoch: 0, validFrom: DAY - 400 * 86_400, feeder: 'F1', meterClass }, provisioningSecret, rand));
      return m;
    };
    const honest: Meter[] = [];
    for (let i = 0; i < 3; i++) honest.push(await enrol(`H${i}`));
    const liarKey = randomScalar(rand);
    const liar = await enrol('LIAR', liarKey);
    const s = { key, centerShare: shares.get('control-center')!, center, authority };
    /** A record of the liar's for the day, with its shifts and witness. */
    const lie = (o: { b: readonly bigint[]; witness: ForgerWitness; sequence?: number }) =>
      forgeRecord({ meterId: 'LIAR', signingKey: liarKey, utilityKey: key.publicKey, intervalStart: DAY, values: readings, meterClass: SIX_HOURLY, tariffVersion: tariff.version, rng: rand, ...o });
    return { ...s, honest, liar, liarKey, enrol, lie };
  }

  it('the plain and the stealth forgery are rejected by the center, which stores none of their readings', async () => {
    const f = await fleet();
    const plain = f.lie({ b: readings.map((_, j) => (j === 3 ? nonzero() : 0n)), witness: 'v1' });
    // The stealth shifts cancel in the bill: 06:00 is at the standard price, 12:00 at the afternoon one.
    const pi = priceAt(tariff, T(1));
    const pk = priceAt(tariff, T(2));
    expect(pi).not.toBe(pk);
    const stealth = f.lie({ b: readings.map((_, j) => (j === 1 ? pk : j === 2 ? CURVE_ORDER - pi : 0n)), witness: 'v1', sequence: 1 });
    const outcomes = await f.center.submit([plain.bytes, stealth.bytes]);
    for (const o of outcomes) expect(o).toMatchObject({ status: 'invalid', reason: 'equivalence-proof', meterId: 'LIAR' });
    expect(await f.center.readingsOf('LIAR', DAY, DAY + 86_400)).toEqual([]);
    expect((await f.center.intervalStatus('LIAR', DAY, T(4))).map((x) => x.status)).toEqual(Array(4).fill('invalid'));
  });

  it('no honest reading is burned: every neighbour is billed, the feeder grid is released, and the liar can still report honestly', async () => {
    const f = await fleet();
    const forged = f.lie({ b: readings.map(() => nonzero()), witness: 'v1' });
    const days = f.honest.map((m, i) => m.daily(DAY, readings.map((x) => x + BigInt(i))));
    const outcomes = await f.center.submit([forged.bytes, ...days.map((d) => d.bytes)]);
    expect(outcomes.map((o) => o.status)).toEqual(['invalid', 'accepted', 'accepted', 'accepted']);
    // The feeder's grid of the day, every interval's total: the three honest meters only, each released.
    const grid = await releaseFeederGrid({ ...f, tariff, feeder: 'F1', ...WHOLE_DAY, meterClass: SIX_HOURLY, rng: rand });
    expect(grid.members).toEqual(['H0', 'H1', 'H2']);
    expect(grid.excluded).toEqual([]);
    expect(grid.totals).toEqual(readings.map((wh, j) => ({ intervalStart: T(j), totalWh: 3n * wh + 0n + 1n + 2n })));
    // Every honest bill decrypts and checks (a member's bill covers exactly the grid's day).
    for (const [i, m] of f.honest.entries()) {
      const bill = await issueBill({ ...f, tariff, meterId: m.meterId, ...WHOLE_DAY, rng: rand });
      const check = checkBill({ bill, records: [days[i]!.bytes], openings: m.export(), tariff, key: f.key, meterPublicKey: m.publicKey });
      expect(check.ok).toBe(true);
    }
    // The liar's intervals were not marked as used: its honest record is accepted and billable.
    const again = f.liar.daily(DAY, readings);
    expect((await f.center.submit([again.bytes]))[0]!.status).toBe('accepted');
    const bill = await issueBill({ ...f, tariff, meterId: 'LIAR', ...WHOLE_DAY, rng: rand });
    expect(bill.energyCharge).toBe(readings.reduce((acc, v, j) => acc + v * priceAt(tariff, T(j)), 0n));
  });

  it('a meter whose class proves larger bounds is billed and joins the feeder grid: the search bound is what its records prove', async () => {
    const f = await fleet();
    const big = await f.enrol('BIG', randomScalar(rand), commercial);
    const wh = [900_000n, 70_000n, 5n, 999_999n]; // far above a household's 65,535 Wh; 900,000 and 999,999 are abnormal
    const days = [big.daily(DAY, wh), ...f.honest.map((m) => m.daily(DAY, readings))];
    expect((await f.center.submit(days.map((d) => d.bytes))).map((o) => o.status)).toEqual(['abnormal', 'accepted', 'accepted', 'accepted']);
    const bill = await issueBill({ ...f, tariff, meterId: 'BIG', ...WHOLE_DAY, rng: rand });
    expect(bill.energyCharge).toBe(wh.reduce((acc, v, j) => acc + v * priceAt(tariff, T(j)), 0n));
    expect(checkBill({ bill, records: [days[0]!.bytes], openings: big.export(), tariff, key: f.key, meterPublicKey: big.publicKey }).ok).toBe(true);
    // Billed for exactly the grid's day, with all its readings, BIG is a member.
    const grid = await releaseFeederGrid({ ...f, tariff, feeder: 'F1', ...WHOLE_DAY, meterClass: SIX_HOURLY, rng: rand });
    expect(grid.members).toEqual(['BIG', 'H0', 'H1', 'H2']);
    expect(grid.totals.map((t) => t.totalWh)).toEqual(wh.map((v, j) => v + 3n * readings[j]!));
  });

  it('the authority and the customer refuse a forged record handed to them directly', async () => {
    const f = await fleet();
    const forged = f.lie({ b: readings.map((_, j) => (j === 0 ? 1n : 0n)), witness: 'v1' });
    // A center that skipped its own check could hand the authority the record: it verifies the proofs itself.
    const share = () => f.authority.billShare({ meterId: 'LIAR', ...WHOLE_DAY, tariffVersion: tariff.version, records: [forged.bytes] });
    expect(await asyncErrorCode(async () => share())).toBe('POLICY_REFUSED');
    expect(share).toThrowError(/^refused by rule 'record': record 0 .*\(equivalence-proof\)/);
    // The refusal used nothing: the honest record for the same intervals is billed afterwards.
    const honest = f.liar.daily(DAY, readings);
    const granted = f.authority.billShare({ meterId: 'LIAR', ...WHOLE_DAY, tariffVersion: tariff.version, records: [honest.bytes] });
    expect(granted.intervals).toHaveLength(readings.length);
    // The customer's check names the forged record's intervals as bad records.
    const ct = encryptedEnergyCharge(forged.ciphertexts.map((ciphertext, j) => ({ intervalStart: T(j), ciphertext })), tariff);
    const bill: Bill = {
      meterId: 'LIAR', ...WHOLE_DAY, tariffVersion: tariff.version, currency: tariff.currency, minorPerMajor: tariff.minorPerMajor,
      intervals: readings.map((_, j) => T(j)), recordIds: readings.map(() => bytesToHex(signedMessage(forged.bytes.subarray(0, forged.bytes.length - 64)))),
      encryptedEnergyCharge: ct, energyCharge: 0n, standingCharge: 0n, total: 0n, decryptionShares: [],
    };
    const check = checkBill({ bill, records: [forged.bytes], openings: forged.openings, tariff, key: f.key, meterPublicKey: f.liar.publicKey });
    expect(check.ok).toBe(false);
    expect(check.disagreements.map((d) => d.reason)).toEqual(Array(readings.length).fill('bad-record'));
  });
});
