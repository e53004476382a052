/**
 * Collects the terms of one or many verification equations Σ kᵢ·Pᵢ = 0 and
 * checks them with a single backend MSM. Proof verifiers add their weighted
 * equations here, so different proofs (and different proof types) share one
 * multi-scalar multiplication.
 * @module
 */
import { getGroup, type PointTable } from '../backend/index.js';
import { AFFINE_BYTES, CURVE_ORDER, SCALAR_BYTES, equalBytes, scalarToBytes, scalarsToBytes, writeBigint } from '../backend/bytes.js';
import { bytesToHex } from './codec.js';
import { pedersenH, vectorGenerators } from './generators.js';
import { batchWeights } from './random.js';
import { modN } from './scalar.js';

/**
 * The Bulletproofs vector generators as one prepared backend table, interleaved
 * [G_0, H_0, G_1, H_1, …] so that the first 2N entries are exactly what an
 * N-generator proof uses. Rebuilt (larger) on demand; one per backend.
 */
const vectorTables = new Map<string, PointTable>();
function vectorTable(count: number): PointTable {
  const g = getGroup();
  let t = vectorTables.get(g.name);
  if (t === undefined || t.size < 2 * count) {
    const size = Math.max(count, t === undefined ? 0 : t.size / 2); // generators per vector
    const { G, H } = vectorGenerators(size);
    const inter = new Uint8Array(2 * AFFINE_BYTES * size);
    for (let i = 0; i < size; i++) {
      inter.set(G.subarray(AFFINE_BYTES * i, AFFINE_BYTES * (i + 1)), 2 * AFFINE_BYTES * i);
      inter.set(H.subarray(AFFINE_BYTES * i, AFFINE_BYTES * (i + 1)), 2 * AFFINE_BYTES * i + AFFINE_BYTES);
    }
    t = g.createTable(inter);
    vectorTables.set(g.name, t);
  }
  return t;
}

/**
 * Derives and prepares the first `count` vector generators now (about 1 ms per
 * generator pair in TypeScript), so that the first verification needing them
 * does not pay for it: a service warms its workers before it listens.
 */
export function prepareVectorGenerators(count: number): void {
  vectorTable(count);
}

export class MsmAccumulator {
  private gScalar = 0n;
  /**
   * Coefficients of the vector generators, summed across proofs, as packed
   * 32-byte scalars in the table's interleaved order [G_0, H_0, G_1, H_1, …], so
   * the backend updates them in place and the MSM takes them as they are.
   */
  private vec = new Uint8Array(0);
  private vecCount = 0;
  private hScalar = 0n;
  private readonly points: Uint8Array[] = [];
  private readonly scalars: bigint[] = [];
  private readonly byObject = new Map<Uint8Array, number>();
  /** Points expected to repeat (a public key shared by a batch), merged by value. */
  private readonly shared = new Map<string, { point: Uint8Array; scalar: bigint }>();
  private lastShared: { point: Uint8Array; scalar: bigint } | undefined;

  /** Adds k·G. */
  addG(k: bigint): void {
    this.gScalar += k;
  }

  /** Adds k·H (the Pedersen blinding generator). */
  addH(k: bigint): void {
    this.hScalar += k;
  }

  /**
   * Adds, for i < 2^k, (c + w·Π_j pairs[j][bit (k−1−j) of i])·X_i where X is G
   * (the Bulletproofs G_i) or H (the H_i): a scaled tensor product of k scalar
   * pairs, computed in place by the backend (`scalarTensorAcc`). Scalars in [0, n).
   */
  addVectorTensor(which: 'G' | 'H', pairs: readonly (readonly [bigint, bigint])[], w: bigint, c?: bigint): void {
    const count = 2 ** pairs.length;
    if (count > this.vecCount) {
      const grown = new Uint8Array(2 * SCALAR_BYTES * count);
      grown.set(this.vec);
      this.vec = grown;
      this.vecCount = count;
    }
    getGroup().scalarTensorAcc(this.vec, {
      offset: which === 'G' ? 0 : 1,
      stride: 2,
      pairs: scalarsToBytes(pairs.flat()),
      w: scalarToBytes(w),
      ...(c !== undefined ? { c: scalarToBytes(c) } : {}),
    });
  }

  /** Adds k·P for a 64-byte affine P; `shared` merges repeats of the same P into one term. */
  addPoint(point: Uint8Array, k: bigint, shared = false): void {
    if (shared) {
      // Fast path: the same point as last time (one public key for a whole batch).
      if (this.lastShared !== undefined && equalBytes(this.lastShared.point, point)) {
        this.lastShared.scalar += k;
        return;
      }
      const key = bytesToHex(point);
      let entry = this.shared.get(key);
      if (entry) entry.scalar += k;
      else this.shared.set(key, (entry = { point, scalar: k }));
      this.lastShared = entry;
      return;
    }
    // The same array object added twice (a commitment V in both a range proof and a proof of
    // equivalence) is one MSM term: a Map lookup is far cheaper than an MSM point.
    const at = this.byObject.get(point);
    if (at !== undefined) {
      this.scalars[at]! += k;
      return;
    }
    this.byObject.set(point, this.points.length);
    this.points.push(point);
    this.scalars.push(k);
  }

  /** Number of variable points the MSM will use (besides G and the vector generators). */
  get size(): number {
    return this.points.length + this.shared.size + 1;
  }


  /** Whether Σ kᵢ·Pᵢ is the point at infinity: one backend MSM call. */
  isIdentity(): boolean {
    const count = this.size;
    const points = new Uint8Array(AFFINE_BYTES * count);
    const scalars = new Uint8Array(SCALAR_BYTES * count);
    let i = 0;
    // Coefficients are unreduced (sums of products, possibly negative): reduce and encode in one pass.
    const put = (point: Uint8Array, k: bigint) => {
      points.set(point, AFFINE_BYTES * i);
      let r = k % CURVE_ORDER;
      if (r < 0n) r += CURVE_ORDER;
      writeBigint(scalars, SCALAR_BYTES * i++, SCALAR_BYTES, r);
    };
    for (let j = 0; j < this.points.length; j++) put(this.points[j]!, this.scalars[j]!);
    for (const { point, scalar } of this.shared.values()) put(point, scalar);
    put(pedersenH(), this.hScalar);
    const table = this.vecCount > 0 ? vectorTable(this.vecCount) : undefined;
    const result = getGroup().msm({
      ...(table ? { table, tableScalars: this.vec } : {}),
      points,
      scalars,
      gScalar: scalarToBytes(modN(this.gScalar)),
    });
    return result.every((b) => b === 0);
  }
}

/** One proof's verification equations, ready to join an MSM under three batch weights. */
export interface PreparedCheck {
  /** The caller's index of the proof. */
  readonly index: number;
  /**
   * Adds the proof's equations with independent 127-bit weights a, b and c (one per
   * equation; a check with fewer equations ignores the rest); `alone` when checked by itself.
   */
  add(acc: MsmAccumulator, a: bigint, b: bigint, alone: boolean, c: bigint): void;
}

/** Proofs decoded and replayed for batch verification, and those that failed to decode. */
export interface PreparedChecks {
  readonly invalid: number[];
  readonly checks: PreparedCheck[];
}

/**
 * Batch verification with bisection, shared by every proof type: each check gets
 * three fresh CSPRNG weights, all checks share one MSM, and a failing group is
 * split in two and re-checked with fresh weights until every bad proof is
 * isolated. Returns their indices. Checks of different proof types mix freely.
 */
export function findInvalid(group: readonly PreparedCheck[]): number[] {
  if (group.length === 0) return [];
  const acc = new MsmAccumulator();
  const w = batchWeights(3 * group.length);
  group.forEach((check, i) => check.add(acc, w[3 * i]!, w[3 * i + 1]!, group.length === 1, w[3 * i + 2]!));
  if (acc.isIdentity()) return [];
  if (group.length === 1) return [group[0]!.index];
  const mid = group.length >> 1;
  return findInvalid(group.slice(0, mid)).concat(findInvalid(group.slice(mid)));
}

/**
 * Several kinds of prepared checks in one index space: part p's item i becomes
 * index `offset + i`, so one `verifyChecks` (one MSM) covers them all.
 */
export function joinChecks(parts: readonly { readonly checks: PreparedChecks; readonly offset: number }[]): PreparedChecks {
  return {
    invalid: parts.flatMap(({ checks, offset }) => checks.invalid.map((i) => i + offset)),
    checks: parts.flatMap(({ checks, offset }) => checks.checks.map((c) => ({ index: c.index + offset, add: c.add }))),
  };
}

/** The outcome of a batch verification. */
export interface BatchResult {
  /** True when every item verified. */
  readonly valid: boolean;
  /** Indices of the items that do not verify (malformed ones included), ascending. */
  readonly invalid: number[];
}

/** Checks prepared proofs in one MSM (bisecting on failure) and reports every bad index. */
export function verifyChecks({ invalid, checks }: PreparedChecks): BatchResult {
  const bad = [...invalid, ...findInvalid(checks)].sort((a, b) => a - b);
  return { valid: bad.length === 0, invalid: bad };
}
