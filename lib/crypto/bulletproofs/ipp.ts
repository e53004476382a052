/**
 * The inner-product argument of Bulletproofs (Bünz, Bootle, Boneh, Poelstra,
 * Wuille, Maxwell 2018, §3, Protocol 2, with the §4.2 base change H'ᵢ = y^−i·Hᵢ
 * done by the caller). Math notes: docs/notes-rangeproof.md.
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
 * k−1−j of i), which range.ts puts straight into the single verification MSM.
 * @module
 */
import { getGroup } from '../../backend/index.js';
import { AFFINE_BYTES, concatBytes, scalarsToBytes } from '../../backend/bytes.js';
import { encodePoints } from '../codec.js';
import { Fn, modN } from '../scalar.js';
import type { Transcript } from '../transcript.js';
import { innerProduct, sumPoints } from './vectors.js';

export interface InnerProductProof {
  /** L_j and R_j of each round, 33-byte encodings, in round order. */
  readonly L: Uint8Array[];
  readonly R: Uint8Array[];
  readonly a: bigint;
  readonly b: bigint;
}

/**
 * Proves ⟨a, b⟩ for P = ⟨a, G⟩ + ⟨b, H⟩ + ⟨a, b⟩·Q, appending each round's L, R
 * to `t`. G, H are packed affine (N points each). a and b are secret: L and R
 * use the backend's constant-time multiplication; folding the public
 * generators uses the variable-time one.
 */
export function proveInnerProduct(
  t: Transcript,
  Q: Uint8Array,
  G: Uint8Array,
  H: Uint8Array,
  a: readonly bigint[],
  b: readonly bigint[],
): InnerProductProof {
  const g = getGroup();
  let n = a.length;
  let av = a.slice();
  let bv = b.slice();
  let Gv = G;
  let Hv = H;
  const Ls: Uint8Array[] = [];
  const Rs: Uint8Array[] = [];
  while (n > 1) {
    n >>= 1;
    const half = AFFINE_BYTES * n;
    const [aLo, aHi] = [av.slice(0, n), av.slice(n)];
    const [bLo, bHi] = [bv.slice(0, n), bv.slice(n)];
    const [GLo, GHi] = [Gv.subarray(0, half), Gv.subarray(half)];
    const [HLo, HHi] = [Hv.subarray(0, half), Hv.subarray(half)];
    const cL = innerProduct(aLo, bHi);
    const cR = innerProduct(aHi, bLo);
    // All the products of L and R in one constant-time backend call, then sums.
    const products = g.mul(
      concatBytes(GHi, HLo, Q, GLo, HHi, Q),
      scalarsToBytes([...aLo, ...bHi, cL, ...aHi, ...bLo, cR]),
    );
    const L = sumPoints(products.subarray(0, (2 * n + 1) * AFFINE_BYTES));
    const R = sumPoints(products.subarray((2 * n + 1) * AFFINE_BYTES));
    const [L33, R33] = [encodePoints(L, 'L'), encodePoints(R, 'R')];
    t.appendMessage('L', L33);
    t.appendMessage('R', R33);
    Ls.push(L33);
    Rs.push(R33);
    const u = t.challengeScalar('u');
    const uInv = Fn.inv(u);
    av = aLo.map((x, i) => modN(x * u + aHi[i]! * uInv));
    bv = bLo.map((x, i) => modN(x * uInv + bHi[i]! * u));
    if (n > 1) {
      // Fold the public generators: one variable-time call per vector.
      const us = scalarsToBytes([...Array<bigint>(n).fill(uInv), ...Array<bigint>(n).fill(u)]);
      const Gs = g.mulVartime(Gv, us);
      Gv = g.add(Gs.subarray(0, half), Gs.subarray(half));
      const vs = scalarsToBytes([...Array<bigint>(n).fill(u), ...Array<bigint>(n).fill(uInv)]);
      const Hs = g.mulVartime(Hv, vs);
      Hv = g.add(Hs.subarray(0, half), Hs.subarray(half));
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

/**
 * sᵢ for i < 2^k from the round challenges and their inverses (inverted by the
 * caller, batched with everything else): s_0 = Π u_j⁻¹, and
 * sᵢ = s_(i − 2^b)·u_(k−1−b)² where b is i's top bit; sᵢ⁻¹ = s_(N−1−i).
 */
export function sVector(
  u: readonly bigint[],
  uInv: readonly bigint[],
): { uSq: bigint[]; uInvSq: bigint[]; s: bigint[]; sInv: bigint[] } {
  const k = u.length;
  const N = 1 << k;
  const uSq = u.map((x) => Fn.sqr(x));
  const uInvSq = uInv.map((x) => Fn.sqr(x));
  const s = new Array<bigint>(N);
  s[0] = uInv.reduce((acc, x) => Fn.mul(acc, x), 1n);
  for (let i = 1; i < N; i++) {
    const top = 31 - Math.clz32(i);
    s[i] = Fn.mul(s[i - (1 << top)]!, uSq[k - 1 - top]!);
  }
  // Flipping every bit of i flips every exponent.
  const sInv = s.map((_, i) => s[N - 1 - i]!);
  return { uSq, uInvSq, s, sInv };
}
