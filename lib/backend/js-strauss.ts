/**
 * Variable-time multi-scalar multiplication for the pure-TypeScript backend:
 * Straus' interleaved method with width-w NAF digits (the structure of
 * libsecp256k1's `ecmult_strauss_wnaf`), on secp256k1 (a = 0) in Jacobian
 * coordinates. Every point's odd multiples are precomputed in affine form, so
 * each addition is a mixed addition, "madd-2004-hmv" (8M + 3S), and each
 * doubling is "dbl-2009-l" (2M + 5S), both from the Explicit-Formulas Database
 * (hyperelliptic.org/EFD/g1p/auto-shortw-jacobian-0.html). noble's complete
 * projective formulas cost about twice as many field operations, which is what
 * a Bulletproofs verification in TypeScript spends its time on.
 *
 * Public inputs only (verification): timing depends on the scalars.
 * @module
 */
import { normalizeZ } from '@noble/curves/abstract/curve.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { FIELD_PRIME as P } from './bytes.js';

const Point = secp256k1.Point;
type Point = InstanceType<typeof Point>;

/** Number of wNAF digit positions: scalars are < 2^256, and a final carry takes one more. */
const DIGITS = 257;

/**
 * The odd multiples P, 3P, …, (2^(w−1) − 1)·P of `count` points in affine
 * coordinates, point i's multiples at [i·per, (i+1)·per).
 */
export interface OddMultiples {
  readonly width: number;
  /** Multiples per point: 2^(w−2). */
  readonly per: number;
  readonly count: number;
  readonly x: bigint[];
  readonly y: bigint[];
}

/** Precomputes the odd multiples for wNAF width `width` (2 ≤ width ≤ 14) of non-identity points. */
export function oddMultiples(points: readonly Point[], width: number): OddMultiples {
  const per = 1 << (width - 2);
  const all: Point[] = [];
  for (const p of points) {
    const twice = p.double();
    let cur = p;
    all.push(cur);
    for (let j = 1; j < per; j++) all.push((cur = cur.add(twice)));
  }
  // One inversion for all of them (Montgomery's trick, in noble's normalizeZ).
  const affine = normalizeZ(Point, all);
  const x: bigint[] = new Array(affine.length);
  const y: bigint[] = new Array(affine.length);
  for (let i = 0; i < affine.length; i++) {
    x[i] = affine[i]!.X;
    y[i] = affine[i]!.Y;
  }
  return { width, per, count: points.length, x, y };
}

const words = new Uint32Array(10);

function getBits(bit: number, count: number): number {
  const i = bit >>> 5;
  const s = bit & 31;
  let v = words[i]! >>> s;
  if (s + count > 32) v |= words[i + 1]! << (32 - s);
  return v & ((1 << count) - 1);
}

/**
 * Writes the width-w NAF of the 32-byte big-endian scalar at `bytes[off]` into
 * `out` (DIGITS entries): each non-zero digit is odd with |d| < 2^(w−1), and at
 * least w − 1 zeros follow it. Same algorithm as libsecp256k1's ecmult_wnaf.
 */
function wnaf(bytes: Uint8Array, off: number, width: number, out: Int16Array): void {
  for (let j = 0; j < 8; j++) {
    const o = off + 28 - 4 * j;
    words[j] = ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
  }
  words[8] = 0;
  words[9] = 0;
  out.fill(0);
  let carry = 0;
  let bit = 0;
  while (bit < DIGITS) {
    if (getBits(bit, 1) === carry) {
      bit++;
      continue;
    }
    const now = Math.min(width, DIGITS - bit);
    let word = getBits(bit, now) + carry;
    carry = (word >> (width - 1)) & 1;
    word -= carry << width;
    out[bit] = word;
    bit += now;
  }
}

/** One MSM term: scalar bytes at `off`, multiples of point `index` of `table`. */
export interface StraussTerm {
  readonly table: OddMultiples;
  readonly index: number;
  readonly scalars: Uint8Array;
  readonly off: number;
}

/** Σ kᵢ·Pᵢ as affine {x, y}, or undefined for the point at infinity. */
export function strauss(terms: readonly StraussTerm[]): { x: bigint; y: bigint } | undefined {
  const n = terms.length;
  const digits = new Int16Array(n * DIGITS);
  const row = new Int16Array(DIGITS);
  let top = -1;
  for (let t = 0; t < n; t++) {
    const term = terms[t]!;
    wnaf(term.scalars, term.off, term.table.width, row);
    for (let b = DIGITS - 1; b > top; b--) {
      if (row[b] !== 0) {
        top = b;
        break;
      }
    }
    digits.set(row, t * DIGITS);
  }
  // Accumulator (X, Y, Z), Jacobian; Z = 0 is the point at infinity.
  let X = 0n;
  let Y = 0n;
  let Z = 0n;
  // dbl-2009-l: A = X², B = Y², C = B², D = 2((X+B)² − A − C), E = 3A,
  // X3 = E² − 2D, Y3 = E(D − X3) − 8C, Z3 = 2YZ.
  const double = () => {
    const A = (X * X) % P;
    const B = (Y * Y) % P;
    const C = (B * B) % P;
    const XB = X + B;
    let D = (2n * ((XB * XB) % P - A - C)) % P;
    if (D < 0n) D += P;
    const E = 3n * A;
    let X3 = (((E * E) % P) - 2n * D) % P;
    if (X3 < 0n) X3 += P;
    let Y3 = (E * (D - X3) - 8n * C) % P;
    if (Y3 < 0n) Y3 += P;
    Z = (2n * Y * Z) % P;
    X = X3;
    Y = Y3;
  };
  for (let b = top; b >= 0; b--) {
    if (Z !== 0n) double();
    for (let t = 0; t < n; t++) {
      const d = digits[t * DIGITS + b]!;
      if (d === 0) continue;
      const term = terms[t]!;
      const at = term.index * term.table.per + ((d < 0 ? -d : d) >> 1);
      const x2 = term.table.x[at]!;
      const y2 = d > 0 ? term.table.y[at]! : P - term.table.y[at]!;
      if (Z === 0n) {
        X = x2;
        Y = y2;
        Z = 1n;
        continue;
      }
      // madd-2004-hmv: U2 = x2·Z1², S2 = y2·Z1³, H = U2 − X1, r = S2 − Y1,
      // X3 = r² − H³ − 2·X1·H², Y3 = r(X1·H² − X3) − Y1·H³, Z3 = Z1·H.
      const ZZ = (Z * Z) % P;
      let H = ((x2 * ZZ) % P) - X;
      if (H < 0n) H += P;
      let r = ((((y2 * Z) % P) * ZZ) % P) - Y;
      if (r < 0n) r += P;
      if (H === 0n) {
        if (r !== 0n) {
          Z = 0n; // P + (−P)
          continue;
        }
        // The same point: double it.
        X = x2;
        Y = y2;
        Z = 1n;
        double();
        continue;
      }
      const HH = (H * H) % P;
      const HHH = (H * HH) % P;
      const V = (X * HH) % P;
      let X3 = ((r * r) % P - HHH - 2n * V) % P;
      if (X3 < 0n) X3 += P;
      let Y3 = (r * (V - X3) - Y * HHH) % P;
      if (Y3 < 0n) Y3 += P;
      Z = (Z * H) % P;
      X = X3;
      Y = Y3;
    }
  }
  if (Z === 0n) return undefined;
  const zi = Point.Fp.inv(Z);
  const zi2 = (zi * zi) % P;
  return { x: (X * zi2) % P, y: (((Y * zi2) % P) * zi) % P };
}
