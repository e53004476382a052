/**
 * Randomness. Secrets come from the platform CSPRNG (`crypto.getRandomValues`);
 * tests may inject a deterministic source through the {@link RandomSource} type.
 * @module
 */
import { CURVE_ORDER, SCALAR_BYTES, bytesToBigint } from '../backend/bytes.js';

/** Fills and returns `length` random bytes. */
export type RandomSource = (length: number) => Uint8Array;

/** The platform CSPRNG (Web Crypto), available in Node ≥ 20 and browsers. */
export const cryptoRandom: RandomSource = (length) => {
  const out = new Uint8Array(length);
  // getRandomValues takes at most 65536 bytes per call.
  for (let off = 0; off < length; off += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(off, Math.min(length, off + 65536)));
  }
  return out;
};

/**
 * A uniform scalar in [1, n−1] by rejection sampling 32-byte strings (the chance
 * of one rejection is below 2^−127), so there is no modular bias.
 */
export function randomScalar(rng: RandomSource = cryptoRandom): bigint {
  for (;;) {
    const k = bytesToBigint(rng(SCALAR_BYTES));
    if (k !== 0n && k < CURVE_ORDER) return k;
  }
}

/** `count` independent uniform scalars in [1, n−1]. */
export function randomScalars(count: number, rng: RandomSource = cryptoRandom): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) out.push(randomScalar(rng));
  return out;
}
