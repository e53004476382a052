/**
 * Where the control center keeps its state: the meter registry, the accepted
 * readings (their ciphertexts) with the signed records behind them, and the
 * inspection queue. `MemoryStore` is the default; lib/server/sqlite-store.ts
 * keeps the same state durably. A store is the place where (meter, interval)
 * uniqueness is enforced: `putRecord` is atomic.
 * @module
 */
import type { Ciphertext } from '../crypto/elgamal.js';
import type { MeterClass } from './meter.js';
import type { RecordHeader } from './records.js';
import { recordIntervals } from './records.js';

/** A registered meter. */
export interface StoredMeter {
  readonly meterId: string;
  /** 32-byte x-only BIP340 key. */
  readonly publicKey: Uint8Array;
  readonly meterClass: MeterClass;
  readonly feeder: string | undefined;
  readonly keyEpoch: number;
}

/** One accepted reading's ciphertext, as stored. */
export interface StoredReading {
  readonly meterId: string;
  readonly intervalStart: number;
  readonly ciphertext: Ciphertext;
  readonly abnormal: boolean;
  readonly recordId: string;
}

/** What `putRecord` stores: a verified record's header, ciphertexts, bytes and id. */
export interface RecordToStore {
  readonly header: RecordHeader;
  readonly ciphertexts: readonly Ciphertext[];
  readonly bytes: Uint8Array;
  readonly recordId: string;
}

/** `stored`, `repeated` (this very record is already stored), or `taken` (an interval holds another record). */
export type PutOutcome = { readonly status: 'stored' | 'repeated' } | { readonly status: 'taken'; readonly intervalStart: number };

export interface CenterStore {
  putMeter(m: StoredMeter): void;
  getMeter(meterId: string): StoredMeter | undefined;
  meterIds(): string[];
  /** Stores all of a record's readings, or none: atomically, unless an interval holds another record. */
  putRecord(r: RecordToStore): PutOutcome;
  /** Accepted readings of a meter in [from, to), ascending. */
  readings(meterId: string, from: number, to: number): StoredReading[];
  /** Accepted readings of every meter on a feeder for one interval. */
  feederReadings(feeder: string, intervalStart: number): StoredReading[];
  /** A stored record's bytes. */
  evidence(recordId: string): Uint8Array | undefined;
  /** Abnormal readings, oldest first. */
  inspectionQueue(): StoredReading[];
}

export class MemoryStore implements CenterStore {
  private readonly meters = new Map<string, StoredMeter>();
  private readonly byMeter = new Map<string, Map<number, StoredReading>>();
  private readonly records = new Map<string, Uint8Array>();
  private readonly inspection: StoredReading[] = [];

  putMeter(m: StoredMeter): void {
    this.meters.set(m.meterId, m);
  }

  getMeter(meterId: string): StoredMeter | undefined {
    return this.meters.get(meterId);
  }

  meterIds(): string[] {
    return [...this.meters.keys()];
  }

  putRecord(r: RecordToStore): PutOutcome {
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

  readings(meterId: string, from: number, to: number): StoredReading[] {
    const m = this.byMeter.get(meterId);
    if (m === undefined) return [];
    return [...m.values()].filter((r) => r.intervalStart >= from && r.intervalStart < to).sort((a, b) => a.intervalStart - b.intervalStart);
  }

  feederReadings(feeder: string, intervalStart: number): StoredReading[] {
    const out: StoredReading[] = [];
    for (const m of this.meters.values()) {
      const r = m.feeder === feeder ? this.byMeter.get(m.meterId)?.get(intervalStart) : undefined;
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  evidence(recordId: string): Uint8Array | undefined {
    return this.records.get(recordId);
  }

  inspectionQueue(): StoredReading[] {
    return this.inspection.slice();
  }
}
