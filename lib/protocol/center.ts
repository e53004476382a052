/**
 * The control center's verification policy: it registers meters, verifies
 * records in batches (signatures, range proofs and proofs of equivalence of a
 * whole batch folded into one MSM, bisected on failure), rejects replays and
 * duplicates by (meter, interval), classifies every reading as accepted,
 * abnormal or invalid, and keeps the ciphertexts of what it accepted. Abnormal
 * readings are accepted for billing and also queued for inspection: never
 * dropped. Pure logic, no I/O: the server and the CLI persist what it returns.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { prepareRangeChecks } from '../crypto/bulletproofs/range.js';
import { bytesToHex } from '../crypto/codec.js';
import type { Ciphertext } from '../crypto/elgamal.js';
import { joinChecks, verifyChecks } from '../crypto/msm-accumulator.js';
import { prepareSchnorrChecks, type SignatureItem } from '../crypto/schnorr.js';
import { prepareAggregateEquivalenceChecks } from '../crypto/zkpe.js';
import { HOUSEHOLD, type MeterClass } from './meter.js';
import { decodeRecord, proofContext, recordIntervals, recordSignatureItem, type MeterRecord } from './records.js';
import { MemoryStore, type CenterStore, type StoredReading } from './store.js';

export type { StoredReading } from './store.js';

/** A registered meter. */
export interface MeterRegistration {
  readonly meterId: string;
  /** 32-byte x-only BIP340 key. */
  readonly publicKey: Uint8Array;
  readonly meterClass?: MeterClass;
  /** Grid feeder the meter hangs on, for feeder aggregates. */
  readonly feeder?: string;
  readonly keyEpoch?: number;
}

/** Why a record was not accepted. */
export type RejectReason =
  | 'malformed'
  | 'unknown-meter'
  | 'key-epoch'
  | 'tariff-version'
  | 'class-mismatch'
  | 'misaligned-interval'
  | 'signature'
  | 'range-proof'
  | 'equivalence-proof'
  | 'duplicate';

/** The outcome for one submitted record. */
export type RecordOutcome =
  | {
      readonly status: 'accepted' | 'abnormal';
      readonly meterId: string;
      readonly intervals: number[];
      /** True when this exact record had been accepted before (idempotent resubmission). */
      readonly repeated: boolean;
      /** Hex SHA-256-tagged id of the record (its signed message). */
      readonly recordId: string;
    }
  | { readonly status: 'invalid'; readonly reason: RejectReason; readonly detail: string; readonly meterId?: string };


export interface ControlCenterOptions {
  /** The utility's ElGamal public key (64-byte affine). */
  readonly utilityKey: Uint8Array;
  /** Tariff versions meters may be configured with (default: any). */
  readonly tariffVersions?: readonly number[];
  /** Where state lives (default: in memory). */
  readonly store?: CenterStore;
}

export class ControlCenter {
  private readonly utilityKey: Uint8Array;
  private readonly tariffVersions: ReadonlySet<number> | undefined;
  private readonly store: CenterStore;

  constructor(o: ControlCenterOptions) {
    this.utilityKey = o.utilityKey;
    this.tariffVersions = o.tariffVersions ? new Set(o.tariffVersions) : undefined;
    this.store = o.store ?? new MemoryStore();
  }

  /** Registers (or re-keys, with a new epoch) a meter. */
  register(m: MeterRegistration): void {
    if (typeof m?.meterId !== 'string' || !(m.publicKey instanceof Uint8Array) || m.publicKey.length !== 32) {
      throw new ZkmeterError('INVALID_ARGUMENT', '"meter" expected {meterId, publicKey (32-byte x-only)}');
    }
    this.store.putMeter({
      meterId: m.meterId,
      publicKey: m.publicKey.slice(),
      meterClass: m.meterClass ?? HOUSEHOLD,
      feeder: m.feeder,
      keyEpoch: m.keyEpoch ?? 0,
    });
  }

  meterIds(): string[] {
    return this.store.meterIds();
  }

  feederOf(meterId: string): string | undefined {
    return this.store.getMeter(meterId)?.feeder;
  }

  /**
   * Verifies a batch of encoded records and stores what is accepted. Returns one
   * outcome per record, in order. Cryptographic checks of the whole batch share
   * one MSM; a record that fails any of its three checks is invalid and does not
   * affect its neighbours. Within a batch, the first valid record for an interval
   * wins; later ones are duplicates.
   */
  submit(records: readonly Uint8Array[]): RecordOutcome[] {
    return this.accept(verifyRecordBatch(records, (id) => this.store.getMeter(id), this.utilityKey, this.tariffVersions));
  }

  /** The registration `verifyRecordBatch` needs, for a verifier running elsewhere (a worker thread). */
  registration(meterId: string): VerifierRegistration | undefined {
    return this.store.getMeter(meterId);
  }

  /** Stores verdicts from `verifyRecordBatch` (run here or in a worker) and returns the outcomes. */
  accept(verdicts: readonly Verdict[]): RecordOutcome[] {
    return verdicts.map((v) => {
      if (!v.ok) return { status: 'invalid', reason: v.reason, detail: v.detail, ...(v.meterId ? { meterId: v.meterId } : {}) };
      const h = v.header;
      const put = this.store.putRecord(v);
      if (put.status === 'taken') {
        return { status: 'invalid', reason: 'duplicate', meterId: h.meterId, detail: `interval ${put.intervalStart} of meter ${h.meterId} already has an accepted record` };
      }
      return { status: h.abnormal ? 'abnormal' : 'accepted', meterId: h.meterId, intervals: recordIntervals(h), repeated: put.status === 'repeated', recordId: v.recordId };
    });
  }

  /** Accepted readings of a meter in [from, to), ordered by interval. */
  readingsOf(meterId: string, from: number, to: number): StoredReading[] {
    return this.store.readings(meterId, from, to);
  }

  /** Accepted readings of every meter on `feeder` for the interval starting at `t`. */
  feederReadings(feeder: string, t: number): StoredReading[] {
    return this.store.feederReadings(feeder, t);
  }

  /** The signed records behind `readings`, each once. */
  evidenceFor(readings: readonly StoredReading[]): Uint8Array[] {
    return [...new Set(readings.map((r) => r.recordId))].map((id) => this.store.evidence(id)!);
  }

  /** Interval starts in [from, to) with no accepted reading: gaps to chase. */
  gaps(meterId: string, from: number, to: number): number[] {
    const m = this.store.getMeter(meterId);
    if (m === undefined) throw new ZkmeterError('INVALID_ARGUMENT', `meter ${meterId} is not registered`);
    const step = m.meterClass.intervalSeconds;
    const have = new Set(this.store.readings(meterId, from, to).map((r) => r.intervalStart));
    const out: number[] = [];
    for (let t = Math.ceil(from / step) * step; t < to; t += step) if (!have.has(t)) out.push(t);
    return out;
  }

  /** Abnormal readings awaiting inspection (accepted, billable). */
  inspectionQueue(): StoredReading[] {
    return this.store.inspectionQueue();
  }
}

/** What a verifier needs to know about a meter. */
export interface VerifierRegistration {
  readonly publicKey: Uint8Array;
  readonly meterClass: MeterClass;
  readonly keyEpoch: number;
}

/** A record whose signature and proofs verified: what the center stores. */
export interface VerifiedRecord {
  readonly header: MeterRecord['header'];
  readonly ciphertexts: readonly Ciphertext[];
  readonly bytes: Uint8Array;
  /** Hex of the record's signed message (a tagged hash of its bytes): its identity. */
  readonly recordId: string;
}

/** The verdict on one record, before replay and duplicate checks. */
export type Verdict = ({ readonly ok: true } & VerifiedRecord) | { readonly ok: false; readonly reason: RejectReason; readonly detail: string; readonly meterId?: string };

/**
 * Verifies encoded records against a registry, statelessly (so it can run in
 * worker threads): decoding, header policy, and every signature, range proof
 * and proof of equivalence of the batch in one MSM, bisected on failure.
 */
export function verifyRecordBatch(
  records: readonly Uint8Array[],
  lookup: (meterId: string) => VerifierRegistration | undefined,
  utilityKey: Uint8Array,
  tariffVersions?: ReadonlySet<number>,
): Verdict[] {
  if (!Array.isArray(records)) throw new ZkmeterError('INVALID_ARGUMENT', '"records" expected an array of byte arrays');
  const verdicts: Verdict[] = new Array(records.length);
  const candidates: { index: number; record: MeterRecord; signature: SignatureItem; context: Uint8Array }[] = [];
  records.forEach((bytes, index) => {
    let record: MeterRecord;
    try {
      record = decodeRecord(bytes);
    } catch (e) {
      if (!(e instanceof ZkmeterError)) throw e;
      verdicts[index] = { ok: false, reason: 'malformed', detail: e.message };
      return;
    }
    const m = lookup(record.header.meterId);
    const policy = policyCheck(record, m, tariffVersions);
    if (policy !== undefined) {
      verdicts[index] = { ok: false, meterId: record.header.meterId, ...policy };
      return;
    }
    candidates.push({ index, record, signature: recordSignatureItem(record, m!.publicKey), context: proofContext(record.headerBytes) });
  });
  const sigs = prepareSchnorrChecks(candidates.map((c) => c.signature));
  const ranges = prepareRangeChecks(
    candidates.map((c) => ({
      statement: { commitments: c.record.commitments, bits: c.record.header.bits, bounds: c.record.header.bounds },
      proof: c.record.rangeProof,
      context: c.context,
    })),
  );
  const eqs = prepareAggregateEquivalenceChecks(
    candidates.map((c) => ({
      statement: { publicKey: utilityKey, ciphertexts: c.record.ciphertexts, commitments: c.record.commitments },
      proof: c.record.equivalenceProof,
      context: c.context,
    })),
  );
  const n = candidates.length;
  const { invalid } = verifyChecks(joinChecks([{ checks: sigs, offset: 0 }, { checks: ranges, offset: n }, { checks: eqs, offset: 2 * n }]));
  const failed = new Map<number, RejectReason>();
  const reasons: RejectReason[] = ['signature', 'range-proof', 'equivalence-proof'];
  for (const i of invalid) {
    const c = i % n;
    if (!failed.has(c)) failed.set(c, reasons[Math.floor(i / n)]!);
  }
  candidates.forEach((c, k) => {
    const reason = failed.get(k);
    const meterId = c.record.header.meterId;
    verdicts[c.index] =
      reason !== undefined
        ? { ok: false, reason, meterId, detail: `the record's ${reason.replace('-', ' ')} does not verify` }
        : { ok: true, header: c.record.header, ciphertexts: c.record.ciphertexts, bytes: c.record.bytes, recordId: bytesToHex(c.signature.message) };
  });
  return verdicts;
}

/** Header checks against the registry and the meter's class. */
function policyCheck(
  record: MeterRecord,
  m: VerifierRegistration | undefined,
  tariffVersions: ReadonlySet<number> | undefined,
): { reason: RejectReason; detail: string } | undefined {
  const h = record.header;
  if (m === undefined) return { reason: 'unknown-meter', detail: `meter ${h.meterId} is not registered` };
  if (h.keyEpoch !== m.keyEpoch) return { reason: 'key-epoch', detail: `key epoch ${h.keyEpoch}, registered ${m.keyEpoch}` };
  if (tariffVersions !== undefined && !tariffVersions.has(h.tariffVersion)) {
    return { reason: 'tariff-version', detail: `unknown tariff version ${h.tariffVersion}` };
  }
  const c = m.meterClass;
  const expected = h.abnormal ? c.plausible : c.normal;
  if (h.bits !== c.bits || h.intervalSeconds !== c.intervalSeconds || h.bounds.min !== expected.min || h.bounds.max !== expected.max) {
    return { reason: 'class-mismatch', detail: `bits, interval or ${h.abnormal ? 'plausible' : 'normal'} bounds differ from class ${c.name}` };
  }
  if (h.intervalStart % h.intervalSeconds !== 0) return { reason: 'misaligned-interval', detail: `interval start ${h.intervalStart} is not a multiple of ${h.intervalSeconds} s` };
  return undefined;
}
