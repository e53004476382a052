/**
 * Frozen proofs (test/vectors/proofs-v1.json, made once by generate.mjs): every
 * later version must still verify them, on both backends, and must produce the
 * same bytes from the same randomness, so the wire format cannot change silently.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesToHex, decodePoint, hexToBytes } from '../lib/crypto/codec.js';
import * as eg from '../lib/crypto/elgamal.js';
import { randomScalar } from '../lib/crypto/random.js';
import { proveEquivalence, verifyEquivalence } from '../lib/crypto/zkpe.js';
import { proveRange, verifyRange, type RangeBits } from '../lib/crypto/bulletproofs/range.js';
import { fixedRng } from './support/rng.js';

interface Vectors {
  range: { seed: string; bits: RangeBits; values: string[]; bounds: { min: string; max: string } | null; context: string; commitments: string[]; proof: string }[];
  zkpe: { seed: string; value: string; context: string; publicKey: string; ciphertext: string; commitment: string; proof: string }[];
}

const vectors = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'proofs-v1.json'), 'utf8')) as Vectors;
const u = (s: string) => new TextEncoder().encode(s);

describe('frozen range proofs (v1)', () => {
  for (const v of vectors.range) {
    it(`${v.seed} verifies, and re-proving from the same randomness gives the same bytes`, () => {
      const bounds = v.bounds ? { min: BigInt(v.bounds.min), max: BigInt(v.bounds.max) } : undefined;
      const statement = { commitments: v.commitments.map((c) => decodePoint(hexToBytes(c, 'commitment'))), bits: v.bits, ...(bounds ? { bounds } : {}) };
      const proof = hexToBytes(v.proof, 'proof');
      expect(verifyRange(statement, proof, u(v.context))).toBe(true);
      const rng = fixedRng(v.seed);
      const values = v.values.map(BigInt);
      const blindings = values.map(() => randomScalar(rng));
      expect(bytesToHex(proveRange(statement, { values, blindings }, u(v.context), rng))).toBe(v.proof);
      const tampered = proof.slice();
      tampered[tampered.length - 1]! ^= 1;
      expect(verifyRange(statement, tampered, u(v.context))).toBe(false);
    });
  }
});

describe('frozen ZKPe proofs (v1)', () => {
  for (const v of vectors.zkpe) {
    it(`${v.seed} verifies, and re-proving from the same randomness gives the same bytes`, () => {
      const statement = {
        publicKey: eg.decodePublicKey(hexToBytes(v.publicKey, 'publicKey')),
        ciphertext: eg.decodeCiphertext(hexToBytes(v.ciphertext, 'ciphertext')),
        commitment: decodePoint(hexToBytes(v.commitment, 'commitment')),
      };
      expect(verifyEquivalence(statement, hexToBytes(v.proof, 'proof'), u(v.context))).toBe(true);
      const rng = fixedRng(v.seed);
      eg.keygen(rng);
      const r = randomScalar(rng);
      const s = randomScalar(rng);
      expect(bytesToHex(proveEquivalence(statement, { r, s }, u(v.context), rng))).toBe(v.proof);
    });
  }
});
