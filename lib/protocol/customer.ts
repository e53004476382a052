/**
 * The customer's bill check. The customer knows their own readings (the
 * meter's display and export: each reading with its commitment blinding) and
 * receives the bill with its decryption shares and the signed records it was
 * computed from. Without trusting the utility, they check that:
 *  1. every record is signed by their meter;
 *  2. every billed interval's commitment opens to the reading their meter
 *     showed (V = m·G + s·H), and its ciphertext is proved to hold the same
 *     value (the record's proof of equivalence);
 *  3. the bill's encrypted charge is Σ price_t · C_t of exactly those records;
 *  4. the decryption shares are correct (DLEQ) and decrypt it to the billed
 *     energy charge;
 *  5. that charge, plus the standing charge, is what the tariff gives for
 *     their own readings.
 * Any interval that disagrees is named, so the customer can dispute it with
 * the signed record as evidence.
 * @module
 */
import { getGroup } from '../backend/index.js';
import { equalBytes, scalarToBytes } from '../backend/bytes.js';
import { unmask } from '../crypto/elgamal.js';
import { commit } from '../crypto/pedersen.js';
import { joinChecks, verifyChecks } from '../crypto/msm-accumulator.js';
import { prepareSchnorrChecks } from '../crypto/schnorr.js';
import { prepareAggregateEquivalenceChecks } from '../crypto/zkpe.js';
import { combineDecryptionShares, type SharedKey } from '../crypto/threshold.js';
import { ZkmeterError } from '../errors.js';
import { billContext, encryptedEnergyCharge, type Bill } from './billing.js';
import type { ReadingOpening } from './meter.js';
import { decodeRecord, proofContext, recordIntervals, recordSignatureItem, type MeterRecord } from './records.js';
import { priceAt, standingCharge, type Tariff } from './tariff.js';

export interface IntervalDisagreement {
  readonly intervalStart: number;
  readonly reason: 'reading-differs' | 'no-record' | 'not-on-meter' | 'bad-record';
  /** The customer's reading for that interval, when they have one. */
  readonly reading?: bigint;
}

export interface BillCheck {
  /** True when the bill is right in every respect. */
  readonly ok: boolean;
  /** Σ price_t · m_t over the billed intervals, from the customer's own readings. */
  readonly expectedEnergyCharge: bigint;
  readonly expectedTotal: bigint;
  readonly billedTotal: bigint;
  /** Problems with the bill as a whole (decryption, totals, signatures). */
  readonly problems: string[];
  /** Intervals that disagree with the customer's readings, ascending. */
  readonly disagreements: IntervalDisagreement[];
  /** Per billed interval: reading, price and cost, for display. */
  readonly lines: { intervalStart: number; reading: bigint | undefined; pricePerWh: bigint; cost: bigint | undefined }[];
}

export function checkBill(o: {
  bill: Bill;
  /** The signed records the bill was computed from. */
  records: readonly Uint8Array[];
  /** The customer's own readings and blindings (the meter's export). */
  openings: readonly ReadingOpening[];
  tariff: Tariff;
  /** The shared decryption key's public side. */
  key: SharedKey;
  /** The customer's meter's 32-byte x-only key. */
  meterPublicKey: Uint8Array;
  /** The utility's encryption key (64-byte affine); defaults to key.publicKey. */
  utilityKey?: Uint8Array;
}): BillCheck {
  const { bill, tariff } = o;
  if (bill.tariffVersion !== tariff.version) throw new ZkmeterError('INVALID_ARGUMENT', `the bill uses tariff ${bill.tariffVersion}, not ${tariff.version}`);
  const problems: string[] = [];
  const disagreements: IntervalDisagreement[] = [];
  const mine = new Map(o.openings.map((x) => [x.intervalStart, x]));
  // 1. Signatures and proofs of equivalence of the records (one MSM).
  const records: MeterRecord[] = [];
  o.records.forEach((b, i) => {
    try {
      const r = decodeRecord(b);
      if (r.header.meterId !== bill.meterId) problems.push(`record ${i} belongs to meter ${r.header.meterId}`);
      else records.push(r);
    } catch (e) {
      problems.push(`record ${i} is malformed: ${(e as Error).message}`);
    }
  });
  const sigs = prepareSchnorrChecks(records.map((r) => recordSignatureItem(r, o.meterPublicKey)));
  const eqs = prepareAggregateEquivalenceChecks(
    records.map((r) => ({
      statement: { publicKey: o.utilityKey ?? o.key.publicKey, ciphertexts: r.ciphertexts, commitments: r.commitments },
      proof: r.equivalenceProof,
      context: proofContext(r.headerBytes),
    })),
  );
  const n = records.length;
  const bad = new Set(verifyChecks(joinChecks([{ checks: sigs, offset: 0 }, { checks: eqs, offset: n }])).invalid.map((i) => i % n));
  // 2. Each billed interval against the customer's own reading.
  const byInterval = new Map<number, { record: MeterRecord; j: number; bad: boolean }>();
  records.forEach((r, k) => recordIntervals(r.header).forEach((t, j) => byInterval.set(t, { record: r, j, bad: bad.has(k) })));
  const lines: BillCheck['lines'] = [];
  let expected = 0n;
  for (const t of bill.intervals) {
    const own = mine.get(t);
    const price = priceAt(tariff, t);
    lines.push({ intervalStart: t, reading: own?.reading, pricePerWh: price, cost: own ? own.reading * price : undefined });
    const entry = byInterval.get(t);
    if (own === undefined) {
      disagreements.push({ intervalStart: t, reason: 'not-on-meter' });
      continue;
    }
    expected += own.reading * price;
    if (entry === undefined) disagreements.push({ intervalStart: t, reason: 'no-record', reading: own.reading });
    else if (entry.bad) disagreements.push({ intervalStart: t, reason: 'bad-record', reading: own.reading });
    else if (!equalBytes(entry.record.commitments[entry.j]!, commit(own.reading, own.blinding))) {
      disagreements.push({ intervalStart: t, reason: 'reading-differs', reading: own.reading });
    }
  }
  // 3. The encrypted charge is the tariff-weighted sum of exactly those records' ciphertexts.
  const billed = bill.intervals.flatMap((t) => {
    const e = byInterval.get(t);
    return e === undefined ? [] : [{ intervalStart: t, ciphertext: e.record.ciphertexts[e.j]! }];
  });
  if (billed.length === bill.intervals.length && billed.length > 0) {
    const recomputed = encryptedEnergyCharge(billed, tariff);
    if (!equalBytes(recomputed.c1, bill.encryptedEnergyCharge.c1) || !equalBytes(recomputed.c2, bill.encryptedEnergyCharge.c2)) {
      problems.push('the encrypted charge is not the tariff-weighted sum of the billed records');
    }
  }
  // 4. The decryption: shares verify and decrypt to the billed energy charge.
  try {
    const ct = bill.encryptedEnergyCharge;
    const xC1 = combineDecryptionShares(o.key, ct, bill.decryptionShares, billContext(bill.meterId, bill.from, bill.to, bill.tariffVersion));
    const M = unmask(ct, xC1);
    const claimed = bill.energyCharge === 0n ? new Uint8Array(64) : getGroup().mulGen(scalarToBytes(bill.energyCharge));
    if (!equalBytes(M, claimed)) problems.push('the decryption shares do not decrypt to the billed energy charge');
  } catch (e) {
    if (!(e instanceof ZkmeterError)) throw e;
    problems.push(`the bill's decryption is not valid: ${e.message}`);
  }
  // 5. The amounts.
  const standing = standingCharge(tariff, bill.from, bill.to);
  if (bill.standingCharge !== standing) problems.push(`standing charge ${bill.standingCharge}, the tariff gives ${standing}`);
  if (bill.total !== bill.energyCharge + bill.standingCharge) problems.push('the total is not energy charge + standing charge');
  if (bill.energyCharge !== expected) problems.push(`energy charge ${bill.energyCharge}, your readings give ${expected}`);
  disagreements.sort((a, b) => a.intervalStart - b.intervalStart);
  return {
    ok: problems.length === 0 && disagreements.length === 0,
    expectedEnergyCharge: expected,
    expectedTotal: expected + standing,
    billedTotal: bill.total,
    problems,
    disagreements,
    lines,
  };
}
