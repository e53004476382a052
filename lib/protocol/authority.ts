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
 * read an individual reading.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { weightedSum, type Ciphertext } from '../crypto/elgamal.js';
import { verifyChecks } from '../crypto/msm-accumulator.js';
import { prepareSchnorrChecks } from '../crypto/schnorr.js';
import { partialDecrypt, type DecryptionShare, type KeyShare, type SharedKey } from '../crypto/threshold.js';
import { cryptoRandom, type RandomSource } from '../crypto/random.js';
import { billContext, encryptedEnergyCharge, feederContext } from './billing.js';
import { decodeRecord, recordIntervals, recordSignatureItem } from './records.js';
import type { Tariff } from './tariff.js';

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

/** A reading recovered from a verified signed record. */
interface VerifiedReading {
  meterId: string;
  intervalStart: number;
  ciphertext: Ciphertext;
}

export class PrivacyAuthority {
  readonly policy: AuthorityPolicy;
  private readonly key: SharedKey;
  private readonly share: KeyShare;
  private readonly tariffs = new Map<number, Tariff>();
  private readonly meters = new Map<string, { publicKey: Uint8Array; feeder: string | undefined }>();
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

  /** Mirrors the public meter registry: keys and feeders. */
  register(meterId: string, publicKey: Uint8Array, feeder?: string): void {
    this.meters.set(meterId, { publicKey: publicKey.slice(), feeder });
  }

  /**
   * Its decryption share of a meter's bill for [from, to): recomputes the
   * encrypted energy charge Σ price_t·C_t from the signed records and refuses
   * (POLICY_REFUSED) anything its policy does not allow.
   */
  billShare(
    req: { meterId: string; from: number; to: number; tariffVersion: number; records: readonly Uint8Array[] },
    rng: RandomSource = cryptoRandom,
  ): { encryptedCharge: Ciphertext; intervals: number[]; share: DecryptionShare } {
    const tariff = this.tariffs.get(req.tariffVersion);
    if (tariff === undefined) refuse(`unknown tariff version ${req.tariffVersion}`);
    const readings = this.verifiedReadings(req.records).filter((r) => {
      if (r.meterId !== req.meterId) refuse(`a record of meter ${r.meterId} is not part of meter ${req.meterId}'s bill`);
      return r.intervalStart >= req.from && r.intervalStart < req.to;
    });
    if (readings.length < this.policy.minIntervals) {
      refuse(`a bill must cover at least ${this.policy.minIntervals} intervals, this one covers ${readings.length}`);
    }
    const keys = readings.map((r) => `${r.meterId}@${r.intervalStart}`);
    const reused = keys.find((k) => this.billed.has(k));
    if (reused !== undefined) refuse(`interval ${reused} was already part of another bill`);
    const encryptedCharge = encryptedEnergyCharge(readings, tariff!);
    const share = partialDecrypt(this.key, this.share, encryptedCharge, billContext(req.meterId, req.from, req.to, req.tariffVersion), rng);
    this.ledger?.record('bill', keys); // durable before the share leaves
    keys.forEach((k) => this.billed.add(k));
    return { encryptedCharge, intervals: readings.map((r) => r.intervalStart), share };
  }

  /** Its decryption share of the total of a feeder's meters for the interval starting at `intervalStart`. */
  feederShare(
    req: { feeder: string; intervalStart: number; records: readonly Uint8Array[] },
    rng: RandomSource = cryptoRandom,
  ): { encryptedTotal: Ciphertext; meters: string[]; share: DecryptionShare } {
    const readings = this.verifiedReadings(req.records).filter((r) => {
      if (this.meters.get(r.meterId)!.feeder !== req.feeder) refuse(`meter ${r.meterId} is not on feeder ${req.feeder}`);
      return r.intervalStart === req.intervalStart;
    });
    if (readings.length < this.policy.minMeters) {
      refuse(`a feeder aggregate needs at least ${this.policy.minMeters} meters reporting, feeder ${req.feeder} has ${readings.length}`);
    }
    const keys = readings.map((r) => `${r.meterId}@${r.intervalStart}`);
    const reused = keys.find((k) => this.aggregated.has(k));
    if (reused !== undefined) refuse(`reading ${reused} was already part of another feeder aggregate`);
    const encryptedTotal = weightedSum(readings.map((r) => r.ciphertext));
    const share = partialDecrypt(this.key, this.share, encryptedTotal, feederContext(req.feeder, req.intervalStart), rng);
    this.ledger?.record('feeder', keys);
    keys.forEach((k) => this.aggregated.add(k));
    return { encryptedTotal, meters: readings.map((r) => r.meterId), share };
  }

  /** Decodes records, checks every signature (one batch), and lists their readings; refuses duplicates. */
  private verifiedReadings(records: readonly Uint8Array[]): VerifiedReading[] {
    if (!Array.isArray(records)) throw new ZkmeterError('INVALID_ARGUMENT', '"records" expected an array');
    const decoded = records.map((b) => decodeRecord(b));
    decoded.forEach((r) => {
      if (!this.meters.has(r.header.meterId)) refuse(`meter ${r.header.meterId} is not registered with the authority`);
    });
    const sigs = prepareSchnorrChecks(decoded.map((r) => recordSignatureItem(r, this.meters.get(r.header.meterId)!.publicKey)));
    const { invalid } = verifyChecks(sigs);
    if (invalid.length > 0) refuse(`record ${invalid[0]} is not signed by its meter`);
    const out: VerifiedReading[] = [];
    const seen = new Set<string>();
    for (const r of decoded) {
      recordIntervals(r.header).forEach((t, j) => {
        const k = `${r.header.meterId}@${t}`;
        if (seen.has(k)) refuse(`two records claim interval ${k}`);
        seen.add(k);
        out.push({ meterId: r.header.meterId, intervalStart: t, ciphertext: r.ciphertexts[j]! });
      });
    }
    return out;
  }
}

function refuse(message: string): never {
  throw new ZkmeterError('POLICY_REFUSED', message);
}
