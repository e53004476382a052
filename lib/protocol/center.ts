/**
 * The control center's verification policy: it registers meters, verifies
 * records in batches (header policy, then `verifyRecords`: the batch's
 * signatures in one MSM, the signed records' proofs in another), rejects
 * replays and duplicates by (meter, interval), classifies every reading as accepted,
 * abnormal or invalid, and keeps the ciphertexts of what it accepted. Abnormal
 * readings are accepted for billing and also queued for inspection: never
 * dropped. Pure logic, no I/O: the server and the CLI persist what it returns.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import type { Ciphertext } from '../crypto/elgamal.js';
import { HOUSEHOLD, type MeterClass } from './meter.js';
import { decodeRecord, recordIntervals, recordMeterId, type MeterRecord } from './records.js';
import { MemoryStore, type CenterStore, type Rejection, type StoredMeter, type StoredReading } from './store.js';
import { validateMeterKey, verifyRecords } from './verify.js';

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
  /** A record format this build no longer reads (version 1): said apart from garbage, so a meter on old firmware is told why. */
  | 'unsupported-version'
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

/** What the center knows of one interval of a meter (`intervalStatus`). */
export type IntervalStatus =
  | { readonly intervalStart: number; readonly status: 'accepted' | 'abnormal'; readonly recordId: string }
  | { readonly intervalStart: number; readonly status: 'invalid'; readonly reason: string; readonly at: number }
  | { readonly intervalStart: number; readonly status: 'missing' };

export class ControlCenter {
  private readonly utilityKey: Uint8Array;
  private readonly tariffVersions: ReadonlySet<number> | undefined;
  readonly store: CenterStore;

  constructor(o: ControlCenterOptions) {
    this.utilityKey = o.utilityKey;
    this.tariffVersions = o.tariffVersions ? new Set(o.tariffVersions) : undefined;
    this.store = o.store ?? new MemoryStore();
  }

  /** Registers (or re-keys, with a new epoch) a meter. */
  async register(m: MeterRegistration): Promise<void> {
    if (typeof m?.meterId !== 'string') throw new ZkmeterError('INVALID_ARGUMENT', '"meter" expected {meterId, publicKey (32-byte x-only)}');
    const publicKey = validateMeterKey(m.meterId, m.publicKey);
    await this.store.putMeter({
      meterId: m.meterId,
      publicKey,
      meterClass: m.meterClass ?? HOUSEHOLD,
      feeder: m.feeder,
      keyEpoch: m.keyEpoch ?? 0,
    });
  }

  meterIds(): Promise<string[]> {
    return this.store.meterIds();
  }

  async feederOf(meterId: string): Promise<string | undefined> {
    return (await this.store.getMeter(meterId))?.feeder;
  }

  /**
   * Verifies a batch of encoded records here and stores what is accepted. Returns
   * one outcome per record, in order. Cryptographic checks of the whole batch
   * share two MSMs (signatures, then proofs); a record that fails any of its
   * three checks is invalid and does not affect its neighbours. Within a batch,
   * the first valid record for an interval wins; later ones are duplicates.
   */
  async submit(records: readonly Uint8Array[]): Promise<RecordOutcome[]> {
    const registry = await this.registrations(records);
    return this.accept(verifyRecordBatch(records, (id) => registry.get(id), this.utilityKey, this.tariffVersions));
  }

  /**
   * The registrations `verifyRecordBatch` needs for these records (looked up by
   * the meter id in each record's header), for a verifier running elsewhere (a
   * worker thread). Records too short to name a meter are skipped: the verifier
   * reports them malformed.
   */
  async registrations(records: readonly Uint8Array[]): Promise<Map<string, StoredMeter>> {
    const ids = new Set<string>();
    for (const r of records) {
      const id = recordMeterId(r);
      if (id !== undefined) ids.add(id);
    }
    return this.store.getMeters([...ids]);
  }

  /**
   * Stores verdicts from `verifyRecordBatch` (run here or in a worker) in one
   * durable commit and returns the outcomes. Records whose signature verified
   * but whose proofs did not are kept as rejections, for `intervalStatus`: only
   * the meter itself can have made them, so nobody else can mark its intervals
   * invalid, or grow the table without a meter's key.
   */
  async accept(verdicts: readonly Verdict[]): Promise<RecordOutcome[]> {
    const verified: VerifiedRecord[] = [];
    const rejections: Rejection[] = [];
    const at = Math.floor(Date.now() / 1000);
    for (const v of verdicts) {
      if (v.ok) verified.push(v);
      else if (v.meterId !== undefined && v.intervals !== undefined && (v.reason === 'range-proof' || v.reason === 'equivalence-proof')) {
        for (const t of v.intervals) rejections.push({ meterId: v.meterId, intervalStart: t, reason: v.reason, at });
      }
    }
    const puts = await this.store.putRecords(verified, rejections);
    let k = 0;
    return verdicts.map((v): RecordOutcome => {
      if (!v.ok) return { status: 'invalid', reason: v.reason, detail: v.detail, ...(v.meterId ? { meterId: v.meterId } : {}) };
      const h = v.header;
      const put = puts[k++]!;
      if (put.status === 'taken') {
        return { status: 'invalid', reason: 'duplicate', meterId: h.meterId, detail: `interval ${put.intervalStart} of meter ${h.meterId} already has an accepted record` };
      }
      return { status: h.abnormal ? 'abnormal' : 'accepted', meterId: h.meterId, intervals: recordIntervals(h), repeated: put.status === 'repeated', recordId: v.recordId };
    });
  }

  /** Accepted readings of a meter in [from, to), ordered by interval. */
  readingsOf(meterId: string, from: number, to: number): Promise<StoredReading[]> {
    return this.store.readings(meterId, from, to);
  }

  /** Accepted readings of every meter on `feeder` for the interval starting at `t`. */
  feederReadings(feeder: string, t: number): Promise<StoredReading[]> {
    return this.store.feederReadings(feeder, t);
  }

  /** The signed records behind `readings`, each once. */
  async evidenceFor(readings: readonly StoredReading[]): Promise<Uint8Array[]> {
    const ids = [...new Set(readings.map((r) => r.recordId))];
    return Promise.all(ids.map(async (id) => (await this.store.evidence(id))!));
  }

  /**
   * Every interval of a registered meter in [from, to): accepted or abnormal
   * (with the record holding it), invalid (only rejected records claimed it; the
   * latest reason), or missing.
   */
  async intervalStatus(meterId: string, from: number, to: number): Promise<IntervalStatus[]> {
    const m = await this.store.getMeter(meterId);
    if (m === undefined) throw new ZkmeterError('INVALID_ARGUMENT', `meter ${meterId} is not registered`);
    const step = m.meterClass.intervalSeconds;
    if ((to - from) / step > MAX_STATUS_INTERVALS) {
      throw new ZkmeterError('INVALID_ARGUMENT', `at most ${MAX_STATUS_INTERVALS} intervals per status query (${step} s each)`);
    }
    const [held, rejected] = await Promise.all([this.store.readings(meterId, from, to), this.store.rejections(meterId, from, to)]);
    const byStart = new Map(held.map((r) => [r.intervalStart, r]));
    const whyNot = new Map(rejected.map((r) => [r.intervalStart, r]));
    const out: IntervalStatus[] = [];
    for (let t = Math.ceil(from / step) * step; t < to; t += step) {
      const r = byStart.get(t);
      const j = whyNot.get(t);
      if (r !== undefined) out.push({ intervalStart: t, status: r.abnormal ? 'abnormal' : 'accepted', recordId: r.recordId });
      else if (j !== undefined) out.push({ intervalStart: t, status: 'invalid', reason: j.reason, at: j.at });
      else out.push({ intervalStart: t, status: 'missing' });
    }
    return out;
  }

  /** Interval starts in [from, to) with no accepted reading: gaps to chase. */
  async gaps(meterId: string, from: number, to: number): Promise<number[]> {
    return (await this.intervalStatus(meterId, from, to)).filter((s) => s.status === 'missing' || s.status === 'invalid').map((s) => s.intervalStart);
  }

  /** Abnormal readings awaiting inspection (accepted, billable). */
  inspectionQueue(): Promise<StoredReading[]> {
    return this.store.inspectionQueue();
  }
}

/** Most intervals one `intervalStatus` call lists: a year of 15-minute readings. */
export const MAX_STATUS_INTERVALS = 366 * 96;

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
export type Verdict =
  | ({ readonly ok: true } & VerifiedRecord)
  | {
      readonly ok: false;
      readonly reason: RejectReason;
      readonly detail: string;
      /** The meter the record names, when its header decoded. */
      readonly meterId?: string;
      /** The intervals the record claimed, when its header decoded. */
      readonly intervals?: number[];
    };

/**
 * Verifies encoded records against a registry, statelessly (so it can run in
 * worker threads): decoding, header policy, then the records' cryptography
 * (`verifyRecords`: every signature of the batch in one MSM, then the range
 * proofs and proofs of equivalence of the signed records in another, each
 * bisected on failure).
 */
export function verifyRecordBatch(
  records: readonly Uint8Array[],
  lookup: (meterId: string) => VerifierRegistration | undefined,
  utilityKey: Uint8Array,
  tariffVersions?: ReadonlySet<number>,
): Verdict[] {
  if (!Array.isArray(records)) throw new ZkmeterError('INVALID_ARGUMENT', '"records" expected an array of byte arrays');
  const verdicts: Verdict[] = new Array(records.length);
  const candidates: { index: number; record: MeterRecord; meterKey: Uint8Array }[] = [];
  records.forEach((bytes, index) => {
    let record: MeterRecord;
    try {
      record = decodeRecord(bytes);
    } catch (e) {
      if (!(e instanceof ZkmeterError)) throw e;
      verdicts[index] = { ok: false, ...decodeRejection(e) };
      return;
    }
    const m = lookup(record.header.meterId);
    const policy = policyCheck(record, m, tariffVersions);
    if (policy !== undefined) {
      verdicts[index] = { ok: false, meterId: record.header.meterId, intervals: recordIntervals(record.header), ...policy };
      return;
    }
    candidates.push({ index, record, meterKey: m!.publicKey });
  });
  verifyRecords(candidates, utilityKey).forEach((v, k) => {
    const { index, record: r } = candidates[k]!;
    verdicts[index] = v.ok
      ? { ok: true, header: r.header, ciphertexts: r.ciphertexts, bytes: r.bytes, recordId: v.recordId }
      : { ok: false, reason: v.reason, meterId: r.header.meterId, intervals: recordIntervals(r.header), detail: v.detail };
  });
  return verdicts;
}

/** Why a record that does not decode is rejected: a format version this build does not read, or malformed bytes. */
export function decodeRejection(e: ZkmeterError): { reason: 'unsupported-version' | 'malformed'; detail: string } {
  return { reason: e.code === 'UNSUPPORTED_VERSION' ? 'unsupported-version' : 'malformed', detail: e.message };
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
