/**
 * BIP340 Schnorr signatures (Wuille, Nick, Ruffing 2020) for meter records:
 * signing through the backend (libsecp256k1's schnorrsig module natively,
 * noble's `schnorr` in TypeScript: the same bytes for the same aux_rand), and
 * verification as linear equations that join the proofs' batch MSM.
 *
 * BIP340 batch verification: with R_i = lift_x(r_i), P_i = lift_x(pk_i) (even
 * y) and e_i = int(hash_BIP0340/challenge(r_i ‖ pk_i ‖ m_i)) mod n, every
 * signature satisfies s_i·G = R_i + e_i·P_i; the batch checks
 *     Σ a_i·(R_i + e_i·P_i − s_i·G) = O
 * for random a_i (a single signature uses a = 1, which is exactly BIP340's
 * single verification). A batch that shares one meter's key adds that key once.
 *
 * Encodings: public keys are 32-byte x-only; signatures are r (32) ‖ s (32);
 * messages are 32 bytes.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ZkmeterError } from '../errors.js';
import { getGroup } from '../backend/index.js';
import { AFFINE_BYTES, CURVE_ORDER, abytes, bytesToBigint, concatBytes, scalarToBytes } from '../backend/bytes.js';
import { decodePoints } from './codec.js';
import { MsmAccumulator, verifyChecks, type BatchResult, type PreparedChecks } from './msm-accumulator.js';
import { cryptoRandom, type RandomSource } from './random.js';
import { modN } from './scalar.js';

export const SCHNORR_SIGNATURE_LENGTH = 64;
export const SCHNORR_PUBLIC_KEY_LENGTH = 32;

/** One signature to verify. */
export interface SignatureItem {
  /** 32-byte x-only public key. */
  readonly publicKey: Uint8Array;
  /** 32-byte message. */
  readonly message: Uint8Array;
  /** 64-byte signature. */
  readonly signature: Uint8Array;
}

const encoder = new TextEncoder();
const tagHashes = new Map<string, Uint8Array>();

/** BIP340's tagged hash: SHA-256(SHA-256(tag) ‖ SHA-256(tag) ‖ data…). */
export function taggedHash(tag: string, ...data: Uint8Array[]): Uint8Array {
  let th = tagHashes.get(tag);
  if (th === undefined) {
    th = sha256(encoder.encode(tag));
    tagHashes.set(tag, th);
  }
  const h = sha256.create().update(th).update(th);
  for (const d of data) h.update(d);
  return h.digest();
}

/** The x-only public key (32 bytes) of a secret key d ∈ [1, n−1]. */
export function schnorrPublicKey(secretKey: bigint): Uint8Array {
  if (typeof secretKey !== 'bigint' || secretKey <= 0n || secretKey >= CURVE_ORDER) {
    throw new ZkmeterError('INVALID_SCALAR', '"secretKey" expected a scalar 0 < d < n');
  }
  return getGroup().mulGen(scalarToBytes(secretKey)).slice(0, 32);
}

/**
 * Signs 32-byte messages with one secret key (BIP340, fresh 32-byte aux_rand
 * from `rng` per signature). Returns 64 bytes per message, concatenated.
 */
export function signSchnorr(messages: readonly Uint8Array[], secretKey: bigint, rng: RandomSource = cryptoRandom): Uint8Array {
  if (!Array.isArray(messages)) throw new ZkmeterError('INVALID_ARGUMENT', '"messages" expected an array of 32-byte messages');
  messages.forEach((m, i) => abytes(m, `messages[${i}]`, 32));
  const key = scalarToBytes(secretKey, 'secretKey');
  const keys = new Uint8Array(32 * messages.length);
  for (let i = 0; i < messages.length; i++) keys.set(key, 32 * i);
  const sigs = getGroup().schnorrSign(concatBytes(...messages), keys, rng(32 * messages.length));
  keys.fill(0);
  return sigs;
}

/** Verifies one BIP340 signature: false if it does not verify; a ZkmeterError if it is malformed. */
export function verifySchnorr(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return verifyChecks(prepareSchnorrChecks([{ publicKey, message, signature }], true)).valid;
}

/** Verifies many signatures in one MSM (random weights; bisection names the bad ones). */
export function batchVerifySchnorr(items: readonly SignatureItem[]): BatchResult {
  return verifyChecks(prepareSchnorrChecks(items, items.length === 1));
}

/**
 * Decodes signatures and computes their challenges, for `findInvalid` alone or
 * with proofs in one MSM. Malformed items (a key or r that is not an
 * x-coordinate, s ≥ n, wrong lengths) are listed as invalid; with `strict`,
 * the first one throws.
 */
export function prepareSchnorrChecks(items: readonly SignatureItem[], strict = false): PreparedChecks {
  if (!Array.isArray(items)) throw new ZkmeterError('INVALID_ARGUMENT', '"items" expected an array');
  const invalid: number[] = [];
  const checks: PreparedChecks['checks'][number][] = [];
  // lift_x of every r and key at once: 02 ‖ x decodes to the point with even y.
  const lifted = new Uint8Array(66 * items.length);
  items.forEach((item, i) => {
    if (typeof item !== 'object' || item === null) throw new ZkmeterError('INVALID_ARGUMENT', `"items[${i}]" expected {publicKey, message, signature}`);
    abytes(item.message, 'message', 32);
    const okLengths = item.publicKey?.length === 32 && item.signature?.length === 64;
    if (strict || okLengths) {
      abytes(item.publicKey, 'publicKey', 32);
      abytes(item.signature, 'signature', 64);
    }
    if (!okLengths) return;
    lifted[66 * i] = 2;
    lifted.set(item.signature.subarray(0, 32), 66 * i + 1);
    lifted[66 * i + 33] = 2;
    lifted.set(item.publicKey, 66 * i + 34);
  });
  let all: Uint8Array | null = null;
  try {
    all = decodePoints(lifted, 2 * items.length, 'signature');
  } catch (e) {
    if (strict) throw e;
  }
  items.forEach((item, i) => {
    if (item.publicKey?.length !== 32 || item.signature?.length !== 64) {
      invalid.push(i);
      return;
    }
    let RP: Uint8Array;
    try {
      RP = all !== null ? all.subarray(2 * AFFINE_BYTES * i, 2 * AFFINE_BYTES * (i + 1)) : decodePoints(lifted.subarray(66 * i, 66 * i + 66), 2, 'signature');
    } catch (e) {
      if (strict) throw new ZkmeterError('INVALID_POINT', '"signature" r or "publicKey" is not the x-coordinate of a curve point', { cause: e });
      invalid.push(i);
      return;
    }
    const s = bytesToBigint(item.signature, 32, 32);
    if (s >= CURVE_ORDER) {
      if (strict) throw new ZkmeterError('INVALID_SCALAR', '"signature" s expected < n');
      invalid.push(i);
      return;
    }
    const e = modN(bytesToBigint(taggedHash('BIP0340/challenge', item.signature.subarray(0, 32), item.publicKey, item.message), 0, 32));
    const R = RP.subarray(0, AFFINE_BYTES);
    const P = RP.subarray(AFFINE_BYTES);
    checks.push({
      index: i,
      // a·(R + e·P − s·G): R carries the (half-length) weight itself; P is usually shared.
      add: (acc: MsmAccumulator, a: bigint, _b: bigint, alone: boolean) => {
        const w = alone ? 1n : a;
        acc.addPoint(R, w);
        acc.addPoint(P, w * e, true);
        acc.addG(-w * s);
      },
    });
  });
  return { invalid, checks };
}
