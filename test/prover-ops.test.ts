/**
 * The provers' secrets never meet a variable-time point operation, checked from the
 * TypeScript side (test/native-ctime.test.ts checks the kernels themselves under valgrind):
 * every group call the provers make is recorded, on each backend.
 *  - commit, encryptWithRandomness and both ZKPe provers make no variable-time call at all
 *    (`add`, `negate`, `mulVartime`, `msm`): their points come from mulGen, mul and msmConst.
 *  - the range prover's variable-time calls are Σ wₖ·Vₖ over the public commitments (`msm`,
 *    before any secret point is made), −Hᵢ of the public generators, and the inner-product
 *    rounds after T1 and T2, whose inputs are public by the protocol's zero knowledge
 *    (docs/notes-rangeproof.md); between the first and the last constant-time call (the
 *    witness check, A, S, T1, T2) there is no other.
 */
import { describe, expect, it, vi } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { proveRange } from '../lib/crypto/bulletproofs/range.js';
import * as eg from '../lib/crypto/elgamal.js';
import { commit } from '../lib/crypto/pedersen.js';
import { randomScalar } from '../lib/crypto/random.js';
import { proveAggregateEquivalence, proveEquivalence } from '../lib/crypto/zkpe.js';
import { TestRng, testSeed } from './support/rng.js';

// Every module's getGroup() returns a recording copy of the active group (the group itself is frozen).
const recorder = vi.hoisted(() => ({ calls: [] as string[], on: false }));
vi.mock('../lib/backend/index.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../lib/backend/index.js')>();
  const real = actual.getGroup() as unknown as Record<string, unknown>;
  const recording: Record<string, unknown> = {};
  for (const k of Object.keys(real)) {
    const v = real[k];
    recording[k] =
      typeof v === 'function'
        ? (...args: unknown[]) => {
            if (recorder.on) recorder.calls.push(k);
            return (v as (...a: unknown[]) => unknown).apply(real, args);
          }
        : v;
  }
  return { ...actual, getGroup: () => recording };
});

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
const g = getGroup();
console.log(`prover-ops.test.ts on ${g.name}: seed ${seed}`);
const VARIABLE_TIME = ['add', 'negate', 'mulVartime', 'msm'] as const;
const CONSTANT_TIME = ['mul', 'mulGen', 'msmConst', 'selectSum'] as const;
const ctx = new TextEncoder().encode('prover-ops');
const { publicKey } = eg.keygen(rand);

/** The names of the group calls `f` makes, in order. */
function callsOf(f: () => unknown): string[] {
  recorder.calls = [];
  recorder.on = true;
  try {
    f();
  } finally {
    recorder.on = false;
  }
  return recorder.calls.slice();
}

const variable = (calls: string[]) => calls.filter((c) => (VARIABLE_TIME as readonly string[]).includes(c));


describe(`the provers' group calls (${g.name})`, () => {
  it('commit, encryption and the ZKPe provers make no variable-time call, for zero and other values', () => {
    for (const m of [0n, 1n, 4000n, 65_535n]) {
      const r = randomScalar(rand);
      const s = randomScalar(rand);
      let ciphertext!: eg.Ciphertext;
      let commitment!: Uint8Array;
      const made = callsOf(() => {
        ciphertext = eg.encryptWithRandomness(publicKey, m, r);
        commitment = commit(m, s);
      });
      expect(made.length).toBeGreaterThan(0);
      expect(variable(made)).toEqual([]);
      expect(variable(callsOf(() => proveEquivalence({ publicKey, ciphertext, commitment }, { m, r, s }, ctx, rand)))).toEqual([]);
      const st = { publicKey, ciphertexts: [ciphertext, ciphertext], commitments: [commitment, commitment] };
      expect(variable(callsOf(() => proveAggregateEquivalence(st, { m: [m, m], r: [r, r], s: [s, s] }, ctx, rand)))).toEqual([]);
    }
  });

  it('the range prover: no variable-time call from A to T2; before A only the public witness check', () => {
    const values = [0n, 120n, 4000n];
    const blindings = values.map(() => randomScalar(rand));
    const commitments = values.map((v, j) => commit(v, blindings[j]!));
    const calls = callsOf(() => proveRange({ commitments, bits: 16, bounds: { min: 0n, max: 4000n } }, { values, blindings }, ctx, rand));
    const isConst = (c: string) => (CONSTANT_TIME as readonly string[]).includes(c);
    const first = calls.findIndex(isConst);
    const last = calls.length - 1 - [...calls].reverse().findIndex(isConst);
    expect(first).toBeGreaterThanOrEqual(0);
    // Compressions for the transcript aside (public points), the one variable-time call is −Hᵢ, of the public generators, for A.
    expect(variable(calls.slice(first, last + 1))).toEqual(['negate']);
    expect(calls.slice(first, last + 1).filter((c) => c === 'selectSum' || c === 'msmConst').length).toBeGreaterThanOrEqual(4); // A, S, T1, T2
    expect(variable(calls.slice(0, first)).every((c) => c === 'msm')).toBe(true);
  });
});
