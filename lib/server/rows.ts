/**
 * Row shapes and conversions shared by the SQL stores (sqlite-store.ts,
 * pg-store.ts): both keep the same columns, and hand back plain Uint8Array
 * copies, never driver Buffers that may be views into a shared pool.
 * @module
 */
import type { MeterClass } from '../protocol/meter.js';
import type { StoredMeter, StoredReading } from '../protocol/store.js';

/** A copy as a plain Uint8Array. */
export const rowBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();

export interface MeterRow {
  meter_id: string;
  public_key: Buffer;
  class_json: string;
  feeder: string | null;
  key_epoch: number;
}

export interface ReadingRow {
  meter_id: string;
  interval_start: number;
  c1: Buffer;
  c2: Buffer;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  abnormal: number | boolean;
  record_id: string;
}

export function toMeter(r: MeterRow): StoredMeter {
  return { meterId: r.meter_id, publicKey: rowBytes(r.public_key), meterClass: classFromJson(r.class_json), feeder: r.feeder ?? undefined, keyEpoch: r.key_epoch };
}

export function toReading(r: ReadingRow): StoredReading {
  return {
    meterId: r.meter_id,
    intervalStart: r.interval_start,
    ciphertext: { c1: rowBytes(r.c1), c2: rowBytes(r.c2) },
    abnormal: r.abnormal === true || r.abnormal === 1,
    recordId: r.record_id,
  };
}

/** The meter class as JSON text, bigints as {"$bigint": "…"}. */
export function classToJson(c: MeterClass): string {
  return JSON.stringify(c, (_, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
}

export function classFromJson(s: string): MeterClass {
  return JSON.parse(s, (_, v: unknown) => (v !== null && typeof v === 'object' && '$bigint' in v ? BigInt((v as { $bigint: string }).$bigint) : v)) as MeterClass;
}
