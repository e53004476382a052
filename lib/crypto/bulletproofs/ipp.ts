/**
 * The inner-product argument of Bulletproofs (Bünz, Bootle, Boneh, Poelstra,
 * Wuille, Maxwell 2018, §3, Protocol 2, with the §4.2 base change H'ᵢ = y^−i·Hᵢ
 * folded in). Math notes: docs/notes-rangeproof.md.
 *
 * Statement: P = ⟨a, G⟩ + ⟨b, H⟩ + ⟨a, b⟩·Q for public vectors G, H (length N, a
 * power of two) and point Q. Each round halves the vectors:
 *   L = ⟨a_lo, G_hi⟩ + ⟨b_hi, H_lo⟩ + ⟨a_lo, b_hi⟩·Q
 *   R = ⟨a_hi, G_lo⟩ + ⟨b_lo, H_hi⟩ + ⟨a_hi, b_lo⟩·Q
 *   u = challenge(L, R)
 *   a ← u·a_lo + u⁻¹·a_hi      b ← u⁻¹·b_lo + u·b_hi
 *   G ← u⁻¹·G_lo + u·G_hi      H ← u·H_lo + u⁻¹·H_hi
 * until a and b are single scalars. The verifier never folds generators: the
 * final G and H are Σ sᵢ·Gᵢ and Σ sᵢ⁻¹·Hᵢ with sᵢ = Π_j u_j^(±1) (sign from bit
 * k−1−j of i), which range.ts puts straight into the single verification MSM
 * as tensor products (`MsmAccumulator.addVectorTensor`).
 * @module
 */
import { getGroup } from '../../backend/index.js';
import { AFFINE_BYTES, concatBytes, scalarsToBytes } from '../../backend/bytes.js';
import { encodePoints } from '../codec.js';
import { Fn, invertPublic, modN } from '../scalar.js';
import type { Transcript } from '../transcript.js';
import { innerProduct, powers } from './vectors.js';

export interface InnerProductProof {
  /** L_j and R_j of each round, 33-byte encodings, in round order. */
  readonly L: Uint8Array[];
  readonly R: Uint8Array[];
  readonly a: bigint;
  readonly b: bigint;
}

/**
 * Proves ⟨a, b⟩ for P = ⟨a, G⟩ + ⟨b, H'⟩ + ⟨a, b⟩·Q with H'ᵢ = y^−i·Hᵢ, appending
 * each round's L, R to `t`. G, H are packed affine (N points each).
 *
 * The generators are never multiplied by the per-element factors. The prover
 * keeps the current vectors as σ_G·P_G and σ_H·y^−i·P_H: folding then needs one
 * uniform multiplication per output point (P_lo + k·P_hi, with k = u² for G and
 * u⁻²·y^−n for H) and only updates the scalars σ.
 *
 * Timing: L and R are variable-time MSMs, like the generator folding. Their
 * scalars come from l(x), r(x) and public challenges only, and l(x), r(x) are
 * what the linear-size range proof of §4.2 sends in the clear while remaining
 * perfectly honest-verifier zero-knowledge (Theorem 3): a timing leak of them
 * reveals nothing a simulator could not produce. The secrets proper (bits,
 * s_L, s_R, α, ρ, τ) stay on constant-time paths in range.ts.
 */
export function proveInnerProduct(
  t: Transcript,
  Q: Uint8Array,
  G: Uint8Array,
  H: Uint8Array,
  a: readonly bigint[],
  b: readonly bigint[],
  y = 1n,
): InnerProductProof {
  const g = getGroup();
  let n = a.length;
  let av = a.slice();
  let bv = b.slice();
  let PG = G;
  let PH = H;
  let sigmaG = 1n;
  let sigmaH = 1n;
  const [yInv] = invertPublic([y]) as [bigint];
  const yInvPow = powers(yInv, n);
  const Ls: Uint8Array[] = [];
  const Rs: Uint8Array[] = [];
  while (n > 1) {
    n >>= 1;
    const half = AFFINE_BYTES * n;
    const [aLo, aHi] = [av.slice(0, n), av.slice(n)];
    const [bLo, bHi] = [bv.slice(0, n), bv.slice(n)];
    const [GLo, GHi] = [PG.subarray(0, half), PG.subarray(half)];
    const [HLo, HHi] = [PH.subarray(0, half), PH.subarray(half)];
    const cL = innerProduct(aLo, bHi);
    const cR = innerProduct(aHi, bLo);
    // Current H'[i] = σ_H·y^−i·P_H[i] for i < 2n.
    const L = g.msm({
      points: concatBytes(GHi, HLo, Q),
      scalars: scalarsToBytes([
        ...aLo.map((x) => Fn.mul(x, sigmaG)),
        ...bHi.map((x, i) => modN(x * sigmaH * yInvPow[i]!)),
        cL,
      ]),
    });
    const R = g.msm({
      points: concatBytes(GLo, HHi, Q),
      scalars: scalarsToBytes([
        ...aHi.map((x) => Fn.mul(x, sigmaG)),
        ...bLo.map((x, i) => modN(x * sigmaH * yInvPow[n + i]!)),
        cR,
      ]),
    });
    const LR = encodePoints(concatBytes(L, R), 'L, R');
    const [L33, R33] = [LR.slice(0, 33), LR.slice(33)];
    t.appendMessage('L', L33);
    t.appendMessage('R', R33);
    Ls.push(L33);
    Rs.push(R33);
    const u = t.challengeScalar('u');
    const [uInv] = invertPublic([u]) as [bigint];
    av = aLo.map((x, i) => modN(x * u + aHi[i]! * uInv));
    bv = bLo.map((x, i) => modN(x * uInv + bHi[i]! * u));
    if (n > 1) {
      // G ← u⁻¹·G_lo + u·G_hi = σ_G·u⁻¹·(P_lo + u²·P_hi)
      // H ← u·H_lo + u⁻¹·H_hi = σ_H·u·y^−i·(P_lo + u⁻²·y^−n·P_hi)
      const kG = Fn.sqr(u);
      const kH = Fn.mul(Fn.sqr(uInv), yInvPow[n]!);
      const scaled = g.mulVartime(concatBytes(GHi, HHi), scalarsToBytes([...Array<bigint>(n).fill(kG), ...Array<bigint>(n).fill(kH)]));
      const folded = g.add(concatBytes(GLo, HLo), scaled);
      PG = folded.subarray(0, half);
      PH = folded.subarray(half);
      sigmaG = Fn.mul(sigmaG, uInv);
      sigmaH = Fn.mul(sigmaH, u);
    }
  }
  return { L: Ls, R: Rs, a: av[0]!, b: bv[0]! };
}

/** The verifier's replay of the rounds: appends each L_j, R_j to `t` and returns the challenges u_j. */
export function roundChallenges(t: Transcript, L: readonly Uint8Array[], R: readonly Uint8Array[]): bigint[] {
  const u: bigint[] = [];
  for (let j = 0; j < L.length; j++) {
    t.appendMessage('L', L[j]!);
    t.appendMessage('R', R[j]!);
    u.push(t.challengeScalar('u'));
  }
  return u;
}
