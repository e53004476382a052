/**
 * Bulletproofs range proofs (Bünz et al. 2018, §4.1–4.3 and §6.2): aggregated
 * proofs that m committed values each lie in [0, 2^n), and two-sided bounds
 * [min, max] built on them. Math notes: docs/notes-rangeproof.md.
 *
 * Commitments are Pedersen commitments V = v·G + γ·H (pedersen.ts); the vector
 * generators Gᵢ, Hᵢ come from generators.ts. Verification is a single MSM (the
 * inner-product argument folded in through the s-vector), and any number of
 * proofs batch into one MSM with random weights (MsmAccumulator).
 *
 * Encoding (all points 33-byte compressed, scalars 32-byte canonical non-zero):
 *   A ‖ S ‖ T1 ‖ T2 ‖ τx ‖ μ ‖ t̂ ‖ (L_j ‖ R_j for j < log₂(n·m)) ‖ a ‖ b
 * = 33·(4 + 2·log₂(n·m)) + 32·5 bytes (688 for one 64-bit value).
 * @module
 */
import { ZkmeterError } from '../../errors.js';
import { getGroup } from '../../backend/index.js';
import { AFFINE_BYTES, CURVE_ORDER, abytes, concatBytes, equalBytes, scalarToBytes, scalarsToBytes } from '../../backend/bytes.js';
import { POINT_LENGTH, SCALAR_LENGTH, decodePoints, decodeScalar, encodePoints } from '../codec.js';
import { GENERATOR_DST, generatorG, pedersenH, vectorGenerators } from '../generators.js';
import { MsmAccumulator, verifyChecks, type BatchResult, type PreparedChecks } from '../msm-accumulator.js';
import { batchWeights, cryptoRandom, randomScalar, randomScalars, type RandomSource } from '../random.js';
import { Fn, invertPublic, modN } from '../scalar.js';
import { Transcript } from '../transcript.js';
import { proveInnerProduct, roundChallenges } from './ipp.js';
import { innerProduct, powers } from './vectors.js';

/** Transcript label; a new version of the protocol gets a new label. */
export const RANGE_PROOF_LABEL = 'zkmeter/rangeproof v1';
/** Supported bit lengths n. */
export const RANGE_BITS = [8, 16, 32, 64] as const;
export type RangeBits = (typeof RANGE_BITS)[number];
/** Largest aggregation m (after padding to a power of two). */
export const MAX_AGGREGATION = 256;

/**
 * What a range proof claims about commitments V_0 … V_(K−1):
 *  - without `bounds`: each committed value lies in [0, 2^bits);
 *  - with `bounds` {min, max} (max − min < 2^bits): each lies in [min, max],
 *    proved as v − min ∈ [0, 2^bits) and max − v ∈ [0, 2^bits), on the
 *    commitments V − min·G and max·G − V that the verifier derives itself.
 * The sub-values (K, or 2K with bounds) are padded to a power of two m with
 * commitments to 0 under blinding 0, i.e. the identity point, which is neither
 * sent nor hashed: the transcript binds K and m instead.
 */
export interface RangeStatement {
  /** The commitments, 64-byte affine points. */
  readonly commitments: readonly Uint8Array[];
  readonly bits: RangeBits;
  readonly bounds?: { readonly min: bigint; readonly max: bigint };
}

export interface RangeWitness {
  readonly values: readonly bigint[];
  readonly blindings: readonly bigint[];
}

/** One item of a batch verification. */
export interface RangeItem {
  readonly statement: RangeStatement;
  readonly proof: Uint8Array;
  readonly context: Uint8Array;
}

/** Exact byte length of a proof for `subValues` sub-values of `bits` bits. */
export function rangeProofLength(bits: RangeBits, subValues: number): number {
  const k = Math.log2(bits * paddedCount(subValues));
  return POINT_LENGTH * (4 + 2 * k) + SCALAR_LENGTH * 5;
}

function paddedCount(count: number): number {
  let m = 1;
  while (m < count) m *= 2;
  return m;
}

interface Shape {
  bits: RangeBits;
  /** Number of commitments K. */
  count: number;
  /** Sub-values: K, or 2K with bounds. */
  sub: number;
  /** Padded aggregation m (power of two). */
  m: number;
  /** n·m. */
  N: number;
  bounds: { min: bigint; max: bigint } | undefined;
}

/** Validates a statement and derives its shape. */
function shapeOf(st: RangeStatement): Shape {
  if (typeof st !== 'object' || st === null || !Array.isArray(st.commitments)) {
    throw new ZkmeterError('INVALID_ARGUMENT', '"statement" expected {commitments, bits, bounds?}');
  }
  if (!RANGE_BITS.includes(st.bits)) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"bits" expected one of ${RANGE_BITS.join(', ')}, got ${String(st.bits)}`);
  }
  const count = st.commitments.length;
  st.commitments.forEach((c, i) => abytes(c, `commitments[${i}]`, AFFINE_BYTES));
  let bounds: Shape['bounds'];
  if (st.bounds !== undefined) {
    const { min, max } = st.bounds;
    if (typeof min !== 'bigint' || typeof max !== 'bigint' || min < 0n || max < min || max >= CURVE_ORDER) {
      throw new ZkmeterError('INVALID_ARGUMENT', '"bounds" expected bigints 0 <= min <= max < n');
    }
    if (max - min >= 1n << BigInt(st.bits)) {
      throw new ZkmeterError('INVALID_ARGUMENT', `"bounds" expected max − min < 2^${st.bits}, got ${max - min}`);
    }
    bounds = { min, max };
  }
  const sub = bounds ? 2 * count : count;
  if (count < 1 || sub > MAX_AGGREGATION) {
    throw new ZkmeterError(
      'INVALID_ARGUMENT',
      `"commitments" expected 1 to ${bounds ? MAX_AGGREGATION / 2 : MAX_AGGREGATION} commitments, got ${count}`,
    );
  }
  const m = paddedCount(sub);
  return { bits: st.bits, count, sub, m, N: st.bits * m, bounds };
}

const DST_BYTES = new TextEncoder().encode(GENERATOR_DST);

/**
 * Transcript states after the statement's fixed part (label, generators, n, m,
 * K, bounds), by shape: a batch of same-shaped proofs hashes it once.
 */
const prefixes = new Map<string, Transcript>();

/** The transcript after the complete statement: label, generators, shape, bounds, commitments, context. */
function statementTranscript(shape: Shape, V33: Uint8Array, context: Uint8Array): Transcript {
  const key = `${shape.bits}/${shape.m}/${shape.count}/${shape.bounds ? `${shape.bounds.min}-${shape.bounds.max}` : '-'}`;
  let prefix = prefixes.get(key);
  if (prefix === undefined) {
    prefix = new Transcript(RANGE_PROOF_LABEL);
    prefix.appendMessage('dst', DST_BYTES);
    prefix.appendMessage('H', encodePoints(pedersenH(), 'H'));
    prefix.appendU64('n', shape.bits);
    prefix.appendU64('m', shape.m);
    prefix.appendU64('count', shape.count);
    prefix.appendU64('bounded', shape.bounds ? 1 : 0);
    prefix.appendScalar('min', shape.bounds?.min ?? 0n);
    prefix.appendScalar('max', shape.bounds?.max ?? 0n);
    if (prefixes.size >= 64) prefixes.delete(prefixes.keys().next().value!);
    prefixes.set(key, prefix);
  }
  const t = prefix.clone();
  t.appendMessage('V', V33);
  t.appendMessage('context', context);
  return t;
}

/**
 * z-weights of the sub-value commitments: sub-value j carries z^(2+j). Returns
 * each commitment's coefficient and the G coefficient that bounds contribute.
 */
function commitmentWeights(shape: Shape, zp: readonly bigint[]): { perCommitment: bigint[]; g: bigint } {
  const perCommitment: bigint[] = [];
  let g = 0n;
  for (let k = 0; k < shape.count; k++) {
    if (!shape.bounds) {
      perCommitment.push(zp[2 + k]!);
    } else {
      // sub-value 2k is V − min·G, sub-value 2k+1 is max·G − V
      const lo = zp[2 + 2 * k]!;
      const hi = zp[3 + 2 * k]!;
      perCommitment.push(lo - hi);
      g += hi * shape.bounds.max - lo * shape.bounds.min;
    }
  }
  return { perCommitment, g };
}

/**
 * δ(y, z) = (z − z²)·⟨1, y^N⟩ − Σ_{j<m} z^(3+j)·⟨1, 2^n⟩ (§4.3), with
 * ⟨1, y^N⟩ = Π_{j<log₂N} (1 + y^(2^j)) since N is a power of two.
 */
function delta(shape: Shape, y: bigint, zp: readonly bigint[]): bigint {
  let sumY = 1n;
  for (let yp = y, len = 1; len < shape.N; len *= 2, yp = Fn.sqr(yp)) sumY = Fn.mul(sumY, 1n + yp);
  const sum2 = (1n << BigInt(shape.bits)) - 1n;
  let sumZ = 0n;
  for (let j = 0; j < shape.m; j++) sumZ += zp[3 + j]!;
  return modN((zp[1]! - zp[2]!) * sumY - sumZ * sum2);
}

/**
 * Proves that the committed values satisfy the statement. The statement's
 * commitments must be v·G + γ·H for the witness; values outside the range are
 * refused with VALUE_OUT_OF_RANGE (no proof is made). Every point computed from
 * the witness or the nonces (the opening check, A, S, T1, T2) comes from one
 * constant-time call on the native backend (`msmConst`, `selectSum`), never from
 * a variable-time `add` or `mul`; nonces come from `rng` (the CSPRNG by
 * default). Returns the encoded proof.
 */
export function proveRange(
  statement: RangeStatement,
  witness: RangeWitness,
  context: Uint8Array,
  rng: RandomSource = cryptoRandom,
): Uint8Array {
  const shape = shapeOf(statement);
  abytes(context, 'context');
  const { values, blindings } = witness ?? ({} as RangeWitness);
  if (!Array.isArray(values) || !Array.isArray(blindings) || values.length !== shape.count || blindings.length !== shape.count) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"witness" expected ${shape.count} values and ${shape.count} blindings`);
  }
  const limit = 1n << BigInt(shape.bits);
  // Sub-values and their blindings.
  const sv: bigint[] = [];
  const sg: bigint[] = [];
  values.forEach((v, k) => {
    const gamma = blindings[k]!;
    if (typeof gamma !== 'bigint' || gamma < 0n || gamma >= CURVE_ORDER) {
      throw new ZkmeterError('INVALID_SCALAR', `"blindings[${k}]" expected a scalar 0 <= x < n`);
    }
    if (typeof v !== 'bigint') throw new ZkmeterError('INVALID_ARGUMENT', `"values[${k}]" expected a bigint`);
    if (shape.bounds) {
      if (v < shape.bounds.min || v > shape.bounds.max) {
        throw new ZkmeterError('VALUE_OUT_OF_RANGE', `"values[${k}]" is outside [${shape.bounds.min}, ${shape.bounds.max}]`);
      }
      sv.push(v - shape.bounds.min, shape.bounds.max - v);
      sg.push(gamma, modN(-gamma));
    } else {
      if (v < 0n || v >= limit) throw new ZkmeterError('VALUE_OUT_OF_RANGE', `"values[${k}]" is outside [0, 2^${shape.bits})`);
      sv.push(v);
      sg.push(gamma);
    }
  });
  while (sv.length < shape.m) {
    sv.push(0n);
    sg.push(0n);
  }
  const g = getGroup();
  const { N, bits: n } = shape;
  const Hb = pedersenH();
  // G and the Pedersen H: the public points of every secret-scalar msmConst below.
  const GHb = concatBytes(generatorG(), Hb);
  // Refuse a witness that does not open the commitments: the proof would be invalid. Checked
  // with one constant-time MSM on the witness: for public random weights w_k (127 bits),
  // Σ w_k·V_k = (Σ w_k·v_k)·G + (Σ w_k·γ_k)·H holds for a wrong opening with probability
  // below 2^−126. The left side is public (variable-time msm). Only when the check fails is
  // each commitment re-opened (still constant time) to name the first one that does not open.
  const weights = batchWeights(shape.count);
  let wv = 0n;
  let wg = 0n;
  for (let k = 0; k < shape.count; k++) {
    wv = modN(wv + weights[k]! * values[k]!);
    wg = modN(wg + weights[k]! * blindings[k]!);
  }
  const weighted = g.msm({ points: concatBytes(...statement.commitments), scalars: scalarsToBytes(weights) });
  if (!equalBytes(weighted, g.msmConst(GHb, scalarsToBytes([wv, wg])))) {
    const k = statement.commitments.findIndex((V, k) => !equalBytes(V, g.msmConst(GHb, scalarsToBytes([values[k]!, blindings[k]!]))));
    throw new ZkmeterError('INVALID_ARGUMENT', `"witness" does not open commitments[${Math.max(k, 0)}]`);
  }
  const V33 = encodePoints(concatBytes(...statement.commitments), 'commitments');
  const t = statementTranscript(shape, V33, context);
  const { G, H } = vectorGenerators(N);

  // Bit vectors a_L ∈ {0,1}^N and a_R = a_L − 1.
  const aL: bigint[] = [];
  for (const v of sv) for (let i = 0; i < n; i++) aL.push((v >> BigInt(i)) & 1n);
  const aR = aL.map((b) => modN(b - 1n));
  const alpha = randomScalar(rng);
  const rho = randomScalar(rng);
  const sL = randomScalars(N, rng);
  const sR = randomScalars(N, rng);
  // A = α·H + ⟨a_L, G⟩ + ⟨a_R, H⟩ = α·H + Σ (bitᵢ ? Gᵢ : −Hᵢ): one constant-time call (a
  // selection and sum, no multiplications, plus the α·H term; the bits and α never meet a
  // variable-time operation). S = ρ·H + ⟨s_L, G⟩ + ⟨s_R, H⟩: one constant-time MSM.
  const A = g.selectSum(G, g.negate(H), Uint8Array.from(aL, Number), { points: Hb, scalars: scalarToBytes(alpha) });
  const S = g.msmConst(concatBytes(Hb, G, H), scalarsToBytes([rho, ...sL, ...sR]));
  const AS = encodePoints(concatBytes(A, S), 'A, S');
  const [A33, S33] = [AS.slice(0, 33), AS.slice(33)];
  t.appendMessage('A', A33);
  t.appendMessage('S', S33);
  const y = t.challengeScalar('y');
  const z = t.challengeScalar('z');

  // l(X) = (a_L − z) + s_L·X,  r(X) = y^N ∘ (a_R + z + s_R·X) + z²·(z^j·2^i)
  const yN = powers(y, N);
  const zp = powers(z, shape.m + 2);
  const twoN = powers(2n, n);
  const l0 = aL.map((a) => modN(a - z));
  const r0 = aR.map((a, i) => modN(yN[i]! * (a + z) + zp[2 + Math.floor(i / n)]! * twoN[i % n]!));
  const r1 = sR.map((s, i) => Fn.mul(yN[i]!, s));
  const t1 = modN(innerProduct(l0, r1) + innerProduct(sL, r0));
  const t2 = innerProduct(sL, r1);
  const tau1 = randomScalar(rng);
  const tau2 = randomScalar(rng);
  // T_i = t_i·G + τ_i·H: constant time in t_i (which depend on the bits) and τ_i.
  const T1 = g.msmConst(GHb, scalarsToBytes([t1, tau1]));
  const T2 = g.msmConst(GHb, scalarsToBytes([t2, tau2]));
  const T = encodePoints(concatBytes(T1, T2), 'T');
  t.appendMessage('T1', T.subarray(0, POINT_LENGTH));
  t.appendMessage('T2', T.subarray(POINT_LENGTH));
  const x = t.challengeScalar('x');

  const l = l0.map((v, i) => modN(v + sL[i]! * x));
  const r = r0.map((v, i) => modN(v + r1[i]! * x));
  const tHat = innerProduct(l, r);
  let taux = modN(tau2 * x * x + tau1 * x);
  for (let j = 0; j < shape.m; j++) taux = modN(taux + zp[2 + j]! * sg[j]!);
  const mu = modN(alpha + rho * x);
  t.appendScalar('taux', taux);
  t.appendScalar('mu', mu);
  t.appendScalar('that', tHat);
  const w = t.challengeScalar('w');

  // Inner-product argument on H'ᵢ = y^−i·Hᵢ and Q = w·G.
  const Q = g.mulGen(scalarToBytes(w));
  const ipp = proveInnerProduct(t, Q, G, H, l, r, y);

  const parts: Uint8Array[] = [A33, S33, T, scalarsToBytes([taux, mu, tHat])];
  for (let j = 0; j < ipp.L.length; j++) parts.push(ipp.L[j]!, ipp.R[j]!);
  parts.push(scalarsToBytes([ipp.a, ipp.b]));
  return concatBytes(...parts);
}

interface DecodedRange {
  points: Uint8Array; // A, S, T1, T2, L_0, R_0, …  (affine)
  points33: Uint8Array;
  taux: bigint;
  mu: bigint;
  tHat: bigint;
  a: bigint;
  b: bigint;
  k: number;
}

function decodeRangeProof(shape: Shape, proof: Uint8Array): DecodedRange {
  const k = Math.log2(shape.N);
  const expected = POINT_LENGTH * (4 + 2 * k) + SCALAR_LENGTH * 5;
  abytes(proof, 'rangeProof', expected);
  const head = 4 * POINT_LENGTH;
  const scalarsAt = head;
  const lrAt = scalarsAt + 3 * SCALAR_LENGTH;
  const tailAt = lrAt + 2 * k * POINT_LENGTH;
  const points33 = concatBytes(proof.subarray(0, head), proof.subarray(lrAt, tailAt));
  const points = decodePoints(points33, 4 + 2 * k, 'rangeProof.points');
  const sc = (off: number, name: string) => decodeScalar(proof.subarray(off, off + SCALAR_LENGTH), `rangeProof.${name}`, true);
  return {
    points,
    points33,
    taux: sc(scalarsAt, 'taux'),
    mu: sc(scalarsAt + 32, 'mu'),
    tHat: sc(scalarsAt + 64, 'that'),
    a: sc(tailAt, 'a'),
    b: sc(tailAt + 32, 'b'),
    k,
  };
}

/** A range proof's Fiat–Shamir challenges (Bünz et al. 2018, §4.1–4.2 and §6.2). */
export interface Challenges {
  y: bigint;
  z: bigint;
  x: bigint;
  w: bigint;
  u: bigint[];
}

/** Replays the transcript of a decoded proof: all the Fiat–Shamir challenges. */
function challengesOf(shape: Shape, V33: Uint8Array, context: Uint8Array, d: DecodedRange): Challenges {
  const t = statementTranscript(shape, V33, context);
  const p33 = d.points33;
  t.appendMessage('A', p33.subarray(0, 33));
  t.appendMessage('S', p33.subarray(33, 66));
  const y = t.challengeScalar('y');
  const z = t.challengeScalar('z');
  t.appendMessage('T1', p33.subarray(66, 99));
  t.appendMessage('T2', p33.subarray(99, 132));
  const x = t.challengeScalar('x');
  t.appendScalar('taux', d.taux);
  t.appendScalar('mu', d.mu);
  t.appendScalar('that', d.tHat);
  const w = t.challengeScalar('w');
  const L: Uint8Array[] = [];
  const R: Uint8Array[] = [];
  for (let j = 0; j < d.k; j++) {
    L.push(p33.subarray(132 + 66 * j, 165 + 66 * j));
    R.push(p33.subarray(165 + 66 * j, 198 + 66 * j));
  }
  return { y, z, x, w, u: roundChallenges(t, L, R) };
}

/**
 * Adds one proof's verification equation, scaled by ρ, to `acc`:
 *   ρ·[ A + x·S + Σ u_j²·L_j + Σ u_j⁻²·R_j − Σ (z + a·sᵢ)·Gᵢ
 *       + Σ (z + y^−i·(z^(2+⌊i/n⌋)·2^(i mod n) − b·sᵢ⁻¹))·Hᵢ
 *       + w·(t̂ − a·b)·G − μ·H
 *       + c·(Σ z^(2+j)·V_j + δ(y,z)·G + x·T1 + x²·T2 − t̂·G − τx·H) ] = O
 * The first line is the inner-product check on P − μ·H + t̂·Q; the c-line is the
 * polynomial check t̂ = t(x), merged with a random c (§4.2, §6.2).
 * `yInv` and `uInv` are the inverses of y and the u_j (batch-inverted by the caller).
 */
function accumulate(
  acc: MsmAccumulator,
  p: PreparedRange,
  yInv: bigint,
  uInv: readonly bigint[],
  rho: bigint,
  c: bigint,
): void {
  const { shape, decoded: d } = p;
  const { y, z, x, w, u } = p.challenges;
  const k = d.k;
  const nOrd = CURVE_ORDER;
  const uSq = u.map((v) => (v * v) % nOrd);
  const uInvSq = uInv.map((v) => (v * v) % nOrd);
  // Per-generator coefficients as scaled tensor products over the k rounds (round j owns
  // bit k−1−j of the index), accumulated by the backend (see docs/notes-rangeproof.md):
  //   Gᵢ: −ρz − ρa·sᵢ,                    sᵢ = Π_j (u_j⁻¹ | u_j)
  //   Hᵢ:  ρz − ρb·tᵢ + ρz²·mᵢ,            tᵢ = y^−i·sᵢ⁻¹ = Π_j (u_j | u_j⁻¹·y^−2^(k−1−j)),
  //                                        mᵢ = y^−i·2^(i mod n)·z^⌊i/n⌋ = Π_j (1 | f_(k−1−j))
  // with f_p = (2/y)^(2^p) for the low log₂n bits and (z/yⁿ)^(2^(p−log₂n)) above them.
  const logN = Math.log2(shape.bits);
  const yInvSq: bigint[] = [yInv]; // y^−(2^p)
  for (let q = 1; q < k; q++) yInvSq.push((yInvSq[q - 1]! * yInvSq[q - 1]!) % nOrd);
  const f: bigint[] = [];
  let low = (2n * yInv) % nOrd;
  let high = (z * ((yInvSq[logN - 1]! * yInvSq[logN - 1]!) % nOrd)) % nOrd; // z·y^−n
  for (let q = 0; q < k; q++) {
    if (q < logN) {
      f.push(low);
      low = (low * low) % nOrd;
    } else {
      f.push(high);
      high = (high * high) % nOrd;
    }
  }
  const sPairs = u.map((uj, j) => [uInv[j]!, uj] as const);
  const tPairs = u.map((uj, j) => [uj, (uInv[j]! * yInvSq[k - 1 - j]!) % nOrd] as const);
  const mPairs = u.map((_, j) => [1n, f[k - 1 - j]!] as const);
  const rz = (rho * z) % nOrd;
  acc.addVectorTensor('G', sPairs, modN(-rho * d.a), modN(-rz));
  acc.addVectorTensor('H', tPairs, modN(-rho * d.b), rz);
  acc.addVectorTensor('H', mPairs, (rz * z) % nOrd);
  const P = d.points;
  const pt = (i: number) => P.subarray(AFFINE_BYTES * i, AFFINE_BYTES * (i + 1));
  const rc = Fn.mul(rho, c);
  acc.addPoint(pt(0), rho); // A: a half-length coefficient when ρ is a batch weight
  acc.addPoint(pt(1), rho * x); // S
  acc.addPoint(pt(2), rc * x); // T1
  acc.addPoint(pt(3), rc * Fn.sqr(x)); // T2
  for (let j = 0; j < k; j++) {
    acc.addPoint(pt(4 + 2 * j), rho * uSq[j]!);
    acc.addPoint(pt(5 + 2 * j), rho * uInvSq[j]!);
  }
  const zp = powers(z, shape.m + 3); // z^0 … z^(m+2): δ and the commitment weights share them
  const cw = commitmentWeights(shape, zp);
  p.item.statement.commitments.forEach((V, k) => acc.addPoint(V, rc * cw.perCommitment[k]!));
  acc.addG(rho * (w * (d.tHat - d.a * d.b)) + rc * (delta(shape, y, zp) - d.tHat + cw.g));
  acc.addH(-rho * d.mu - rc * d.taux);
}

/**
 * The Fiat–Shamir challenges (y, z, x, w, u_j) a verifier derives for `proof` under
 * `statement` and `context`: for analysis tools and soundness tests (bench/soundness.ts),
 * not needed to prove or verify. Throws a ZkmeterError for a malformed proof or statement.
 */
export function rangeChallenges(statement: RangeStatement, proof: Uint8Array, context: Uint8Array): Challenges {
  const shape = shapeOf(statement);
  abytes(context, 'context');
  return replay(shape, { statement, proof, context }).challenges;
}

/** Decodes an item's proof and replays its transcript under the item's statement and context. */
function replay(shape: Shape, item: RangeItem): { decoded: DecodedRange; challenges: Challenges } {
  const decoded = decodeRangeProof(shape, abytes(item.proof, 'rangeProof'));
  const V33 = encodePoints(concatBytes(...item.statement.commitments), 'commitments');
  return { decoded, challenges: challengesOf(shape, V33, item.context, decoded) };
}

/**
 * Verifies one range proof: one MSM. Returns false if it does not verify;
 * throws a ZkmeterError for a malformed proof or statement.
 */
export function verifyRange(statement: RangeStatement, proof: Uint8Array, context: Uint8Array): boolean {
  return batchVerifyRange([{ statement, proof, context }]).valid;
}

interface PreparedRange {
  index: number;
  shape: Shape;
  item: RangeItem;
  decoded: DecodedRange;
  challenges: Challenges;
  /** Inverses of y and of each u_j, filled by one batched inversion for the whole batch. */
  yInv: bigint;
  uInv: bigint[];
}

/**
 * Verifies many range proofs, of any mix of bit lengths and aggregation sizes,
 * in one MSM with 127-bit CSPRNG weights; a failing batch is bisected to name
 * every bad item. Malformed items are reported as invalid, not thrown (unless
 * the batch has a single item).
 */
export function batchVerifyRange(items: readonly RangeItem[]): BatchResult {
  return verifyChecks(prepareRangeChecks(items, items.length === 1));
}

/**
 * Decodes the proofs, replays their transcripts and batch-inverts their
 * challenges, for `findInvalid` (alone, or with other proof types in one MSM).
 * Malformed items are listed as invalid; with `strict`, the first one throws.
 */
export function prepareRangeChecks(items: readonly RangeItem[], strict = false): PreparedChecks {
  if (!Array.isArray(items)) throw new ZkmeterError('INVALID_ARGUMENT', '"items" expected an array');
  const invalid: number[] = [];
  const prepared: PreparedRange[] = [];
  items.forEach((item, index) => {
    if (typeof item !== 'object' || item === null) {
      throw new ZkmeterError('INVALID_ARGUMENT', `"items[${index}]" expected {statement, proof, context}`);
    }
    const shape = shapeOf(item.statement);
    abytes(item.context, 'context');
    try {
      const { decoded, challenges } = replay(shape, item);
      prepared.push({ index, shape, item, decoded, challenges, yInv: 0n, uInv: [] });
    } catch (e) {
      if (strict) throw e;
      invalid.push(index);
    }
  });
  // One inversion for every y and u_j of the batch (Montgomery's trick in the backend).
  const inverses = invertPublic(prepared.flatMap((p) => [p.challenges.y, ...p.challenges.u]));
  let at = 0;
  for (const p of prepared) {
    p.yInv = inverses[at++]!;
    p.uInv = inverses.slice(at, at + p.challenges.u.length);
    at += p.challenges.u.length;
  }
  // A lone proof needs no ρ (1); its c is still random.
  const checks = prepared.map((p) => ({
    index: p.index,
    add: (acc: MsmAccumulator, a: bigint, b: bigint, alone: boolean) => accumulate(acc, p, p.yInv, p.uInv, alone ? 1n : a, b),
  }));
  return { invalid, checks };
}

