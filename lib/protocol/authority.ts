/**
 * The privacy authority: the second holder of the utility's decryption key
 * (threshold.ts). It co-decrypts only aggregates it has recomputed itself from
 * signed meter records, and only when its policy allows:
 *  - a bill covers at least `minIntervals` distinct intervals of one meter;
 *  - a feeder aggregate covers at least `minMeters` distinct meters of that feeder;
 *  - the weights are the published tariff's (bills) or all 1 (feeders), never
 *    chosen by the requester;
 *  - no (meter, interval) takes part in two bills, nor in two feeder
 *    aggregates: otherwise two overlapping aggregates could be subtracted to
 *    isolate one reading (a differencing attack).
 * A single share never decrypts anything, so the control center alone cannot
 * read an individual reading. Nor does it co-decrypt anything until every
 * record it was given proves bounds within its meter's class and passes
 * `verifyRecords` (signature, range proof, proof of equivalence): a ciphertext
 * that does not hold its proved reading would make the aggregate undecryptable
 * after the authority had marked its readings, honest neighbours' included, as used.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { weightedSum, type Ciphertext } from '../crypto/elgamal.js';
import { partialDecrypt, type DecryptionShare, type KeyShare, type SharedKey } from '../crypto/threshold.js';
import { cryptoRandom, type RandomSource } from '../crypto/random.js';
import { billContext, encryptedEnergyCharge, feederContext, maxEnergyCharge } from './billing.js';
import { HOUSEHOLD, type MeterClass } from './meter.js';
import { decodeRecord, recordIntervals, type MeterRecord } from './records.js';
import type { Tariff } from './tariff.js';
import { validateMeterKey, verifyRecords, type RecordToVerify } from './verify.js';

export interface AuthorityPolicy {
  /** Fewest intervals in a bill it co-decrypts (default 48: half a day of 15-minute readings). */
  readonly minIntervals: number;
  /** Fewest meters in a feeder aggregate it co-decrypts (default 5). */
  readonly minMeters: number;
}

/**
 * Where the authority remembers which readings ("meterId@intervalStart") it has
 * already co-decrypted, so that its refusal of reuse survives a restart. The
 * authority writes newly used readings with `record` (which must be durable when
 * it returns) before it releases a share.
 */
export interface AuthorityLedger {
  readonly billed: Iterable<string>;
  readonly aggregated: Iterable<string>;
  record(kind: 'bill' | 'feeder', readings: readonly string[]): void;
}

export const DEFAULT_POLICY: AuthorityPolicy = Object.freeze({ minIntervals: 48, minMeters: 5 });

/** A reading of a signed record (verified before anything containing it is co-decrypted). */
interface Reading {
  meterId: string;
  intervalStart: number;
  ciphertext: Ciphertext;
  /** The upper bound its record proves: what the aggregate's decryption is searched up to. */
  max: bigint;
}

export class PrivacyAuthority {
  readonly policy: AuthorityPolicy;
  private readonly key: SharedKey;
  private readonly share: KeyShare;
  private readonly tariffs = new Map<number, Tariff>();
  private readonly meters = new Map<string, { publicKey: Uint8Array; feeder: string | undefined; meterClass: MeterClass }>();
  private readonly billed = new Set<string>();
  private readonly aggregated = new Set<string>();
  private readonly ledger: AuthorityLedger | undefined;

  /** Without a `ledger`, what it has co-decrypted is remembered for the object's lifetime only. */
  constructor(o: { key: SharedKey; share: KeyShare; tariffs: readonly Tariff[]; policy?: Partial<AuthorityPolicy>; ledger?: AuthorityLedger }) {
    this.key = o.key;
    this.share = o.share;
    this.ledger = o.ledger;
    if (o.ledger !== undefined) {
      for (const k of o.ledger.billed) this.billed.add(k);
      for (const k of o.ledger.aggregated) this.aggregated.add(k);
    }
    for (const t of o.tariffs) this.tariffs.set(t.version, t);
    this.policy = { ...DEFAULT_POLICY, ...o.policy };
  }

  /**
   * Mirrors the public meter registry: keys, feeders and classes. The class
   * (default HOUSEHOLD) bounds what a record of the meter may prove: its
   * plausible bounds are what the decryption of bills and feeder totals is sized for.
   */
  register(meterId: string, publicKey: Uint8Array, feeder?: string, meterClass: MeterClass = HOUSEHOLD): void {
    if (typeof meterId !== 'string') throw new ZkmeterError('INVALID_ARGUMENT', '"meterId" expected a string');
    this.meters.set(meterId, { publicKey: validateMeterKey(meterId, publicKey), feeder, meterClass });
  }

  /**
   * Its decryption share of a meter's bill for [from, to): recomputes the
   * encrypted energy charge Σ price_t·C_t from the signed records and refuses
   * (POLICY_REFUSED) anything its policy does not allow.
   */
  billShare(
    req: { meterId: string; from: number; to: number; tariffVersion: number; records: readonly Uint8Array[] },
    rng: RandomSource = cryptoRandom,
  ): { encryptedCharge: Ciphertext; intervals: number[]; share: DecryptionShare; maxCharge: bigint } {
    const tariff = this.tariffs.get(req.tariffVersion);
    if (tariff === undefined) refuse(`unknown tariff version ${req.tariffVersion}`);
    const { records, readings: all } = this.readingsOf(req.records);
    const readings = all.filter((r) => {
      if (r.meterId !== req.meterId) refuse(`a record of meter ${r.meterId} is not part of meter ${req.meterId}'s bill`);
      return r.intervalStart >= req.from && r.intervalStart < req.to;
    });
    if (readings.length < this.policy.minIntervals) {
      refuse(`a bill must cover at least ${this.policy.minIntervals} intervals, this one covers ${readings.length}`);
    }
    const keys = readings.map((r) => `${r.meterId}@${r.intervalStart}`);
    const reused = keys.find((k) => this.billed.has(k));
    if (reused !== undefined) refuse(`interval ${reused} was already part of another bill`);
    this.verify(records);
    const encryptedCharge = encryptedEnergyCharge(readings, tariff!);
    const share = partialDecrypt(this.key, this.share, encryptedCharge, billContext(req.meterId, req.from, req.to, req.tariffVersion), rng);
    this.ledger?.record('bill', keys); // durable before the share leaves
    keys.forEach((k) => this.billed.add(k));
    return { encryptedCharge, intervals: readings.map((r) => r.intervalStart), share, maxCharge: maxEnergyCharge(readings, tariff!) };
  }

  /** Its decryption share of the total of a feeder's meters for the interval starting at `intervalStart`. */
  feederShare(
    req: { feeder: string; intervalStart: number; records: readonly Uint8Array[] },
    rng: RandomSource = cryptoRandom,
  ): { encryptedTotal: Ciphertext; meters: string[]; share: DecryptionShare; maxTotal: bigint } {
    const { records, readings: all } = this.readingsOf(req.records);
    const readings = all.filter((r) => {
      if (this.meters.get(r.meterId)!.feeder !== req.feeder) refuse(`meter ${r.meterId} is not on feeder ${req.feeder}`);
      return r.intervalStart === req.intervalStart;
    });
    if (readings.length < this.policy.minMeters) {
      refuse(`a feeder aggregate needs at least ${this.policy.minMeters} meters reporting, feeder ${req.feeder} has ${readings.length}`);
    }
    const keys = readings.map((r) => `${r.meterId}@${r.intervalStart}`);
    const reused = keys.find((k) => this.aggregated.has(k));
    if (reused !== undefined) refuse(`reading ${reused} was already part of another feeder aggregate`);
    this.verify(records);
    const encryptedTotal = weightedSum(readings.map((r) => r.ciphertext));
    const share = partialDecrypt(this.key, this.share, encryptedTotal, feederContext(req.feeder, req.intervalStart), rng);
    this.ledger?.record('feeder', keys);
    keys.forEach((k) => this.aggregated.add(k));
    return { encryptedTotal, meters: readings.map((r) => r.meterId), share, maxTotal: readings.reduce((acc, r) => acc + r.max, 0n) };
  }

  /**
   * Decodes records and lists their readings, refusing (naming the record) one
   * of a meter it does not know, one that proves bounds outside its meter's
   * class, and two records that claim one interval. The cheap checks: the
   * records' cryptography is `verify`'s, once the request has passed the policy.
   */
  private readingsOf(bytes: readonly Uint8Array[]): { records: RecordToVerify[]; readings: Reading[] } {
    if (!Array.isArray(bytes)) throw new ZkmeterError('INVALID_ARGUMENT', '"records" expected an array');
    const readings: Reading[] = [];
    const seen = new Set<string>();
    const records = bytes.map((b, i): RecordToVerify => {
      let r: MeterRecord;
      try {
        r = decodeRecord(b);
      } catch (e) {
        if (!(e instanceof ZkmeterError)) throw e;
        throw new ZkmeterError(e.code, `record ${i}: ${e.message}`, { index: i, cause: e });
      }
      const m = this.meters.get(r.header.meterId);
      if (m === undefined) refuse(`${recordName(i, r)}: meter ${r.header.meterId} is not registered with the authority`);
      // Only the bounds matter here: they are what the range proof proves (bits only cap max − min).
      const { min, max } = r.header.bounds;
      const c = m.meterClass;
      if (min < c.plausible.min || max > c.plausible.max) {
        refuse(`${recordName(i, r)} proves bounds [${min}, ${max}], outside the plausible [${c.plausible.min}, ${c.plausible.max}] of class ${c.name}`);
      }
      recordIntervals(r.header).forEach((t, j) => {
        const k = `${r.header.meterId}@${t}`;
        if (seen.has(k)) refuse(`two records claim interval ${k}`);
        seen.add(k);
        readings.push({ meterId: r.header.meterId, intervalStart: t, ciphertext: r.ciphertexts[j]!, max: r.header.bounds.max });
      });
      return { record: r, meterKey: m.publicKey };
    });
    return { records, readings };
  }

  /**
   * Refuses the request, naming the first bad record, unless every record's
   * signature, range proof and proof of equivalence verify: a ciphertext that
   * does not hold its proved reading would make the aggregate undecryptable
   * once its readings, honest neighbours' included, were marked used.
   */
  private verify(records: readonly RecordToVerify[]): void {
    verifyRecords(records, this.key.publicKey).forEach((v, i) => {
      if (!v.ok) refuse(`${recordName(i, records[i]!.record)} is refused (${v.reason}): ${v.detail}`);
    });
  }
}

function recordName(i: number, r: MeterRecord): string {
  return `record ${i} (meter ${r.header.meterId}, interval ${r.header.intervalStart})`;
}

function refuse(message: string): never {
  throw new ZkmeterError('POLICY_REFUSED', message);
}
