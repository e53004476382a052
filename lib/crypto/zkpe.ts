/**
 * ZKPe: the zero-knowledge proof of equivalence between an EC ElGamal
 * ciphertext (C1, C2) under Y and a Pedersen commitment V — that both hold the
 * same m. Math and soundness argument: docs/notes-zkpe.md.
 *
 * Relation. The prover knows (r, s) with
 *     C1 = r·G   and   C2 − V = r·Y − s·H.
 * If C2 = m·G + r·Y (m is whatever C2 decrypts to), the second equation says
 * exactly V = m·G + s·H: the commitment opens to the same m. m cancels, so it
 * need not be a witness: a Chaum–Pedersen-style Sigma protocol (Schnorr 1991;
 * Chaum–Pedersen 1992; Cramer–Damgård–Schoenmakers 1994 for conjunctions) over
 * two linear equations in (r, s) suffices. Knowledge of m itself follows from
 * the range proof, a proof of knowledge of V's opening.
 *
 * Protocol (Fiat–Shamir):
 *   prover   k_r, k_s ← Z_n;  A1 = k_r·G;  A2 = k_r·Y − k_s·H
 *   e = H(transcript: label, DST, G, H, Y, C1, C2, V, context, A1, A2)
 *   prover   z_r = k_r + e·r;  z_s = k_s + e·s
 *   verifier z_r·G = A1 + e·C1   and   z_r·Y − z_s·H = A2 + e·(C2 − V)
 *
 * Encoding (130 bytes): A1 (33) ‖ A2 (33) ‖ z_r (32) ‖ z_s (32).
 * We send the commitments (A1, A2) rather than the challenge, so both
 * verification equations are linear in public points and fold, with random
 * weights, into one MSM together with any number of other proofs.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { getGroup } from '../backend/index.js';
import { AFFINE_BYTES, CURVE_ORDER, abytes, concatBytes, equalBytes, scalarToBytes, scalarsToBytes } from '../backend/bytes.js';
import { POINT_LENGTH, SCALAR_LENGTH, decodePoints, decodeScalar, encodePoints } from './codec.js';
import type { Ciphertext } from './elgamal.js';
import { GENERATOR_DST, pedersenH } from './generators.js';
import { MsmAccumulator, verifyChecks, type BatchResult, type PreparedChecks } from './msm-accumulator.js';

export type { BatchResult };
import { cryptoRandom, randomScalar, type RandomSource } from './random.js';
import { Transcript } from './transcript.js';
import { modN } from './scalar.js';

/** Transcript label; a new version of the protocol gets a new label. */
export const ZKPE_LABEL = 'zkmeter/zkpe v1';
/** Encoded proof length in bytes. */
export const ZKPE_LENGTH = 2 * POINT_LENGTH + 2 * SCALAR_LENGTH;

/** The public statement: all points 64-byte affine. */
export interface EquivalenceStatement {
  /** The utility's ElGamal public key Y. */
  readonly publicKey: Uint8Array;
  /** (C1, C2) = (r·G, m·G + r·Y). */
  readonly ciphertext: Ciphertext;
  /** V = m·G + s·H. */
  readonly commitment: Uint8Array;
}

/** The prover's secrets: the encryption randomness r and the commitment blinding s. */
export interface EquivalenceWitness {
  readonly r: bigint;
  readonly s: bigint;
}

/** One item of a batch verification. */
export interface EquivalenceItem {
  readonly statement: EquivalenceStatement;
  readonly proof: Uint8Array;
  readonly context: Uint8Array;
}

interface DecodedProof {
  A: Uint8Array; // A1 ‖ A2, packed affine
  A33: Uint8Array; // their wire bytes, for the transcript
  zr: bigint;
  zs: bigint;
}

function astatement(st: EquivalenceStatement): Uint8Array {
  if (typeof st !== 'object' || st === null || typeof st.ciphertext !== 'object' || st.ciphertext === null) {
    throw new ZkmeterError('INVALID_ARGUMENT', '"statement" expected {publicKey, ciphertext, commitment}');
  }
  return concatBytes(
    abytes(st.publicKey, 'statement.publicKey', AFFINE_BYTES),
    abytes(st.ciphertext.c1, 'statement.ciphertext.c1', AFFINE_BYTES),
    abytes(st.ciphertext.c2, 'statement.ciphertext.c2', AFFINE_BYTES),
    abytes(st.commitment, 'statement.commitment', AFFINE_BYTES),
  );
}

/** The challenge e, binding the generators, the whole statement, the context and A1, A2. */
const DST_BYTES = new TextEncoder().encode(GENERATOR_DST);

/**
 * The transcript state after (label, DST, H, Y) for the last public key seen: a
 * batch usually shares one Y, so this prefix is hashed once, not per proof.
 */
let lastPrefix: { Y33: Uint8Array; transcript: Transcript } | undefined;
function transcriptFor(Y33: Uint8Array): Transcript {
  if (lastPrefix === undefined || !equalBytes(lastPrefix.Y33, Y33)) {
    const t = new Transcript(ZKPE_LABEL);
    t.appendMessage('dst', DST_BYTES);
    t.appendMessage('H', generatorH33());
    t.appendMessage('Y', Y33);
    lastPrefix = { Y33: Y33.slice(), transcript: t };
  }
  return lastPrefix.transcript.clone();
}


function challenge(statement33: Uint8Array, context: Uint8Array, A33: Uint8Array): bigint {
  const t = transcriptFor(statement33.subarray(0, 33));
  t.appendMessages([
    ['C1', statement33.subarray(33, 66)],
    ['C2', statement33.subarray(66, 99)],
    ['V', statement33.subarray(99, 132)],
    ['context', context],
    ['A1', A33.subarray(0, 33)],
    ['A2', A33.subarray(33, 66)],
  ]);
  return t.challengeScalar('e');
}

let h33: Uint8Array | undefined;
function generatorH33(): Uint8Array {
  h33 ??= encodePoints(pedersenH(), 'H');
  return h33;
}

/**
 * Proves that `statement.ciphertext` and `statement.commitment` hold the same
 * value, given the encryption randomness r and the blinding s. Constant time in
 * r, s and the nonces on the native backend. Returns the 130-byte proof.
 */
export function proveEquivalence(
  statement: EquivalenceStatement,
  witness: EquivalenceWitness,
  context: Uint8Array,
  rng: RandomSource = cryptoRandom,
): Uint8Array {
  const packed = astatement(statement);
  abytes(context, 'context');
  for (const k of ['r', 's'] as const) {
    const v = witness?.[k];
    if (typeof v !== 'bigint' || v < 0n || v >= CURVE_ORDER) {
      throw new ZkmeterError('INVALID_SCALAR', `"witness.${k}" expected a scalar 0 <= x < n`);
    }
  }
  const g = getGroup();
  const kr = randomScalar(rng);
  const ks = randomScalar(rng);
  const A1 = g.mulGen(scalarToBytes(kr));
  const terms = g.mul(concatBytes(statement.publicKey, pedersenH()), scalarsToBytes([kr, CURVE_ORDER - ks]));
  const A2 = g.add(terms.subarray(0, AFFINE_BYTES), terms.subarray(AFFINE_BYTES));
  // One call encodes the statement and the nonce commitments for the transcript.
  const enc = encodePoints(concatBytes(packed, A1, A2), 'statement');
  const A33 = enc.subarray(4 * POINT_LENGTH);
  const e = challenge(enc.subarray(0, 4 * POINT_LENGTH), context, A33);
  const zr = modN(kr + e * witness.r);
  const zs = modN(ks + e * witness.s);
  return concatBytes(A33, scalarToBytes(zr), scalarToBytes(zs));
}

/** Strictly decodes a proof; throws a ZkmeterError for any malformed encoding. */
function decodeProof(proof: Uint8Array, decodedA?: Uint8Array): DecodedProof {
  abytes(proof, 'proof', ZKPE_LENGTH);
  const A33 = proof.subarray(0, 2 * POINT_LENGTH);
  return {
    // A batch passes A1, A2 already decompressed (one backend call for all proofs).
    A: decodedA ?? decodePoints(A33, 2, 'proof.A'),
    A33,
    zr: decodeScalar(proof.subarray(2 * POINT_LENGTH, 2 * POINT_LENGTH + SCALAR_LENGTH), 'proof.z_r'),
    zs: decodeScalar(proof.subarray(2 * POINT_LENGTH + SCALAR_LENGTH), 'proof.z_s'),
  };
}

/**
 * Adds the weighted verification equations of one proof to `acc`, with
 * D = C2 − V precomputed for the whole batch (one point fewer per proof):
 *   a·(A1 + e·C1 − z_r·G) + b·(A2 + e·D − z_r·Y + z_s·H) = 0.
 * The signs are arranged so the per-proof points get the positive coefficients:
 * A1 and A2 then carry the 127-bit weights themselves, which libsecp256k1's MSM
 * processes as half-length scalars (a negative weight n − a would be full length).
 */
function accumulate(acc: MsmAccumulator, p: Prepared, D: Uint8Array, a: bigint, b: bigint): void {
  const { packed, proof, e } = p;
  acc.addG(-a * proof.zr);
  acc.addH(b * proof.zs);
  acc.addPoint(packed.subarray(0, 64), -b * proof.zr, true); // Y, usually shared by the batch
  acc.addPoint(proof.A.subarray(0, 64), a);
  acc.addPoint(packed.subarray(64, 128), a * e); // C1
  acc.addPoint(proof.A.subarray(64, 128), b);
  acc.addPoint(D, b * e);
}

/**
 * Verifies one proof. Returns false if it does not verify; throws a
 * ZkmeterError if the proof or statement is malformed (wrong length, a point off
 * the curve, a scalar ≥ n).
 */
export function verifyEquivalence(statement: EquivalenceStatement, proof: Uint8Array, context: Uint8Array): boolean {
  return batchVerifyEquivalence([{ statement, proof, context }]).valid;
}

interface Prepared {
  index: number;
  packed: Uint8Array; // Y ‖ C1 ‖ C2 ‖ V, affine
  proof: DecodedProof;
  e: bigint;
  D?: Uint8Array; // C2 − V
}

/**
 * Verifies many proofs with one MSM: each item's two equations are weighted by
 * fresh 127-bit CSPRNG weights and summed. If the sum fails, bisection finds
 * every bad item. Malformed items are reported as invalid, not thrown.
 */
export function batchVerifyEquivalence(items: readonly EquivalenceItem[]): BatchResult {
  return verifyChecks(prepareEquivalenceChecks(items, items.length === 1));
}

/**
 * Decodes the proofs and replays their transcripts, for `findInvalid` (alone,
 * or together with other proof types in one MSM). Malformed items are listed as
 * invalid; with `strict`, the first malformed item throws instead.
 */
export function prepareEquivalenceChecks(items: readonly EquivalenceItem[], strict = false): PreparedChecks {
  if (!Array.isArray(items)) throw new ZkmeterError('INVALID_ARGUMENT', '"items" expected an array');
  const invalid: number[] = [];
  const candidates: { index: number; packed: Uint8Array; proof: Uint8Array }[] = [];
  items.forEach((item, index) => {
    if (typeof item !== 'object' || item === null) {
      throw new ZkmeterError('INVALID_ARGUMENT', `"items[${index}]" expected {statement, proof, context}`);
    }
    const packed = astatement(item.statement);
    abytes(item.context, 'context');
    if (abytes(item.proof, 'proof').length !== ZKPE_LENGTH) {
      if (strict) decodeProof(item.proof); // throws the precise length error
      invalid.push(index);
    } else candidates.push({ index, packed, proof: item.proof });
  });
  // Decompress every proof's A1, A2 in one backend call; if some point is bad,
  // decode item by item so that only those items are reported.
  let A: Uint8Array | null = null;
  try {
    A = decodePoints(concatBytes(...candidates.map((c) => c.proof.subarray(0, 2 * POINT_LENGTH))), 2 * candidates.length, 'proof.A');
  } catch (e) {
    if (strict) throw e; // a lone malformed proof is the caller's error to see
  }
  const prepared: Prepared[] = [];
  candidates.forEach((c, i) => {
    let proof: DecodedProof;
    try {
      proof = decodeProof(c.proof, A?.subarray(2 * AFFINE_BYTES * i, 2 * AFFINE_BYTES * (i + 1)));
    } catch (e) {
      if (strict) throw e;
      invalid.push(c.index);
      return;
    }
    prepared.push({ index: c.index, packed: c.packed, proof, e: 0n });
  });
  if (prepared.length > 0) {
    // Encode every statement in one backend call, for the transcripts. If some
    // statement holds the point at infinity (which has no encoding), fall back to
    // encoding item by item so that only those items are reported.
    let enc: Uint8Array | null = null;
    try {
      enc = encodePoints(concatBytes(...prepared.map((p) => p.packed)), 'statement');
    } catch (e) {
      if (strict) throw e;
    }
    const ready: Prepared[] = [];
    prepared.forEach((p, i) => {
      let st33: Uint8Array;
      if (enc !== null) st33 = enc.subarray(132 * i, 132 * i + 132);
      else {
        try {
          st33 = encodePoints(p.packed, 'statement');
        } catch {
          invalid.push(p.index);
          return;
        }
      }
      p.e = challenge(st33, items[p.index]!.context, p.proof.A33);
      ready.push(p);
    });
    attachDifferences(ready);
    return { invalid, checks: ready.map((p) => ({ index: p.index, add: (acc, a, b) => accumulate(acc, p, p.D!, a, b) })) };
  }
  return { invalid, checks: [] };
}

/** D = C2 − V for every item: two backend calls for the whole batch. */
function attachDifferences(group: Prepared[]): void {
  if (group.length === 0) return;
  const g = getGroup();
  const C2 = new Uint8Array(AFFINE_BYTES * group.length);
  const V = new Uint8Array(AFFINE_BYTES * group.length);
  group.forEach((p, i) => {
    C2.set(p.packed.subarray(128, 192), AFFINE_BYTES * i);
    V.set(p.packed.subarray(192, 256), AFFINE_BYTES * i);
  });
  const D = g.add(C2, g.negate(V));
  group.forEach((p, i) => {
    p.D = D.subarray(AFFINE_BYTES * i, AFFINE_BYTES * (i + 1));
  });
}

/*
 * ─── Aggregated proof of equivalence ──────────────────────────────────────────
 * One 130-byte proof for K (ciphertext, commitment) pairs under one key, as a
 * daily record needs (soundness argument: docs/notes-zkpe.md, "Aggregation").
 * The whole statement (Y, K, every C1_j, C2_j, V_j) and the context are hashed
 * first; a challenge ω gives weights w_j = ω^j, and the prover proves the
 * single-pair relation for the combination
 *     C1* = Σ w_j·C1_j,   D* = Σ w_j·(C2_j − V_j),   r* = Σ w_j·r_j,   s* = Σ w_j·s_j,
 * i.e. C1* = r*·G and D* = r*·Y − s*·H, with the same Sigma protocol as above.
 * The verifier never forms C1* or D*: the weighted points go straight into the
 * batch MSM, three per pair (C1_j, C2_j, V_j).
 */

/** Transcript label of the aggregated proof. */
export const ZKPE_AGGREGATE_LABEL = 'zkmeter/zkpe-aggregate v1';

/** K ≥ 1 ciphertexts and the commitments that must hold the same values, pair by pair. */
export interface AggregateEquivalenceStatement {
  readonly publicKey: Uint8Array;
  readonly ciphertexts: readonly Ciphertext[];
  readonly commitments: readonly Uint8Array[];
}

export interface AggregateEquivalenceItem {
  readonly statement: AggregateEquivalenceStatement;
  readonly proof: Uint8Array;
  readonly context: Uint8Array;
}

/** Most pairs in one aggregated proof. */
export const MAX_AGGREGATE_PAIRS = 4096;

/** Validates and packs the statement: Y ‖ (C1_j ‖ C2_j ‖ V_j)_j, affine. */
function aggregateStatement(st: AggregateEquivalenceStatement): Uint8Array {
  if (typeof st !== 'object' || st === null || !Array.isArray(st.ciphertexts) || !Array.isArray(st.commitments)) {
    throw new ZkmeterError('INVALID_ARGUMENT', '"statement" expected {publicKey, ciphertexts, commitments}');
  }
  const K = st.ciphertexts.length;
  if (K < 1 || K > MAX_AGGREGATE_PAIRS || st.commitments.length !== K) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"statement" expected 1 to ${MAX_AGGREGATE_PAIRS} ciphertexts and as many commitments, got ${K} and ${st.commitments.length}`);
  }
  const out = new Uint8Array(AFFINE_BYTES * (1 + 3 * K));
  out.set(abytes(st.publicKey, 'statement.publicKey', AFFINE_BYTES));
  for (let j = 0; j < K; j++) {
    const ct = st.ciphertexts[j]!;
    out.set(abytes(ct?.c1, `statement.ciphertexts[${j}].c1`, AFFINE_BYTES), AFFINE_BYTES * (1 + 3 * j));
    out.set(abytes(ct.c2, `statement.ciphertexts[${j}].c2`, AFFINE_BYTES), AFFINE_BYTES * (2 + 3 * j));
    out.set(abytes(st.commitments[j]!, `statement.commitments[${j}]`, AFFINE_BYTES), AFFINE_BYTES * (3 + 3 * j));
  }
  return out;
}

/** The transcript after the full statement and context, and the weights w_j = ω^j. */
function aggregateTranscript(st33: Uint8Array, K: number, context: Uint8Array): { t: Transcript; w: bigint[] } {
  const t = new Transcript(ZKPE_AGGREGATE_LABEL);
  t.appendMessage('dst', DST_BYTES);
  t.appendMessage('H', generatorH33());
  t.appendMessage('Y', st33.subarray(0, POINT_LENGTH));
  t.appendU64('K', K);
  t.appendMessage('pairs', st33.subarray(POINT_LENGTH));
  t.appendMessage('context', context);
  const omega = t.challengeScalar('omega');
  const w: bigint[] = [1n];
  for (let j = 1; j < K; j++) w.push((w[j - 1]! * omega) % CURVE_ORDER);
  return { t, w };
}

/**
 * Proves that ciphertexts[j] and commitments[j] hold the same value for every j,
 * given each encryption randomness r_j and blinding s_j. Returns 130 bytes.
 */
export function proveAggregateEquivalence(
  statement: AggregateEquivalenceStatement,
  witness: { readonly r: readonly bigint[]; readonly s: readonly bigint[] },
  context: Uint8Array,
  rng: RandomSource = cryptoRandom,
): Uint8Array {
  const packed = aggregateStatement(statement);
  abytes(context, 'context');
  const K = statement.ciphertexts.length;
  if (!Array.isArray(witness?.r) || !Array.isArray(witness?.s) || witness.r.length !== K || witness.s.length !== K) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"witness" expected ${K} values r and ${K} values s`);
  }
  for (const k of ['r', 's'] as const) {
    witness[k].forEach((v, j) => {
      if (typeof v !== 'bigint' || v < 0n || v >= CURVE_ORDER) throw new ZkmeterError('INVALID_SCALAR', `"witness.${k}[${j}]" expected a scalar 0 <= x < n`);
    });
  }
  const g = getGroup();
  const st33 = encodePoints(packed, 'statement');
  const { t, w } = aggregateTranscript(st33, K, context);
  let r = 0n;
  let s = 0n;
  for (let j = 0; j < K; j++) {
    r += w[j]! * witness.r[j]!;
    s += w[j]! * witness.s[j]!;
  }
  r = modN(r);
  s = modN(s);
  const kr = randomScalar(rng);
  const ks = randomScalar(rng);
  const A1 = g.mulGen(scalarToBytes(kr));
  const terms = g.mul(concatBytes(statement.publicKey, pedersenH()), scalarsToBytes([kr, CURVE_ORDER - ks]));
  const A2 = g.add(terms.subarray(0, AFFINE_BYTES), terms.subarray(AFFINE_BYTES));
  const A33 = encodePoints(concatBytes(A1, A2), 'A');
  t.appendMessage('A1', A33.subarray(0, POINT_LENGTH));
  t.appendMessage('A2', A33.subarray(POINT_LENGTH));
  const e = t.challengeScalar('e');
  return concatBytes(A33, scalarToBytes(modN(kr + e * r)), scalarToBytes(modN(ks + e * s)));
}

/** Verifies one aggregated proof: false if it does not verify; a ZkmeterError if malformed. */
export function verifyAggregateEquivalence(statement: AggregateEquivalenceStatement, proof: Uint8Array, context: Uint8Array): boolean {
  return verifyChecks(prepareAggregateEquivalenceChecks([{ statement, proof, context }], true)).valid;
}

/**
 * Decodes aggregated proofs and replays their transcripts, for `findInvalid`
 * (with any other checks in one MSM). Malformed items are listed as invalid;
 * with `strict`, the first one throws.
 */
export function prepareAggregateEquivalenceChecks(items: readonly AggregateEquivalenceItem[], strict = false): PreparedChecks {
  if (!Array.isArray(items)) throw new ZkmeterError('INVALID_ARGUMENT', '"items" expected an array');
  const invalid: number[] = [];
  const checks: PreparedChecks['checks'][number][] = [];
  items.forEach((item, index) => {
    if (typeof item !== 'object' || item === null) {
      throw new ZkmeterError('INVALID_ARGUMENT', `"items[${index}]" expected {statement, proof, context}`);
    }
    const packed = aggregateStatement(item.statement);
    abytes(item.context, 'context');
    const K = item.statement.ciphertexts.length;
    let proof: DecodedProof;
    let e: bigint;
    let w: bigint[];
    try {
      proof = decodeProof(abytes(item.proof, 'proof'));
      const st33 = encodePoints(packed, 'statement');
      const replay = aggregateTranscript(st33, K, item.context);
      replay.t.appendMessage('A1', proof.A33.subarray(0, POINT_LENGTH));
      replay.t.appendMessage('A2', proof.A33.subarray(POINT_LENGTH));
      e = replay.t.challengeScalar('e');
      w = replay.w;
    } catch (err) {
      if (strict) throw err;
      invalid.push(index);
      return;
    }
    checks.push({
      index,
      // a·(A1 + e·Σw_j·C1_j − z_r·G) + b·(A2 + e·Σw_j·(C2_j − V_j) − z_r·Y + z_s·H) = O
      add: (acc, a, b) => {
        acc.addG(-a * proof.zr);
        acc.addH(b * proof.zs);
        acc.addPoint(packed.subarray(0, AFFINE_BYTES), -b * proof.zr, true);
        acc.addPoint(proof.A.subarray(0, AFFINE_BYTES), a);
        acc.addPoint(proof.A.subarray(AFFINE_BYTES), b);
        const ae = (a * e) % CURVE_ORDER;
        const be = (b * e) % CURVE_ORDER;
        // The caller's own point objects: a V_j that a range proof in the same MSM also uses
        // then merges into one term (MsmAccumulator merges by object).
        const { ciphertexts, commitments } = item.statement;
        for (let j = 0; j < K; j++) {
          acc.addPoint(ciphertexts[j]!.c1, ae * w[j]!);
          acc.addPoint(ciphertexts[j]!.c2, be * w[j]!);
          acc.addPoint(commitments[j]!, -be * w[j]!);
        }
      },
    });
  });
  return { invalid, checks };
}
