/** The proof of equivalence (ZKPe): completeness, soundness, strict decoding, batching. */
import { describe, expect, it } from 'vitest';
import { ZkmeterError } from '../lib/errors.js';
import { CURVE_ORDER, concatBytes, writeBigint, bytesToBigint } from '../lib/backend/bytes.js';
import { getGroup } from '../lib/backend/index.js';
import * as eg from '../lib/crypto/elgamal.js';
import { commit } from '../lib/crypto/pedersen.js';
import { randomScalar } from '../lib/crypto/random.js';
import {
  ZKPE_LENGTH,
  prepareAggregateEquivalenceChecks,
  proveAggregateEquivalence,
  verifyAggregateEquivalence,
  batchVerifyEquivalence,
  proveEquivalence,
  verifyEquivalence,
  type EquivalenceStatement,
} from '../lib/crypto/zkpe.js';
import { compressedX, isCurveX } from './support/curve.js';
import { TestRng, testSeed } from './support/rng.js';
import { errorCode, rejects as verifierRejects } from './support/errors.js';
import { verifyChecks } from '../lib/crypto/msm-accumulator.js';

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
console.log(`zkpe.test.ts on ${getGroup().name}: seed ${seed}`);
const u = (s: string) => new TextEncoder().encode(s);
const { publicKey } = eg.keygen(rand);
const ctx = u('meter-42|2026-11-26T00:00Z');

function make(m: bigint, committed = m, context = ctx) {
  const r = randomScalar(rand);
  const s = randomScalar(rand);
  const statement: EquivalenceStatement = {
    publicKey,
    ciphertext: eg.encryptWithRandomness(publicKey, m, r),
    commitment: commit(committed, s),
  };
  return { statement, proof: proveEquivalence(statement, { m, r, s }, context, rand), r, s };
}


/** A rejection is `false` or a ZkmeterError (malformed bytes); anything else is a bug. */
const rejects = (statement: EquivalenceStatement, proof: Uint8Array, context = ctx) => verifierRejects(() => verifyEquivalence(statement, proof, context));

describe('ZKPe completeness', () => {
  it('honest proofs verify, for values 0, 1, 2^32 and random ones', () => {
    for (const m of [0n, 1n, 2n ** 32n, rng.bigint(8), CURVE_ORDER - 1n]) {
      const { statement, proof } = make(m);
      expect(proof.length).toBe(ZKPE_LENGTH);
      expect(verifyEquivalence(statement, proof, ctx)).toBe(true);
    }
  });
  it('the empty context is a context like any other', () => {
    const { statement, proof } = make(5n, 5n, new Uint8Array(0));
    expect(verifyEquivalence(statement, proof, new Uint8Array(0))).toBe(true);
    expect(rejects(statement, proof, u('x'))).toBe(true);
  });
});

describe('ZKPe soundness', () => {
  it('C2 encrypts m but V commits to m + 1: the honest prover cannot convince', () => {
    const { statement, proof } = make(1000n, 1001n);
    expect(rejects(statement, proof)).toBe(true);
  });

  it('a valid proof fails under another context, key, C1/C2 swap, or V', () => {
    const { statement, proof } = make(321n);
    expect(verifyEquivalence(statement, proof, ctx)).toBe(true);
    expect(rejects(statement, proof, u('meter-43|2026-11-26T00:00Z'))).toBe(true);
    expect(rejects({ ...statement, publicKey: eg.keygen(rand).publicKey }, proof)).toBe(true);
    const { c1, c2 } = statement.ciphertext;
    expect(rejects({ ...statement, ciphertext: { c1: c2, c2: c1 } }, proof)).toBe(true);
    expect(rejects({ ...statement, commitment: make(321n).statement.commitment }, proof)).toBe(true);
    expect(rejects({ ...statement, ciphertext: eg.encrypt(publicKey, 321n, rand) }, proof)).toBe(true);
    // another proof's transcript does not transfer (challenge replay under a new statement)
    const other = make(321n);
    expect(rejects(other.statement, proof)).toBe(true);
  });

  it('every single-bit flip of the encoded proof is rejected', () => {
    const { statement, proof } = make(77n);
    let rejected = 0;
    for (let bit = 0; bit < 8 * proof.length; bit++) {
      const bad = proof.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      if (rejects(statement, bad)) rejected++;
    }
    expect(rejected).toBe(8 * proof.length);
  });

  it('scalars replaced by scalar + n are rejected, not reduced', () => {
    const { statement, proof } = make(9n);
    for (const off of [99, 131, 163]) {
      const k = bytesToBigint(proof, off, 32);
      const bad = proof.slice();
      if (k + CURVE_ORDER < 2n ** 256n) {
        writeBigint(bad, off, 32, k + CURVE_ORDER);
        expect(() => verifyEquivalence(statement, bad, ctx)).toThrow(ZkmeterError);
      }
      // n itself and 2^256 − 1 are always out of range
      for (const v of [CURVE_ORDER, 2n ** 256n - 1n]) {
        writeBigint(bad, off, 32, v);
        expect(() => verifyEquivalence(statement, bad, ctx)).toThrowError(/canonical scalar/);
      }
    }
  });

  it('points replaced by points off the curve, or with x ≥ p, are rejected', () => {
    const { statement, proof } = make(9n);
    let x = 3n;
    while (isCurveX(x)) x++;
    for (const off of [0, 33, 66]) {
      const bad = proof.slice();
      bad.set(compressedX(x), off);
      expect(() => verifyEquivalence(statement, bad, ctx)).toThrowError(/valid secp256k1 point/);
      bad.set(compressedX(2n ** 256n - 1n), off);
      expect(() => verifyEquivalence(statement, bad, ctx)).toThrowError(/valid secp256k1 point/);
    }
  });

  it('truncated proofs and proofs with trailing bytes are rejected', () => {
    const { statement, proof } = make(9n);
    expect(() => verifyEquivalence(statement, proof.subarray(0, ZKPE_LENGTH - 1), ctx)).toThrowError(/195 bytes/);
    expect(() => verifyEquivalence(statement, concatBytes(proof, Uint8Array.of(0)), ctx)).toThrowError(/195 bytes/);
  });

  it('the prover refuses out-of-range witnesses', () => {
    const { statement } = make(1n);
    expect(errorCode(() => proveEquivalence(statement, { m: 1n, r: CURVE_ORDER, s: 1n }, ctx))).toBe('INVALID_SCALAR');
    expect(errorCode(() => proveEquivalence(statement, { m: 1n, r: 1n, s: -1n }, ctx))).toBe('INVALID_SCALAR');
    expect(errorCode(() => proveEquivalence(statement, { m: CURVE_ORDER, r: 1n, s: 1n }, ctx))).toBe('INVALID_SCALAR');
    expect(errorCode(() => proveEquivalence(statement, { r: 1n, s: 1n } as never, ctx))).toBe('INVALID_SCALAR');
  });
});

describe('ZKPe batch verification', () => {
  const items = Array.from({ length: 24 }, (_, i) => {
    const { statement, proof } = make(BigInt(i * 1000));
    return { statement, proof, context: ctx };
  });

  it('accepts a batch of valid proofs', () => {
    expect(batchVerifyEquivalence(items)).toEqual({ valid: true, invalid: [] });
    expect(batchVerifyEquivalence([])).toEqual({ valid: true, invalid: [] });
  });

  it('finds the one bad item in a batch', () => {
    const bad = items.slice();
    bad[17] = { ...bad[17]!, context: u('other') };
    expect(batchVerifyEquivalence(bad)).toEqual({ valid: false, invalid: [17] });
  });

  it('finds several bad items, malformed ones included, without throwing', () => {
    const bad = items.slice();
    bad[0] = { ...bad[0]!, proof: bad[1]!.proof };
    bad[9] = { ...bad[9]!, proof: bad[9]!.proof.subarray(1) };
    const flipped = bad[23]!.proof.slice();
    flipped[100]! ^= 4;
    bad[23] = { ...bad[23]!, proof: flipped };
    expect(batchVerifyEquivalence(bad)).toEqual({ valid: false, invalid: [0, 9, 23] });
  });

  it('mixes public keys in one batch', () => {
    const { publicKey: Y2 } = eg.keygen(rand);
    const r = randomScalar(rand);
    const s = randomScalar(rand);
    const statement = { publicKey: Y2, ciphertext: eg.encryptWithRandomness(Y2, 8n, r), commitment: commit(8n, s) };
    const mixed = [...items.slice(0, 5), { statement, proof: proveEquivalence(statement, { m: 8n, r, s }, ctx, rand), context: ctx }];
    expect(batchVerifyEquivalence(mixed).valid).toBe(true);
  });

  it('reports items whose statement holds the point at infinity', () => {
    const zero = eg.subtract(items[0]!.statement.ciphertext, items[0]!.statement.ciphertext);
    const bad = [...items.slice(0, 3), { ...items[3]!, statement: { ...items[3]!.statement, ciphertext: zero } }];
    expect(batchVerifyEquivalence(bad)).toEqual({ valid: false, invalid: [3] });
  });
});

describe('aggregated ZKPe (one proof for K pairs)', () => {
  function makeMany(values: bigint[], committed = values, context = ctx) {
    const r = values.map(() => randomScalar(rand));
    const s = values.map(() => randomScalar(rand));
    const statement = {
      publicKey,
      ciphertexts: values.map((m, j) => eg.encryptWithRandomness(publicKey, m, r[j]!)),
      commitments: committed.map((v, j) => commit(v, s[j]!)),
    };
    return { statement, proof: proveAggregateEquivalence(statement, { m: values, r, s }, context, rand), r, s };
  }
  const day = Array.from({ length: 96 }, (_, i) => BigInt(100 + ((i * 37) % 900)));

  it('verifies for K = 1, 2 and 96 (a day of 15-minute readings), in 195 bytes', () => {
    for (const values of [[7n], [0n, 65535n], day]) {
      const { statement, proof } = makeMany(values);
      expect(proof.length).toBe(ZKPE_LENGTH);
      expect(verifyAggregateEquivalence(statement, proof, ctx)).toBe(true);
    }
  });

  it('one lying pair among 96 is caught, by an honest prover and whatever it does', () => {
    const committed = day.slice();
    committed[40] = committed[40]! + 1n;
    const { statement, proof } = makeMany(day, committed);
    expect(verifyAggregateEquivalence(statement, proof, ctx)).toBe(false);
    // Two lies that cancel in the plain sum are still caught: the weights are ω^j, not 1.
    const cancel = day.slice();
    cancel[3] = cancel[3]! + 5n;
    cancel[4] = cancel[4]! - 5n;
    const two = makeMany(day, cancel);
    expect(verifyAggregateEquivalence(two.statement, two.proof, ctx)).toBe(false);
  });

  it('binds every pair, their order, their number, the key and the context', () => {
    const { statement, proof } = makeMany([10n, 20n, 30n]);
    const swapped = { ...statement, ciphertexts: [statement.ciphertexts[1]!, statement.ciphertexts[0]!, statement.ciphertexts[2]!], commitments: [statement.commitments[1]!, statement.commitments[0]!, statement.commitments[2]!] };
    expect(verifyAggregateEquivalence(swapped, proof, ctx)).toBe(false);
    const dropped = { ...statement, ciphertexts: statement.ciphertexts.slice(0, 2), commitments: statement.commitments.slice(0, 2) };
    expect(verifyAggregateEquivalence(dropped, proof, ctx)).toBe(false);
    expect(verifyAggregateEquivalence(statement, proof, u('other'))).toBe(false);
    const other = eg.keygen(rand).publicKey;
    expect(verifyAggregateEquivalence({ ...statement, publicKey: other }, proof, ctx)).toBe(false);
    for (let bit = 0; bit < 8 * ZKPE_LENGTH; bit += 7) {
      const t = proof.slice();
      t[bit >> 3]! ^= 1 << (bit & 7);
      expect(verifierRejects(() => verifyAggregateEquivalence(statement, t, ctx))).toBe(true);
    }
    expect(errorCode(() => verifyAggregateEquivalence(statement, proof.subarray(1), ctx))).toBe('INVALID_LENGTH');
    expect(errorCode(() => verifyAggregateEquivalence({ ...statement, commitments: [] }, proof, ctx))).toBe('INVALID_ARGUMENT');
  });

  it('batches with other proofs and names the bad one', () => {
    const good = makeMany([1n, 2n]);
    const bad = makeMany([3n, 4n], [3n, 5n]);
    const checks = prepareAggregateEquivalenceChecks([
      { statement: good.statement, proof: good.proof, context: ctx },
      { statement: bad.statement, proof: bad.proof, context: ctx },
      { statement: good.statement, proof: good.proof.subarray(3), context: ctx },
    ]);
    expect(verifyChecks(checks)).toEqual({ valid: false, invalid: [1, 2] });
  });
});
