/**
 * Billing: Enc(bill) = Σ price_t · Enc(m_t) over a meter's accepted readings
 * (one weighted homomorphic sum, two MSMs), decrypted by the control center and
 * the privacy authority together, each with a DLEQ proof of its decryption
 * share. The published bill carries the encrypted charge and both shares, so
 * anyone holding the signed records can check that the amount is what those
 * records encrypt, priced by the tariff (customer.ts). Feeder totals work the
 * same way, with weights 1, per interval, released a whole grid at a time
 * (authority.ts, docs/notes-privacy.md).
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { weightedSum, type Ciphertext } from '../crypto/elgamal.js';
import { cryptoRandom, type RandomSource } from '../crypto/random.js';
import { partialDecrypt, thresholdDecrypt, type DecryptionShare, type KeyShare, type SharedKey } from '../crypto/threshold.js';
import { equalBytes } from '../backend/bytes.js';
import type { PrivacyAuthority } from './authority.js';
import type { ControlCenter } from './center.js';
import { priceAt, standingCharge, type Tariff } from './tariff.js';
import type { MeterClass } from './meter.js';

export interface Bill {
  readonly meterId: string;
  /** Billing period [from, to), Unix seconds: whole days of the tariff's time zone. */
  readonly from: number;
  readonly to: number;
  readonly tariffVersion: number;
  /** ISO 4217 code of the amounts' currency (the tariff's). */
  readonly currency: string;
  /** Minor units per unit of `currency`: every amount below is in minor units, every reading in Wh. */
  readonly minorPerMajor: bigint;
  /** Start of every interval billed, ascending. */
  readonly intervals: readonly number[];
  /**
   * For each billed interval, the id of the signed record it was billed from (hex of
   * the record's signed message), so that a customer whose meter sealed an interval
   * twice knows which record's commitment to open.
   */
  readonly recordIds: readonly string[];
  /** Σ price_t · C_t over those intervals. */
  readonly encryptedEnergyCharge: Ciphertext;
  /** Its decryption, in the tariff's minor units. */
  readonly energyCharge: bigint;
  /** The tariff's standing charge for each day the billed readings cover. */
  readonly standingCharge: bigint;
  readonly total: bigint;
  /** The decryption shares (with DLEQ proofs) that decrypt `encryptedEnergyCharge`. */
  readonly decryptionShares: readonly DecryptionShare[];
}

const encoder = new TextEncoder();

/** What decryption shares of a bill are bound to. */
export function billContext(meterId: string, from: number, to: number, tariffVersion: number): Uint8Array {
  return encoder.encode(`zkmeter/bill v1|${meterId}|${from}|${to}|${tariffVersion}`);
}

/** What decryption shares of one interval total of a feeder's grid over [from, to) are bound to. */
export function gridContext(feeder: string, from: number, to: number, intervalStart: number): Uint8Array {
  return encoder.encode(`zkmeter/grid v1|${feeder}|${from}|${to}|${intervalStart}`);
}

/** Σ price_t · C_t for readings {intervalStart, ciphertext}. */
export function encryptedEnergyCharge(readings: readonly { intervalStart: number; ciphertext: Ciphertext }[], tariff: Tariff): Ciphertext {
  if (readings.length === 0) throw new ZkmeterError('INVALID_ARGUMENT', 'a bill needs at least one reading');
  return weightedSum(
    readings.map((r) => r.ciphertext),
    readings.map((r) => priceAt(tariff, r.intervalStart)),
  );
}

/**
 * The largest energy charge these readings can add up to, Σ price_t·max_t, with max_t the
 * upper bound each reading's record proves: the decryption search bound. Every accepted
 * reading decrypts to a value in its proved bounds (docs/notes-zkpe.md), so a bill's charge
 * is always found within it, whatever the meter's class.
 */
export function maxEnergyCharge(readings: readonly { readonly intervalStart: number; readonly max: bigint }[], tariff: Tariff): bigint {
  return readings.reduce((acc, r) => acc + priceAt(tariff, r.intervalStart) * r.max, 0n);
}

/**
 * Issues a meter's bill for [from, to): the center's weighted sum, its own
 * decryption share and the authority's (which recomputes the sum from the
 * signed records and applies its policy), then BSGS on the combination.
 */
export async function issueBill(o: {
  center: ControlCenter;
  centerShare: KeyShare;
  key: SharedKey;
  authority: PrivacyAuthority;
  tariff: Tariff;
  meterId: string;
  from: number;
  to: number;
  rng?: RandomSource;
}): Promise<Bill> {
  const rng = o.rng ?? cryptoRandom;
  const readings = await o.center.readingsOf(o.meterId, o.from, o.to);
  const encrypted = encryptedEnergyCharge(readings, o.tariff);
  const context = billContext(o.meterId, o.from, o.to, o.tariff.version);
  const own = partialDecrypt(o.key, o.centerShare, encrypted, context, rng);
  const theirs = o.authority.billShare(
    { meterId: o.meterId, from: o.from, to: o.to, tariffVersion: o.tariff.version, records: await o.center.evidenceFor(readings) },
    rng,
  );
  if (!equalBytes(theirs.encryptedCharge.c1, encrypted.c1) || !equalBytes(theirs.encryptedCharge.c2, encrypted.c2)) {
    throw new ZkmeterError('INTERNAL', 'the authority computed a different encrypted charge from the same records');
  }
  const energyCharge = thresholdDecrypt(o.key, encrypted, [own, theirs.share], context, { max: theirs.maxCharge });
  const intervals = readings.map((r) => r.intervalStart);
  const standing = standingCharge(o.tariff, intervals);
  return {
    meterId: o.meterId,
    from: o.from,
    to: o.to,
    tariffVersion: o.tariff.version,
    currency: o.tariff.currency,
    minorPerMajor: o.tariff.minorPerMajor,
    intervals,
    recordIds: readings.map((r) => r.recordId),
    encryptedEnergyCharge: encrypted,
    energyCharge,
    standingCharge: standing,
    total: energyCharge + standing,
    decryptionShares: [own, theirs.share],
  };
}

/** A feeder's grid: its total consumption (Wh) in every interval of whole days, over the meters the authority let in. */
export interface FeederGrid {
  readonly feeder: string;
  readonly from: number;
  readonly to: number;
  readonly tariffVersion: number;
  readonly members: readonly string[];
  /** Meters of the feeder left out, with the authority's reason. */
  readonly excluded: readonly { meterId: string; why: string }[];
  readonly totals: readonly { intervalStart: number; totalWh: bigint }[];
}

/**
 * Releases a feeder's grid over [from, to) (whole days): the center sends the
 * signed records of the feeder's meters for those days; the authority decides
 * the members and returns its share of every interval's total; the center adds
 * its own and decrypts each.
 */
export async function releaseFeederGrid(o: {
  center: ControlCenter;
  centerShare: KeyShare;
  key: SharedKey;
  authority: PrivacyAuthority;
  tariff: Tariff;
  feeder: string;
  from: number;
  to: number;
  meterClass?: MeterClass;
  rng?: RandomSource;
}): Promise<FeederGrid> {
  const rng = o.rng ?? cryptoRandom;
  // A period the authority refuses whatever the records is refused before they are loaded.
  o.authority.checkGridRequest({ feeder: o.feeder, from: o.from, to: o.to, tariffVersion: o.tariff.version });
  const readings = await o.center.feederReadingsIn(o.feeder, o.from, o.to);
  // The authority refuses small or incomplete grids before the center spends any decryption.
  const theirs = o.authority.gridShares(
    {
      feeder: o.feeder,
      from: o.from,
      to: o.to,
      tariffVersion: o.tariff.version,
      ...(o.meterClass ? { intervalSeconds: o.meterClass.intervalSeconds } : {}),
      records: await o.center.evidenceFor(readings),
    },
    rng,
  );
  const totals = theirs.totals.map((t) => {
    const context = gridContext(o.feeder, o.from, o.to, t.intervalStart);
    const own = partialDecrypt(o.key, o.centerShare, t.encryptedTotal, context, rng);
    return { intervalStart: t.intervalStart, totalWh: thresholdDecrypt(o.key, t.encryptedTotal, [own, t.share], context, { max: t.maxTotal }) };
  });
  return { feeder: o.feeder, from: o.from, to: o.to, tariffVersion: o.tariff.version, members: theirs.members, excluded: theirs.excluded, totals };
}
