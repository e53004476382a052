/**
 * Randomness. Secrets come from the platform CSPRNG (`crypto.getRandomValues`);
 * tests may inject a deterministic source through the {@link RandomSource} type.
 * @module
 */
import { CURVE_ORDER, SCALAR_BYTES, bytesToBigint } from '../backend/bytes.js';

/** Fills and returns `length` random bytes. */
export type RandomSource = (length: number) => Uint8Array;

/**
 * Bytes from the platform CSPRNG (Web Crypto), available in Node ≥ 20 and
 * browsers. Small requests are served from a 4 KiB pool refilled by one
 * getRandomValues call (each call costs tens of µs); every byte is handed out
 * once and then zeroed in the pool.
 */
let pool = new Uint8Array(0);
let poolOffset = 0;
const POOL_SIZE = 4096;

function fill(out: Uint8Array<ArrayBuffer>): void {
  // getRandomValues takes at most 65536 bytes per call.
  for (let off = 0; off < out.length; off += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(off, Math.min(out.length, off + 65536)));
  }
}

export const cryptoRandom: RandomSource = (length) => {
  const out = new Uint8Array(length);
  if (length > 256) {
    fill(out);
    return out;
  }
  if (poolOffset + length > pool.length) {
    pool = new Uint8Array(POOL_SIZE);
    fill(pool);
    poolOffset = 0;
  }
  out.set(pool.subarray(poolOffset, poolOffset + length));
  pool.fill(0, poolOffset, poolOffset + length);
  poolOffset += length;
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

/**
 * `count` independent uniform weights in [1, 2^127) for batch verification,
 * drawn in one CSPRNG call. A batch holding a false equation passes with
 * probability below 2^−126. Why 127 bits and not 128: below 2^127,
 * libsecp256k1's GLV split leaves the second half-scalar zero, so an MSM treats
 * these weights as half-length scalars (about 25% cheaper per point).
 */
export function batchWeights(count: number): bigint[] {
  const bytes = cryptoRandom(16 * count);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    bytes[16 * i]! &= 0x7f;
    out.push(bytesToBigint(bytes, 16 * i, 16) || 1n);
  }
  return out;
}
