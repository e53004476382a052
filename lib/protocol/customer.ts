/**
 * The customer's bill check. The customer knows their own readings (the
 * meter's display and export: each reading with its commitment blinding) and
 * receives the bill with its decryption shares and the signed records it was
 * computed from. Without trusting the utility, they check that:
 *  1. every record is signed by their meter, and its range proof and proof of
 *     equivalence verify (`verifyRecords`, as the center and the authority do);
 *  2. every billed interval's commitment, in the record the bill names for it,
 *     opens to the reading their meter showed (V = m·G + s·H): an interval the
 *     meter sealed twice has an opening per record, and the billed record's is
 *     the one that opens its commitment; the proof of equivalence says its
 *     ciphertext holds the same value;
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
import { unmask, type Ciphertext } from '../crypto/elgamal.js';
import { commit } from '../crypto/pedersen.js';
import { combineDecryptionShares, type SharedKey } from '../crypto/threshold.js';
import { ZkmeterError } from '../errors.js';
import { billContext, encryptedEnergyCharge, type Bill } from './billing.js';
import type { ReadingOpening } from './meter.js';
import { decodeRecord, recordIntervals, type MeterRecord } from './records.js';
import type { MeterExport } from './json.js';
import { isLocalMidnight, localDay, priceAt, standingCharge, tariffTimeZone, verifyTariffSignature, type Tariff } from './tariff.js';
import { verifyRecords, type RecordCheck } from './verify.js';

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
  /** Problems with the bill as a whole (decryption, totals, records that are malformed or another meter's). */
  readonly problems: string[];
  /** Intervals that disagree with the customer's readings, ascending. */
  readonly disagreements: IntervalDisagreement[];
  /**
   * Records of the customer's meter (by index in `records`) whose signature, range proof or
   * proof of equivalence does not verify, billed or not; a billed interval the bill
   * names such a record for is a `bad-record` disagreement.
   */
  readonly invalidRecords: { index: number; reason: RecordCheck; detail: string; intervals: number[] }[];
  /** How many records are the meter's and pass all three checks. */
  readonly verifiedRecords: number;
  /** Per billed interval: reading, price and cost, for display. */
  readonly lines: { intervalStart: number; reading: bigint | undefined; pricePerWh: bigint; cost: bigint | undefined }[];
}

export function checkBill(o: {
  bill: Bill;
  /** The signed records the bill was computed from (the meter's records: more may be given). */
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
  /** The customer's earlier bills: a period that overlaps one of them is flagged. */
  earlierBills?: readonly Bill[];
}): BillCheck {
  const { bill, tariff } = o;
  if (bill.tariffVersion !== tariff.version) throw new ZkmeterError('INVALID_ARGUMENT', `the bill uses tariff ${bill.tariffVersion}, not ${tariff.version}`);
  if (!Array.isArray(o.records)) throw new ZkmeterError('INVALID_ARGUMENT', '"records" expected an array of byte arrays');
  if (!Array.isArray(o.openings)) throw new ZkmeterError('INVALID_ARGUMENT', '"openings" expected an array');
  const problems: string[] = [];
  const disagreements: IntervalDisagreement[] = [];
  // An interval the meter sealed twice has two openings, each of its own record's commitment.
  const mine = new Map<number, ReadingOpening[]>();
  for (const x of o.openings) {
    const at = mine.get(x.intervalStart);
    if (at === undefined) mine.set(x.intervalStart, [x]);
    else at.push(x);
  }
  // 1. Every record of the meter: signature, range proof and proof of equivalence.
  const decoded: { index: number; record: MeterRecord }[] = [];
  o.records.forEach((b, index) => {
    try {
      const r = decodeRecord(b);
      if (r.header.meterId !== bill.meterId) problems.push(`record ${index} belongs to meter ${r.header.meterId}`);
      else decoded.push({ index, record: r });
    } catch (e) {
      if (!(e instanceof ZkmeterError)) throw e;
      problems.push(`record ${index} is malformed: ${e.message}`);
    }
  });
  const verdicts = verifyRecords(
    decoded.map((d) => ({ record: d.record, meterKey: o.meterPublicKey })),
    o.utilityKey ?? o.key.publicKey,
  );
  const invalidRecords = decoded.flatMap((d, k) => {
    const v = verdicts[k]!;
    return v.ok ? [] : [{ index: d.index, reason: v.reason, detail: v.detail, intervals: recordIntervals(d.record.header) }];
  });
  // By id; records that share an id (the same signed bytes, one with a bad signature) keep the good one.
  const byId = new Map<string, { record: MeterRecord; ok: boolean }>();
  decoded.forEach((d, k) => {
    const { recordId, ok } = verdicts[k]!;
    if (!byId.get(recordId)?.ok) byId.set(recordId, { record: d.record, ok });
  });
  // 2. Each billed interval against the customer's own reading: the opening of the
  //    commitment of the record the bill names for it (a re-sealed interval has two).
  if (bill.recordIds.length !== bill.intervals.length) problems.push('the bill does not name one record per billed interval');
  // Each interval billed once, inside the period: a bill listing one twice would charge it twice.
  if (!bill.intervals.every((t, i) => t >= bill.from && t < bill.to && (i === 0 || t > bill.intervals[i - 1]!))) {
    problems.push(`the billed intervals are not distinct, ascending and inside the period [${bill.from}, ${bill.to})`);
  }
  problems.push(...periodProblems(bill, tariff, o.earlierBills ?? []));
  const billed: { intervalStart: number; ciphertext: Ciphertext }[] = [];
  const lines: BillCheck['lines'] = [];
  let expected = 0n;
  bill.intervals.forEach((t, i) => {
    const price = priceAt(tariff, t);
    const own = mine.get(t) ?? [];
    const named = byId.get(bill.recordIds[i] ?? '');
    const j = named === undefined ? -1 : recordIntervals(named.record.header).indexOf(t);
    const V = named?.ok && j >= 0 ? named.record.commitments[j] : undefined;
    if (V !== undefined) billed.push({ intervalStart: t, ciphertext: named!.record.ciphertexts[j]! });
    // The opening of the billed commitment, else the latest the meter shows (to name the reading that differs).
    const opened = V === undefined ? undefined : own.find((x) => equalBytes(V, commit(x.reading, x.blinding)));
    const reading = (opened ?? own.at(-1))?.reading;
    lines.push({ intervalStart: t, reading, pricePerWh: price, cost: reading === undefined ? undefined : reading * price });
    if (reading === undefined) {
      disagreements.push({ intervalStart: t, reason: 'not-on-meter' });
      return;
    }
    expected += reading * price;
    if (named !== undefined && !named.ok && j >= 0) disagreements.push({ intervalStart: t, reason: 'bad-record', reading });
    else if (V === undefined) disagreements.push({ intervalStart: t, reason: 'no-record', reading });
    else if (opened === undefined) disagreements.push({ intervalStart: t, reason: 'reading-differs', reading });
  });
  // 3. The encrypted charge is the tariff-weighted sum of exactly those records' ciphertexts.
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
  // 5. The amounts, in the tariff's currency.
  if (bill.currency !== tariff.currency || bill.minorPerMajor !== tariff.minorPerMajor) {
    problems.push(`the bill is in ${bill.currency} (1/${bill.minorPerMajor}), the tariff in ${tariff.currency} (1/${tariff.minorPerMajor})`);
  }
  const standing = standingCharge(tariff, bill.intervals);
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
    invalidRecords,
    verifiedRecords: verdicts.filter((v) => v.ok).length,
    lines,
  };
}

/**
 * The customer's check from what they hold alone, trusting nothing the billing utility serves:
 * their meter's export (readings, blindings and signed records, with the utility's shared key
 * and the privacy authority's identity key the meter was provisioned with) and the bill. The
 * prices are the bill's tariff, which must carry the authority's signature by that identity
 * key; the decryption is checked against that shared key, and the records against its public
 * key (what the meter encrypted under). A bill without such a signature fails.
 */
export function checkBillWithExport(o: { bill: Bill; meterExport: MeterExport; earlierBills?: readonly Bill[] }): BillCheck & { readonly tariff: Tariff | undefined } {
  const { bill, meterExport: x } = o;
  const refused = (problem: string) => ({
    ok: false,
    expectedEnergyCharge: 0n,
    expectedTotal: 0n,
    billedTotal: bill.total,
    problems: [problem],
    disagreements: [],
    invalidRecords: [],
    verifiedRecords: 0,
    lines: [],
    tariff: bill.signedTariff?.tariff,
  });
  if (bill.meterId !== x.meterId) return refused(`the bill is for meter ${bill.meterId}, the export is from meter ${x.meterId}`);
  const signed = bill.signedTariff;
  if (signed === undefined) return refused('the bill carries no tariff signed by the privacy authority: its prices cannot be checked');
  if (signed.tariff.version !== bill.tariffVersion) return refused(`the bill uses tariff ${bill.tariffVersion}, but carries tariff ${signed.tariff.version}`);
  const check = checkBill({
    bill,
    records: x.records,
    openings: x.openings,
    tariff: signed.tariff,
    key: x.sharedKey,
    meterPublicKey: x.meterPublicKey,
    ...(o.earlierBills !== undefined ? { earlierBills: o.earlierBills } : {}),
  });
  if (verifyTariffSignature(signed.tariff, signed.signature, x.authorityKey)) return { ...check, tariff: signed.tariff };
  return { ...check, ok: false, problems: ["the bill's tariff is not signed by the privacy authority your meter trusts", ...check.problems], tariff: signed.tariff };
}

/**
 * What is wrong with a bill's period: not whole days of the tariff's zone, days before its first or after
 * its last billed reading (which would add standing charges for days nothing was billed on), or an
 * overlap with an earlier bill of the meter (which would bill those days twice).
 */
function periodProblems(bill: Bill, tariff: Tariff, earlier: readonly Bill[]): string[] {
  const problems: string[] = [];
  const zone = tariffTimeZone(tariff);
  try {
    if (!(bill.from < bill.to) || !isLocalMidnight(tariff, bill.from) || !isLocalMidnight(tariff, bill.to)) {
      problems.push(`the period [${bill.from}, ${bill.to}) is not a run of whole days in ${zone}`);
    } else if (bill.intervals.length > 0) {
      const [first, last] = [bill.intervals[0]!, bill.intervals.at(-1)!];
      if (localDay(tariff, first) !== localDay(tariff, bill.from) || localDay(tariff, last) !== localDay(tariff, bill.to - 1)) {
        problems.push(`the period [${bill.from}, ${bill.to}) runs beyond the days of its billed readings`);
      }
    }
  } catch (e) {
    if (!(e instanceof ZkmeterError)) throw e;
    problems.push(`the period [${bill.from}, ${bill.to}) is not a run of whole days in ${zone}: ${e.message}`);
  }
  for (const b of earlier) {
    const same = b.from === bill.from && b.to === bill.to && b.tariffVersion === bill.tariffVersion && equalBytes(b.encryptedEnergyCharge.c1, bill.encryptedEnergyCharge.c1) && equalBytes(b.encryptedEnergyCharge.c2, bill.encryptedEnergyCharge.c2);
    if (b.meterId === bill.meterId && b.from < bill.to && bill.from < b.to && !same) {
      problems.push(`the period [${bill.from}, ${bill.to}) overlaps the earlier bill for [${b.from}, ${b.to})`);
    }
  }
  return problems;
}
