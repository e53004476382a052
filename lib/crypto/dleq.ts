/**
 * DLEQ: the Chaum–Pedersen proof (Chaum, Pedersen 1992, "Wallet databases with
 * observers", §3.2) that two points share one discrete logarithm:
 *     A = x·P   and   B = x·Q   for the same secret x.
 * zkmeter uses it for decryption: with P = G, A = Y (a public key or a key
 * share's verifying key), Q = C1 and B = x·C1, it proves that B is the correct
 * decryption share of a ciphertext without revealing x.
 *
 * Protocol (Fiat–Shamir):
 *   prover    k ← Z_n;  R1 = k·P;  R2 = k·Q
 *   e = H(transcript: label, P, A, Q, B, context, R1, R2)
 *   prover    z = k + e·x
 *   verifier  R1 = z·P − e·A,  R2 = z·Q − e·B,  then recompute e and compare.
 * The whole statement (P, A, Q, B) and the caller's context are hashed before
 * the challenge (no "Frozen Heart").
 *
 * Nonce (RFC 6979's idea, in BIP340's tagged-hash form): k is derived, not drawn,
 *   k = int( taggedHash(NONCE_TAG, x ‖ aux ‖ 0x00 ‖ P‖A‖Q‖B ‖ context)
 *          ‖ taggedHash(NONCE_TAG, x ‖ aux ‖ 0x01 ‖ P‖A‖Q‖B ‖ context) ) mod n
 * (64 bytes reduced: bias below 2^−256), aux being 32 bytes from the caller's
 * `rng` when one is given (hedged) and 32 zero bytes otherwise. Zero knowledge
 * needs k unpredictable and never reused for two challenges: with SHA-256
 * keyed by the secret x as a PRF, k is pseudorandom, and two proofs share a k
 * only for the same statement and context, which have the same challenge and
 * hence the same proof. So without `rng` a decryption share is a function of
 * its inputs: the same request answers byte-identical shares, across restarts.
 *
 * Encoding (64 bytes): e (32) ‖ z (32), both canonical; e non-zero.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { getGroup } from '../backend/index.js';
import { AFFINE_BYTES, CURVE_ORDER, abytes, bytesToBigint, concatBytes, equalBytes, scalarToBytes, scalarsToBytes } from '../backend/bytes.js';
import { POINT_LENGTH, SCALAR_LENGTH, decodeScalar, encodePoints } from './codec.js';
import type { RandomSource } from './random.js';
import { taggedHash } from './schnorr.js';
import { modN } from './scalar.js';
import { Transcript } from './transcript.js';

/** Transcript label; a new version of the protocol gets a new label. */
export const DLEQ_LABEL = 'zkmeter/dleq v1';
/** Tag of the nonce derivation (module comment). */
const NONCE_TAG = 'zkmeter/dleq-nonce v1';
/** Encoded proof length in bytes. */
export const DLEQ_LENGTH = 2 * SCALAR_LENGTH;

/** The statement A = x·P, B = x·Q: four 64-byte affine points, none at infinity. */
export interface DleqStatement {
  readonly P: Uint8Array;
  readonly A: Uint8Array;
  readonly Q: Uint8Array;
  readonly B: Uint8Array;
}

function packStatement(st: DleqStatement): Uint8Array {
  if (typeof st !== 'object' || st === null) throw new ZkmeterError('INVALID_ARGUMENT', '"statement" expected {P, A, Q, B}');
  return concatBytes(
    abytes(st.P, 'statement.P', AFFINE_BYTES),
    abytes(st.A, 'statement.A', AFFINE_BYTES),
    abytes(st.Q, 'statement.Q', AFFINE_BYTES),
    abytes(st.B, 'statement.B', AFFINE_BYTES),
  );
}

/** e from the encoded statement (4 × 33 bytes), context and R1, R2 (2 × 33 bytes). */
function challenge(st33: Uint8Array, context: Uint8Array, R33: Uint8Array): bigint {
  const t = new Transcript(DLEQ_LABEL);
  t.appendMessages([
    ['P', st33.subarray(0, POINT_LENGTH)],
    ['A', st33.subarray(POINT_LENGTH, 2 * POINT_LENGTH)],
    ['Q', st33.subarray(2 * POINT_LENGTH, 3 * POINT_LENGTH)],
    ['B', st33.subarray(3 * POINT_LENGTH)],
    ['context', context],
    ['R1', R33.subarray(0, POINT_LENGTH)],
    ['R2', R33.subarray(POINT_LENGTH)],
  ]);
  return t.challengeScalar('e');
}

/** The derived nonce (module comment); never 0 (a counter byte pair is tried again on the 2^−256 chance). */
function dleqNonce(x: bigint, aux: Uint8Array, statement33: Uint8Array, context: Uint8Array): bigint {
  const xb = scalarToBytes(x);
  try {
    for (let ctr = 0; ; ctr += 2) {
      const wide = concatBytes(taggedHash(NONCE_TAG, xb, aux, Uint8Array.of(ctr), statement33, context), taggedHash(NONCE_TAG, xb, aux, Uint8Array.of(ctr + 1), statement33, context));
      const k = bytesToBigint(wide) % CURVE_ORDER;
      wide.fill(0);
      if (k !== 0n) return k;
    }
  } finally {
    xb.fill(0);
  }
}

/**
 * Proves A = x·P and B = x·Q. The statement must hold (checked: a false
 * statement is refused with INVALID_ARGUMENT, not turned into a bad proof).
 * The nonce is derived from x, the statement and the context, hedged with 32
 * bytes of `rng` when one is given (module comment): without it, the proof is
 * a function of its inputs. Multiplications by x and the nonce are constant
 * time on the native backend.
 */
export function proveDleq(statement: DleqStatement, x: bigint, context: Uint8Array, rng?: RandomSource): Uint8Array {
  const packed = packStatement(statement);
  abytes(context, 'context');
  if (typeof x !== 'bigint' || x <= 0n || x >= CURVE_ORDER) throw new ZkmeterError('INVALID_SCALAR', '"x" expected a scalar 0 < x < n');
  const g = getGroup();
  const PQ = concatBytes(statement.P, statement.Q);
  const xs = g.mul(PQ, scalarsToBytes([x, x]));
  if (!equalBytes(xs, concatBytes(statement.A, statement.B))) {
    throw new ZkmeterError('INVALID_ARGUMENT', '"statement" does not hold for x: A ≠ x·P or B ≠ x·Q');
  }
  const statement33 = encodePoints(packed, 'statement');
  const k = dleqNonce(x, rng === undefined ? new Uint8Array(32) : abytes(rng(32), 'rng output', 32), statement33, context);
  const R33 = encodePoints(g.mul(PQ, scalarsToBytes([k, k])), 'R');
  const e = challenge(statement33, context, R33);
  return scalarsToBytes([e, modN(k + e * x)]);
}

/**
 * Verifies a DLEQ proof. Returns false if it does not verify; throws a
 * ZkmeterError for a malformed statement (bad point, infinity) or a proof of
 * the wrong length or with non-canonical scalars.
 */
export function verifyDleq(statement: DleqStatement, proof: Uint8Array, context: Uint8Array): boolean {
  const packed = packStatement(statement);
  abytes(context, 'context');
  abytes(proof, 'proof', DLEQ_LENGTH);
  const e = decodeScalar(proof.subarray(0, SCALAR_LENGTH), 'proof.e', true);
  const z = decodeScalar(proof.subarray(SCALAR_LENGTH), 'proof.z');
  const st33 = encodePoints(packed, 'statement'); // also rejects infinity in the statement
  const g = getGroup();
  const minusE = scalarToBytes(CURVE_ORDER - e);
  const zB = scalarToBytes(z);
  const R1 = g.msm({ points: concatBytes(statement.P, statement.A), scalars: concatBytes(zB, minusE) });
  const R2 = g.msm({ points: concatBytes(statement.Q, statement.B), scalars: concatBytes(zB, minusE) });
  // An honest R is never infinity (k ≠ 0 except with negligible probability), and infinity has no encoding.
  if (R1.every((b) => b === 0) || R2.every((b) => b === 0)) return false;
  return challenge(st33, context, encodePoints(concatBytes(R1, R2), 'R')) === e;
}
