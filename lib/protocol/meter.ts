/**
 * The meter: it turns readings (integer Wh per interval) into signed records.
 * For each reading it encrypts under the utility's key, commits, proves the
 * reading lies in its class's normal bounds (or, when it does not, in the
 * class's plausible bounds, marking the record abnormal), proves that
 * ciphertexts and commitments match, and signs. It also keeps, for its owner,
 * the openings (reading, blinding) of every commitment it sent: the customer's
 * export, with which a bill can be checked interval by interval.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { proveRange, type RangeBits } from '../crypto/bulletproofs/range.js';
import { encryptWithRandomness, type Ciphertext } from '../crypto/elgamal.js';
import { commit } from '../crypto/pedersen.js';
import { cryptoRandom, randomScalar, type RandomSource } from '../crypto/random.js';
import { schnorrPublicKey, signSchnorr } from '../crypto/schnorr.js';
import { proveAggregateEquivalence } from '../crypto/zkpe.js';
import { decodeRecord, encodeHeader, encodeUnsigned, proofContext, signedMessage, type MeterRecord, type RecordHeader } from './records.js';
import { concatBytes } from '../backend/bytes.js';

/** What the utility expects of a kind of meter. Bounds are in Wh per interval. */
export interface MeterClass {
  readonly name: string;
  readonly bits: RangeBits;
  readonly intervalSeconds: number;
  /** Readings inside these bounds are normal. */
  readonly normal: { readonly min: bigint; readonly max: bigint };
  /** Readings outside `normal` but inside these are abnormal but plausible; outside them a meter is broken. */
  readonly plausible: { readonly min: bigint; readonly max: bigint };
}

/**
 * A household on 15-minute intervals: normal up to 4 kWh per interval (16 kW),
 * plausible up to 65,535 Wh (a 16-bit proof).
 */
export const HOUSEHOLD: MeterClass = Object.freeze({
  name: 'household',
  bits: 16,
  intervalSeconds: 900,
  normal: Object.freeze({ min: 0n, max: 4000n }),
  plausible: Object.freeze({ min: 0n, max: 65_535n }),
});

/** The opening of one committed reading: what the meter's display and export show. */
export interface ReadingOpening {
  readonly intervalStart: number;
  readonly reading: bigint;
  /** The commitment's blinding s, so V = reading·G + s·H can be checked. */
  readonly blinding: bigint;
}

export interface MeterOptions {
  readonly meterId: string;
  /** The meter's BIP340 signing key. */
  readonly signingKey: bigint;
  /** The utility's ElGamal public key (64-byte affine). */
  readonly utilityKey: Uint8Array;
  readonly meterClass?: MeterClass;
  readonly keyEpoch?: number;
  readonly tariffVersion?: number;
  /** First sequence number (default 0). */
  readonly sequence?: number;
  /** Randomness (the CSPRNG by default; tests inject a seeded one). */
  readonly rng?: RandomSource;
}

export class Meter {
  readonly meterId: string;
  readonly meterClass: MeterClass;
  /** 32-byte x-only BIP340 public key. */
  readonly publicKey: Uint8Array;
  private readonly signingKey: bigint;
  private readonly utilityKey: Uint8Array;
  private readonly keyEpoch: number;
  private readonly tariffVersion: number;
  private readonly rng: RandomSource;
  private sequence: number;
  private readonly openings: ReadingOpening[] = [];

  constructor(o: MeterOptions) {
    this.meterId = o.meterId;
    this.meterClass = o.meterClass ?? HOUSEHOLD;
    this.signingKey = o.signingKey;
    this.publicKey = schnorrPublicKey(o.signingKey);
    this.utilityKey = o.utilityKey;
    this.keyEpoch = o.keyEpoch ?? 0;
    this.tariffVersion = o.tariffVersion ?? 1;
    this.sequence = o.sequence ?? 0;
    this.rng = o.rng ?? cryptoRandom;
  }

  /** A record for one interval starting at `intervalStart` (Unix seconds). */
  reading(intervalStart: number, wh: bigint): MeterRecord {
    return this.seal('reading', intervalStart, [wh]);
  }

  /** A daily record: consecutive intervals from `dayStart`, one reading each (up to 128). */
  daily(dayStart: number, wh: readonly bigint[]): MeterRecord {
    return this.seal('daily', dayStart, wh);
  }

  /**
   * Every opening this meter has produced, oldest first (the customer's export).
   * An interval sealed twice (a reading record, then a daily record) has two
   * openings, one per record: the center bills whichever record reached it first,
   * and `checkBill` matches the billed record by the commitment its opening opens.
   */
  export(): ReadingOpening[] {
    return this.openings.slice();
  }

  private seal(kind: RecordHeader['kind'], intervalStart: number, values: readonly bigint[]): MeterRecord {
    const c = this.meterClass;
    values.forEach((v, i) => {
      if (typeof v !== 'bigint') throw new ZkmeterError('INVALID_ARGUMENT', `"readings[${i}]" expected a bigint (Wh)`);
      if (v < c.plausible.min || v > c.plausible.max) {
        throw new ZkmeterError('VALUE_OUT_OF_RANGE', `"readings[${i}]" = ${v} Wh is outside the plausible bounds [${c.plausible.min}, ${c.plausible.max}] of class ${c.name}`);
      }
    });
    const abnormal = values.some((v) => v < c.normal.min || v > c.normal.max);
    const header: RecordHeader = {
      kind,
      abnormal,
      bits: c.bits,
      meterId: this.meterId,
      intervalStart,
      intervalSeconds: c.intervalSeconds,
      count: values.length,
      sequence: this.sequence,
      keyEpoch: this.keyEpoch,
      tariffVersion: this.tariffVersion,
      bounds: abnormal ? c.plausible : c.normal,
    };
    const headerBytes = encodeHeader(header);
    const context = proofContext(headerBytes);
    const r = values.map(() => randomScalar(this.rng));
    const s = values.map(() => randomScalar(this.rng));
    const ciphertexts: Ciphertext[] = values.map((v, j) => encryptWithRandomness(this.utilityKey, v, r[j]!));
    const commitments = values.map((v, j) => commit(v, s[j]!));
    const rangeProof = proveRange({ commitments, bits: c.bits, bounds: header.bounds }, { values, blindings: s }, context, this.rng);
    const equivalenceProof = proveAggregateEquivalence({ publicKey: this.utilityKey, ciphertexts, commitments }, { m: values, r, s }, context, this.rng);
    const unsigned = encodeUnsigned(header, { ciphertexts, commitments, rangeProof, equivalenceProof });
    const signature = signSchnorr([signedMessage(unsigned)], this.signingKey, this.rng);
    this.sequence++;
    values.forEach((reading, j) => this.openings.push({ intervalStart: intervalStart + j * c.intervalSeconds, reading, blinding: s[j]! }));
    return decodeRecord(concatBytes(unsigned, signature));
  }
}
