/**
 * The control center's verification policy: it registers meters (from
 * provisioning certificates, or uncertified for offline tools) with every key
 * epoch kept, so that a record is verified under the key and class of the
 * epoch its header names, within that epoch's validity; it verifies
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
import { equalBytes } from '../backend/bytes.js';
import { certificateChange, checkCertificate, decodeCertificate, type MeterCertificate, type RegistrationChange } from './certificate.js';
import { HOUSEHOLD, type MeterClass } from './meter.js';
import { decodeRecord, recordIntervals, recordMeterId, type MeterRecord } from './records.js';
import { MemoryStore, type CenterStore, type Rejection, type StoredEpoch, type StoredMeter, type StoredReading } from './store.js';
import { validateMeterKey, verifyRecords } from './verify.js';

export type { StoredReading } from './store.js';

/** A registered meter. */
export interface MeterRegistration {
  readonly meterId: string;
  /** 32-byte x-only BIP340 key. */
  readonly publicKey: Uint8Array;
  readonly meterClass?: MeterClass;
  /** Grid feeder the meter hangs on, for feeder grids (left out: the stored one is kept). */
  readonly feeder?: string;
  readonly keyEpoch?: number;
  /** Unix seconds from which this key signs readings (default 0: any time). */
  readonly validFrom?: number;
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
  /** The 32-byte x-only keys whose meter certificates `registerCertificate` accepts (default: none). */
  readonly provisioningKeys?: readonly Uint8Array[];
}

/** The ids of the records holding `readings`, each once, in the order the readings first name them. */
export function recordIdsOf(readings: readonly StoredReading[]): string[] {
  return [...new Set(readings.map((r) => r.recordId))];
}

/** What the center knows of one interval of a meter (`intervalStatus`). */
export type IntervalStatus =
  | { readonly intervalStart: number; readonly status: 'accepted' | 'abnormal'; readonly recordId: string }
  | { readonly intervalStart: number; readonly status: 'invalid'; readonly reason: string; readonly at: number }
  | { readonly intervalStart: number; readonly status: 'missing' };

export class ControlCenter {
  private readonly utilityKey: Uint8Array;
  private readonly tariffVersions: ReadonlySet<number> | undefined;
  private readonly provisioningKeys: readonly Uint8Array[];
  private registering: Promise<unknown> = Promise.resolve();
  readonly store: CenterStore;

  constructor(o: ControlCenterOptions) {
    this.utilityKey = o.utilityKey;
    this.tariffVersions = o.tariffVersions ? new Set(o.tariffVersions) : undefined;
    this.store = o.store ?? new MemoryStore();
    if (o.provisioningKeys !== undefined && (!Array.isArray(o.provisioningKeys) || !o.provisioningKeys.every((k) => k instanceof Uint8Array && k.length === 32))) {
      throw new ZkmeterError('INVALID_ARGUMENT', '"provisioningKeys" expected a list of 32-byte x-only keys');
    }
    this.provisioningKeys = (o.provisioningKeys ?? []).map((k) => k.slice());
  }

  /**
   * Registers a meter without a certificate (offline tools such as `zkmeter
   * center verify`; the service registers only certificates). A first
   * registration is `registered`; the same key and epoch again `unchanged`; a
   * higher epoch `re-keyed`, keeping the earlier epochs (valid until the new
   * one's `validFrom`). Anything that would silently rewrite the registry is
   * refused (POLICY_REFUSED, rule 'registry'): another key at the same or a
   * lower epoch, a new feeder or class without a new epoch, a certified meter.
   * A feeder or class left out is kept from the stored registration.
   */
  register(m: MeterRegistration): Promise<RegistrationChange> {
    return this.oneAtATime(() => this.registerNow(m));
  }

  private async registerNow(m: MeterRegistration): Promise<RegistrationChange> {
    if (typeof m !== 'object' || m === null || typeof m.meterId !== 'string') throw new ZkmeterError('INVALID_ARGUMENT', '"meter" expected {meterId, publicKey (32-byte x-only)}');
    const publicKey = validateMeterKey(m.meterId, m.publicKey);
    const keyEpoch = m.keyEpoch ?? 0;
    const validFrom = m.validFrom ?? 0;
    if (!Number.isSafeInteger(keyEpoch) || keyEpoch < 0 || keyEpoch >= 2 ** 32) throw new ZkmeterError('INVALID_ARGUMENT', '"keyEpoch" expected an integer 0 to 2^32 − 1');
    if (!Number.isSafeInteger(validFrom) || validFrom < 0 || validFrom >= 2 ** 40) throw new ZkmeterError('INVALID_ARGUMENT', '"validFrom" expected Unix seconds 0 to 2^40 − 1');
    if (m.feeder !== undefined && (typeof m.feeder !== 'string' || m.feeder.length === 0)) throw new ZkmeterError('INVALID_ARGUMENT', '"feeder" expected a feeder id');
    const existing = await this.store.getMeter(m.meterId);
    const { meter, change } = uncertifiedChange(existing, { meterId: m.meterId, publicKey, keyEpoch, validFrom, feeder: m.feeder, meterClass: m.meterClass });
    if (change.change !== 'unchanged') await this.store.putMeter(meter);
    return change;
  }

  /**
   * Registers a meter, or a new key epoch of it, from a certificate signed by one
   * of the center's provisioning keys (certificate.ts), keeping the earlier
   * epochs. Refused (POLICY_REFUSED, rule 'registry') for an untrusted issuer, a
   * bad signature, or an epoch `certificateChange` refuses; INVALID_ARGUMENT (or
   * the decoder's code) for malformed bytes, and when the center trusts no
   * provisioning key.
   */
  async registerCertificate(bytes: Uint8Array): Promise<RegistrationChange> {
    return (await this.registerCertificates([bytes]))[0]!;
  }

  /**
   * `registerCertificate` for several certificates (in order; later ones may
   * re-key meters of earlier ones), all or nothing: every certificate is checked
   * before anything is stored, and a refusal carries the certificate's `index`.
   */
  registerCertificates(certificates: readonly Uint8Array[]): Promise<RegistrationChange[]> {
    return this.oneAtATime(() => this.registerCertificatesNow(certificates));
  }

  /** Runs registrations one at a time: each reads the registry and writes it back. */
  private oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.registering.then(fn);
    this.registering = run.catch(() => undefined);
    return run;
  }

  private async registerCertificatesNow(certificates: readonly Uint8Array[]): Promise<RegistrationChange[]> {
    if (this.provisioningKeys.length === 0) {
      throw new ZkmeterError('INVALID_ARGUMENT', 'the control center has no provisioning keys configured: it cannot check meter certificates');
    }
    if (!Array.isArray(certificates)) throw new ZkmeterError('INVALID_ARGUMENT', '"certificates" expected an array of byte arrays');
    const atIndex = <T>(i: number, fn: () => T): T => {
      try {
        return fn();
      } catch (e) {
        if (!(e instanceof ZkmeterError)) throw e;
        throw new ZkmeterError(e.code, e.message, { index: i, cause: e });
      }
    };
    const certs = certificates.map((b, i) => atIndex(i, () => checkCertificate(b, this.provisioningKeys)));
    const state = await this.store.getMeters([...new Set(certs.map((c) => c.meterId))]);
    const touched = new Set<string>();
    const changes = certs.map((c, i) =>
      atIndex(i, () => {
        const { meter, change } = certifiedChange(state.get(c.meterId), c);
        if (change.change !== 'unchanged') {
          state.set(c.meterId, meter);
          touched.add(c.meterId);
        }
        return change;
      }),
    );
    await this.store.putMeters([...touched].map((id) => state.get(id)!)); // one commit: all or nothing
    return changes;
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

  /** Accepted readings of every meter on `feeder` in [from, to), by meter, then interval. */
  feederReadingsIn(feeder: string, from: number, to: number): Promise<StoredReading[]> {
    return this.store.feederReadings(feeder, from, to);
  }

  /** The meters whose current key epoch is on `feeder`. */
  feederMeters(feeder: string): Promise<string[]> {
    return this.store.feederMeters(feeder);
  }

  /** The signed records behind `readings`, each once, in the order of `recordIdsOf(readings)`. */
  async evidenceFor(readings: readonly StoredReading[]): Promise<Uint8Array[]> {
    return Promise.all(recordIdsOf(readings).map(async (id) => (await this.store.evidence(id))!));
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

/** One key epoch of a meter, as a verifier needs it. */
export interface VerifierEpoch {
  readonly publicKey: Uint8Array;
  readonly meterClass: MeterClass;
  readonly keyEpoch: number;
  /** Unix seconds from which this key signs intervals (default 0); the next epoch's `validFrom` ends it. */
  readonly validFrom?: number;
}

/** What a verifier needs to know about a meter: its current epoch, and the earlier ones (oldest first). */
export interface VerifierRegistration extends VerifierEpoch {
  readonly history?: readonly VerifierEpoch[];
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
    const policy = policyCheck(record, lookup(record.header.meterId), tariffVersions);
    if ('reason' in policy) {
      verdicts[index] = { ok: false, meterId: record.header.meterId, intervals: recordIntervals(record.header), ...policy };
      return;
    }
    candidates.push({ index, record, meterKey: policy.publicKey });
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

/**
 * Header checks against the registry: the epoch the header names, and that all
 * the record's intervals lie in that epoch's validity, then its class. Returns
 * the epoch's key, or why the record is rejected.
 */
function policyCheck(
  record: MeterRecord,
  m: VerifierRegistration | undefined,
  tariffVersions: ReadonlySet<number> | undefined,
): { reason: RejectReason; detail: string } | { publicKey: Uint8Array } {
  const h = record.header;
  if (m === undefined) return { reason: 'unknown-meter', detail: `meter ${h.meterId} is not registered` };
  const epochs = [...(m.history ?? []), m];
  const at = epochs.findIndex((e) => e.keyEpoch === h.keyEpoch);
  if (at < 0) {
    const earlier = epochs.length > 1 ? ` (earlier: ${epochs.slice(0, -1).map((e) => e.keyEpoch).join(', ')})` : '';
    return { reason: 'key-epoch', detail: `key epoch ${h.keyEpoch}, registered ${m.keyEpoch}${earlier}` };
  }
  const epoch = epochs[at]!;
  const validFrom = epoch.validFrom ?? 0;
  const validUntil = at + 1 < epochs.length ? (epochs[at + 1]!.validFrom ?? 0) : Infinity;
  const first = h.intervalStart;
  const last = h.intervalStart + (h.count - 1) * h.intervalSeconds;
  if (first < validFrom || last >= validUntil) {
    const until = validUntil === Infinity ? '' : `, until ${validUntil}`;
    return { reason: 'key-epoch', detail: `key epoch ${h.keyEpoch} of meter ${h.meterId} signs intervals from ${validFrom}${until}; this record covers ${first} to ${last + h.intervalSeconds}` };
  }
  if (tariffVersions !== undefined && !tariffVersions.has(h.tariffVersion)) {
    return { reason: 'tariff-version', detail: `unknown tariff version ${h.tariffVersion}` };
  }
  const c = epoch.meterClass;
  const expected = h.abnormal ? c.plausible : c.normal;
  if (h.bits !== c.bits || h.intervalSeconds !== c.intervalSeconds || h.bounds.min !== expected.min || h.bounds.max !== expected.max) {
    return { reason: 'class-mismatch', detail: `bits, interval or ${h.abnormal ? 'plausible' : 'normal'} bounds differ from class ${c.name}` };
  }
  if (h.intervalStart % h.intervalSeconds !== 0) return { reason: 'misaligned-interval', detail: `interval start ${h.intervalStart} is not a multiple of ${h.intervalSeconds} s` };
  return { publicKey: epoch.publicKey };
}

function refuseRegistry(message: string): never {
  throw new ZkmeterError('POLICY_REFUSED', `refused by rule 'registry': ${message}`);
}

/** A stored meter's current epoch on its own. */
function currentEpoch(m: StoredMeter): StoredEpoch {
  return {
    publicKey: m.publicKey,
    meterClass: m.meterClass,
    feeder: m.feeder,
    keyEpoch: m.keyEpoch,
    validFrom: m.validFrom ?? 0,
    ...(m.certificate !== undefined ? { certificate: m.certificate } : {}),
  };
}

/** `m` with `next` as its current epoch and its current one moved into the history. */
function rekeyed(m: StoredMeter, next: StoredEpoch): StoredMeter {
  return { meterId: m.meterId, ...next, history: [...(m.history ?? []), currentEpoch(m)] };
}

/** The `previous` of a re-key's RegistrationChange ('' for a meter without a feeder). */
function previousOf(m: StoredMeter): NonNullable<RegistrationChange['previous']> {
  return { keyEpoch: m.keyEpoch, feeder: m.feeder ?? '', meterClass: m.meterClass.name };
}

/** What an uncertified registration does to `existing` (see `ControlCenter.register`). */
function uncertifiedChange(
  existing: StoredMeter | undefined,
  r: { meterId: string; publicKey: Uint8Array; keyEpoch: number; validFrom: number; feeder: string | undefined; meterClass: MeterClass | undefined },
): { meter: StoredMeter; change: RegistrationChange } {
  const epoch = (feeder: string | undefined, meterClass: MeterClass): StoredEpoch => ({ publicKey: r.publicKey, meterClass, feeder, keyEpoch: r.keyEpoch, validFrom: r.validFrom });
  const changeOf = (m: StoredMeter, change: RegistrationChange['change']): RegistrationChange => ({
    meterId: r.meterId,
    change,
    keyEpoch: m.keyEpoch,
    feeder: m.feeder ?? '',
    meterClass: m.meterClass.name,
    ...(change === 're-keyed' && existing !== undefined ? { previous: previousOf(existing) } : {}),
  });
  if (existing === undefined) {
    const meter: StoredMeter = { meterId: r.meterId, ...epoch(r.feeder, r.meterClass ?? HOUSEHOLD), history: [] };
    return { meter, change: changeOf(meter, 'registered') };
  }
  const id = r.meterId;
  const certified = existing.certificate !== undefined || (existing.history ?? []).some((e) => e.certificate !== undefined);
  const sameClass = r.meterClass === undefined || classEquals(r.meterClass, existing.meterClass);
  const sameFeeder = r.feeder === undefined || r.feeder === existing.feeder;
  if (r.keyEpoch === existing.keyEpoch && equalBytes(r.publicKey, existing.publicKey) && sameClass && sameFeeder && (r.validFrom === 0 || r.validFrom === (existing.validFrom ?? 0))) {
    return { meter: existing, change: changeOf(existing, 'unchanged') };
  }
  if (certified) refuseRegistry(`meter ${id} is registered from a provisioning certificate: a new key, epoch or feeder needs a new certificate`);
  if (r.keyEpoch < existing.keyEpoch) refuseRegistry(`meter ${id} is at key epoch ${existing.keyEpoch}: a re-key must raise the epoch, not go back to ${r.keyEpoch}`);
  if (r.keyEpoch === existing.keyEpoch) {
    if (!equalBytes(r.publicKey, existing.publicKey)) refuseRegistry(`meter ${id} already has another key at epoch ${r.keyEpoch}: a new key needs a higher epoch`);
    refuseRegistry(`meter ${id}'s key epoch ${r.keyEpoch} is registered with ${sameFeeder ? (sameClass ? `valid from ${existing.validFrom ?? 0}` : `class ${existing.meterClass.name}`) : `feeder ${existing.feeder ?? '(none)'}`}: a change needs a new key epoch`);
  }
  if (r.validFrom < (existing.validFrom ?? 0)) refuseRegistry(`meter ${id}'s key epoch ${r.keyEpoch} cannot start (${r.validFrom}) before epoch ${existing.keyEpoch} did (${existing.validFrom ?? 0})`);
  const meter = rekeyed(existing, epoch(r.feeder ?? existing.feeder, r.meterClass ?? existing.meterClass));
  return { meter, change: changeOf(meter, 're-keyed') };
}

/**
 * What a checked certificate does to `existing`: `certificateChange` against the
 * certificates it holds. A meter registered before certificates (its current
 * epoch uncertified) takes a certificate of its current key and epoch (which
 * certifies it in place) or of a higher epoch (a re-key).
 */
function certifiedChange(existing: StoredMeter | undefined, cert: MeterCertificate): { meter: StoredMeter; change: RegistrationChange } {
  const next: StoredEpoch = { publicKey: cert.publicKey, meterClass: cert.meterClass, feeder: cert.feeder, keyEpoch: cert.keyEpoch, validFrom: cert.validFrom, certificate: cert.bytes };
  if (existing === undefined) return { meter: { meterId: cert.meterId, ...next, history: [] }, change: certificateChange([], cert) };
  const epochs = [...(existing.history ?? []), currentEpoch(existing)];
  const base = { meterId: cert.meterId, keyEpoch: cert.keyEpoch, feeder: cert.feeder, meterClass: cert.meterClass.name };
  if (existing.certificate !== undefined) {
    const change = certificateChange(
      epochs.flatMap((e) => (e.certificate !== undefined ? [decodeCertificate(e.certificate)] : [])),
      cert,
    );
    return { meter: change.change === 'unchanged' ? existing : rekeyed(existing, next), change };
  }
  // Registered before certificates.
  const prior = existing.history?.at(-1)?.validFrom ?? 0;
  if (cert.keyEpoch === existing.keyEpoch && equalBytes(cert.publicKey, existing.publicKey) && cert.validFrom >= prior) {
    // In place only if it says what the registration said: a feeder or class moved needs a new epoch.
    if (cert.feeder !== existing.feeder || !classEquals(cert.meterClass, existing.meterClass)) {
      refuseRegistry(`meter ${cert.meterId}'s certificate for its current key epoch ${cert.keyEpoch} puts it on another feeder or class than its registration: a change needs a new key epoch`);
    }
    return { meter: { meterId: cert.meterId, ...next, history: existing.history ?? [] }, change: { ...base, change: 'registered' } };
  }
  if (cert.keyEpoch <= existing.keyEpoch) {
    refuseRegistry(`meter ${cert.meterId} is at key epoch ${existing.keyEpoch}: a certificate for another key must raise the epoch, this one has ${cert.keyEpoch}`);
  }
  if (cert.validFrom < (existing.validFrom ?? 0)) refuseRegistry(`meter ${cert.meterId}'s key epoch ${cert.keyEpoch} cannot start (${cert.validFrom}) before epoch ${existing.keyEpoch} did (${existing.validFrom ?? 0})`);
  return { meter: rekeyed(existing, next), change: { ...base, change: 're-keyed', previous: previousOf(existing) } };
}

function classEquals(a: MeterClass, b: MeterClass): boolean {
  return (
    a.name === b.name &&
    a.bits === b.bits &&
    a.intervalSeconds === b.intervalSeconds &&
    a.normal.min === b.normal.min &&
    a.normal.max === b.normal.max &&
    a.plausible.min === b.plausible.min &&
    a.plausible.max === b.plausible.max
  );
}
