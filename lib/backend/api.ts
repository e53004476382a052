/**
 * The checked {@link Group} API over any {@link RawGroup}: validates types and
 * lengths, allocates outputs, and maps raw statuses to typed errors through one
 * table, so both backends fail in exactly the same way.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { AFFINE_BYTES, COMPRESSED_BYTES, SCALAR_BYTES, abytes, acount } from './bytes.js';
import {
  STATUS_INFINITY,
  STATUS_MEMORY,
  STATUS_OK,
  STATUS_POINT,
  STATUS_SCALAR,
  type Group,
  type MsmInput,
  type PointTable,
  type RawGroup,
  type RawTable,
  type Status,
} from './group.js';

/** Raw handles live here, so a PointTable exposes nothing a caller could forge. */
const rawTables = new WeakMap<PointTable, RawTable>();

/** Throws the typed error for a non-zero status; `name` titles the offending element. */
function check(st: Status, name: (index: number) => string): void {
  if (st === STATUS_OK) return;
  const code = st % 8;
  const index = (st - code) / 8;
  const title = `"${name(index)}"`;
  switch (code) {
    case STATUS_POINT:
      throw new ZkmeterError('INVALID_POINT', `${title} expected a valid secp256k1 point`, { index });
    case STATUS_SCALAR:
      throw new ZkmeterError('INVALID_SCALAR', `${title} expected a canonical scalar (< n)`, { index });
    case STATUS_INFINITY:
      throw new ZkmeterError('POINT_AT_INFINITY', `${title} is the point at infinity, which has no encoding`, {
        index,
      });
    case STATUS_MEMORY:
      throw new ZkmeterError('OUT_OF_MEMORY', 'native kernel: out of memory');
    default:
      throw new ZkmeterError('INTERNAL', `native kernel: internal error (status ${st})`);
  }
}

function sameCount(a: number, b: number, titleA: string, titleB: string): void {
  if (a !== b) {
    throw new ZkmeterError('INVALID_LENGTH', `"${titleB}" expected ${a} elements to match "${titleA}", got ${b}`);
  }
}

/** Wraps a raw backend in the checked API. */
export function createGroup(raw: RawGroup): Group {
  const group: Group = {
    name: raw.name,

    decompress(points33) {
      const n = acount(points33, 'points', COMPRESSED_BYTES);
      const out = new Uint8Array(AFFINE_BYTES * n);
      check(raw.decompress(out, points33, n), (i) => `points[${i}]`);
      return out;
    },

    compress(points) {
      const n = acount(points, 'points', AFFINE_BYTES);
      const out = new Uint8Array(COMPRESSED_BYTES * n);
      check(raw.compress(out, points, n), (i) => `points[${i}]`);
      return out;
    },

    validate(points) {
      const n = acount(points, 'points', AFFINE_BYTES);
      check(raw.validate(points, n), (i) => `points[${i}]`);
    },

    add(a, b) {
      const n = acount(a, 'a', AFFINE_BYTES);
      sameCount(n, acount(b, 'b', AFFINE_BYTES), 'a', 'b');
      const out = new Uint8Array(AFFINE_BYTES * n);
      check(raw.add(out, a, b, n), (i) => (i < n ? `a[${i}]` : `b[${i - n}]`));
      return out;
    },

    negate(a) {
      const n = acount(a, 'points', AFFINE_BYTES);
      const out = new Uint8Array(AFFINE_BYTES * n);
      check(raw.negate(out, a, n), (i) => `points[${i}]`);
      return out;
    },

    mul(points, scalars) {
      return mulWith(points, scalars, true);
    },

    mulVartime(points, scalars) {
      return mulWith(points, scalars, false);
    },

    mulGen(scalars) {
      const n = acount(scalars, 'scalars', SCALAR_BYTES);
      const out = new Uint8Array(AFFINE_BYTES * n);
      check(raw.mulGen(out, scalars, n), (i) => `scalars[${i}]`);
      return out;
    },

    msmConst(points, scalars) {
      const n = acount(points, 'points', AFFINE_BYTES);
      sameCount(n, acount(scalars, 'scalars', SCALAR_BYTES), 'points', 'scalars');
      const out = new Uint8Array(AFFINE_BYTES);
      check(raw.msmConst(out, points, scalars, n), (i) => (i < n ? `points[${i}]` : `scalars[${i - n}]`));
      return out;
    },

    selectSum(a, b, selectors, extra) {
      const n = acount(a, 'a', AFFINE_BYTES);
      sameCount(n, acount(b, 'b', AFFINE_BYTES), 'a', 'b');
      sameCount(n, abytes(selectors, 'selectors').length, 'a', 'selectors');
      let m = 0;
      if (extra !== undefined) {
        if (typeof extra !== 'object' || extra === null) {
          throw new ZkmeterError('INVALID_ARGUMENT', '"extra" expected {points, scalars}');
        }
        m = acount(extra.points, 'extra.points', AFFINE_BYTES);
        sameCount(m, acount(extra.scalars, 'extra.scalars', SCALAR_BYTES), 'extra.points', 'extra.scalars');
      }
      const out = new Uint8Array(AFFINE_BYTES);
      const st = raw.selectSum(out, a, b, selectors, n, m > 0 ? extra!.points : null, m > 0 ? extra!.scalars : null, m);
      const index = (st - (st % 8)) / 8;
      if (st % 8 === STATUS_SCALAR && index < 3 * n) {
        throw new ZkmeterError('INVALID_ARGUMENT', `"selectors[${index - 2 * n}]" expected 0 or 1`);
      }
      check(st, (i) =>
        i < n ? `a[${i}]` : i < 2 * n ? `b[${i - n}]` : i < 3 * n + m ? `extra.points[${i - 3 * n}]` : `extra.scalars[${i - 3 * n - m}]`,
      );
      return out;
    },

    scalarTensorAcc(acc, input) {
      const len = acount(acc, 'acc', SCALAR_BYTES);
      const { offset, stride, pairs, w, c } = input;
      const k = acount(pairs, 'pairs', 2 * SCALAR_BYTES);
      abytes(w, 'w', SCALAR_BYTES);
      if (c !== undefined) abytes(c, 'c', SCALAR_BYTES);
      if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(stride) || stride < 1 || k > 30) {
        throw new ZkmeterError('INVALID_ARGUMENT', '"offset", "stride" and "pairs" expected offset >= 0, stride >= 1, at most 30 pairs');
      }
      const N = 2 ** k;
      if (offset + stride * (N - 1) >= len) {
        throw new ZkmeterError('INVALID_LENGTH', `"acc" expected more than ${offset + stride * (N - 1)} scalars, got ${len}`);
      }
      check(raw.scalarTensorAcc(acc, offset, stride, k, k > 0 ? pairs : null, w, c ?? null), (i) =>
        i < N ? `acc[${offset + stride * i}]` : i < N + 2 * k ? `pairs[${i - N}]` : i === N + 2 * k ? 'w' : 'c',
      );
    },

    invertScalars(scalars) {
      const n = acount(scalars, 'scalars', SCALAR_BYTES);
      const out = new Uint8Array(SCALAR_BYTES * n);
      const st = raw.scalarInvert(out, scalars, n);
      const i = (st - STATUS_SCALAR) / 8;
      if (st % 8 === STATUS_SCALAR && scalars.subarray(32 * i, 32 * i + 32).every((b) => b === 0)) {
        throw new ZkmeterError('INVALID_SCALAR', `"scalars[${i}]" is zero, which has no inverse`, { index: i });
      }
      check(st, (i) => `scalars[${i}]`);
      return out;
    },

    schnorrSign(messages, secretKeys, aux) {
      const n = acount(messages, 'messages', 32);
      sameCount(n, acount(secretKeys, 'secretKeys', SCALAR_BYTES), 'messages', 'secretKeys');
      sameCount(n, acount(aux, 'aux', 32), 'messages', 'aux');
      const out = new Uint8Array(64 * n);
      const st = raw.schnorrSign(out, messages, secretKeys, aux, n);
      if (st % 8 === STATUS_SCALAR) {
        const i = (st - STATUS_SCALAR) / 8;
        throw new ZkmeterError('INVALID_SCALAR', `"secretKeys[${i}]" expected a secret key 0 < d < n`, { index: i });
      }
      check(st, (i) => `messages[${i}]`);
      return out;
    },

    progressionX(start, step, count) {
      abytes(start, 'start', AFFINE_BYTES);
      abytes(step, 'step', AFFINE_BYTES);
      if (!Number.isSafeInteger(count) || count < 0) {
        throw new ZkmeterError('INVALID_ARGUMENT', `"count" expected a non-negative integer, got ${count}`);
      }
      const out = new Uint8Array(32 * count);
      check(raw.progressionX(out, start, step, count), (i) => (i === 0 ? 'start' : 'step'));
      return out;
    },

    createTable(points) {
      const n = acount(points, 'points', AFFINE_BYTES);
      const copy = points.slice();
      const handle = raw.tableCreate(copy, n);
      if (typeof handle === 'number') check(handle, (i) => `points[${i}]`);
      const table: PointTable = Object.freeze({ backend: raw.name, size: n, points: copy });
      rawTables.set(table, handle);
      return table;
    },

    msm(input: MsmInput) {
      if (typeof input !== 'object' || input === null) {
        throw new ZkmeterError('INVALID_ARGUMENT', `"msm input" expected an object, got ${input === null ? 'null' : typeof input}`);
      }
      const { table, tableScalars, points, scalars, gScalar } = input;
      const format = input.pointFormat ?? 'affine';
      if (format !== 'affine' && format !== 'compressed') {
        throw new ZkmeterError('INVALID_ARGUMENT', `"pointFormat" expected 'affine' or 'compressed', got ${String(format)}`);
      }
      const stride = format === 'affine' ? AFFINE_BYTES : COMPRESSED_BYTES;
      let rawTable: RawTable | null = null;
      let nt = 0;
      if (tableScalars !== undefined) {
        nt = acount(tableScalars, 'tableScalars', SCALAR_BYTES);
        if (nt > 0 && table === undefined) {
          throw new ZkmeterError('INVALID_ARGUMENT', '"table" expected a PointTable when tableScalars are given');
        }
      }
      if (table !== undefined) {
        rawTable = rawTables.get(table) ?? null;
        if (rawTable === null || table.backend !== raw.name) {
          throw new ZkmeterError('INVALID_ARGUMENT', `"table" expected a PointTable created by the ${raw.name} backend`);
        }
        if (nt > table.size) {
          throw new ZkmeterError('INVALID_LENGTH', `"tableScalars" expected at most ${table.size} scalars, got ${nt}`);
        }
      }
      const n = points === undefined ? 0 : acount(points, 'points', stride);
      const ns = scalars === undefined ? 0 : acount(scalars, 'scalars', SCALAR_BYTES);
      sameCount(n, ns, 'points', 'scalars');
      if (gScalar !== undefined) abytes(gScalar, 'gScalar', SCALAR_BYTES);
      const out = new Uint8Array(AFFINE_BYTES);
      const st = raw.msm(
        out,
        rawTable,
        nt > 0 ? tableScalars! : null,
        nt,
        n > 0 ? points! : null,
        stride,
        n > 0 ? scalars! : null,
        n,
        gScalar ?? null,
      );
      check(st, (i) =>
        i < nt ? `tableScalars[${i}]` : i < nt + n ? `points[${i - nt}]` : i < nt + 2 * n ? `scalars[${i - nt - n}]` : 'gScalar',
      );
      return out;
    },
  };

  function mulWith(points: Uint8Array, scalars: Uint8Array, consttime: boolean): Uint8Array {
    const n = acount(points, 'points', AFFINE_BYTES);
    sameCount(n, acount(scalars, 'scalars', SCALAR_BYTES), 'points', 'scalars');
    const out = new Uint8Array(AFFINE_BYTES * n);
    check(raw.mul(out, points, scalars, n, consttime), (i) => (i < n ? `points[${i}]` : `scalars[${i - n}]`));
    return out;
  }

  return Object.freeze(group);
}
