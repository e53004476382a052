/**
 * Collects the terms of one or many verification equations Σ kᵢ·Pᵢ = 0 and
 * checks them with a single backend MSM. Proof verifiers add their weighted
 * equations here, so different proofs (and different proof types) share one
 * multi-scalar multiplication.
 * @module
 */
import { getGroup, type PointTable } from '../backend/index.js';
import { AFFINE_BYTES, equalBytes, scalarToBytes, scalarsToBytes } from '../backend/bytes.js';
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
    const size = Math.max(count, t === undefined ? 0 : t.size);
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

export class MsmAccumulator {
  private gScalar = 0n;
  /** Coefficients of G_i and H_i (Bulletproofs vector generators), summed across proofs. */
  private readonly vecG: bigint[] = [];
  private readonly vecH: bigint[] = [];
  private hScalar = 0n;
  private readonly points: Uint8Array[] = [];
  private readonly scalars: bigint[] = [];
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

  /** Adds Σ gᵢ·G_i + Σ hᵢ·H_i over the vector generators (gs and hs of equal length). */
  addVectorGenerators(gs: readonly bigint[], hs: readonly bigint[]): void {
    const { vecG, vecH } = this;
    while (vecG.length < gs.length) {
      vecG.push(0n);
      vecH.push(0n);
    }
    for (let i = 0; i < gs.length; i++) {
      vecG[i] = vecG[i]! + gs[i]!;
      vecH[i] = vecH[i]! + hs[i]!;
    }
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
    this.points.push(point);
    this.scalars.push(k);
  }

  /** Number of variable points the MSM will use (besides G and the vector generators). */
  get size(): number {
    return this.points.length + this.shared.size + 1;
  }

  /** Total points of the MSM, vector generators included. */
  get totalSize(): number {
    return this.size + 2 * this.vecG.length;
  }

  /** Whether Σ kᵢ·Pᵢ is the point at infinity: one backend MSM call. */
  isIdentity(): boolean {
    const count = this.size;
    const points = new Uint8Array(AFFINE_BYTES * count);
    const scalars: bigint[] = [];
    let i = 0;
    for (const p of this.points) points.set(p, AFFINE_BYTES * i++);
    for (const { point } of this.shared.values()) points.set(point, AFFINE_BYTES * i++);
    points.set(pedersenH(), AFFINE_BYTES * i);
    for (const k of this.scalars) scalars.push(modN(k));
    for (const { scalar } of this.shared.values()) scalars.push(modN(scalar));
    scalars.push(modN(this.hScalar));
    const vec = this.vecG.length;
    const table = vec > 0 ? vectorTable(vec) : undefined;
    const tableScalars: bigint[] = [];
    for (let i = 0; i < vec; i++) tableScalars.push(modN(this.vecG[i]!), modN(this.vecH[i]!));
    const result = getGroup().msm({
      ...(table ? { table, tableScalars: scalarsToBytes(tableScalars) } : {}),
      points,
      scalars: scalarsToBytes(scalars),
      gScalar: scalarToBytes(modN(this.gScalar)),
    });
    return result.every((b) => b === 0);
  }
}

/**
 * Batch verification with bisection, shared by every proof type: each item's
 * equations get two fresh CSPRNG weights (`add` puts the weighted terms into
 * the accumulator; `alone` says the item is checked by itself), all items are
 * checked in one MSM, and a failing group is split in two and re-checked with
 * fresh weights until every bad item is isolated. Returns their `index`es.
 */
export function findInvalid<T extends { index: number }>(
  group: readonly T[],
  add: (acc: MsmAccumulator, item: T, a: bigint, b: bigint, alone: boolean) => void,
): number[] {
  if (group.length === 0) return [];
  const acc = new MsmAccumulator();
  const w = batchWeights(2 * group.length);
  group.forEach((item, i) => add(acc, item, w[2 * i]!, w[2 * i + 1]!, group.length === 1));
  if (acc.isIdentity()) return [];
  if (group.length === 1) return [group[0]!.index];
  const mid = group.length >> 1;
  return findInvalid(group.slice(0, mid), add).concat(findInvalid(group.slice(mid), add));
}
