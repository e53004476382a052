/**
 * Pedersen commitments V = m·G + s·H (SPEC.md), with H from generators.ts.
 * Perfectly hiding; binding as long as log_G(H) is unknown, which holds because
 * H is a hash_to_curve output. Constant time in m and s on the native backend
 * (one `msmConst`, result included).
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { getGroup } from '../backend/index.js';
import { CURVE_ORDER, concatBytes, scalarsToBytes } from '../backend/bytes.js';
import { generatorG, pedersenH } from './generators.js';
import { cryptoRandom, randomScalar, type RandomSource } from './random.js';

/** G ‖ H, the public points of every commitment, built on first use. */
let GH: Uint8Array | undefined;

/** V = m·G + s·H as 64-byte affine; m and s in [0, n). */
export function commit(m: bigint, s: bigint): Uint8Array {
  for (const [v, title] of [
    [m, 'value'],
    [s, 'blinding'],
  ] as const) {
    if (typeof v !== 'bigint' || v < 0n || v >= CURVE_ORDER) {
      throw new ZkmeterError('VALUE_OUT_OF_RANGE', `"${title}" expected an integer 0 <= x < n`);
    }
  }
  // One constant-time MSM over the public G and H: no secret-dependent point ever meets the
  // variable-time `add` (which made, for instance, a zero reading measurably faster).
  GH ??= concatBytes(generatorG(), pedersenH());
  return getGroup().msmConst(GH, scalarsToBytes([m, s]));
}

/** Commits to m with a fresh blinding s ∈ [1, n−1]; returns both. */
export function commitRandom(m: bigint, rng: RandomSource = cryptoRandom): { commitment: Uint8Array; blinding: bigint } {
  const blinding = randomScalar(rng);
  return { commitment: commit(m, blinding), blinding };
}
