/**
 * EC ElGamal on secp256k1 with the message in the exponent ("lifted" ElGamal),
 * additively homomorphic (SPEC.md, "EC ElGamal"):
 *   keys       x ∈ [1, n−1], Y = x·G
 *   encrypt    C1 = r·G, C2 = m·G + r·Y, with fresh r ∈ [1, n−1]
 *   decrypt    M = C2 − x·C1 = m·G, then m by baby-step giant-step in [0, max]
 *   add        (C1 + C1', C2 + C2') encrypts m + m'
 *   scale      (k·C1, k·C2) encrypts k·m
 * Steps that touch x, r or m use the backend's constant-time operations (mulGen,
 * mul, msmConst). Decryption's last steps (C2 − x·C1 and the discrete log) are
 * variable time: their result is the plaintext the caller is about to publish
 * (a bill, a feeder total).
 *
 * In memory, points are 64-byte affine (backend/bytes.ts); the wire form of a
 * ciphertext is 66 bytes, C1 ‖ C2, compressed (SPEC.md).
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { getGroup } from '../backend/index.js';
import { AFFINE_BYTES, CURVE_ORDER, abytes, concatBytes, scalarToBytes, scalarsToBytes } from '../backend/bytes.js';
import { DEFAULT_TABLE_BITS, discreteLog } from './bsgs.js';
import { POINT_LENGTH, decodePoint, decodePoints, decodeScalar, encodePoints } from './codec.js';
import { generatorG } from './generators.js';
import { cryptoRandom, randomScalar, type RandomSource } from './random.js';
import { modN } from './scalar.js';

/** A ciphertext: two 64-byte affine points. */
export interface Ciphertext {
  readonly c1: Uint8Array;
  readonly c2: Uint8Array;
}

export interface KeyPair {
  /** x ∈ [1, n−1]. */
  readonly secretKey: bigint;
  /** Y = x·G, 64-byte affine. */
  readonly publicKey: Uint8Array;
}

/** Wire length of a ciphertext: C1 ‖ C2, 33 bytes each. */
export const CIPHERTEXT_LENGTH = 2 * POINT_LENGTH;
/** Default decryption bound (SPEC.md's CLI default): 2^32. */
export const DEFAULT_MAX = 2n ** 32n;

function aplaintext(m: bigint, title = 'value'): bigint {
  if (typeof m !== 'bigint' || m < 0n || m >= CURVE_ORDER) {
    throw new ZkmeterError('VALUE_OUT_OF_RANGE', `"${title}" expected an integer 0 <= m < n, got ${String(m)}`);
  }
  return m;
}

function asecret(x: bigint, title: string): bigint {
  if (typeof x !== 'bigint' || x <= 0n || x >= CURVE_ORDER) {
    throw new ZkmeterError('INVALID_SCALAR', `"${title}" expected a scalar 1 <= x < n`);
  }
  return x;
}

function aciphertext(ct: Ciphertext, title = 'ciphertext'): Ciphertext {
  if (typeof ct !== 'object' || ct === null) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"${title}" expected a Ciphertext {c1, c2}`);
  }
  abytes(ct.c1, `${title}.c1`, AFFINE_BYTES);
  abytes(ct.c2, `${title}.c2`, AFFINE_BYTES);
  return ct;
}

/** A new key pair from the CSPRNG (or `rng`). */
export function keygen(rng: RandomSource = cryptoRandom): KeyPair {
  const secretKey = randomScalar(rng);
  return { secretKey, publicKey: publicKeyOf(secretKey) };
}

/** Y = x·G (constant time). */
export function publicKeyOf(secretKey: bigint): Uint8Array {
  return getGroup().mulGen(scalarToBytes(asecret(secretKey, 'secretKey')));
}

/** Encrypts m ∈ [0, n) under Y with fresh randomness. */
export function encrypt(publicKey: Uint8Array, m: bigint, rng: RandomSource = cryptoRandom): Ciphertext {
  return encryptWithRandomness(publicKey, m, randomScalar(rng));
}

/** Encrypts m under Y with caller-given r ∈ [1, n−1] (for proofs and tests). */
export function encryptWithRandomness(publicKey: Uint8Array, m: bigint, r: bigint): Ciphertext {
  const g = getGroup();
  abytes(publicKey, 'publicKey', AFFINE_BYTES);
  aplaintext(m);
  asecret(r, 'randomness');
  // C1 = r·G (constant-time comb) and C2 = m·G + r·Y as one constant-time MSM over the public
  // G and Y: no point that depends on m or r meets the variable-time `add`.
  const c1 = g.mulGen(scalarToBytes(r));
  const c2 = g.msmConst(concatBytes(generatorG(), publicKey), scalarsToBytes([m, r]));
  return { c1, c2 };
}

/** M = C2 − x·C1 = m·G, the decrypted point. */
export function decryptToPoint(secretKey: bigint, ct: Ciphertext): Uint8Array {
  aciphertext(ct);
  return unmask(ct, getGroup().mul(ct.c1, scalarToBytes(asecret(secretKey, 'secretKey'))));
}

/** C2 − xC1 = m·G, given x·C1 (computed here, or combined from threshold decryption shares). */
export function unmask(ct: Ciphertext, xC1: Uint8Array): Uint8Array {
  const g = getGroup();
  return g.add(abytes(ct.c2, 'ciphertext.c2', AFFINE_BYTES), g.negate(abytes(xC1, 'xC1', AFFINE_BYTES)));
}

export interface DecryptOptions {
  /** Largest plaintext to search for (inclusive). Default 2^32. */
  max?: bigint;
  /** Baby-step table size 2^tableBits (default 18: 4 MiB; 24 for values up to 2^48). */
  tableBits?: number;
}

/** Decrypts to m ∈ [0, max]; throws VALUE_OUT_OF_RANGE if the plaintext is not there. */
export function decrypt(secretKey: bigint, ct: Ciphertext, options: DecryptOptions = {}): bigint {
  const max = options.max ?? DEFAULT_MAX;
  return discreteLog(decryptToPoint(secretKey, ct), max, options.tableBits ?? DEFAULT_TABLE_BITS);
}

/** A fresh-looking encryption of the same m: adds an encryption of 0. */
export function rerandomize(publicKey: Uint8Array, ct: Ciphertext, rng: RandomSource = cryptoRandom): Ciphertext {
  return add(ct, encrypt(publicKey, 0n, rng));
}

/** Encrypts m + m'. */
export function add(a: Ciphertext, b: Ciphertext): Ciphertext {
  aciphertext(a, 'a');
  aciphertext(b, 'b');
  const [c1, c2] = split(getGroup().add(concatBytes(a.c1, a.c2), concatBytes(b.c1, b.c2)));
  return { c1, c2 };
}

/** Encrypts m − m' (mod n). */
export function subtract(a: Ciphertext, b: Ciphertext): Ciphertext {
  aciphertext(b, 'b');
  const [c1, c2] = split(getGroup().negate(concatBytes(b.c1, b.c2)));
  return add(a, { c1, c2 });
}

/** Encrypts k·m for a public integer k (negative k means n − |k|). Variable time in k. */
export function scale(ct: Ciphertext, k: bigint): Ciphertext {
  aciphertext(ct);
  if (typeof k !== 'bigint') throw new ZkmeterError('INVALID_ARGUMENT', '"k" expected a bigint');
  const s = scalarToBytes(modN(k));
  const [c1, c2] = split(getGroup().mulVartime(concatBytes(ct.c1, ct.c2), concatBytes(s, s)));
  return { c1, c2 };
}

/**
 * Σ wᵢ·Enc(mᵢ), an encryption of Σ wᵢ·mᵢ: two MSMs (one over the C1s, one over
 * the C2s), so a month of readings under a time-of-use tariff is two backend
 * calls. Weights are public integers (prices); omit them for a plain sum.
 */
export function weightedSum(cts: readonly Ciphertext[], weights?: readonly bigint[]): Ciphertext {
  if (!Array.isArray(cts)) throw new ZkmeterError('INVALID_ARGUMENT', '"ciphertexts" expected an array');
  if (weights !== undefined && weights.length !== cts.length) {
    throw new ZkmeterError('INVALID_LENGTH', `"weights" expected ${cts.length} elements, got ${weights.length}`);
  }
  const c1s = new Uint8Array(AFFINE_BYTES * cts.length);
  const c2s = new Uint8Array(AFFINE_BYTES * cts.length);
  cts.forEach((ct, i) => {
    aciphertext(ct, `ciphertexts[${i}]`);
    c1s.set(ct.c1, AFFINE_BYTES * i);
    c2s.set(ct.c2, AFFINE_BYTES * i);
  });
  const w = scalarsToBytes(
    cts.map((_, i) => {
      const v = weights?.[i] ?? 1n;
      if (typeof v !== 'bigint') throw new ZkmeterError('INVALID_ARGUMENT', `"weights[${i}]" expected a bigint`);
      return modN(v);
    }),
  );
  const g = getGroup();
  return { c1: g.msm({ points: c1s, scalars: w }), c2: g.msm({ points: c2s, scalars: w }) };
}

/** 66-byte wire form C1 ‖ C2. Throws POINT_AT_INFINITY if a component is infinity. */
export function encodeCiphertext(ct: Ciphertext): Uint8Array {
  aciphertext(ct);
  return encodePoints(concatBytes(ct.c1, ct.c2), 'ciphertext');
}

/** Parses the 66-byte wire form strictly. */
export function decodeCiphertext(bytes: Uint8Array): Ciphertext {
  const [c1, c2] = split(decodePoints(abytes(bytes, 'ciphertext', CIPHERTEXT_LENGTH), 2, 'ciphertext'));
  return { c1, c2 };
}

/** 33-byte wire form of a public key. */
export function encodePublicKey(publicKey: Uint8Array): Uint8Array {
  return encodePoints(abytes(publicKey, 'publicKey', AFFINE_BYTES), 'publicKey');
}

/** Parses a 33-byte public key strictly. */
export function decodePublicKey(bytes: Uint8Array): Uint8Array {
  return decodePoint(bytes, 'publicKey');
}

/** Parses a 32-byte secret key: canonical and non-zero. */
export function decodeSecretKey(bytes: Uint8Array): bigint {
  return decodeScalar(bytes, 'secretKey', true);
}

/** Splits packed affine points into their first two 64-byte points. */
function split(points: Uint8Array): [Uint8Array, Uint8Array] {
  return [points.slice(0, AFFINE_BYTES), points.slice(AFFINE_BYTES, 2 * AFFINE_BYTES)];
}
