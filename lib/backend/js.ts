/**
 * The pure-TypeScript backend on @noble/curves. It implements the same raw
 * contract as the addon (same outputs, same statuses, same check order), so
 * results are byte-identical. Uses noble's algorithms for constant-time
 * `multiply` (precomputed windows for G), `multiplyUnsafe` and `pippenger` (many
 * variable points); MSMs with prepared tables or few variable points use our
 * Straus kernel with cheaper formulas (js-strauss.ts).
 *
 * JavaScript bigints are not constant time, so "constant time" here means only
 * that noble's constant-time algorithms are used.
 * @module
 */
import { normalizeZ, pippenger } from '@noble/curves/abstract/curve.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { CURVE_ORDER, FIELD_PRIME, bytesToBigint, writeBigint } from './bytes.js';
import { oddMultiples, strauss, type OddMultiples, type StraussTerm } from './js-strauss.js';
import {
  STATUS_INFINITY,
  STATUS_OK,
  STATUS_POINT,
  STATUS_SCALAR,
  status,
  type RawGroup,
  type Status,
} from './group.js';

const Point = secp256k1.Point;
type Point = InstanceType<typeof Point>;

/**
 * Window width W for a prepared table of `size` points: each point keeps 2^(W−2)
 * odd multiples, so wider windows trade memory and one-time build work for fewer
 * additions per MSM (about 256/(W+1) per point). The 128 generators of a 64-bit
 * proof at W = 11 hold 65,536 points (about 7 MB, built once in about half a
 * second); W = 12 measured slower here, its table costing more in garbage collection.
 */
function tableWindow(size: number): number {
  return size <= 128 ? 11 : size <= 256 ? 10 : size <= 2048 ? 7 : 5;
}

/** Up to this many variable points, Straus (js-strauss.ts) beats noble's Pippenger. */
const INTERLEAVED_MAX = 128;
/** wNAF width for variable points: 8 precomputed multiples each. */
const VARIABLE_WIDTH = 5;

/** G's odd multiples for the G term of an MSM, built on first use. */
let baseMultiples: OddMultiples | undefined;

/** Parses affine bytes at `off`; undefined when invalid. */
function load64(bytes: Uint8Array, off: number): Point | undefined {
  let zero = true;
  for (let i = off; i < off + 64; i++) {
    if (bytes[i] !== 0) {
      zero = false;
      break;
    }
  }
  if (zero) return Point.ZERO;
  const x = bytesToBigint(bytes, off, 32);
  const y = bytesToBigint(bytes, off + 32, 32);
  if (x >= FIELD_PRIME || y >= FIELD_PRIME) return undefined;
  const p = Point.fromAffine({ x, y });
  try {
    p.assertValidity();
  } catch {
    return undefined;
  }
  return p;
}

/** Parses a SEC1 compressed point at `off`; undefined when invalid. */
function load33(bytes: Uint8Array, off: number): Point | undefined {
  const prefix = bytes[off];
  if (prefix !== 2 && prefix !== 3) return undefined;
  try {
    return Point.fromBytes(bytes.subarray(off, off + 33));
  } catch {
    return undefined;
  }
}

/** Parses a scalar at `off`; undefined when ≥ n. */
function loadScalar(bytes: Uint8Array, off: number): bigint | undefined {
  const k = bytesToBigint(bytes, off, 32);
  return k < CURVE_ORDER ? k : undefined;
}

/** Writes points (normalized together with one inversion) as affine bytes. */
function storeAll(out: Uint8Array, points: Point[]): void {
  const affine = normalizeZ(Point, points);
  for (let i = 0; i < affine.length; i++) store64(out, 64 * i, affine[i]!);
}

function store64(out: Uint8Array, off: number, p: Point): void {
  if (p.is0()) {
    out.fill(0, off, off + 64);
    return;
  }
  const { x, y } = p.toAffine();
  writeBigint(out, off, 32, x);
  writeBigint(out, off + 32, 32, y);
}

interface JsTable {
  points: Point[];
  /** Odd multiples of the points (identity replaced by G, never used), built on first use. */
  multiples?: OddMultiples;
}

export function createJsRaw(): RawGroup {
  return {
    name: 'js',

    decompress(out, in33, n): Status {
      for (let i = 0; i < n; i++) {
        const p = load33(in33, 33 * i);
        if (p === undefined) return status(STATUS_POINT, i);
        store64(out, 64 * i, p);
      }
      return STATUS_OK;
    },

    compress(out, in64, n): Status {
      for (let i = 0; i < n; i++) {
        const p = load64(in64, 64 * i);
        if (p === undefined) return status(STATUS_POINT, i);
        if (p.is0()) return status(STATUS_INFINITY, i);
        out.set(p.toBytes(true), 33 * i);
      }
      return STATUS_OK;
    },

    validate(in64, n): Status {
      for (let i = 0; i < n; i++) if (load64(in64, 64 * i) === undefined) return status(STATUS_POINT, i);
      return STATUS_OK;
    },

    add(out, a, b, n): Status {
      const r: Point[] = [];
      for (let i = 0; i < n; i++) {
        const p = load64(a, 64 * i);
        if (p === undefined) return status(STATUS_POINT, i);
        const q = load64(b, 64 * i);
        if (q === undefined) return status(STATUS_POINT, n + i);
        r.push(p.add(q));
      }
      storeAll(out, r);
      return STATUS_OK;
    },

    negate(out, a, n): Status {
      for (let i = 0; i < n; i++) {
        const p = load64(a, 64 * i);
        if (p === undefined) return status(STATUS_POINT, i);
        store64(out, 64 * i, p.negate());
      }
      return STATUS_OK;
    },

    mul(out, points, scalars, n, consttime): Status {
      const r: Point[] = [];
      for (let i = 0; i < n; i++) {
        const p = load64(points, 64 * i);
        if (p === undefined) return status(STATUS_POINT, i);
        const k = loadScalar(scalars, 32 * i);
        if (k === undefined) return status(STATUS_SCALAR, n + i);
        // noble's constant-time multiply rejects 0; its result would be infinity.
        r.push(k === 0n || p.is0() ? Point.ZERO : consttime ? p.multiply(k) : p.multiplyUnsafe(k));
      }
      storeAll(out, r);
      return STATUS_OK;
    },

    mulGen(out, scalars, n): Status {
      const r: Point[] = [];
      for (let i = 0; i < n; i++) {
        const k = loadScalar(scalars, 32 * i);
        if (k === undefined) return status(STATUS_SCALAR, i);
        r.push(k === 0n ? Point.ZERO : Point.BASE.multiply(k));
      }
      storeAll(out, r);
      return STATUS_OK;
    },

    msmConst(out, pts, k, n): Status {
      // Same checks, in the same order, as the native kernel; noble's constant-time
      // multiply per point (JavaScript bigints are not constant time anyway).
      let acc = Point.ZERO;
      for (let i = 0; i < n; i++) {
        const p = load64(pts, 64 * i);
        if (p === undefined) return status(STATUS_POINT, i);
        const s = loadScalar(k, 32 * i);
        if (s === undefined) return status(STATUS_SCALAR, n + i);
        if (s !== 0n && !p.is0()) acc = acc.add(p.multiply(s));
      }
      store64(out, 0, acc);
      return STATUS_OK;
    },

    selectSum(out, a, b, sel, n, pts, ks, m): Status {
      // Same checks in the same order as the native kernel: all a, all b, all selectors, then
      // (point j, scalar j) of the extra terms.
      const as: Point[] = [];
      const bs: Point[] = [];
      for (let i = 0; i < n; i++) {
        const p = load64(a, 64 * i);
        if (p === undefined || p.is0()) return status(STATUS_POINT, i);
        as.push(p);
      }
      for (let i = 0; i < n; i++) {
        const q = load64(b, 64 * i);
        if (q === undefined || q.is0()) return status(STATUS_POINT, n + i);
        bs.push(q);
      }
      for (let i = 0; i < n; i++) if (sel[i]! > 1) return status(STATUS_SCALAR, 2 * n + i);
      let acc = Point.ZERO;
      for (let j = 0; j < m; j++) {
        const p = load64(pts!, 64 * j);
        if (p === undefined) return status(STATUS_POINT, 3 * n + j);
        const s = loadScalar(ks!, 32 * j);
        if (s === undefined) return status(STATUS_SCALAR, 3 * n + m + j);
        if (s !== 0n && !p.is0()) acc = acc.add(p.multiply(s));
      }
      for (let i = 0; i < n; i++) acc = acc.add(sel[i] ? as[i]! : bs[i]!);
      store64(out, 0, acc);
      return STATUS_OK;
    },

    schnorrSign(out, msgs, keys, aux, n): Status {
      for (let i = 0; i < n; i++) {
        const d = loadScalar(keys, 32 * i);
        if (d === undefined || d === 0n) return status(STATUS_SCALAR, i);
        const sig = schnorr.sign(msgs.subarray(32 * i, 32 * i + 32), keys.subarray(32 * i, 32 * i + 32), aux.subarray(32 * i, 32 * i + 32));
        out.set(sig, 64 * i);
      }
      return STATUS_OK;
    },

    scalarInvert(out, scalars, n): Status {
      const values: bigint[] = [];
      for (let i = 0; i < n; i++) {
        const v = loadScalar(scalars, 32 * i);
        if (v === undefined || v === 0n) return status(STATUS_SCALAR, i);
        values.push(v);
      }
      // One bigint inversion for all (Montgomery's trick, in noble's invertBatch).
      secp256k1.Point.Fn.invertBatch(values).forEach((v, i) => writeBigint(out, 32 * i, 32, v));
      return STATUS_OK;
    },

    scalarTensorAcc(acc, offset, stride, k, pairs, w, c): Status {
      // Checked in the order pairs, w, c, acc entries, as the native kernel does.
      const N = 2 ** k;
      const ps: bigint[] = [];
      for (let j = 0; j < 2 * k; j++) {
        const v = loadScalar(pairs!, 32 * j);
        if (v === undefined) return status(STATUS_SCALAR, N + j);
        ps.push(v);
      }
      const wv = loadScalar(w, 0);
      if (wv === undefined) return status(STATUS_SCALAR, N + 2 * k);
      let cv = 0n;
      if (c !== null) {
        const v = loadScalar(c, 0);
        if (v === undefined) return status(STATUS_SCALAR, N + 2 * k + 1);
        cv = v;
      }
      const entries: bigint[] = [];
      for (let i = 0; i < N; i++) {
        const v = loadScalar(acc, 32 * (offset + stride * i));
        if (v === undefined) return status(STATUS_SCALAR, i);
        entries.push(v);
      }
      // Same doubling construction as the native kernel: round j's choice enters as the
      // lowest bit and ends up at bit k−1−j.
      let t = [wv];
      for (let j = 0; j < k; j++) {
        const next = new Array<bigint>(2 * t.length);
        for (let i = 0; i < t.length; i++) {
          next[2 * i] = (t[i]! * ps[2 * j]!) % CURVE_ORDER;
          next[2 * i + 1] = (t[i]! * ps[2 * j + 1]!) % CURVE_ORDER;
        }
        t = next;
      }
      for (let i = 0; i < N; i++) writeBigint(acc, 32 * (offset + stride * i), 32, (entries[i]! + t[i]! + cv) % CURVE_ORDER);
      return STATUS_OK;
    },

    progressionX(out, start64, step64, n): Status {
      const start = load64(start64, 0);
      if (start === undefined) return status(STATUS_POINT, 0);
      const step = load64(step64, 0);
      if (step === undefined) return status(STATUS_POINT, 1);
      const CHUNK = 1024;
      let cur = start;
      for (let done = 0; done < n; done += CHUNK) {
        const chunk: Point[] = [];
        for (let i = 0; i < Math.min(CHUNK, n - done); i++) {
          chunk.push(cur);
          cur = cur.add(step);
        }
        const affine = normalizeZ(Point, chunk);
        for (let i = 0; i < affine.length; i++) {
          const off = 32 * (done + i);
          if (affine[i]!.is0()) out.fill(0, off, off + 32);
          else writeBigint(out, off, 32, affine[i]!.toAffine().x);
        }
      }
      return STATUS_OK;
    },

    tableCreate(in64, n) {
      const points: Point[] = [];
      for (let i = 0; i < n; i++) {
        const p = load64(in64, 64 * i);
        if (p === undefined) return status(STATUS_POINT, i);
        points.push(p);
      }
      const table: JsTable = { points };
      return table;
    },

    msm(out, table, tk, nt, pts, stride, k, n, g): Status {
      const tableScalars: bigint[] = [];
      for (let i = 0; i < nt; i++) {
        const s = loadScalar(tk!, 32 * i);
        if (s === undefined) return status(STATUS_SCALAR, i);
        tableScalars.push(s);
      }
      const points: Point[] = [];
      for (let i = 0; i < n; i++) {
        const p = stride === 64 ? load64(pts!, 64 * i) : load33(pts!, 33 * i);
        if (p === undefined) return status(STATUS_POINT, nt + i);
        points.push(p);
      }
      const scalars: bigint[] = [];
      for (let i = 0; i < n; i++) {
        const s = loadScalar(k!, 32 * i);
        if (s === undefined) return status(STATUS_SCALAR, nt + n + i);
        scalars.push(s);
      }
      let gs = 0n;
      if (g !== null) {
        const s = loadScalar(g, 0);
        if (s === undefined) return status(STATUS_SCALAR, nt + 2 * n);
        gs = s;
      }
      // Zero scalars and identity points add nothing and are left out.
      const terms: StraussTerm[] = [];
      if (nt > 0) {
        const t = table as JsTable;
        t.multiples ??= oddMultiples(
          t.points.map((p) => (p.is0() ? Point.BASE : p)),
          tableWindow(t.points.length),
        );
        for (let i = 0; i < nt; i++) {
          if (tableScalars[i] !== 0n && !t.points[i]!.is0()) terms.push({ table: t.multiples, index: i, scalars: tk!, off: 32 * i });
        }
      }
      const live: number[] = [];
      for (let i = 0; i < n; i++) if (!points[i]!.is0() && scalars[i] !== 0n) live.push(i);
      let rest = Point.ZERO;
      if (live.length > INTERLEAVED_MAX) {
        rest = pippenger(Point, live.map((i) => points[i]!), live.map((i) => scalars[i]!));
      } else if (live.length > 0) {
        const vm = oddMultiples(live.map((i) => points[i]!), VARIABLE_WIDTH);
        live.forEach((i, j) => terms.push({ table: vm, index: j, scalars: k!, off: 32 * i }));
      }
      if (gs !== 0n) {
        baseMultiples ??= oddMultiples([Point.BASE], 10);
        terms.push({ table: baseMultiples, index: 0, scalars: g!, off: 0 });
      }
      const sum = strauss(terms);
      const acc = sum === undefined ? rest : Point.fromAffine(sum).add(rest);
      store64(out, 0, acc);
      return STATUS_OK;
    },
  };
}
