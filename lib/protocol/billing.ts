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
import { sha256 } from '@noble/hashes/sha2.js';
import { ZkmeterError } from '../errors.js';
import { bytesToHex } from '../crypto/codec.js';
import { weightedSum, type Ciphertext } from '../crypto/elgamal.js';
import type { RandomSource } from '../crypto/random.js';
import { partialDecrypt, thresholdDecrypt, verifyDecryptionShare, type DecryptionShare, type KeyShare, type SharedKey } from '../crypto/threshold.js';
import { equalBytes } from '../backend/bytes.js';
import type { BillRelease, BillShareRequest, GridRelease, GridShareRequest } from './authority.js';
import { recordIdsOf, type ControlCenter } from './center.js';
import type { RegistrationChange } from './certificate.js';
import { priceAt, standingCharge, verifyTariffSignature, type Tariff } from './tariff.js';
import type { MeterClass } from './meter.js';
import { recordHeaderOf } from './records.js';
import type { StoredReading } from './store.js';

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
  /**
   * The tariff, with the privacy authority's signature of it (`verifyTariffSignature`): the
   * customer checks the prices against the authority's identity key from their meter's export,
   * never against anything the billing utility serves.
   */
  readonly signedTariff?: { readonly tariff: Tariff; readonly signature: Uint8Array };
}

const encoder = new TextEncoder();

/** What decryption shares of a bill are bound to. */
export function billContext(meterId: string, from: number, to: number, tariffVersion: number): Uint8Array {
  return encoder.encode(`zkmeter/bill v1|${meterId}|${from}|${to}|${tariffVersion}`);
}

/** A bill's id: hex SHA-256 of its context (meter, period, tariff version). The same request has the same id. */
export function billId(meterId: string, from: number, to: number, tariffVersion: number): string {
  return bytesToHex(sha256(billContext(meterId, from, to, tariffVersion)));
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
 * The center's own decryption bounds: each reading's proved upper bound, read from the
 * header of the center's stored record that holds it (`records`, from `evidenceFor`, the
 * ones it sends the authority). Never the authority's word: a bound too large would only
 * make BSGS search for ever, one too small would fail an honest bill.
 */
function provedMaxima(readings: readonly StoredReading[], records: readonly Uint8Array[]): bigint[] {
  const ids = recordIdsOf(readings);
  const maxOf = new Map(ids.map((id, i) => [id, recordHeaderOf(records[i]!).bounds.max]));
  return readings.map((r) => maxOf.get(r.recordId)!);
}

/**
 * The privacy authority as the center reaches it: in-process (`PrivacyAuthority`)
 * or over HTTP (server/authority-client.ts). Anything it answers is checked by
 * the caller (the encrypted sums against its own, every share's DLEQ proof), so a
 * faulty or impersonated authority can refuse, never mislead. An unreachable one
 * throws AUTHORITY_UNAVAILABLE.
 */
export interface BillingAuthority {
  billShare(req: BillShareRequest, rng?: RandomSource): BillRelease | Promise<BillRelease>;
  gridShares(req: GridShareRequest, rng?: RandomSource): GridRelease | Promise<GridRelease>;
  /** Refuses a grid request that no records could make acceptable (its tariff or period). */
  checkGridRequest(req: { feeder: string; from: number; to: number; tariffVersion: number }): unknown;
  /** The authority's identity key (32-byte x-only), when known: the tariff signatures it returns are checked against it. */
  readonly identityKey?: Uint8Array | undefined;
  /** Registers meters from provisioning certificates, all or nothing (the authority keeps its own registry). */
  registerCertificates(certificates: readonly Uint8Array[]): RegistrationChange[] | Promise<RegistrationChange[]>;
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
  authority: BillingAuthority;
  tariff: Tariff;
  meterId: string;
  from: number;
  to: number;
  rng?: RandomSource;
}): Promise<Bill> {
  const rng = o.rng; // hedges the DLEQ nonces if given; without it the shares are functions of their inputs
  const readings = await o.center.readingsOf(o.meterId, o.from, o.to);
  const encrypted = encryptedEnergyCharge(readings, o.tariff);
  const context = billContext(o.meterId, o.from, o.to, o.tariff.version);
  const own = partialDecrypt(o.key, o.centerShare, encrypted, context, rng);
  const records = await o.center.evidenceFor(readings);
  const maxima = provedMaxima(readings, records);
  const theirs = await o.authority.billShare({ meterId: o.meterId, from: o.from, to: o.to, tariffVersion: o.tariff.version, records }, rng);
  if (!sameCiphertext(theirs.encryptedCharge, encrypted)) {
    throw new ZkmeterError('AUTHORITY_UNAVAILABLE', 'the authority answered a different encrypted charge than the records add up to');
  }
  const intervals = readings.map((r) => r.intervalStart);
  if (theirs.intervals.length !== intervals.length || theirs.intervals.some((t, i) => t !== intervals[i])) {
    throw new ZkmeterError('AUTHORITY_UNAVAILABLE', 'the authority answered for other intervals than the records hold');
  }
  checkTheirShare(o.key, o.centerShare, theirs.share, encrypted, context);
  // A bill is stored for good: a tariff signature that does not verify must not reach the customer.
  const signer = o.authority.identityKey;
  if (theirs.tariffSignature !== undefined && signer !== undefined && !verifyTariffSignature(o.tariff, theirs.tariffSignature, signer)) {
    throw new ZkmeterError('AUTHORITY_UNAVAILABLE', `the authority's signature of tariff ${o.tariff.version} does not verify under its identity key: are both sides configured with the same tariff?`);
  }
  const energyCharge = thresholdDecrypt(o.key, encrypted, [own, theirs.share], context, {
    max: maxEnergyCharge(readings.map((r, i) => ({ intervalStart: r.intervalStart, max: maxima[i]! })), o.tariff),
  });
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
    ...(theirs.tariffSignature !== undefined ? { signedTariff: { tariff: o.tariff, signature: theirs.tariffSignature } } : {}),
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
  authority: BillingAuthority;
  tariff: Tariff;
  feeder: string;
  from: number;
  to: number;
  meterClass?: MeterClass;
  rng?: RandomSource;
}): Promise<FeederGrid> {
  const rng = o.rng; // hedges the DLEQ nonces if given; without it the shares are functions of their inputs
  // A period the authority refuses whatever the records is refused before they are loaded.
  await o.authority.checkGridRequest({ feeder: o.feeder, from: o.from, to: o.to, tariffVersion: o.tariff.version });
  const readings = await o.center.feederReadingsIn(o.feeder, o.from, o.to);
  const records = await o.center.evidenceFor(readings);
  const maxima = provedMaxima(readings, records);
  // The authority refuses small or incomplete grids before the center spends any decryption.
  const theirs = await o.authority.gridShares(
    {
      feeder: o.feeder,
      from: o.from,
      to: o.to,
      tariffVersion: o.tariff.version,
      ...(o.meterClass ? { intervalSeconds: o.meterClass.intervalSeconds } : {}),
      records,
    },
    rng,
  );
  // Each total must be the sum of the members' readings the center holds, over whole intervals of the period.
  const members = new Set(theirs.members);
  const byInterval = new Map<number, { cts: Ciphertext[]; max: bigint }>();
  readings.forEach((r, i) => {
    if (!members.has(r.meterId)) return;
    let at = byInterval.get(r.intervalStart);
    if (at === undefined) byInterval.set(r.intervalStart, (at = { cts: [], max: 0n }));
    at.cts.push(r.ciphertext);
    at.max += maxima[i]!;
  });
  if (members.size !== theirs.members.length || theirs.members.some((id) => !readings.some((r) => r.meterId === id))) {
    throw new ZkmeterError('AUTHORITY_UNAVAILABLE', "the authority answered members that are not the feeder's meters of these records");
  }
  const totals = theirs.totals.map((t) => {
    const context = gridContext(o.feeder, o.from, o.to, t.intervalStart);
    const held = byInterval.get(t.intervalStart);
    if (held === undefined || held.cts.length !== members.size || !sameCiphertext(weightedSum(held.cts), t.encryptedTotal) || t.intervalStart < o.from || t.intervalStart >= o.to) {
      throw new ZkmeterError('AUTHORITY_UNAVAILABLE', `the authority answered a total for interval ${t.intervalStart} that is not the members' readings`);
    }
    checkTheirShare(o.key, o.centerShare, t.share, t.encryptedTotal, context);
    const own = partialDecrypt(o.key, o.centerShare, t.encryptedTotal, context, rng);
    return { intervalStart: t.intervalStart, totalWh: thresholdDecrypt(o.key, t.encryptedTotal, [own, t.share], context, { max: held.max }) };
  });
  return { feeder: o.feeder, from: o.from, to: o.to, tariffVersion: o.tariff.version, members: theirs.members, excluded: theirs.excluded, totals };
}

function sameCiphertext(a: Ciphertext, b: Ciphertext): boolean {
  return equalBytes(a.c1, b.c1) && equalBytes(a.c2, b.c2);
}

/** The authority's share must be another party's, with a DLEQ proof that verifies: else it is not the authority answering. */
function checkTheirShare(key: SharedKey, own: KeyShare, share: DecryptionShare, ct: Ciphertext, context: Uint8Array): void {
  if (share.party === own.party || !key.parties.has(share.party) || !verifyDecryptionShare(key, ct, share, context)) {
    throw new ZkmeterError('AUTHORITY_UNAVAILABLE', `the authority's decryption share (party ${JSON.stringify(share.party)}) does not verify`);
  }
}
