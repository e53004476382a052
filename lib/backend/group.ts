/**
 * The one interface both backends implement, in two layers (after secp256k1-node):
 *  - {@link RawGroup}: what a backend provides. Unchecked lengths, caller-allocated
 *    outputs, and an integer status instead of exceptions, so the native addon stays
 *    mechanical and both backends report failures identically;
 *  - {@link Group}: the checked API every caller uses (see api.ts), which validates
 *    inputs and maps statuses to {@link ZkmeterError}s through one table.
 *
 * Point vectors are packed affine points (64 bytes each, see bytes.ts); scalar
 * vectors are packed 32-byte big-endian canonical scalars.
 * @module
 */

export type BackendName = 'native' | 'js';

/**
 * Status word returned by raw backend calls: 0 on success, otherwise
 * `code + 8 * index`, where index is the first offending element.
 */
export type Status = number;

export const STATUS_OK = 0;
export const STATUS_POINT = 1;
export const STATUS_SCALAR = 2;
export const STATUS_INFINITY = 3;
export const STATUS_MEMORY = 4;
export const STATUS_INTERNAL = 5;

export function status(code: number, index: number): Status {
  return code + 8 * index;
}

/** Opaque handle of a prepared point table in one backend. */
export type RawTable = unknown;

export interface RawGroup {
  readonly name: BackendName;
  decompress(out: Uint8Array, points33: Uint8Array, n: number): Status;
  /** Bad index i: point i invalid (STATUS_POINT) or infinity (STATUS_INFINITY). */
  compress(out: Uint8Array, points: Uint8Array, n: number): Status;
  validate(points: Uint8Array, n: number): Status;
  /** Variable time (public points only). Bad index: i for a[i], n + i for b[i]. */
  add(out: Uint8Array, a: Uint8Array, b: Uint8Array, n: number): Status;
  /** Variable time (public points only). */
  negate(out: Uint8Array, a: Uint8Array, n: number): Status;
  /**
   * Constant time in the scalars when `consttime`, variable time otherwise. Bad index: i for
   * point i, n + i for scalar i; checked in order point i, scalar i.
   */
  mul(out: Uint8Array, points: Uint8Array, scalars: Uint8Array, n: number, consttime: boolean): Status;
  /** Constant time in the scalars. */
  mulGen(out: Uint8Array, scalars: Uint8Array, n: number): Status;
  /** Σ k[i]·P[i], constant time in k. Bad index: i for point i, n + i for scalar i. */
  msmConst(out: Uint8Array, points: Uint8Array, scalars: Uint8Array, n: number): Status;
  /**
   * Σ k[j]·P[j] + Σ (sel[i] ? a[i] : b[i]) (m extra terms, points/scalars null when m = 0), constant
   * time in sel and k. Checked in the order all a, all b, all sel, then (P[j], k[j]) per j. Bad index:
   * i a[i], n + i b[i], 2n + i sel[i] (SCALAR), 3n + j P[j], 3n + m + j k[j].
   */
  selectSum(
    out: Uint8Array,
    a: Uint8Array,
    b: Uint8Array,
    sel: Uint8Array,
    n: number,
    points: Uint8Array | null,
    scalars: Uint8Array | null,
    m: number,
  ): Status;
  /**
   * acc[offset + stride·i] += c + w·Π_j pairs[j][bit (k−1−j) of i], i < 2^k, all mod n.
   * Bad index over [acc entries | pairs | w | c] (STATUS_SCALAR), checked in the order pairs, w, c, acc entries.
   */
  scalarTensorAcc(acc: Uint8Array, offset: number, stride: number, k: number, pairs: Uint8Array | null, w: Uint8Array, c: Uint8Array | null): Status;
  /** out[i] = in[i]⁻¹ mod n, variable time. Bad index: i for in[i] ≥ n or 0 (STATUS_SCALAR). */
  scalarInvert(out: Uint8Array, scalars: Uint8Array, n: number): Status;
  /** BIP340 signatures out[i] (64 bytes) of msgs[i] (32) under keys[i] (32) with aux[i] (32). Bad index: i for a key 0 or ≥ n (STATUS_SCALAR). */
  schnorrSign(out: Uint8Array, msgs: Uint8Array, keys: Uint8Array, aux: Uint8Array, n: number): Status;
  /** x(start + i·step) for i < n, 32 bytes each (infinity → zeros). Bad index: 0 start, 1 step. */
  progressionX(out: Uint8Array, start: Uint8Array, step: Uint8Array, n: number): Status;
  /** A table handle, or a Status (number) when a point is invalid. */
  tableCreate(points: Uint8Array, n: number): RawTable | Status;
  /**
   * out = Σ tableScalars[i]·T[i] + Σ scalars[j]·P[j] + g·G. Points P have `stride` 64
   * (affine) or 33 (compressed). Checks in order: table scalars, points, scalars, g;
   * bad index runs over that concatenation.
   */
  msm(
    out: Uint8Array,
    table: RawTable | null,
    tableScalars: Uint8Array | null,
    nt: number,
    points: Uint8Array | null,
    stride: 33 | 64,
    scalars: Uint8Array | null,
    n: number,
    gScalar: Uint8Array | null,
  ): Status;
}

/** A fixed set of points (generators) prepared once for repeated MSMs. */
export interface PointTable {
  /** The backend it belongs to; a table only works with its own backend. */
  readonly backend: BackendName;
  /** Number of points. */
  readonly size: number;
  /** The points, packed affine (64 bytes each). */
  readonly points: Uint8Array;
}

/** Point encoding of the variable points passed to {@link Group.msm}. */
export type PointFormat = 'affine' | 'compressed';

export interface MsmInput {
  /** Prepared generators; `tableScalars` multiply its first tableScalars.length/32 points. */
  table?: PointTable;
  tableScalars?: Uint8Array;
  /** Variable points, packed in `pointFormat` (default 'affine'). */
  points?: Uint8Array;
  pointFormat?: PointFormat;
  /** One scalar per variable point. */
  scalars?: Uint8Array;
  /** Optional scalar for the standard generator G. */
  gScalar?: Uint8Array;
}

/** The checked group API. Every method takes and returns whole packed vectors. */
export interface Group {
  readonly name: BackendName;
  /** 33-byte compressed points → affine points. Throws INVALID_POINT (with index). */
  decompress(points33: Uint8Array): Uint8Array;
  /** Affine points → 33-byte compressed points. Throws POINT_AT_INFINITY for infinity. */
  compress(points: Uint8Array): Uint8Array;
  /** Throws INVALID_POINT unless every point is infinity or on the curve with x, y < p. */
  validate(points: Uint8Array): void;
  /**
   * Element-wise a[i] + b[i]. Variable time: public points only. A sum involving secrets is
   * one constant-time call instead: `msmConst` (public points, secret scalars) or `selectSum`.
   */
  add(a: Uint8Array, b: Uint8Array): Uint8Array;
  /** Element-wise −a[i]. Variable time: public points only. */
  negate(a: Uint8Array): Uint8Array;
  /** Element-wise k[i]·P[i], constant time in k[i] on the native backend. */
  mul(points: Uint8Array, scalars: Uint8Array): Uint8Array;
  /** Element-wise k[i]·P[i], variable time: public scalars only. */
  mulVartime(points: Uint8Array, scalars: Uint8Array): Uint8Array;
  /** Element-wise k[i]·G, constant time in k[i] on the native backend. */
  mulGen(scalars: Uint8Array): Uint8Array;
  /**
   * Σ k[i]·P[i] for secret scalars and public points: constant time in the
   * scalars (0 and n − 1 included) on the native backend, result included
   * (Straus with shared doublings over libsecp256k1's constant-time building
   * blocks, constant-time inversion). Several times cheaper than `mul`
   * followed by a sum. A commitment m·G + s·H is `msmConst([G, H], [m, s])`.
   */
  msmConst(points: Uint8Array, scalars: Uint8Array): Uint8Array;
  /**
   * Σ (selectors[i] ? a[i] : b[i]) + Σ extra.scalars[j]·extra.points[j], with
   * selectors 0 or 1: constant time in the selectors and the extra scalars on
   * the native backend, result included (the extra terms are `msmConst`'s
   * algorithm). Points are public; a and b must be finite. A Bulletproofs
   * bit-vector commitment α·H + Σ (bitᵢ ? Gᵢ : −Hᵢ) is one call.
   */
  selectSum(a: Uint8Array, b: Uint8Array, selectors: Uint8Array, extra?: { points: Uint8Array; scalars: Uint8Array }): Uint8Array;
  /**
   * Scalar-vector accumulation mod n, in place on packed 32-byte scalars:
   *   acc[offset + stride·i] += c + w·Π_{j<k} pairs[j][bit (k−1−j) of i]   for i < 2^k,
   * a scaled tensor product of k two-element vectors (round j of an inner-product
   * argument owns bit k−1−j). Verifiers build per-generator coefficients with it.
   * `pairs` packs k (first, second) scalar pairs; c is optional.
   */
  scalarTensorAcc(acc: Uint8Array, input: { offset: number; stride: number; pairs: Uint8Array; w: Uint8Array; c?: Uint8Array }): void;
  /**
   * Inverses mod n of packed 32-byte scalars, each non-zero and canonical.
   * Variable time (for public values such as challenges); natively libsecp256k1's
   * safegcd inversion, about 20× faster than a bigint inversion.
   */
  invertScalars(scalars: Uint8Array): Uint8Array;
  /**
   * BIP340 Schnorr signatures (64 bytes each) of 32-byte messages under 32-byte
   * secret keys, with 32 bytes of auxiliary randomness each (BIP340's aux_rand).
   * Deterministic given aux; constant time in the key natively (libsecp256k1's
   * schnorrsig module), noble's `schnorr.sign` in TypeScript.
   */
  schnorrSign(messages: Uint8Array, secretKeys: Uint8Array, aux: Uint8Array): Uint8Array;
  /**
   * x-coordinates of start + i·step for i = 0…count−1, 32 bytes each; the point at
   * infinity gives 32 zero bytes (no curve point has x = 0). Variable time. This is
   * the inner loop of baby-step giant-step decryption.
   */
  progressionX(start: Uint8Array, step: Uint8Array, count: number): Uint8Array;
  /** Prepares a fixed point set for {@link Group.msm}. */
  createTable(points: Uint8Array): PointTable;
  /** One multi-scalar multiplication, variable time: public scalars only. */
  msm(input: MsmInput): Uint8Array;
}
