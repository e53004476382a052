/**
 * Row shapes and conversions shared by the SQL stores (sqlite-store.ts,
 * pg-store.ts): both keep the same columns, and hand back plain Uint8Array
 * copies, never driver Buffers that may be views into a shared pool.
 * @module
 */
import { bytesToHex, hexToBytes } from '../crypto/codec.js';
import type { MeterClass } from '../protocol/meter.js';
import type { StoredEpoch, StoredMeter, StoredReading } from '../protocol/store.js';

/** A copy as a plain Uint8Array. */
export const rowBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();

export interface MeterRow {
  meter_id: string;
  public_key: Buffer;
  class_json: string;
  feeder: string | null;
  key_epoch: number;
  /** Unix seconds from which the current key signs (0 for uncertified and pre-certificate rows). */
  valid_from: number;
  /** The current epoch's certificate, if it was certified. */
  certificate: Buffer | null;
  /** The earlier epochs, oldest first (`historyToJson`; '[]' for rows from before key histories). */
  history_json: string;
}

/** The meters columns a registration writes, in the order the stores' INSERTs list them. */
export const METER_COLUMNS = 'meter_id, public_key, class_json, feeder, key_epoch, valid_from, certificate, history_json';

/** A registration's values for METER_COLUMNS. */
export function meterValues(m: StoredMeter): [string, Buffer, string, string | null, number, number, Buffer | null, string] {
  return [m.meterId, Buffer.from(m.publicKey), classToJson(m.meterClass), m.feeder ?? null, m.keyEpoch, m.validFrom ?? 0, m.certificate ? Buffer.from(m.certificate) : null, historyToJson(m.history ?? [])];
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
  return {
    meterId: r.meter_id,
    publicKey: rowBytes(r.public_key),
    meterClass: classFromJson(r.class_json),
    feeder: r.feeder ?? undefined,
    keyEpoch: r.key_epoch,
    validFrom: r.valid_from,
    ...(r.certificate !== null ? { certificate: rowBytes(r.certificate) } : {}),
    history: historyFromJson(r.history_json),
  };
}

interface EpochJson {
  publicKey: string;
  meterClass: string;
  feeder: string | null;
  keyEpoch: number;
  validFrom: number;
  certificate: string | null;
}

/** Earlier key epochs as JSON text: keys and certificates in hex, classes as `classToJson`. */
export function historyToJson(history: readonly StoredEpoch[]): string {
  return JSON.stringify(
    history.map((e): EpochJson => ({
      publicKey: bytesToHex(e.publicKey),
      meterClass: classToJson(e.meterClass),
      feeder: e.feeder ?? null,
      keyEpoch: e.keyEpoch,
      validFrom: e.validFrom ?? 0,
      certificate: e.certificate ? bytesToHex(e.certificate) : null,
    })),
  );
}

export function historyFromJson(s: string): StoredEpoch[] {
  return (JSON.parse(s) as EpochJson[]).map((e) => ({
    publicKey: hexToBytes(e.publicKey, 'history publicKey', 32),
    meterClass: classFromJson(e.meterClass),
    feeder: e.feeder ?? undefined,
    keyEpoch: e.keyEpoch,
    validFrom: e.validFrom,
    ...(e.certificate !== null ? { certificate: hexToBytes(e.certificate, 'history certificate') } : {}),
  }));
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
