/** Small bigint helpers for tests, independent of both backends. */
import { FIELD_PRIME as P, writeBigint } from '../../lib/backend/bytes.js';

export function modPow(b: bigint, e: bigint, m = P): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/** Whether x³ + 7 is a square mod p, i.e. whether x is the abscissa of a curve point. */
export function isCurveX(x: bigint): boolean {
  const rhs = (modPow(x, 3n) + 7n) % P;
  return rhs === 0n || modPow(rhs, (P - 1n) / 2n) === 1n;
}

/** The compressed encoding 02/03 ‖ x for an arbitrary x (possibly not on the curve, or ≥ p). */
export function compressedX(x: bigint, prefix = 2): Uint8Array {
  const out = new Uint8Array(33);
  out[0] = prefix;
  writeBigint(out, 1, 32, x);
  return out;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
