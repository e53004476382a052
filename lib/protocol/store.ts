/**
 * Where the control center keeps its state: the meter registry, the accepted
 * readings (their ciphertexts) with the signed records behind them, the
 * inspection queue, and the last rejection per (meter, interval). Every method
 * is asynchronous so a networked database can serve: `MemoryStore` is the
 * default, lib/server/sqlite-store.ts keeps the state in one SQLite file and
 * lib/server/pg-store.ts in PostgreSQL.
 *
 * A store is the place where (meter, interval) uniqueness is enforced:
 * `putRecords` stores each record whole or not at all, decides each record in
 * order (so within one call the first record for an interval wins), and has
 * made everything durable before its promise resolves.
 *
 * It also keeps every bill the center issued (`putBill`/`getBill`), under an id
 * derived from the bill's request, so that a bill is answered again, the same,
 * rather than decrypted again, and a lost response costs nothing.
 * @module
 */
import type { Ciphertext } from '../crypto/elgamal.js';
import type { MeterClass } from './meter.js';
import type { RecordHeader } from './records.js';
import { recordIntervals } from './records.js';

/** One key epoch of a meter: its key, class and feeder from `validFrom` until the next epoch's `validFrom`. */
export interface StoredEpoch {
  /** 32-byte x-only BIP340 key. */
  readonly publicKey: Uint8Array;
  readonly meterClass: MeterClass;
  readonly feeder: string | undefined;
  readonly keyEpoch: number;
  /** Unix seconds from which this key signs readings (0 for an uncertified registration). */
  readonly validFrom?: number;
  /** The provisioning certificate (certificate.ts) this epoch was registered from, if any. */
  readonly certificate?: Uint8Array;
}

/**
 * A registered meter: its current key epoch, with the earlier ones kept in
 * `history` so that records sealed before a re-key still verify, under their
 * own epoch's key and class, for the intervals that epoch was valid.
 */
export interface StoredMeter extends StoredEpoch {
  readonly meterId: string;
  /** Earlier epochs, oldest first (absent or empty: none). */
  readonly history?: readonly StoredEpoch[];
}

/** One accepted reading's ciphertext, as stored. */
export interface StoredReading {
  readonly meterId: string;
  readonly intervalStart: number;
  readonly ciphertext: Ciphertext;
  readonly abnormal: boolean;
  readonly recordId: string;
}

/** What `putRecords` stores: a verified record's header, ciphertexts, bytes and id. */
export interface RecordToStore {
  readonly header: RecordHeader;
  readonly ciphertexts: readonly Ciphertext[];
  readonly bytes: Uint8Array;
  readonly recordId: string;
}

/** A registered meter's record that failed verification, kept so the meter's interval status can say "invalid". */
export interface Rejection {
  readonly meterId: string;
  readonly intervalStart: number;
  readonly reason: string;
  /** Unix seconds when it was rejected. */
  readonly at: number;
}

/** `stored`, `repeated` (this very record is already stored), or `taken` (an interval holds another record). */
export type PutOutcome = { readonly status: 'stored' | 'repeated' } | { readonly status: 'taken'; readonly intervalStart: number };

export interface CenterStore {
  /** Registers a meter, or replaces its registration (a re-key: the caller carries the earlier epochs in `history`). */
  putMeter(m: StoredMeter): Promise<void>;
  /** `putMeter` for several meters in one durable commit: all of them or none. */
  putMeters(ms: readonly StoredMeter[]): Promise<void>;
  getMeter(meterId: string): Promise<StoredMeter | undefined>;
  /** The registrations of those of `meterIds` that are registered. */
  getMeters(meterIds: readonly string[]): Promise<Map<string, StoredMeter>>;
  meterIds(): Promise<string[]>;
  /**
   * Stores verified records in one durable commit, each whole or not at all,
   * decided in order, with the rejections (the latest per (meter, interval) wins).
   * Returns one outcome per record.
   */
  putRecords(records: readonly RecordToStore[], rejections?: readonly Rejection[]): Promise<PutOutcome[]>;
  /** Accepted readings of a meter in [from, to), ascending. */
  readings(meterId: string, from: number, to: number): Promise<StoredReading[]>;
  /** The latest rejection per interval of a meter in [from, to), ascending. */
  rejections(meterId: string, from: number, to: number): Promise<Rejection[]>;
  /** Accepted readings of every meter on a feeder in [from, to), by meter id, then interval. */
  feederReadings(feeder: string, from: number, to: number): Promise<StoredReading[]>;
  /** The meters whose current epoch is on `feeder`, ascending. */
  feederMeters(feeder: string): Promise<string[]>;
  /** A stored record's bytes. */
  evidence(recordId: string): Promise<Uint8Array | undefined>;
  /** Abnormal readings, oldest first. */
  inspectionQueue(): Promise<StoredReading[]>;
  /**
   * Stores an issued bill (its JSON text, as answered) under `id`, durably before the
   * promise resolves, unless a bill is already stored under `id`: the first one stored
   * wins, for good. Returns the JSON text stored under `id` (this one or the earlier one).
   */
  putBill(id: string, json: string): Promise<string>;
  /** The JSON text of the bill stored under `id`, if any. */
  getBill(id: string): Promise<string | undefined>;
  /** Releases connections and files. */
  close(): Promise<void>;
}

/** In-process state, lost with the process: for tests, the CLI and embedding. */
export class MemoryStore implements CenterStore {
  private readonly meters = new Map<string, StoredMeter>();
  private readonly byMeter = new Map<string, Map<number, StoredReading>>();
  private readonly rejected = new Map<string, Map<number, Rejection>>();
  private readonly records = new Map<string, Uint8Array>();
  private readonly inspection: StoredReading[] = [];
  private readonly bills = new Map<string, string>();

  async putMeter(m: StoredMeter): Promise<void> {
    this.meters.set(m.meterId, m);
  }

  async putMeters(ms: readonly StoredMeter[]): Promise<void> {
    for (const m of ms) this.meters.set(m.meterId, m);
  }

  async getMeter(meterId: string): Promise<StoredMeter | undefined> {
    return this.meters.get(meterId);
  }

  async getMeters(meterIds: readonly string[]): Promise<Map<string, StoredMeter>> {
    const out = new Map<string, StoredMeter>();
    for (const id of meterIds) {
      const m = this.meters.get(id);
      if (m !== undefined) out.set(id, m);
    }
    return out;
  }

  async meterIds(): Promise<string[]> {
    return [...this.meters.keys()].sort();
  }

  async putRecords(records: readonly RecordToStore[], rejections: readonly Rejection[] = []): Promise<PutOutcome[]> {
    for (const r of rejections) {
      let m = this.rejected.get(r.meterId);
      if (m === undefined) this.rejected.set(r.meterId, (m = new Map()));
      m.set(r.intervalStart, r);
    }
    return records.map((r) => this.putRecord(r));
  }

  private putRecord(r: RecordToStore): PutOutcome {
    const h = r.header;
    const intervals = recordIntervals(h);
    let held = this.byMeter.get(h.meterId);
    if (held === undefined) this.byMeter.set(h.meterId, (held = new Map()));
    const taken = intervals.map((t) => held!.get(t));
    if (taken.every((s) => s !== undefined && s.recordId === r.recordId)) return { status: 'repeated' };
    const clash = taken.findIndex((s) => s !== undefined);
    if (clash >= 0) return { status: 'taken', intervalStart: intervals[clash]! };
    this.records.set(r.recordId, r.bytes);
    intervals.forEach((t, j) => {
      const stored: StoredReading = { meterId: h.meterId, intervalStart: t, ciphertext: r.ciphertexts[j]!, abnormal: h.abnormal, recordId: r.recordId };
      held!.set(t, stored);
      if (h.abnormal) this.inspection.push(stored);
    });
    return { status: 'stored' };
  }

  async readings(meterId: string, from: number, to: number): Promise<StoredReading[]> {
    return inRange(this.byMeter.get(meterId), from, to);
  }

  async rejections(meterId: string, from: number, to: number): Promise<Rejection[]> {
    return inRange(this.rejected.get(meterId), from, to);
  }

  async feederReadings(feeder: string, from: number, to: number): Promise<StoredReading[]> {
    const out: StoredReading[] = [];
    for (const id of await this.meterIds()) if (this.meters.get(id)!.feeder === feeder) out.push(...inRange(this.byMeter.get(id), from, to));
    return out;
  }

  async feederMeters(feeder: string): Promise<string[]> {
    return (await this.meterIds()).filter((id) => this.meters.get(id)!.feeder === feeder);
  }

  async evidence(recordId: string): Promise<Uint8Array | undefined> {
    return this.records.get(recordId);
  }

  async inspectionQueue(): Promise<StoredReading[]> {
    return this.inspection.slice();
  }

  async putBill(id: string, json: string): Promise<string> {
    if (!this.bills.has(id)) this.bills.set(id, json);
    return this.bills.get(id)!;
  }

  async getBill(id: string): Promise<string | undefined> {
    return this.bills.get(id);
  }

  async close(): Promise<void> {}
}

function inRange<T extends { intervalStart: number }>(m: Map<number, T> | undefined, from: number, to: number): T[] {
  if (m === undefined) return [];
  return [...m.values()].filter((r) => r.intervalStart >= from && r.intervalStart < to).sort((a, b) => a.intervalStart - b.intervalStart);
}
