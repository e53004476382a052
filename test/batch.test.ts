/** Range proofs and proofs of equivalence of the same readings, verified together in one MSM. */
import { describe, expect, it } from 'vitest';
import * as eg from '../lib/crypto/elgamal.js';
import { commit } from '../lib/crypto/pedersen.js';
import { randomScalar } from '../lib/crypto/random.js';
import { proveEquivalence } from '../lib/crypto/zkpe.js';
import { proveRange } from '../lib/crypto/bulletproofs/range.js';
import { batchVerifyProofs } from '../lib/crypto/batch.js';
import { fixedRng } from './support/rng.js';

const rng = fixedRng(`batch-${Date.now()}`);
const u = (s: string) => new TextEncoder().encode(s);
const { publicKey } = eg.keygen(rng);

function reading(value: bigint, i: number) {
  const r = randomScalar(rng);
  const s = randomScalar(rng);
  const context = u(`meter-1|interval-${i}`);
  const ciphertext = eg.encryptWithRandomness(publicKey, value, r);
  const commitment = commit(value, s);
  const statement = { commitments: [commitment], bits: 16 as const, bounds: { min: 0n, max: 5000n } };
  return {
    range: { statement, proof: proveRange(statement, { values: [value], blindings: [s] }, context, rng), context },
    equivalence: {
      statement: { publicKey, ciphertext, commitment },
      proof: proveEquivalence({ publicKey, ciphertext, commitment }, { m: value, r, s }, context, rng),
      context,
    },
  };
}

describe('batchVerifyProofs', () => {
  const readings = [120n, 4999n, 0n, 777n].map(reading);
  const ranges = readings.map((x) => x.range);
  const equivalences = readings.map((x) => x.equivalence);

  it('accepts the valid proofs of several readings in one check', () => {
    expect(batchVerifyProofs({ ranges, equivalences })).toEqual({ valid: true, invalidRanges: [], invalidEquivalences: [] });
    expect(batchVerifyProofs({})).toEqual({ valid: true, invalidRanges: [], invalidEquivalences: [] });
  });

  it('names the bad proofs of each kind, malformed ones included', () => {
    const badRanges = ranges.slice();
    badRanges[2] = { ...badRanges[2]!, context: u('meter-1|interval-9') };
    const badEqs = equivalences.slice();
    badEqs[1] = { ...badEqs[1]!, proof: badEqs[0]!.proof };
    badEqs[3] = { ...badEqs[3]!, proof: badEqs[3]!.proof.subarray(2) };
    expect(batchVerifyProofs({ ranges: badRanges, equivalences: badEqs })).toEqual({
      valid: false,
      invalidRanges: [2],
      invalidEquivalences: [1, 3],
    });
  });
});
