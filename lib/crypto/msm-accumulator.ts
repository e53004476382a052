/**
 * Collects the terms of one or many verification equations Σ kᵢ·Pᵢ = 0 and
 * checks them with a single backend MSM. Proof verifiers add their weighted
 * equations here, so different proofs (and different proof types) share one
 * multi-scalar multiplication.
 * @module
 */
import { getGroup } from '../backend/index.js';
import { AFFINE_BYTES, equalBytes, scalarToBytes, scalarsToBytes } from '../backend/bytes.js';
import { bytesToHex } from './codec.js';
import { pedersenH } from './generators.js';
import { modN } from './scalar.js';

export class MsmAccumulator {
  private gScalar = 0n;
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

  /** Number of variable points the MSM will use. */
  get size(): number {
    return this.points.length + this.shared.size + 1;
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
    const result = getGroup().msm({ points, scalars: scalarsToBytes(scalars), gScalar: scalarToBytes(modN(this.gScalar)) });
    return result.every((b) => b === 0);
  }
}
