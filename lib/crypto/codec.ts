/**
 * Strict wire encodings (SPEC.md, "Group and encodings"):
 *  - point: 33-byte SEC1 compressed; infinity has no encoding;
 *  - scalar: 32-byte big-endian, canonical (< n);
 *  - ciphertext: 66 bytes, C1 ‖ C2;
 *  - hex: lowercase, no 0x.
 * Decoders reject wrong lengths, trailing bytes, prefixes other than 02/03,
 * x ≥ p, x off the curve, and scalars ≥ n, with a {@link ZkmeterError}.
 * Decoded points are 64-byte affine (backend/bytes.ts).
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { getGroup } from '../backend/index.js';
import { COMPRESSED_BYTES, CURVE_ORDER, SCALAR_BYTES, abytes, bytesToBigint, scalarToBytes } from '../backend/bytes.js';

export const POINT_LENGTH = COMPRESSED_BYTES;
export const SCALAR_LENGTH = SCALAR_BYTES;

/** Decodes one 33-byte point to affine. */
export function decodePoint(bytes: Uint8Array, title = 'point'): Uint8Array {
  abytes(bytes, title, POINT_LENGTH);
  try {
    return getGroup().decompress(bytes);
  } catch (e) {
    throw retitle(e, title);
  }
}

/** Decodes `count` concatenated 33-byte points to packed affine (one backend call). */
export function decodePoints(bytes: Uint8Array, count: number, title = 'points'): Uint8Array {
  abytes(bytes, title, POINT_LENGTH * count);
  try {
    return getGroup().decompress(bytes);
  } catch (e) {
    throw retitle(e, title);
  }
}

/** Encodes affine points (one or many, packed) as 33-byte points; infinity is rejected. */
export function encodePoints(points: Uint8Array, title = 'point'): Uint8Array {
  try {
    return getGroup().compress(points);
  } catch (e) {
    throw retitle(e, title);
  }
}

/** Decodes a canonical 32-byte scalar; with `nonzero`, zero is rejected too. */
export function decodeScalar(bytes: Uint8Array, title = 'scalar', nonzero = false): bigint {
  abytes(bytes, title, SCALAR_LENGTH);
  const k = bytesToBigint(bytes);
  if (k >= CURVE_ORDER) {
    throw new ZkmeterError('INVALID_SCALAR', `"${title}" expected a canonical scalar (< n)`);
  }
  if (nonzero && k === 0n) throw new ZkmeterError('INVALID_SCALAR', `"${title}" expected a non-zero scalar`);
  return k;
}

export const encodeScalar = scalarToBytes;

/** Parses lowercase hex without 0x (SPEC.md); `length` checks the decoded byte count. */
export function hexToBytes(hex: string, title: string, length?: number): Uint8Array {
  if (typeof hex !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(hex)) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"${title}" expected lowercase hex with an even number of digits`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  if (length !== undefined && out.length !== length) {
    throw new ZkmeterError('INVALID_LENGTH', `"${title}" expected ${length} bytes, got ${out.length}`);
  }
  return out;
}

/** Lowercase hex of bytes. */
export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

/** Re-labels a group error with the caller's title, keeping its code and index. */
function retitle(e: unknown, title: string): unknown {
  if (!(e instanceof ZkmeterError)) return e;
  const message = e.message.replace(/^"points(\[\d+\])?"/, (_, idx: string | undefined) => `"${title}${idx ?? ''}"`);
  return new ZkmeterError(e.code, message, { index: e.index, cause: e });
}
