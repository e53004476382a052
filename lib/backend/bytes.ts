/**
 * Byte-level constants and assertions shared by both backends and everything
 * above them. Formats (all big-endian):
 *  - affine point: 64 bytes, x ‖ y; the point at infinity is 64 zero bytes
 *    ((0, 0) is not on secp256k1, so this cannot collide with a real point);
 *  - compressed point: 33 bytes SEC1, 02/03 ‖ x; infinity has no encoding;
 *  - scalar: 32 bytes, canonical (< n).
 * @module
 */
import { ZkmeterError } from '../errors.js';

/** Bytes per affine point (x ‖ y). */
export const AFFINE_BYTES = 64;
/** Bytes per SEC1 compressed point. */
export const COMPRESSED_BYTES = 33;
/** Bytes per scalar. */
export const SCALAR_BYTES = 32;
/** secp256k1 field prime p. */
export const FIELD_PRIME = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
/** secp256k1 group order n. */
export const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Asserts a Uint8Array, optionally of an exact length; returns it. */
export function abytes(value: unknown, title: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"${title}" expected Uint8Array, got ${typeof value}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new ZkmeterError('INVALID_LENGTH', `"${title}" expected ${length} bytes, got ${value.length}`);
  }
  return value;
}

/** Asserts a Uint8Array whose length is a multiple of `stride`; returns the element count. */
export function acount(value: unknown, title: string, stride: number): number {
  const bytes = abytes(value, title);
  if (bytes.length % stride !== 0) {
    throw new ZkmeterError(
      'INVALID_LENGTH',
      `"${title}" expected a multiple of ${stride} bytes, got ${bytes.length}`,
    );
  }
  return bytes.length / stride;
}

// Hex lookup tables: bigint ↔ bytes through hex strings is several times faster
// than per-byte bigint shifts, and these conversions sit on every hot path.
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;
  NIBBLE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** Reads a big-endian unsigned integer. */
export function bytesToBigint(bytes: Uint8Array, offset = 0, length = bytes.length - offset): bigint {
  if (length === 32) {
    // Scalars and coordinates: four 64-bit reads beat building a hex string.
    const v = new DataView(bytes.buffer, bytes.byteOffset + offset, 32);
    return (
      (v.getBigUint64(0) << 192n) | (v.getBigUint64(8) << 128n) | (v.getBigUint64(16) << 64n) | v.getBigUint64(24)
    );
  }
  let hex = '';
  for (let i = offset; i < offset + length; i++) hex += HEX[bytes[i]!];
  return hex === '' ? 0n : BigInt('0x' + hex);
}

/** Writes `value` (0 <= value < 2^(8·length)) as `length` big-endian bytes into `out` at `offset`. */
export function writeBigint(out: Uint8Array, offset: number, length: number, value: bigint): void {
  const hex = value.toString(16);
  const digits = hex.length;
  // Walk the hex string from its end; missing high digits are zero.
  for (let i = 0; i < length; i++) {
    const lo = digits - 1 - 2 * i;
    const b = (lo >= 0 ? NIBBLE[hex.charCodeAt(lo)]! : 0) | (lo - 1 >= 0 ? NIBBLE[hex.charCodeAt(lo - 1)]! << 4 : 0);
    out[offset + length - 1 - i] = b;
  }
}

/** Asserts a canonical scalar in [0, n) and returns its 32-byte encoding. */
export function scalarToBytes(k: bigint, title = 'scalar'): Uint8Array {
  return scalarsToBytes([k], title);
}

/** Packs canonical scalars in [0, n) into 32-byte big-endian slots. */
export function scalarsToBytes(ks: readonly bigint[], title = 'scalars'): Uint8Array {
  const out = new Uint8Array(SCALAR_BYTES * ks.length);
  for (let i = 0; i < ks.length; i++) {
    const k = ks[i];
    if (typeof k !== 'bigint' || k < 0n || k >= CURVE_ORDER) {
      throw new ZkmeterError(
        'INVALID_SCALAR',
        `"${title}[${i}]" expected bigint 0 <= k < n, got ${typeof k === 'bigint' ? k.toString(16) : typeof k}`,
        { index: i },
      );
    }
    writeBigint(out, SCALAR_BYTES * i, SCALAR_BYTES, k);
  }
  return out;
}

/** Unpacks 32-byte scalars (no range check: they are bytes the backends produced or checked). */
export function bytesToScalars(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (let off = 0; off < bytes.length; off += SCALAR_BYTES) out.push(bytesToBigint(bytes, off, SCALAR_BYTES));
  return out;
}

/** Whether two byte arrays are equal (variable time: public data only). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
