/**
 * The benchmark report's soundness column (bench/soundness.ts), as assertions:
 * zkmeter's verifier, on each backend, rejects every forgery class; bulletproof-js
 * accepts a range proof for a commitment to 2^32 + 1000 built two ways (its public
 * log_G(H), and challenges that ignore V and T1); secp256k1-zkp's Borromean proofs
 * reject all three. The peer assertions pin what the report claims about them.
 */
import { describe, expect, it } from 'vitest';
import { FORGED_VALUE, candidateLogH, forgeBorromean, forgeBulletproofJs, forgeZkmeter } from '../bench/soundness.js';
import { loadBorromean } from '../bench/peers/borromean.js';
import { loadBulletproofJs } from '../bench/peers/bulletproofjs.js';
import { getGroup } from '../lib/backend/index.js';
import { encodePoints } from '../lib/crypto/codec.js';
import { pedersenH } from '../lib/crypto/generators.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';

const byForgery = (rows: { forgery: string; outcome: string }[]) => Object.fromEntries(rows.map((r) => [r.forgery, r.outcome]));

describe(`soundness run (${getGroup().name})`, () => {
  it('zkmeter rejects all three forgery classes', () => {
    for (let i = 0; i < 3; i++) {
      expect(byForgery(forgeZkmeter())).toEqual({ wrongCommitment: 'rejected', knownLogH: 'rejected', replayedChallenges: 'rejected' });
    }
  });

  it("the attack's log candidate is not zkmeter's log_G(H), and the forged value is out of a 32-bit range", () => {
    const candidateH = secp256k1.Point.BASE.multiply(candidateLogH()).toBytes(true);
    expect(candidateH).not.toEqual(encodePoints(pedersenH()));
    expect(FORGED_VALUE >= 2n ** 32n).toBe(true);
  });

  it('bulletproof-js accepts both out-of-range forgeries and rejects the wrong commitment', () => {
    const bp = loadBulletproofJs();
    expect(bp, 'bulletproof-js is a devDependency').toBeDefined();
    // The candidate really is its log_G(H): that is what makes the first forgery work.
    expect(bp!.logH).toBe(candidateLogH());
    expect(byForgery(forgeBulletproofJs(bp!))).toEqual({ wrongCommitment: 'rejected', knownLogH: 'accepted', replayedChallenges: 'accepted' });
  });

  it("secp256k1-zkp's Borromean proofs reject all three", async () => {
    const zkp = await loadBorromean();
    expect(zkp, '@vulpemventures/secp256k1-zkp is a devDependency').toBeDefined();
    expect(byForgery(forgeBorromean(zkp!))).toEqual({ wrongCommitment: 'rejected', knownLogH: 'rejected', replayedChallenges: 'rejected' });
  });
});
