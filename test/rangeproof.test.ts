/**
 * Bulletproofs range proofs: completeness over (n, m) and bounds, soundness
 * (wrong statement, tampering, malformed encodings), batching, and the
 * known-discrete-log-H forgery class that bulletproof-js is open to.
 * The full (n, m) grid runs on native; the js project runs the grid up to
 * n·m = 128 (a 1024-generator proof takes tens of seconds in pure TypeScript).
 */
import { describe, expect, it, vi } from 'vitest';
import { CURVE_ORDER, bytesToBigint, concatBytes, scalarToBytes, writeBigint } from '../lib/backend/bytes.js';
import { getGroup } from '../lib/backend/index.js';
import { commit } from '../lib/crypto/pedersen.js';
import { randomScalar } from '../lib/crypto/random.js';
import {
  batchVerifyRange,
  proveRange,
  rangeProofLength,
  verifyRange,
  type RangeBits,
  type RangeStatement,
} from '../lib/crypto/bulletproofs/range.js';
import { errorCode, rejects as verifierRejects } from './support/errors.js';
import { fixedRng } from './support/rng.js';

const g = getGroup();
const native = g.name === 'native';
const rng = fixedRng(`rangeproof-${Date.now()}`);
const u = (s: string) => new TextEncoder().encode(s);
const ctx = u('meter-7|2026-11-26T10:00Z');

function make(bits: RangeBits, values: bigint[], bounds?: { min: bigint; max: bigint }, context = ctx) {
  const blindings = values.map(() => randomScalar(rng));
  const statement: RangeStatement = { commitments: values.map((v, i) => commit(v, blindings[i]!)), bits, ...(bounds ? { bounds } : {}) };
  const proof = proveRange(statement, { values, blindings }, context, rng);
  return { statement, proof, blindings };
}


/** A rejection is `false` or a ZkmeterError (malformed bytes); anything else is a bug. */
const rejects = (statement: RangeStatement, proof: Uint8Array, context = ctx) => verifierRejects(() => verifyRange(statement, proof, context));

describe('completeness', () => {
  for (const bits of [8, 16, 32, 64] as const) {
    it(`n = ${bits}, m = 1, at 0, 2^n − 1 and a random value`, () => {
      for (const v of [0n, (1n << BigInt(bits)) - 1n, bytesToBigint(rng(8)) % (1n << BigInt(bits))]) {
        const { statement, proof } = make(bits, [v]);
        expect(proof.length).toBe(rangeProofLength(bits, 1));
        expect(verifyRange(statement, proof, ctx)).toBe(true);
      }
    });
  }
  const grid: [RangeBits, number][] = [];
  for (const bits of [8, 16, 32, 64] as const) for (const m of [2, 4, 8, 16]) if (native || bits * m <= 128) grid.push([bits, m]);
  for (const [bits, m] of grid) {
    it(`n = ${bits}, m = ${m} (aggregated)`, () => {
      const values = Array.from({ length: m }, (_, i) => (i === 0 ? 0n : (bytesToBigint(rng(8)) % (1n << BigInt(bits)))));
      const { statement, proof } = make(bits, values);
      expect(proof.length).toBe(2 * Math.log2(bits * m) * 33 + 4 * 33 + 5 * 32);
      expect(verifyRange(statement, proof, ctx)).toBe(true);
    });
  }
  it('pads counts that are not powers of two (3 → 4, 5 → 8) with commitments to zero', () => {
    for (const count of [3, 5]) {
      const { statement, proof } = make(8, Array.from({ length: count }, (_, i) => BigInt(i * 50)));
      expect(proof.length).toBe(rangeProofLength(8, count));
      expect(verifyRange(statement, proof, ctx)).toBe(true);
    }
  });
  it('two-sided bounds hold at both edges, including max − min = 2^n − 1', () => {
    const bounds = { min: 1000n, max: 5000n };
    for (const v of [1000n, 5000n, 3210n]) {
      const { statement, proof } = make(16, [v], bounds);
      expect(verifyRange(statement, proof, ctx)).toBe(true);
    }
    const wide = { min: 7n, max: 7n + 255n };
    for (const v of [wide.min, wide.max]) {
      const { statement, proof } = make(8, [v], wide);
      expect(verifyRange(statement, proof, ctx)).toBe(true);
    }
    const two = make(16, [1500n, 4999n], bounds);
    expect(verifyRange(two.statement, two.proof, ctx)).toBe(true);
  });
});

describe('the prover refuses what it cannot prove', () => {
  it('values out of range, with a typed error and no proof', () => {
    const gamma = randomScalar(rng);
    const over = { commitments: [commit(256n, gamma)], bits: 8 as const };
    expect(errorCode(() => proveRange(over, { values: [256n], blindings: [gamma] }, ctx))).toBe('VALUE_OUT_OF_RANGE');
    const bounds = { min: 10n, max: 20n };
    for (const v of [9n, 21n]) {
      const st = { commitments: [commit(v, gamma)], bits: 8 as const, bounds };
      expect(errorCode(() => proveRange(st, { values: [v], blindings: [gamma] }, ctx))).toBe('VALUE_OUT_OF_RANGE');
    }
  });
  it('a witness that does not open the commitment, and bad shapes', () => {
    const gamma = randomScalar(rng);
    const st = { commitments: [commit(5n, gamma)], bits: 8 as const };
    expect(errorCode(() => proveRange(st, { values: [6n], blindings: [gamma] }, ctx))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => proveRange({ ...st, bits: 12 as never }, { values: [5n], blindings: [gamma] }, ctx))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => proveRange({ ...st, bounds: { min: 0n, max: 256n } }, { values: [5n], blindings: [gamma] }, ctx))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(errorCode(() => proveRange({ commitments: [], bits: 8 }, { values: [], blindings: [] }, ctx))).toBe('INVALID_ARGUMENT');
  });
});

describe('soundness', () => {
  const base = make(16, [4242n]);
  const bounded = make(16, [300n], { min: 100n, max: 500n });

  it('a proof for v fails against any other V, bounds, n or context', () => {
    const { statement, proof } = base;
    expect(verifyRange(statement, proof, ctx)).toBe(true);
    expect(rejects({ ...statement, commitments: [commit(4242n, randomScalar(rng))] }, proof)).toBe(true);
    expect(rejects({ ...statement, commitments: [commit(4243n, base.blindings[0]!)] }, proof)).toBe(true);
    expect(rejects(statement, proof, u('meter-8|2026-11-26T10:00Z'))).toBe(true);
    expect(rejects({ ...statement, bits: 8 }, proof)).toBe(true);
    expect(rejects({ ...statement, bits: 32 }, proof)).toBe(true);
    expect(rejects({ ...bounded.statement, bounds: { min: 100n, max: 499n } }, bounded.proof)).toBe(true);
    expect(rejects({ ...bounded.statement, bounds: { min: 101n, max: 500n } }, bounded.proof)).toBe(true);
    expect(rejects({ commitments: bounded.statement.commitments, bits: 16 }, bounded.proof)).toBe(true);
    // a proof aggregated over two values does not verify for either alone
    const two = make(16, [1n, 2n]);
    expect(rejects({ ...two.statement, commitments: [two.statement.commitments[0]!] }, two.proof)).toBe(true);
  });

  it('every single-bit flip of sample proofs is rejected', () => {
    const samples = [make(8, [77n]), bounded];
    const stride = native ? 1 : 29; // pure TypeScript: a deterministic 1-in-29 sample of the bits
    for (const { statement, proof } of samples) {
      let tried = 0;
      for (let bit = 0; bit < 8 * proof.length; bit += stride) {
        const bad = proof.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        expect(rejects(statement, bad), `bit ${bit}`).toBe(true);
        tried++;
      }
      expect(tried).toBeGreaterThan(native ? 3000 : 100);
    }
  });

  it('truncated proofs and trailing bytes are rejected', () => {
    const { statement, proof } = base;
    const len = rangeProofLength(16, 1);
    expect(proof.length).toBe(len);
    expect(() => verifyRange(statement, proof.subarray(0, len - 1), ctx)).toThrowError(`expected ${len} bytes`);
    expect(() => verifyRange(statement, concatBytes(proof, Uint8Array.of(0)), ctx)).toThrowError(`expected ${len} bytes`);
  });

  it('identity points (no encoding), off-curve points, scalars + n and zero scalars are rejected', () => {
    const { statement, proof } = base;
    for (const off of [0, 33, 66, 99, 228, 261]) {
      const bad = proof.slice();
      bad.fill(0, off, off + 33); // the only would-be encoding of the identity
      expect(errorCode(() => verifyRange(statement, bad, ctx))).toBe('INVALID_POINT');
    }
    // τx, μ, t̂ follow the four points; a and b close the proof (n = 16: four L/R rounds).
    for (const off of [132, 164, 196, proof.length - 64, proof.length - 32]) {
      const bad = proof.slice();
      const k = bytesToBigint(bad, off, 32);
      writeBigint(bad, off, 32, k + CURVE_ORDER < 2n ** 256n ? k + CURVE_ORDER : CURVE_ORDER);
      expect(errorCode(() => verifyRange(statement, bad, ctx))).toBe('INVALID_SCALAR');
      bad.fill(0, off, off + 32);
      expect(errorCode(() => verifyRange(statement, bad, ctx))).toBe('INVALID_SCALAR');
    }
  });
});

describe('batch verification', () => {
  const items = [
    make(64, [123n]),
    make(8, [1n, 2n, 3n, 4n]),
    make(16, [300n], { min: 100n, max: 500n }),
    make(32, [2n ** 31n]),
    make(8, [9n]),
  ].map(({ statement, proof }) => ({ statement, proof, context: ctx }));

  it('accepts a mixed batch of n and m', () => {
    expect(batchVerifyRange(items)).toEqual({ valid: true, invalid: [] });
  });
  it('names the bad proofs, malformed ones included', () => {
    const bad = items.slice();
    bad[1] = { ...bad[1]!, context: u('other') };
    bad[3] = { ...bad[3]!, proof: bad[3]!.proof.subarray(1) };
    expect(batchVerifyRange(bad)).toEqual({ valid: false, invalid: [1, 3] });
  });
});

describe('a known-discrete-log H (the bulletproof-js forgery class)', () => {
  it('a proof made with H = k·G for a known k, reopening V to an in-range value, is rejected', async () => {
    // bulletproof-js uses H = sha256(G)·G. Whoever knows k = log_G(H) can open
    // V = v·G + γ·H to any v' (γ' = γ + (v − v')/k). Forge: commit to an out-of-range v
    // under the weak H, reopen to v' = 5, prove with the weak H.
    const k = bytesToBigint(rng(32)) % CURVE_ORDER;
    const weakH = g.mulGen(scalarToBytes(k));
    vi.resetModules();
    vi.doMock('../lib/crypto/generators.js', async (orig) => ({
      ...(await orig<typeof import('../lib/crypto/generators.js')>()),
      pedersenH: () => weakH.slice(),
    }));
    const weak = await import('../lib/crypto/bulletproofs/range.js');
    const weakCommit = (await import('../lib/crypto/pedersen.js')).commit;
    const v = 1n << 20n; // out of an 8-bit range
    const gamma = randomScalar(rng);
    const V = weakCommit(v, gamma);
    const vPrime = 5n;
    const gammaPrime = (gamma + (v - vPrime) * modInverse(k)) % CURVE_ORDER;
    const statement = { commitments: [V], bits: 8 as const };
    const forged = weak.proveRange(statement, { values: [vPrime], blindings: [gammaPrime] }, ctx, rng);
    expect(weak.verifyRange(statement, forged, ctx)).toBe(true); // accepted by a verifier using the weak H
    vi.doUnmock('../lib/crypto/generators.js');
    vi.resetModules();
    const real = await import('../lib/crypto/bulletproofs/range.js');
    expect(real.verifyRange(statement, forged, ctx)).toBe(false); // our H: rejected
  });
});

function modInverse(a: bigint): bigint {
  let [r0, r1, s0, s1] = [a % CURVE_ORDER, CURVE_ORDER, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % CURVE_ORDER) + CURVE_ORDER) % CURVE_ORDER;
}
