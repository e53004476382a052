/**
 * Scalar-vector helpers mod n for the Bulletproofs prover and verifier. Plain
 * bigint math: a 64-bit proof has vectors of 64 elements.
 * @module
 */
import { CURVE_ORDER } from '../../backend/bytes.js';
import { modN } from '../scalar.js';

/** [1, x, x², …, x^(len−1)] mod n, for x in [0, n). */
export function powers(x: bigint, len: number): bigint[] {
  const out = new Array<bigint>(len);
  let p = 1n;
  for (let i = 0; i < len; i++) {
    out[i] = p;
    p = (p * x) % CURVE_ORDER; // both factors are non-negative: no sign fix-up needed
  }
  return out;
}

/** Σ aᵢ·bᵢ mod n. */
export function innerProduct(a: readonly bigint[], b: readonly bigint[]): bigint {
  let acc = 0n;
  for (let i = 0; i < a.length; i++) acc += a[i]! * b[i]!;
  return modN(acc);
}

