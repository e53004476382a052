/**
 * The fixed generators of zkmeter (SPEC.md, "Generators"):
 *  - G, the standard secp256k1 base point, carries values;
 *  - H, the Pedersen blinding base: hash_to_curve("H");
 *  - G_i and H_i, the Bulletproofs vector bases: hash_to_curve("G" ‖ u32be(i)) and
 *    hash_to_curve("H" ‖ u32be(i)), for i = 0, 1, 2, …
 * hash_to_curve is RFC 9380 with suite secp256k1_XMD:SHA-256_SSWU_RO_ and DST
 * `zkmeter/v1`. Being random-oracle outputs, no discrete-log relation between any
 * two of them is known. Each is computed once per process and cached; the vector
 * bases grow on demand, since hash_to_curve costs about 1 ms per point in
 * TypeScript.
 *
 * Points are returned as packed affine bytes (64 bytes each, see backend/bytes.ts).
 * @module
 */
import { secp256k1, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { AFFINE_BYTES, writeBigint } from '../backend/bytes.js';

/** Domain separation tag for every zkmeter generator. */
export const GENERATOR_DST = 'zkmeter/v1';

const encoder = new TextEncoder();

/** hash_to_curve(msg) under {@link GENERATOR_DST}, as 64-byte affine. */
function hashToPoint(msg: Uint8Array): Uint8Array {
  const { x, y } = secp256k1_hasher.hashToCurve(msg, { DST: GENERATOR_DST }).toAffine();
  const out = new Uint8Array(AFFINE_BYTES);
  writeBigint(out, 0, 32, x);
  writeBigint(out, 32, 32, y);
  return out;
}

/** The message for vector base `prefix`_i: prefix ‖ u32be(i). */
function indexedMessage(prefix: 'G' | 'H', i: number): Uint8Array {
  const msg = new Uint8Array(5);
  msg[0] = prefix.charCodeAt(0);
  new DataView(msg.buffer).setUint32(1, i, false);
  return msg;
}

let base: Uint8Array | undefined;
let blinding: Uint8Array | undefined;

/** G, secp256k1's base point, as 64-byte affine. */
export function generatorG(): Uint8Array {
  if (base === undefined) {
    const { x, y } = secp256k1.Point.BASE.toAffine();
    base = new Uint8Array(AFFINE_BYTES);
    writeBigint(base, 0, 32, x);
    writeBigint(base, 32, 32, y);
  }
  return base.slice();
}
const vectorG: Uint8Array[] = [];
const vectorH: Uint8Array[] = [];

/** H, the Pedersen blinding generator, as 64-byte affine. */
export function pedersenH(): Uint8Array {
  blinding ??= hashToPoint(encoder.encode('H'));
  return blinding.slice();
}

/** Largest vector-generator count served (n·m for 64-bit proofs aggregating 256 values). */
export const MAX_VECTOR_GENERATORS = 64 * 256;

/**
 * The first `count` vector generators G_0…G_{count−1} and H_0…H_{count−1}, each
 * packed affine (64·count bytes).
 */
export function vectorGenerators(count: number): { G: Uint8Array; H: Uint8Array } {
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_VECTOR_GENERATORS) {
    throw new RangeError(`"count" expected an integer 0 <= count <= ${MAX_VECTOR_GENERATORS}, got ${count}`);
  }
  for (let i = vectorG.length; i < count; i++) {
    vectorG.push(hashToPoint(indexedMessage('G', i)));
    vectorH.push(hashToPoint(indexedMessage('H', i)));
  }
  const G = new Uint8Array(AFFINE_BYTES * count);
  const H = new Uint8Array(AFFINE_BYTES * count);
  for (let i = 0; i < count; i++) {
    G.set(vectorG[i]!, AFFINE_BYTES * i);
    H.set(vectorH[i]!, AFFINE_BYTES * i);
  }
  return { G, H };
}
