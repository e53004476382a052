/**
 * Meter records: the signed, versioned binary messages a meter sends (layout
 * in docs/protocol.md). A record holds one reading ("reading" record) or a
 * whole day of consecutive intervals ("daily" record), each as an EC ElGamal
 * ciphertext under the utility's key and a Pedersen commitment, with
 *  - one aggregated two-sided Bulletproofs range proof for all its values,
 *  - one aggregated proof of equivalence (ciphertexts ↔ commitments),
 *  - a BIP340 signature by the meter's key over everything before it.
 * The header (meter, interval, sequence, key epoch, tariff version, bounds) is
 * the context of both proofs, so a proof cannot be moved to another header.
 *
 * Decoding is strict: wrong magic or version, unknown kinds or flags, field
 * values out of range, points off the curve, non-canonical lengths and
 * trailing bytes are all rejected with a ZkmeterError.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { AFFINE_BYTES, concatBytes } from '../backend/bytes.js';
import { RANGE_BITS, rangeProofLength, type RangeBits } from '../crypto/bulletproofs/range.js';
import { POINT_LENGTH, bytesToHex, decodePoints, encodePoints, hexToBytes } from '../crypto/codec.js';
import type { Ciphertext } from '../crypto/elgamal.js';
import { taggedHash, type SignatureItem } from '../crypto/schnorr.js';
import { ZKPE_LENGTH } from '../crypto/zkpe.js';

/** The first bytes of every record. */
export const RECORD_MAGIC = new Uint8Array([0x5a, 0x4b, 0x4d, 0x52]); // "ZKMR"
/**
 * The record format this build reads and writes. Version 2 carries the sound
 * proof of equivalence (zkpe v2, 195 bytes); version 1 records, whose proof let a
 * meter send undecryptable ciphertexts, are refused with UNSUPPORTED_VERSION.
 */
export const RECORD_VERSION = 2;
/** Most readings in one record: its two-sided range proof aggregates 2 values per reading, at most 256. */
export const MAX_RECORD_READINGS = 128;
/** BIP340 tag of the record signature's message, and prefix of the proofs' context. */
export const RECORD_TAG = 'zkmeter/record v2';
const TAG_BYTES = new TextEncoder().encode(RECORD_TAG);

export type RecordKind = 'reading' | 'daily';
const KIND_CODES: Record<RecordKind, number> = { reading: 1, daily: 2 };
const FLAG_ABNORMAL = 1;
const METER_ID = /^[\x21-\x7e]{1,64}$/;

/** Everything a record states besides its cryptographic payload. */
export interface RecordHeader {
  readonly kind: RecordKind;
  /** The meter marks a record abnormal when a reading is outside its class's normal bounds; it then proves the plausible bounds. */
  readonly abnormal: boolean;
  /** Bit length n of the range proof. */
  readonly bits: RangeBits;
  /** 1 to 64 printable ASCII characters. */
  readonly meterId: string;
  /** Start of the first interval, Unix time in seconds (UTC). */
  readonly intervalStart: number;
  /** Length of each interval in seconds (1 to 86,400). */
  readonly intervalSeconds: number;
  /** Number of readings (consecutive intervals): 1 for a reading record. */
  readonly count: number;
  /** The meter's record counter (0 to 2^53 − 1). */
  readonly sequence: number;
  /** Which of the meter's signing keys (and the utility's encryption keys) signed this. */
  readonly keyEpoch: number;
  /** The tariff version the meter was configured with. */
  readonly tariffVersion: number;
  /** The bounds [min, max] (Wh per interval) the range proof proves each reading lies in. */
  readonly bounds: { readonly min: bigint; readonly max: bigint };
}

/** A decoded record: header, payload (points in 64-byte affine form) and its exact bytes. */
export interface MeterRecord {
  readonly header: RecordHeader;
  readonly ciphertexts: readonly Ciphertext[];
  readonly commitments: readonly Uint8Array[];
  readonly rangeProof: Uint8Array;
  readonly equivalenceProof: Uint8Array;
  /** 64-byte BIP340 signature. */
  readonly signature: Uint8Array;
  /** The canonical encoding. */
  readonly bytes: Uint8Array;
  /** The header's encoding (the proofs' context is RECORD_TAG ‖ headerBytes). */
  readonly headerBytes: Uint8Array;
}

/** Start of each interval the record covers. */
export function recordIntervals(h: RecordHeader): number[] {
  return Array.from({ length: h.count }, (_, i) => h.intervalStart + i * h.intervalSeconds);
}

/** The context both proofs are bound to: RECORD_TAG ‖ header bytes. */
export function proofContext(headerBytes: Uint8Array): Uint8Array {
  return concatBytes(TAG_BYTES, headerBytes);
}

/** The 32-byte message the meter signs: BIP340 tagged hash of the record's bytes before the signature. */
export function signedMessage(signedBytes: Uint8Array): Uint8Array {
  return taggedHash(RECORD_TAG, signedBytes);
}

function fail(message: string): never {
  throw new ZkmeterError('INVALID_RECORD', message);
}

/** The record's signature as a verification item under the meter's 32-byte x-only key. */
export function recordSignatureItem(record: MeterRecord, publicKey: Uint8Array): SignatureItem {
  return { publicKey, message: signedMessage(record.bytes.subarray(0, record.bytes.length - 64)), signature: record.signature };
}

/** Checks a header's fields; returns it. */
export function validateHeader(h: RecordHeader): RecordHeader {
  if (typeof h !== 'object' || h === null) fail('header expected an object');
  if (h.kind !== 'reading' && h.kind !== 'daily') fail(`"kind" expected "reading" or "daily", got ${String(h.kind)}`);
  if (typeof h.abnormal !== 'boolean') fail('"abnormal" expected a boolean');
  if (!RANGE_BITS.includes(h.bits)) fail(`"bits" expected one of ${RANGE_BITS.join(', ')}, got ${String(h.bits)}`);
  if (typeof h.meterId !== 'string' || !METER_ID.test(h.meterId)) fail('"meterId" expected 1 to 64 printable ASCII characters');
  const int = (v: unknown, name: string, min: number, max: number) => {
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) fail(`"${name}" expected an integer ${min} to ${max}, got ${String(v)}`);
  };
  int(h.intervalStart, 'intervalStart', 0, 2 ** 40);
  int(h.intervalSeconds, 'intervalSeconds', 1, 86_400);
  int(h.count, 'count', 1, h.kind === 'reading' ? 1 : MAX_RECORD_READINGS);
  int(h.sequence, 'sequence', 0, Number.MAX_SAFE_INTEGER);
  int(h.keyEpoch, 'keyEpoch', 0, 2 ** 32 - 1);
  int(h.tariffVersion, 'tariffVersion', 0, 2 ** 32 - 1);
  const { min, max } = h.bounds ?? ({} as RecordHeader['bounds']);
  if (typeof min !== 'bigint' || typeof max !== 'bigint' || min < 0n || max < min || max >= 2n ** 64n) fail('"bounds" expected bigints 0 <= min <= max < 2^64');
  if (max - min >= 1n << BigInt(h.bits)) fail(`"bounds" expected max − min < 2^${h.bits}`);
  return h;
}

/** The header's canonical bytes. */
export function encodeHeader(h: RecordHeader): Uint8Array {
  validateHeader(h);
  const id = new TextEncoder().encode(h.meterId);
  const out = new Uint8Array(4 + 4 + 1 + id.length + 8 + 4 + 2 + 8 + 4 + 4 + 8 + 8);
  const v = new DataView(out.buffer);
  out.set(RECORD_MAGIC);
  out[4] = RECORD_VERSION;
  out[5] = KIND_CODES[h.kind];
  out[6] = h.abnormal ? FLAG_ABNORMAL : 0;
  out[7] = h.bits;
  out[8] = id.length;
  out.set(id, 9);
  let o = 9 + id.length;
  v.setBigUint64(o, BigInt(h.intervalStart));
  v.setUint32(o + 8, h.intervalSeconds);
  v.setUint16(o + 12, h.count);
  v.setBigUint64(o + 14, BigInt(h.sequence));
  v.setUint32(o + 22, h.keyEpoch);
  v.setUint32(o + 26, h.tariffVersion);
  v.setBigUint64(o + 30, h.bounds.min);
  v.setBigUint64(o + 38, h.bounds.max);
  o += 46;
  return out.subarray(0, o);
}

/** Byte length of the payload after the header (excluding the signature). */
function payloadLength(h: RecordHeader): number {
  return 2 * POINT_LENGTH * h.count + POINT_LENGTH * h.count + rangeProofLength(h.bits, 2 * h.count) + ZKPE_LENGTH;
}

/**
 * The bytes a meter signs: header ‖ ciphertexts (66 each) ‖ commitments (33
 * each) ‖ range proof ‖ proof of equivalence. Points given affine.
 */
export function encodeUnsigned(
  header: RecordHeader,
  payload: { ciphertexts: readonly Ciphertext[]; commitments: readonly Uint8Array[]; rangeProof: Uint8Array; equivalenceProof: Uint8Array },
): Uint8Array {
  const hb = encodeHeader(header);
  if (payload.ciphertexts.length !== header.count || payload.commitments.length !== header.count) {
    throw new ZkmeterError('INVALID_ARGUMENT', `expected ${header.count} ciphertexts and commitments`);
  }
  const points = encodePoints(
    concatBytes(...payload.ciphertexts.flatMap((c) => [c.c1, c.c2]), ...payload.commitments),
    'record points',
  );
  if (payload.rangeProof.length !== rangeProofLength(header.bits, 2 * header.count) || payload.equivalenceProof.length !== ZKPE_LENGTH) {
    throw new ZkmeterError('INVALID_ARGUMENT', 'proof lengths do not match the header');
  }
  return concatBytes(hb, points, payload.rangeProof, payload.equivalenceProof);
}

/**
 * The meter id a record's header names, read without decoding the rest (for
 * registry look-ups before verification); undefined if the bytes are too short
 * or not a record. The full decoder still checks everything.
 */
export function recordMeterId(bytes: Uint8Array): string | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length < 9) return undefined;
  for (let i = 0; i < 4; i++) if (bytes[i] !== RECORD_MAGIC[i]) return undefined;
  const idLen = bytes[8]!;
  if (bytes.length < 9 + idLen) return undefined;
  let meterId = '';
  for (let i = 0; i < idLen; i++) meterId += String.fromCharCode(bytes[9 + i]!);
  return METER_ID.test(meterId) ? meterId : undefined;
}

/** Strictly decodes a record's bytes (the signature is not checked here). */
export function decodeRecord(bytes: Uint8Array): MeterRecord {
  const { header, fixedEnd } = decodeHeaderOf(bytes);
  const K = header.count;
  let at = fixedEnd;
  const pts = decodePoints(bytes.subarray(at, at + 3 * POINT_LENGTH * K), 3 * K, 'record points');
  at += 3 * POINT_LENGTH * K;
  const ciphertexts: Ciphertext[] = [];
  const commitments: Uint8Array[] = [];
  for (let j = 0; j < K; j++) {
    ciphertexts.push({ c1: pts.subarray(AFFINE_BYTES * 2 * j, AFFINE_BYTES * (2 * j + 1)), c2: pts.subarray(AFFINE_BYTES * (2 * j + 1), AFFINE_BYTES * (2 * j + 2)) });
    commitments.push(pts.subarray(AFFINE_BYTES * (2 * K + j), AFFINE_BYTES * (2 * K + j + 1)));
  }
  const rpLen = rangeProofLength(header.bits, 2 * K);
  const rangeProof = bytes.subarray(at, at + rpLen);
  at += rpLen;
  const equivalenceProof = bytes.subarray(at, at + ZKPE_LENGTH);
  at += ZKPE_LENGTH;
  return {
    header,
    ciphertexts,
    commitments,
    rangeProof,
    equivalenceProof,
    signature: bytes.subarray(at, at + 64),
    bytes,
    headerBytes: bytes.subarray(0, fixedEnd),
  };
}

/**
 * A record's header, checked strictly, and that the record's length is the header's
 * (its points and proofs are not decoded: `decodeRecord` does that).
 */
export function recordHeaderOf(bytes: Uint8Array): RecordHeader {
  return decodeHeaderOf(bytes).header;
}

function decodeHeaderOf(bytes: Uint8Array): { header: RecordHeader; fixedEnd: number } {
  if (!(bytes instanceof Uint8Array)) throw new ZkmeterError('INVALID_ARGUMENT', '"record" expected a Uint8Array');
  if (bytes.length < 5) fail(`record too short (${bytes.length} bytes)`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== RECORD_MAGIC[i]) fail('not a zkmeter record (bad magic)');
  // The version before anything else, so that a record of another version is named as such.
  if (bytes[4] !== RECORD_VERSION) {
    throw new ZkmeterError(
      'UNSUPPORTED_VERSION',
      bytes[4] === 1
        ? `record version 1 is no longer accepted (its proof of equivalence is unsound): this build reads version ${RECORD_VERSION} only`
        : `unsupported record version ${bytes[4]}: this build reads version ${RECORD_VERSION} only`,
    );
  }
  if (bytes.length < 9) fail(`record too short (${bytes.length} bytes)`);
  const kind = bytes[5] === 1 ? 'reading' : bytes[5] === 2 ? 'daily' : fail(`unknown record kind ${bytes[5]}`);
  if ((bytes[6]! & ~FLAG_ABNORMAL) !== 0) fail(`unknown record flags ${bytes[6]}`);
  const idLen = bytes[8]!;
  const fixedEnd = 9 + idLen + 46;
  if (bytes.length < fixedEnd) fail('record truncated in its header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let meterId = '';
  for (let i = 0; i < idLen; i++) meterId += String.fromCharCode(bytes[9 + i]!);
  const o = 9 + idLen;
  const big = (at: number) => v.getBigUint64(at);
  const safe = (x: bigint, name: string) => (x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : fail(`"${name}" out of range`));
  const header = validateHeader({
    kind,
    abnormal: bytes[6] === FLAG_ABNORMAL,
    bits: bytes[7] as RangeBits,
    meterId,
    intervalStart: safe(big(o), 'intervalStart'),
    intervalSeconds: v.getUint32(o + 8),
    count: v.getUint16(o + 12),
    sequence: safe(big(o + 14), 'sequence'),
    keyEpoch: v.getUint32(o + 22),
    tariffVersion: v.getUint32(o + 26),
    bounds: { min: big(o + 30), max: big(o + 38) },
  });
  const total = fixedEnd + payloadLength(header) + 64;
  if (bytes.length !== total) fail(`record expected ${total} bytes for its header, got ${bytes.length}`);
  return { header, fixedEnd };
}

/** The record's debugging/JSON form: integers as decimal strings where they may exceed 2^53, bytes as hex. */
export function recordToJson(r: MeterRecord): Record<string, unknown> {
  const h = r.header;
  return {
    version: RECORD_VERSION,
    kind: h.kind,
    abnormal: h.abnormal,
    bits: h.bits,
    meterId: h.meterId,
    intervalStart: h.intervalStart,
    intervalSeconds: h.intervalSeconds,
    count: h.count,
    sequence: h.sequence,
    keyEpoch: h.keyEpoch,
    tariffVersion: h.tariffVersion,
    bounds: { min: h.bounds.min.toString(), max: h.bounds.max.toString() },
    bytes: bytesToHex(r.bytes),
  };
}

/** Parses the JSON form: the `bytes` field is authoritative, and every other field must agree with it. */
export function recordFromJson(json: unknown): MeterRecord {
  const j = json as Record<string, unknown>;
  if (typeof j !== 'object' || j === null || typeof j.bytes !== 'string') fail('JSON record expected an object with "bytes" (hex)');
  const r = decodeRecord(hexToBytes(j.bytes as string, 'bytes'));
  const canonical = recordToJson(r);
  for (const [k, value] of Object.entries(j)) {
    if (!(k in canonical)) fail(`JSON record has an unknown field "${k}"`);
    if (JSON.stringify(value) !== JSON.stringify(canonical[k])) fail(`JSON record field "${k}" disagrees with its bytes`);
  }
  return r;
}
