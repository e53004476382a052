/**
 * The one verification of a record's cryptography, for every party that relies
 * on records: the control center (`verifyRecordBatch`, in worker threads), the
 * privacy authority (before it co-decrypts anything a record is part of), the
 * customer's bill check and the bill-check page. A record is good when
 *  1. its BIP340 signature verifies under the key of the meter it names;
 *  2. its range proof verifies for its commitments, against its own header's
 *     bits and bounds;
 *  3. its aggregated proof of equivalence verifies for its ciphertexts and
 *     commitments under the utility's key;
 * both proofs with the context `proofContext(headerBytes)`. What a header may
 * say (registered meter, key epoch, class bounds, tariff versions) is policy,
 * each party's own, and is checked before this.
 *
 * Signatures go first, in an MSM of their own (one point per record besides the
 * shared key): only records whose signature verified enter the proof MSM and its
 * bisection. A batch of forged records thus costs a signature check each, not a
 * bisection of the whole proof fold; and proofs are only ever blamed on a
 * record its meter signed, which is what makes a proof failure evidence.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { concatBytes } from '../backend/bytes.js';
import { prepareRangeChecks } from '../crypto/bulletproofs/range.js';
import { bytesToHex, decodePoint } from '../crypto/codec.js';
import { joinChecks, verifyChecks } from '../crypto/msm-accumulator.js';
import { prepareSchnorrChecks } from '../crypto/schnorr.js';
import { prepareAggregateEquivalenceChecks } from '../crypto/zkpe.js';
import { proofContext, recordSignatureItem, type MeterRecord } from './records.js';

/** The three checks of a record, in the order they run. */
export type RecordCheck = 'signature' | 'range-proof' | 'equivalence-proof';

/** A decoded record and the key of the meter it names, as the verifier knows it. */
export interface RecordToVerify {
  readonly record: MeterRecord;
  /** 32-byte x-only BIP340 key. */
  readonly meterKey: Uint8Array;
}

/** The verdict on one record's cryptography. */
export type RecordVerdict =
  | {
      readonly ok: true;
      /** Hex of the record's signed message (a tagged hash of its bytes): its identity. */
      readonly recordId: string;
    }
  | {
      readonly ok: false;
      readonly recordId: string;
      /** The first check that failed; a record with a bad signature has no proof verdict. */
      readonly reason: RecordCheck;
      readonly detail: string;
    };

/**
 * Checks the signature, range proof and proof of equivalence of every record
 * (signatures in one MSM, then the proofs of the records whose signature
 * verified in another, each bisected on failure). One verdict per item, in order.
 */
export function verifyRecords(items: readonly RecordToVerify[], utilityKey: Uint8Array): RecordVerdict[] {
  if (!Array.isArray(items)) throw new ZkmeterError('INVALID_ARGUMENT', '"items" expected an array of {record, meterKey}');
  const signatures = items.map((it, i) => {
    if (typeof it !== 'object' || it === null || typeof it.record !== 'object' || it.record === null) {
      throw new ZkmeterError('INVALID_ARGUMENT', `"items[${i}]" expected {record, meterKey}`, { index: i });
    }
    return recordSignatureItem(it.record, it.meterKey);
  });
  const failed = new Map<number, RecordCheck>();
  for (const i of verifyChecks(prepareSchnorrChecks(signatures)).invalid) failed.set(i, 'signature');
  const signed = items.flatMap((it, i) => (failed.has(i) ? [] : [{ i, record: it.record, context: proofContext(it.record.headerBytes) }]));
  if (signed.length > 0) {
    const ranges = prepareRangeChecks(
      signed.map(({ record: r, context }) => ({ statement: { commitments: r.commitments, bits: r.header.bits, bounds: r.header.bounds }, proof: r.rangeProof, context })),
    );
    const eqs = prepareAggregateEquivalenceChecks(
      signed.map(({ record: r, context }) => ({ statement: { publicKey: utilityKey, ciphertexts: r.ciphertexts, commitments: r.commitments }, proof: r.equivalenceProof, context })),
    );
    const n = signed.length;
    // Ascending indices: a record failing both proofs is reported by its range proof.
    for (const k of verifyChecks(joinChecks([{ checks: ranges, offset: 0 }, { checks: eqs, offset: n }])).invalid) {
      const i = signed[k % n]!.i;
      if (!failed.has(i)) failed.set(i, k < n ? 'range-proof' : 'equivalence-proof');
    }
  }
  return signatures.map((s, i): RecordVerdict => {
    const recordId = bytesToHex(s.message);
    const reason = failed.get(i);
    return reason === undefined ? { ok: true, recordId } : { ok: false, recordId, reason, detail: `the record's ${reason.replace('-', ' ')} does not verify` };
  });
}

/**
 * Checks a meter's registered key: 32 bytes that are the x coordinate of a
 * curve point (BIP340 lift_x), or no record of it could ever verify. Returns a copy.
 */
export function validateMeterKey(meterId: string, publicKey: unknown): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new ZkmeterError('INVALID_ARGUMENT', `meter ${meterId} "publicKey" expected a 32-byte x-only key`);
  }
  decodePoint(concatBytes(new Uint8Array([2]), publicKey), `meter ${meterId} publicKey`);
  return publicKey.slice();
}
