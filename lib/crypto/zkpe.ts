/**
 * ZKPe v2: the zero-knowledge proof of equivalence between EC ElGamal
 * ciphertexts (C1, C2) under Y and Pedersen commitments V — that each pair holds
 * the same value m, and that the ciphertext decrypts to m·G. Math, the
 * knowledge-soundness argument and the flaw of v1: docs/notes-zkpe.md.
 *
 * Relation (per pair). The prover knows (m, r, s) with
 *     C1 = r·G,    C2 = m·G + r·Y,    V = m·G + s·H.
 * Three linear equations in three unknowns over public bases: a conjunction of
 * representation proofs (Schnorr 1991; Chaum–Pedersen 1992; Cramer–Damgård–
 * Schoenmakers 1994 for conjunctions; Camenisch–Stadler 1997 for the notation).
 * v1 proved only (r, s) with C1 = r·G and C2 − V = r·Y − s·H, which leaves C2's
 * G-part free: a meter could add δ·H to C2 and prove with s − δ.
 *
 * Protocol (Fiat–Shamir), for K ≥ 1 pairs with weights w_j = ω^j (w = [1] for K = 1):
 *   transcript  label, DST, H, Y, K, every (C1_j, C2_j, V_j), context  → ω
 *   prover      k_m, k_r, k_s ← Z_n;  A1 = k_r·G;  A2 = k_m·G + k_r·Y;  A3 = k_m·G + k_s·H
 *   transcript  A1, A2, A3 → e
 *   prover      z_m = k_m + e·m*;  z_r = k_r + e·r*;  z_s = k_s + e·s*   (x* = Σ w_j·x_j)
 *   verifier    z_r·G         = A1 + e·Σ w_j·C1_j
 *               z_m·G + z_r·Y = A2 + e·Σ w_j·C2_j
 *               z_m·G + z_s·H = A3 + e·Σ w_j·V_j
 *
 * Encoding (195 bytes, single and aggregated alike):
 *   A1 (33) ‖ A2 (33) ‖ A3 (33) ‖ z_m (32) ‖ z_r (32) ‖ z_s (32),
 * points SEC1-compressed, scalars canonical big-endian. We send the commitments
 * A rather than the challenge, so the three equations are linear in public
 * points and fold, with random weights, into one MSM with any other proofs.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { getGroup } from '../backend/index.js';
import { AFFINE_BYTES, CURVE_ORDER, abytes, concatBytes, equalBytes, scalarToBytes, scalarsToBytes } from '../backend/bytes.js';
import { POINT_LENGTH, SCALAR_LENGTH, decodePoints, decodeScalar, encodePoints } from './codec.js';
import type { Ciphertext } from './elgamal.js';
import { GENERATOR_DST, generatorG, pedersenH } from './generators.js';
import { verifyChecks, type BatchResult, type MsmAccumulator, type PreparedCheck, type PreparedChecks } from './msm-accumulator.js';
import { cryptoRandom, randomScalar, type RandomSource } from './random.js';
import { Transcript } from './transcript.js';
import { modN } from './scalar.js';

export type { BatchResult };

/** Transcript label of the single-pair proof; a new version of the protocol gets a new label. */
export const ZKPE_LABEL = 'zkmeter/zkpe v2';
/** Transcript label of the aggregated proof. */
export const ZKPE_AGGREGATE_LABEL = 'zkmeter/zkpe-aggregate v2';
/** Encoded proof length in bytes, single and aggregated. */
export const ZKPE_LENGTH = 3 * POINT_LENGTH + 3 * SCALAR_LENGTH;
/** Most pairs in one aggregated proof. */
export const MAX_AGGREGATE_PAIRS = 4096;

/** The public statement of the single proof: all points 64-byte affine. */
export interface EquivalenceStatement {
  /** The utility's ElGamal public key Y. */
  readonly publicKey: Uint8Array;
  /** (C1, C2) = (r·G, m·G + r·Y). */
  readonly ciphertext: Ciphertext;
  /** V = m·G + s·H. */
  readonly commitment: Uint8Array;
}

/** The prover's secrets: the value m, the encryption randomness r and the commitment blinding s. */
export interface EquivalenceWitness {
  readonly m: bigint;
  readonly r: bigint;
  readonly s: bigint;
}

/** One item of a batch verification. */
export interface EquivalenceItem {
  readonly statement: EquivalenceStatement;
  readonly proof: Uint8Array;
  readonly context: Uint8Array;
}

/** K ≥ 1 ciphertexts and the commitments that must hold the same values, pair by pair. */
export interface AggregateEquivalenceStatement {
  readonly publicKey: Uint8Array;
  readonly ciphertexts: readonly Ciphertext[];
  readonly commitments: readonly Uint8Array[];
}

/** The aggregated proof's secrets, one entry per pair. */
export interface AggregateEquivalenceWitness {
  readonly m: readonly bigint[];
  readonly r: readonly bigint[];
  readonly s: readonly bigint[];
}

export interface AggregateEquivalenceItem {
  readonly statement: AggregateEquivalenceStatement;
  readonly proof: Uint8Array;
  readonly context: Uint8Array;
}

/** Which of the two proofs: they differ only in their transcript label. */
type Form = typeof ZKPE_LABEL | typeof ZKPE_AGGREGATE_LABEL;

/**
 * A statement as the verifier uses it: Y and, per pair, the caller's own point
 * objects (so that a V_j a range proof in the same MSM also adds merges into one
 * term: MsmAccumulator merges by object).
 */
interface Pairs {
  readonly Y: Uint8Array;
  readonly c1: readonly Uint8Array[];
  readonly c2: readonly Uint8Array[];
  readonly v: readonly Uint8Array[];
}

function singlePairs(st: EquivalenceStatement): Pairs {
  if (typeof st !== 'object' || st === null || typeof st.ciphertext !== 'object' || st.ciphertext === null) {
    throw new ZkmeterError('INVALID_ARGUMENT', '"statement" expected {publicKey, ciphertext, commitment}');
  }
  return {
    Y: abytes(st.publicKey, 'statement.publicKey', AFFINE_BYTES),
    c1: [abytes(st.ciphertext.c1, 'statement.ciphertext.c1', AFFINE_BYTES)],
    c2: [abytes(st.ciphertext.c2, 'statement.ciphertext.c2', AFFINE_BYTES)],
    v: [abytes(st.commitment, 'statement.commitment', AFFINE_BYTES)],
  };
}

function aggregatePairs(st: AggregateEquivalenceStatement): Pairs {
  if (typeof st !== 'object' || st === null || !Array.isArray(st.ciphertexts) || !Array.isArray(st.commitments)) {
    throw new ZkmeterError('INVALID_ARGUMENT', '"statement" expected {publicKey, ciphertexts, commitments}');
  }
  const K = st.ciphertexts.length;
  if (K < 1 || K > MAX_AGGREGATE_PAIRS || st.commitments.length !== K) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"statement" expected 1 to ${MAX_AGGREGATE_PAIRS} ciphertexts and as many commitments, got ${K} and ${st.commitments.length}`);
  }
  const c1: Uint8Array[] = [];
  const c2: Uint8Array[] = [];
  const v: Uint8Array[] = [];
  for (let j = 0; j < K; j++) {
    const ct = st.ciphertexts[j];
    if (typeof ct !== 'object' || ct === null) throw new ZkmeterError('INVALID_ARGUMENT', `"statement.ciphertexts[${j}]" expected {c1, c2}`);
    c1.push(abytes(ct.c1, `statement.ciphertexts[${j}].c1`, AFFINE_BYTES));
    c2.push(abytes(ct.c2, `statement.ciphertexts[${j}].c2`, AFFINE_BYTES));
    v.push(abytes(st.commitments[j]!, `statement.commitments[${j}]`, AFFINE_BYTES));
  }
  return { Y: abytes(st.publicKey, 'statement.publicKey', AFFINE_BYTES), c1, c2, v };
}

/** Y ‖ (C1_j ‖ C2_j ‖ V_j)_j, packed affine: what the transcript absorbs, once compressed. */
function packStatement(p: Pairs): Uint8Array {
  const K = p.c1.length;
  const out = new Uint8Array(AFFINE_BYTES * (1 + 3 * K));
  out.set(p.Y);
  for (let j = 0; j < K; j++) {
    out.set(p.c1[j]!, AFFINE_BYTES * (1 + 3 * j));
    out.set(p.c2[j]!, AFFINE_BYTES * (2 + 3 * j));
    out.set(p.v[j]!, AFFINE_BYTES * (3 + 3 * j));
  }
  return out;
}

const DST_BYTES = new TextEncoder().encode(GENERATOR_DST);
let h33: Uint8Array | undefined;
function generatorH33(): Uint8Array {
  h33 ??= encodePoints(pedersenH(), 'H');
  return h33;
}

/**
 * The transcript state after (label, DST, H, Y) for the last (label, Y) seen: a
 * batch usually shares one key, so this prefix is hashed once, not per proof.
 */
let lastPrefix: { form: Form; Y33: Uint8Array; transcript: Transcript } | undefined;
function transcriptPrefix(form: Form, Y33: Uint8Array): Transcript {
  if (lastPrefix === undefined || lastPrefix.form !== form || !equalBytes(lastPrefix.Y33, Y33)) {
    const t = new Transcript(form);
    t.appendMessage('dst', DST_BYTES);
    t.appendMessage('H', generatorH33());
    t.appendMessage('Y', Y33);
    lastPrefix = { form, Y33: Y33.slice(), transcript: t };
  }
  return lastPrefix.transcript.clone();
}

/**
 * The transcript after the whole statement and the context, and the pair
 * weights w_j = ω^j: fixed by the hashed statement before the prover's
 * commitments exist (the soundness argument needs exactly that order).
 */
function statementTranscript(form: Form, st33: Uint8Array, K: number, context: Uint8Array): { t: Transcript; w: bigint[] } {
  const t = transcriptPrefix(form, st33.subarray(0, POINT_LENGTH));
  t.appendU64('K', K);
  t.appendMessage('pairs', st33.subarray(POINT_LENGTH));
  t.appendMessage('context', context);
  const omega = t.challengeScalar('omega');
  const w: bigint[] = [1n];
  for (let j = 1; j < K; j++) w.push((w[j - 1]! * omega) % CURVE_ORDER);
  return { t, w };
}

/** The challenge e after the prover's commitments A1, A2, A3 (99 wire bytes). */
function commitmentChallenge(t: Transcript, A33: Uint8Array): bigint {
  t.appendMessages([
    ['A1', A33.subarray(0, POINT_LENGTH)],
    ['A2', A33.subarray(POINT_LENGTH, 2 * POINT_LENGTH)],
    ['A3', A33.subarray(2 * POINT_LENGTH)],
  ]);
  return t.challengeScalar('e');
}

function ascalars(values: unknown, K: number, title: string): readonly bigint[] {
  if (!Array.isArray(values) || values.length !== K) throw new ZkmeterError('INVALID_ARGUMENT', `"witness.${title}" expected ${K} scalars`);
  values.forEach((v, j) => {
    if (typeof v !== 'bigint' || v < 0n || v >= CURVE_ORDER) {
      throw new ZkmeterError('INVALID_SCALAR', `"witness.${title}${K === 1 ? '' : `[${j}]`}" expected a scalar 0 <= x < n`);
    }
  });
  return values as bigint[];
}

/**
 * The prover, both forms. The nonces and the weighted witness are secret; the
 * points A are made by the constant-time kernels (mulGen and msmConst, constant
 * time in the scalars) over the public bases G, Y and H. The scalar arithmetic
 * below is bigint arithmetic, which is not constant time (docs/notes-zkpe.md).
 */
function prove(form: Form, pairs: Pairs, witness: { m: readonly bigint[]; r: readonly bigint[]; s: readonly bigint[] }, context: Uint8Array, rng: RandomSource): Uint8Array {
  abytes(context, 'context');
  const K = pairs.c1.length;
  const g = getGroup();
  const st33 = encodePoints(packStatement(pairs), 'statement');
  const { t, w } = statementTranscript(form, st33, K, context);
  let m = 0n;
  let r = 0n;
  let s = 0n;
  for (let j = 0; j < K; j++) {
    m += w[j]! * witness.m[j]!;
    r += w[j]! * witness.r[j]!;
    s += w[j]! * witness.s[j]!;
  }
  const km = randomScalar(rng);
  const kr = randomScalar(rng);
  const ks = randomScalar(rng);
  const G = generatorG();
  const A = concatBytes(
    g.mulGen(scalarToBytes(kr)),
    g.msmConst(concatBytes(G, pairs.Y), scalarsToBytes([km, kr])),
    g.msmConst(concatBytes(G, pedersenH()), scalarsToBytes([km, ks])),
  );
  const A33 = encodePoints(A, 'A');
  const e = commitmentChallenge(t, A33);
  return concatBytes(A33, scalarsToBytes([modN(km + e * m), modN(kr + e * r), modN(ks + e * s)]));
}

/**
 * Proves that `statement.ciphertext` and `statement.commitment` hold the same
 * value m, given (m, r, s). Returns the 195-byte proof.
 */
export function proveEquivalence(
  statement: EquivalenceStatement,
  witness: EquivalenceWitness,
  context: Uint8Array,
  rng: RandomSource = cryptoRandom,
): Uint8Array {
  const pairs = singlePairs(statement);
  const one = (k: 'm' | 'r' | 's') => ascalars([witness?.[k]], 1, k);
  return prove(ZKPE_LABEL, pairs, { m: one('m'), r: one('r'), s: one('s') }, context, rng);
}

/**
 * Proves that ciphertexts[j] and commitments[j] hold the same value m_j for
 * every j, given each (m_j, r_j, s_j). Returns 195 bytes, whatever K.
 */
export function proveAggregateEquivalence(
  statement: AggregateEquivalenceStatement,
  witness: AggregateEquivalenceWitness,
  context: Uint8Array,
  rng: RandomSource = cryptoRandom,
): Uint8Array {
  const pairs = aggregatePairs(statement);
  const K = pairs.c1.length;
  if (typeof witness !== 'object' || witness === null) throw new ZkmeterError('INVALID_ARGUMENT', `"witness" expected {m, r, s}, ${K} scalars each`);
  return prove(ZKPE_AGGREGATE_LABEL, pairs, { m: ascalars(witness.m, K, 'm'), r: ascalars(witness.r, K, 'r'), s: ascalars(witness.s, K, 's') }, context, rng);
}

/** A decoded proof: A1 ‖ A2 ‖ A3 packed affine, their wire bytes, and the responses. */
interface DecodedProof {
  A: Uint8Array;
  A33: Uint8Array;
  zm: bigint;
  zr: bigint;
  zs: bigint;
}

/** Strictly decodes a proof (exact length, points on the curve, canonical scalars); throws a ZkmeterError. */
function decodeProof(proof: Uint8Array, decodedA?: Uint8Array): DecodedProof {
  abytes(proof, 'proof', ZKPE_LENGTH);
  const A33 = proof.subarray(0, 3 * POINT_LENGTH);
  const z = (i: number, title: string) => decodeScalar(proof.subarray(3 * POINT_LENGTH + SCALAR_LENGTH * i, 3 * POINT_LENGTH + SCALAR_LENGTH * (i + 1)), title);
  return {
    // A batch passes A1, A2, A3 already decompressed (one backend call for all proofs).
    A: decodedA ?? decodePoints(A33, 3, 'proof.A'),
    A33,
    zm: z(0, 'proof.z_m'),
    zr: z(1, 'proof.z_r'),
    zs: z(2, 'proof.z_s'),
  };
}

/**
 * Adds one proof's three equations to `acc`, with independent 127-bit CSPRNG
 * batch weights a, b and c, one per equation:
 *   a·(A1 + e·ΣwC1 − z_r·G) + b·(A2 + e·ΣwC2 − z_m·G − z_r·Y) + c·(A3 + e·ΣwV − z_m·G − z_s·H) = O.
 * The signs put the positive coefficients on the per-proof points: A1, A2, A3
 * carry the bare half-length weights, which libsecp256k1's MSM processes fastest.
 */
function accumulate(acc: MsmAccumulator, pairs: Pairs, proof: DecodedProof, e: bigint, w: readonly bigint[], a: bigint, b: bigint, c: bigint): void {
  acc.addG(-(a * proof.zr) - (b + c) * proof.zm);
  acc.addH(-c * proof.zs);
  acc.addPoint(pairs.Y, -b * proof.zr, true); // usually shared by the batch
  acc.addPoint(proof.A.subarray(0, AFFINE_BYTES), a);
  acc.addPoint(proof.A.subarray(AFFINE_BYTES, 2 * AFFINE_BYTES), b);
  acc.addPoint(proof.A.subarray(2 * AFFINE_BYTES), c);
  const ae = (a * e) % CURVE_ORDER;
  const be = (b * e) % CURVE_ORDER;
  const ce = (c * e) % CURVE_ORDER;
  for (let j = 0; j < pairs.c1.length; j++) {
    acc.addPoint(pairs.c1[j]!, ae * w[j]!);
    acc.addPoint(pairs.c2[j]!, be * w[j]!);
    acc.addPoint(pairs.v[j]!, ce * w[j]!);
  }
}

/**
 * Decodes proofs and replays their transcripts, for both forms: one backend call
 * decompresses every proof's A points and one compresses every statement; if
 * either fails, items are decoded one by one so that only the bad ones are
 * reported. Malformed items are listed as invalid; with `strict`, the first
 * throws instead.
 */
function prepare(form: Form, items: readonly { index: number; pairs: Pairs; proof: Uint8Array; context: Uint8Array }[], strict: boolean): PreparedChecks {
  const invalid: number[] = [];
  const sized: typeof items[number][] = [];
  items.forEach((item) => {
    if (item.proof.length === ZKPE_LENGTH) sized.push(item);
    else if (strict) decodeProof(item.proof); // throws the precise length error
    else invalid.push(item.index);
  });
  const batchTry = <T>(f: () => T): T | null => {
    try {
      return f();
    } catch (e) {
      if (strict) throw e; // a lone malformed proof is the caller's error to see
      return null;
    }
  };
  const allA = batchTry(() => decodePoints(concatBytes(...sized.map((c) => c.proof.subarray(0, 3 * POINT_LENGTH))), 3 * sized.length, 'proof.A'));
  const packed = sized.map((c) => packStatement(c.pairs));
  const allSt33 = batchTry(() => encodePoints(concatBytes(...packed), 'statement'));
  const checks: PreparedCheck[] = [];
  let stAt = 0;
  sized.forEach((c, i) => {
    const st33Len = (packed[i]!.length / AFFINE_BYTES) * POINT_LENGTH;
    const from = stAt;
    stAt += st33Len;
    let proof: DecodedProof;
    let e: bigint;
    let w: bigint[];
    try {
      proof = decodeProof(c.proof, allA?.subarray(3 * AFFINE_BYTES * i, 3 * AFFINE_BYTES * (i + 1)));
      const st33 = allSt33 !== null ? allSt33.subarray(from, from + st33Len) : encodePoints(packed[i]!, 'statement');
      const replay = statementTranscript(form, st33, c.pairs.c1.length, c.context);
      e = commitmentChallenge(replay.t, proof.A33);
      w = replay.w;
    } catch (err) {
      if (strict) throw err;
      invalid.push(c.index);
      return;
    }
    checks.push({ index: c.index, add: (acc, a, b, _alone, cw) => accumulate(acc, c.pairs, proof, e, w, a, b, cw) });
  });
  return { invalid, checks };
}

/**
 * Validates each item's statement, proof and context for `prepare`: with `strict`
 * the first bad one throws; otherwise it is listed invalid (a non-object item is
 * the caller's error either way).
 */
function prepareItems<T extends { readonly proof: Uint8Array; readonly context: Uint8Array }>(
  form: Form,
  items: readonly T[],
  pairsOf: (item: T) => Pairs,
  strict: boolean,
): PreparedChecks {
  if (!Array.isArray(items)) throw new ZkmeterError('INVALID_ARGUMENT', '"items" expected an array');
  const invalid: number[] = [];
  const ready: { index: number; pairs: Pairs; proof: Uint8Array; context: Uint8Array }[] = [];
  items.forEach((item, index) => {
    if (typeof item !== 'object' || item === null) throw new ZkmeterError('INVALID_ARGUMENT', `"items[${index}]" expected {statement, proof, context}`);
    try {
      ready.push({ index, pairs: pairsOf(item), proof: abytes(item.proof, 'proof'), context: abytes(item.context, 'context') });
    } catch (e) {
      if (strict || !(e instanceof ZkmeterError)) throw e;
      invalid.push(index);
    }
  });
  const prepared = prepare(form, ready, strict);
  return { invalid: [...invalid, ...prepared.invalid], checks: prepared.checks };
}

/**
 * Decodes single proofs and replays their transcripts, for `findInvalid` (alone,
 * or with other proof types in one MSM). Malformed items are listed as invalid;
 * with `strict`, the first malformed item throws instead.
 */
export function prepareEquivalenceChecks(items: readonly EquivalenceItem[], strict = false): PreparedChecks {
  return prepareItems(ZKPE_LABEL, items, (item) => singlePairs(item.statement), strict);
}

/** Aggregated proofs decoded and replayed, for `findInvalid` (with any other checks in one MSM). */
export function prepareAggregateEquivalenceChecks(items: readonly AggregateEquivalenceItem[], strict = false): PreparedChecks {
  return prepareItems(ZKPE_AGGREGATE_LABEL, items, (item) => aggregatePairs(item.statement), strict);
}

/**
 * Verifies one proof. Returns false if it does not verify; throws a ZkmeterError
 * if the proof or statement is malformed (wrong length, a point off the curve or
 * at infinity, a scalar ≥ n).
 */
export function verifyEquivalence(statement: EquivalenceStatement, proof: Uint8Array, context: Uint8Array): boolean {
  return verifyChecks(prepareEquivalenceChecks([{ statement, proof, context }], true)).valid;
}

/** Verifies one aggregated proof: false if it does not verify; a ZkmeterError if malformed. */
export function verifyAggregateEquivalence(statement: AggregateEquivalenceStatement, proof: Uint8Array, context: Uint8Array): boolean {
  return verifyChecks(prepareAggregateEquivalenceChecks([{ statement, proof, context }], true)).valid;
}

/**
 * Verifies many single proofs with one MSM, bisecting on failure to find every
 * bad item. Malformed items are reported as invalid, not thrown.
 */
export function batchVerifyEquivalence(items: readonly EquivalenceItem[]): BatchResult {
  return verifyChecks(prepareEquivalenceChecks(items));
}
