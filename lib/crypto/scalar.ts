/**
 * Arithmetic modulo the group order n, on bigints. Uses noble's prime-field
 * helper (`Point.Fn`) rather than re-implementing inversion; this is plain
 * bigint math and the same on both backends.
 * @module
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { getGroup } from '../backend/index.js';
import { bytesToBigint, scalarsToBytes } from '../backend/bytes.js';

/** The scalar field Z_n of secp256k1 (noble's IField<bigint>). */
export const Fn = secp256k1.Point.Fn;

/** x mod n, in [0, n), for any integer x (negative included). */
export function modN(x: bigint): bigint {
  return Fn.create(x);
}

/**
 * Inverses of non-zero scalars, through the backend (libsecp256k1's safegcd
 * natively, one batched bigint inversion in TypeScript). Variable time: for
 * public values such as Fiat–Shamir challenges only.
 */
export function invertPublic(scalars: readonly bigint[]): bigint[] {
  if (scalars.length === 0) return [];
  const out = getGroup().invertScalars(scalarsToBytes(scalars));
  return scalars.map((_, i) => bytesToBigint(out, 32 * i, 32));
}
