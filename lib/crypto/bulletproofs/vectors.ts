/**
 * Scalar-vector helpers mod n for the Bulletproofs prover and verifier, and
 * point-vector sums on the backend. Plain bigint math: a 64-bit proof has
 * vectors of 64 elements, so this is never the bottleneck.
 * @module
 */
import { getGroup } from '../../backend/index.js';
import { AFFINE_BYTES, CURVE_ORDER } from '../../backend/bytes.js';
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

/** Sum of the packed affine points (pairwise tree of batched additions: log₂ backend calls). */
export function sumPoints(points: Uint8Array): Uint8Array {
  const g = getGroup();
  let cur = points;
  if (cur.length === 0) return new Uint8Array(AFFINE_BYTES);
  while (cur.length > AFFINE_BYTES) {
    const count = cur.length / AFFINE_BYTES;
    const half = Math.floor(count / 2);
    const summed = g.add(cur.subarray(0, half * AFFINE_BYTES), cur.subarray(half * AFFINE_BYTES, 2 * half * AFFINE_BYTES));
    if (count % 2 === 1) {
      const next = new Uint8Array((half + 1) * AFFINE_BYTES);
      next.set(summed);
      next.set(cur.subarray(2 * half * AFFINE_BYTES), half * AFFINE_BYTES);
      cur = next;
    } else cur = summed;
  }
  return cur;
}
