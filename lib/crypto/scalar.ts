/**
 * Arithmetic modulo the group order n, on bigints. Uses noble's prime-field
 * helper (`Point.Fn`) rather than re-implementing inversion; this is plain
 * bigint math and the same on both backends.
 * @module
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';

/** The scalar field Z_n of secp256k1 (noble's IField<bigint>). */
export const Fn = secp256k1.Point.Fn;

/** x mod n, in [0, n), for any integer x (negative included). */
export function modN(x: bigint): bigint {
  return Fn.create(x);
}
