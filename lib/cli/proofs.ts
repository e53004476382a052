/**
 * `zkmeter prove | verify` (SPEC.md): a reading's ciphertext, Pedersen
 * commitment, Bulletproofs range proof and ZKPe, all under one context.
 *
 * Range rule: the value must lie in [min, max] (min defaults to 0, bits to 64,
 * max to min + 2^bits − 1; max − min ≥ 2^bits is an error). When [min, max] is
 * exactly [0, 2^bits − 1] a one-sided proof is made (one value of `bits` bits);
 * otherwise a two-sided proof of v − min and max − v (see range.ts). `verify`
 * applies the same rule to its flags, so both sides agree on the statement.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { CURVE_ORDER } from '../backend/bytes.js';
import { bytesToHex, decodePoint, encodePoints } from '../crypto/codec.js';
import {
  CIPHERTEXT_LENGTH,
  decodeCiphertext,
  decodePublicKey,
  encodeCiphertext,
  encryptWithRandomness,
} from '../crypto/elgamal.js';
import { commit } from '../crypto/pedersen.js';
import { randomScalar } from '../crypto/random.js';
import { proveEquivalence, verifyEquivalence } from '../crypto/zkpe.js';
import { RANGE_BITS, proveRange, verifyRange, type RangeBits, type RangeStatement } from '../crypto/bulletproofs/range.js';
import { UsageError, parseHex, parseInteger } from './parse.js';

interface RangeFlags {
  min?: string;
  max?: string;
  bits?: string;
  context?: string;
}

/** The range statement's shape from the flags, per SPEC.md's defaults. */
function rangeOf(o: RangeFlags): { bits: RangeBits; bounds?: { min: bigint; max: bigint } } {
  const bitsN = o.bits === undefined ? 64 : Number(parseInteger(o.bits, '--bits'));
  if (!(RANGE_BITS as readonly number[]).includes(bitsN)) throw new UsageError(`--bits expected 8, 16, 32 or 64, got ${o.bits}`);
  const bits = bitsN as RangeBits;
  const min = o.min === undefined ? 0n : parseInteger(o.min, '--min');
  const max = o.max === undefined ? min + (1n << BigInt(bits)) - 1n : parseInteger(o.max, '--max');
  if (max < min) throw new UsageError(`--max (${max}) is below --min (${min})`);
  if (max - min >= 1n << BigInt(bits)) throw new UsageError(`--max − --min must be below 2^${bits}, got ${max - min}`);
  if (max >= CURVE_ORDER) throw new UsageError('--max must be below the group order n');
  const oneSided = min === 0n && max === (1n << BigInt(bits)) - 1n;
  return oneSided ? { bits } : { bits, bounds: { min, max } };
}

const contextBytes = (o: RangeFlags) => new TextEncoder().encode(o.context ?? '');

export function proveCommand(o: RangeFlags & { publicKey?: string; value?: string }): Record<string, string> {
  const publicKey = decodePublicKey(parseHex(o.publicKey, '--public-key', 33));
  const value = parseInteger(o.value, '--value');
  const range = rangeOf(o);
  const min = range.bounds?.min ?? 0n;
  const max = range.bounds?.max ?? (1n << BigInt(range.bits)) - 1n;
  if (value < min || value > max) throw new UsageError(`--value ${value} is outside [${min}, ${max}]`);
  const context = contextBytes(o);
  const r = randomScalar();
  const s = randomScalar();
  const ciphertext = encryptWithRandomness(publicKey, value, r);
  const commitment = commit(value, s);
  const statement: RangeStatement = { commitments: [commitment], ...range };
  const rangeProof = proveRange(statement, { values: [value], blindings: [s] }, context);
  const equivalenceProof = proveEquivalence({ publicKey, ciphertext, commitment }, { m: value, r, s }, context);
  return {
    ciphertext: bytesToHex(encodeCiphertext(ciphertext)),
    commitment: bytesToHex(encodePoints(commitment, 'commitment')),
    rangeProof: bytesToHex(rangeProof),
    equivalenceProof: bytesToHex(equivalenceProof),
  };
}

export interface VerifyOutcome {
  valid: boolean;
  reason?: string;
}

export function verifyCommand(
  o: RangeFlags & { publicKey?: string; ciphertext?: string; commitment?: string; rangeProof?: string; equivalenceProof?: string },
): VerifyOutcome {
  // Statement: bad input is exit 2.
  const publicKey = decodePublicKey(parseHex(o.publicKey, '--public-key', 33));
  const ciphertext = decodeCiphertext(parseHex(o.ciphertext, '--ciphertext', CIPHERTEXT_LENGTH));
  const commitment = decodePoint(parseHex(o.commitment, '--commitment', 33), 'commitment');
  const range = rangeOf(o);
  const context = contextBytes(o);
  // Proofs: anything that does not verify, undecodable bytes included, is exit 1.
  const rangeBytes = parseHex(o.rangeProof, '--range-proof');
  const eqBytes = parseHex(o.equivalenceProof, '--equivalence-proof');
  try {
    if (!verifyRange({ commitments: [commitment], ...range }, rangeBytes, context)) {
      return { valid: false, reason: 'range proof does not verify' };
    }
  } catch (e) {
    if (e instanceof ZkmeterError) return { valid: false, reason: `range proof: ${e.message}` };
    throw e;
  }
  try {
    if (!verifyEquivalence({ publicKey, ciphertext, commitment }, eqBytes, context)) {
      return { valid: false, reason: 'equivalence proof does not verify' };
    }
  } catch (e) {
    if (e instanceof ZkmeterError) return { valid: false, reason: `equivalence proof: ${e.message}` };
    throw e;
  }
  return { valid: true };
}
