/**
 * The checked group API on the active backend (this file runs once per backend
 * project): known answers, the point at infinity, algebraic identities, and
 * rejection of every kind of malformed input with the right typed error.
 */
import { describe, expect, it } from 'vitest';
import { ZkmeterError } from '../lib/errors.js';
import { backendName, getGroup, loadBackend } from '../lib/backend/index.js';
import { CURVE_ORDER, FIELD_PRIME, concatBytes, scalarsToBytes, writeBigint } from '../lib/backend/bytes.js';
import { TestRng, offCurvePoint, testSeed } from './support/rng.js';
import { compressedX, hex, isCurveX } from './support/curve.js';

const g = getGroup();
const seed = testSeed();
const rng = new TestRng(seed);
console.log(`backend.test.ts on ${g.name}: seed ${seed} (set ZKMETER_TEST_SEED to replay)`);

const GX = '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
const GY = '483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8';
const INF = new Uint8Array(64);
const sc = (...ks: bigint[]) => scalarsToBytes(ks);

function expectError(fn: () => unknown, code: string, index?: number): ZkmeterError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a ZkmeterError').toBeInstanceOf(ZkmeterError);
  const err = caught as ZkmeterError;
  expect(err.code).toBe(code);
  if (index !== undefined) expect(err.index).toBe(index);
  return err;
}

describe(`backend selection`, () => {
  it('uses the backend named by ZKMETER_BACKEND', () => {
    expect(backendName()).toBe(process.env.ZKMETER_BACKEND);
  });
  it('rejects an unknown backend name', () => {
    expectError(() => loadBackend('wasm' as never), 'INVALID_ARGUMENT');
  });
});

describe(`group operations (${g.name})`, () => {
  it('1·G is the standard generator, and compresses to 02‖x', () => {
    const G = g.mulGen(sc(1n));
    expect(hex(G)).toBe(GX + GY);
    expect(hex(g.compress(G))).toBe('02' + GX);
    expect(hex(g.decompress(g.compress(G)))).toBe(GX + GY);
  });

  it('(n−1)·G = −G, 2·G = G + G, and k·G from mul, mulVartime and mulGen agree', () => {
    const G = g.mulGen(sc(1n));
    expect(hex(g.mulGen(sc(CURVE_ORDER - 1n)))).toBe(hex(g.negate(G)));
    expect(hex(g.mulGen(sc(2n)))).toBe(hex(g.add(G, G)));
    for (let i = 0; i < 10; i++) {
      const k = sc(rng.scalar());
      const viaGen = g.mulGen(k);
      expect(hex(g.mul(G, k))).toBe(hex(viaGen));
      expect(hex(g.mulVartime(G, k))).toBe(hex(viaGen));
    }
  });

  it('represents the point at infinity as 64 zero bytes, everywhere', () => {
    const P = g.mulGen(sc(rng.scalar() || 7n));
    expect(hex(g.add(P, g.negate(P)))).toBe(hex(INF));
    expect(hex(g.mul(P, sc(0n)))).toBe(hex(INF));
    expect(hex(g.mulVartime(P, sc(0n)))).toBe(hex(INF));
    expect(hex(g.mulGen(sc(0n)))).toBe(hex(INF));
    expect(hex(g.mul(INF, sc(5n)))).toBe(hex(INF));
    expect(hex(g.negate(INF))).toBe(hex(INF));
    expect(hex(g.add(INF, P))).toBe(hex(P));
    expect(hex(g.add(P, INF))).toBe(hex(P));
    expect(hex(g.msm({}))).toBe(hex(INF));
    expect(hex(g.msm({ points: P, scalars: sc(0n) }))).toBe(hex(INF));
    expect(hex(g.msm({ points: concatBytes(P, P), scalars: sc(3n, CURVE_ORDER - 3n) }))).toBe(hex(INF));
    g.validate(INF);
    expectError(() => g.compress(concatBytes(P, INF)), 'POINT_AT_INFINITY', 1);
  });

  it('empty vectors give empty results', () => {
    const empty = new Uint8Array(0);
    expect(g.decompress(empty).length).toBe(0);
    expect(g.compress(empty).length).toBe(0);
    expect(g.add(empty, empty).length).toBe(0);
    expect(g.mul(empty, empty).length).toBe(0);
    expect(g.mulGen(empty).length).toBe(0);
    expect(g.createTable(empty).size).toBe(0);
  });

  for (const n of [0, 1, 2, 3, 87, 88, 89, 128]) {
    it(`msm of ${n} points equals the sum of single multiplications`, () => {
      const points = g.mulGen(rng.scalars(n));
      const scalars = rng.scalars(n);
      const products = g.mulVartime(points, scalars);
      let sum: Uint8Array = INF;
      for (let i = 0; i < n; i++) sum = g.add(sum, products.subarray(64 * i, 64 * i + 64));
      expect(hex(g.msm({ points, scalars }))).toBe(hex(sum));
      // The same points, compressed, give the same result.
      if (n > 0 && !points.some((_, i) => i % 64 === 0 && points.subarray(i, i + 64).every((b) => b === 0))) {
        expect(hex(g.msm({ points: g.compress(points), pointFormat: 'compressed', scalars }))).toBe(hex(sum));
      }
    });
  }

  it('msm mixes a prepared table, variable points and G in one call', () => {
    const tablePoints = g.mulGen(rng.scalars(20));
    const table = g.createTable(tablePoints);
    expect(table.size).toBe(20);
    expect(table.backend).toBe(g.name);
    const ts = rng.scalars(12); // uses only the first 12 table points
    const points = g.mulGen(rng.scalars(5));
    const scalars = rng.scalars(5);
    const gScalar = sc(rng.scalar());
    const expected = g.msm({
      points: concatBytes(tablePoints.subarray(0, 12 * 64), points, g.mulGen(sc(1n))),
      scalars: concatBytes(ts, scalars, gScalar),
    });
    expect(hex(g.msm({ table, tableScalars: ts, points, scalars, gScalar }))).toBe(hex(expected));
  });
});

describe(`input rejection (${g.name})`, () => {
  const P = g.mulGen(sc(12345n));
  const P33 = g.compress(P);

  it('decompress rejects wrong lengths, bad prefixes, x ≥ p and x off the curve', () => {
    expectError(() => g.decompress(P33.subarray(0, 32)), 'INVALID_LENGTH');
    expectError(() => g.decompress(concatBytes(P33, new Uint8Array(1))), 'INVALID_LENGTH');
    for (const prefix of [0x00, 0x01, 0x04, 0x05, 0x06, 0x07, 0xff]) {
      const bad = P33.slice();
      bad[0] = prefix;
      expectError(() => g.decompress(concatBytes(P33, bad)), 'INVALID_POINT', 1);
    }
    expectError(() => g.decompress(compressedX(FIELD_PRIME)), 'INVALID_POINT', 0);
    expectError(() => g.decompress(compressedX(FIELD_PRIME + 1n, 3)), 'INVALID_POINT', 0);
    expectError(() => g.decompress(compressedX(2n ** 256n - 1n)), 'INVALID_POINT', 0);
    let x = 1n;
    while (isCurveX(x)) x++;
    expectError(() => g.decompress(concatBytes(P33, P33, compressedX(x))), 'INVALID_POINT', 2);
    // x = 0 is not on secp256k1 either (7 is not a square mod p).
    expectError(() => g.decompress(compressedX(0n)), 'INVALID_POINT', 0);
  });

  it('affine inputs must be on the curve with canonical coordinates', () => {
    expectError(() => g.validate(concatBytes(P, offCurvePoint())), 'INVALID_POINT', 1);
    // (x, p − y) is −P; (x, 2p − y) does not fit, but (x, y + p) would if y < 2^256 − p: reject it.
    const yPlusP = P.slice();
    const y = BigInt('0x' + hex(P.subarray(32)));
    if (y + FIELD_PRIME < 2n ** 256n) {
      writeBigint(yPlusP, 32, 32, y + FIELD_PRIME);
      expectError(() => g.validate(yPlusP), 'INVALID_POINT', 0);
    }
    const xPlusP = P.slice();
    const x = BigInt('0x' + hex(P.subarray(0, 32)));
    if (x + FIELD_PRIME < 2n ** 256n) {
      writeBigint(xPlusP, 0, 32, x + FIELD_PRIME);
      expectError(() => g.validate(xPlusP), 'INVALID_POINT', 0);
    }
    expectError(() => g.add(P, offCurvePoint()), 'INVALID_POINT', 1);
    expectError(() => g.add(offCurvePoint(), P), 'INVALID_POINT', 0);
    expectError(() => g.negate(offCurvePoint()), 'INVALID_POINT', 0);
    expectError(() => g.mul(offCurvePoint(), sc(1n)), 'INVALID_POINT', 0);
    expectError(() => g.compress(offCurvePoint()), 'INVALID_POINT', 0);
    expectError(() => g.createTable(concatBytes(P, P, offCurvePoint())), 'INVALID_POINT', 2);
    expectError(() => g.msm({ points: concatBytes(P, offCurvePoint()), scalars: sc(1n, 1n) }), 'INVALID_POINT', 1);
    expectError(() => g.validate(P.subarray(1)), 'INVALID_LENGTH');
  });

  it('scalars must be canonical: n, n + 1 and 2^256 − 1 are rejected, never reduced', () => {
    for (const raw of [CURVE_ORDER, CURVE_ORDER + 1n, 2n ** 256n - 1n]) {
      const bad = new Uint8Array(32);
      writeBigint(bad, 0, 32, raw);
      expectError(() => g.mulGen(concatBytes(sc(1n), bad)), 'INVALID_SCALAR', 1);
      expectError(() => g.mul(concatBytes(P, P), concatBytes(sc(1n), bad)), 'INVALID_SCALAR', 3);
      expectError(() => g.mulVartime(P, bad), 'INVALID_SCALAR', 1);
      expectError(() => g.msm({ points: P, scalars: bad }), 'INVALID_SCALAR', 1);
      expectError(() => g.msm({ points: P, scalars: sc(1n), gScalar: bad }), 'INVALID_SCALAR', 2);
      const table = g.createTable(P);
      expectError(() => g.msm({ table, tableScalars: bad }), 'INVALID_SCALAR', 0);
      expectError(() => scalarsToBytes([raw]), 'INVALID_SCALAR', 0);
    }
    expectError(() => scalarsToBytes([-1n]), 'INVALID_SCALAR', 0);
  });

  it('invertScalars: k·k⁻¹ = 1 for edge and random scalars; 0 and non-canonical values are refused', () => {
    const ks = [1n, 2n, CURVE_ORDER - 1n, CURVE_ORDER - 2n, 2n ** 255n, ...Array.from({ length: 20 }, () => rng.scalar() || 1n)];
    const inv = g.invertScalars(sc(...ks));
    ks.forEach((k, i) => {
      const v = BigInt('0x' + hex(inv.subarray(32 * i, 32 * i + 32)));
      expect((k * v) % CURVE_ORDER).toBe(1n);
    });
    expect(g.invertScalars(new Uint8Array(0))).toEqual(new Uint8Array(0));
    const zero = expectError(() => g.invertScalars(sc(5n, 0n, 7n)), 'INVALID_SCALAR', 1);
    expect(zero.message).toContain('zero');
    const bad = new Uint8Array(32);
    writeBigint(bad, 0, 32, CURVE_ORDER);
    expectError(() => g.invertScalars(concatBytes(sc(3n), bad)), 'INVALID_SCALAR', 1);
    expectError(() => g.invertScalars(new Uint8Array(33)), 'INVALID_LENGTH');
  });

  it('rejects mismatched vector lengths and foreign or missing tables', () => {
    expectError(() => g.add(P, concatBytes(P, P)), 'INVALID_LENGTH');
    expectError(() => g.mul(P, sc(1n, 2n)), 'INVALID_LENGTH');
    expectError(() => g.msm({ points: P, scalars: sc(1n, 2n) }), 'INVALID_LENGTH');
    expectError(() => g.msm({ points: P }), 'INVALID_LENGTH');
    expectError(() => g.msm({ points: P33, pointFormat: 'compressed', scalars: sc(1n), gScalar: sc(1n, 2n) }), 'INVALID_LENGTH');
    expectError(() => g.msm({ tableScalars: sc(1n) }), 'INVALID_ARGUMENT');
    const table = g.createTable(P);
    expectError(() => g.msm({ table, tableScalars: sc(1n, 2n) }), 'INVALID_LENGTH');
    const other = loadBackend(g.name === 'js' ? 'js' : 'js').createTable(P);
    if (g.name === 'native') expectError(() => g.msm({ table: other, tableScalars: sc(1n) }), 'INVALID_ARGUMENT');
    expectError(() => g.msm({ table: { backend: g.name, size: 1, points: P }, tableScalars: sc(1n) }), 'INVALID_ARGUMENT');
    expectError(() => g.msm({ points: P, scalars: sc(1n), pointFormat: 'raw' as never }), 'INVALID_ARGUMENT');
    expectError(() => g.mulGen('00' as never), 'INVALID_ARGUMENT');
    expectError(() => g.msm(null as never), 'INVALID_ARGUMENT');
  });

  it('error messages name the offending element', () => {
    const err = expectError(() => g.mul(concatBytes(P, offCurvePoint()), sc(1n, 2n)), 'INVALID_POINT', 1);
    expect(err.message).toBe('"points[1]" expected a valid secp256k1 point');
  });
});

describe(`constant-time operations (${g.name})`, () => {
  const P = g.mulGen(sc(12345n));
  const Q = g.mulGen(sc(777n));
  const H = g.mulGen(sc(31337n));

  it('msmConst and selectSum with extra terms: known answers, zero scalars and cancellation', () => {
    const G = g.mulGen(sc(1n));
    expect(hex(g.msmConst(concatBytes(G, H), sc(0n, 0n)))).toBe(hex(INF));
    expect(hex(g.msmConst(concatBytes(G, g.negate(G)), sc(5n, 5n)))).toBe(hex(INF));
    expect(hex(g.msmConst(concatBytes(G, G), sc(2n, CURVE_ORDER - 1n)))).toBe(hex(G));
    // Σ sel ? a : b + Σ k·P, against its parts.
    const a = concatBytes(P, Q);
    const b = concatBytes(Q, g.negate(P));
    for (const sel of [Uint8Array.of(0, 0), Uint8Array.of(1, 0), Uint8Array.of(0, 1), Uint8Array.of(1, 1)]) {
      for (const k of [0n, 1n, CURVE_ORDER - 1n, rng.scalar()]) {
        const extra = { points: concatBytes(H, P), scalars: sc(k, 3n) };
        const expected = g.add(g.selectSum(a, b, sel), g.add(g.mul(H, sc(k)), g.mul(P, sc(3n))));
        expect(hex(g.selectSum(a, b, sel, extra))).toBe(hex(expected));
      }
    }
    // Without selections, only the extra terms; extra infinity points are allowed (and skipped).
    const empty = new Uint8Array(0);
    expect(hex(g.selectSum(empty, empty, empty, { points: concatBytes(P, INF), scalars: sc(2n, 9n) }))).toBe(hex(g.add(P, P)));
    expect(hex(g.selectSum(empty, empty, empty, { points: empty, scalars: empty }))).toBe(hex(INF));
  });

  it('selectSum rejects bad extra terms with the right error, index and title', () => {
    const a = concatBytes(P, Q);
    const sel = Uint8Array.of(1, 0);
    const bad = new Uint8Array(32);
    writeBigint(bad, 0, 32, CURVE_ORDER);
    let err = expectError(() => g.selectSum(a, a, sel, { points: concatBytes(P, offCurvePoint()), scalars: sc(1n, 1n) }), 'INVALID_POINT', 7);
    expect(err.message).toBe('"extra.points[1]" expected a valid secp256k1 point');
    err = expectError(() => g.selectSum(a, a, sel, { points: concatBytes(P, P), scalars: concatBytes(sc(1n), bad) }), 'INVALID_SCALAR', 9);
    expect(err.message).toBe('"extra.scalars[1]" expected a canonical scalar (< n)');
    // Selectors are checked before the extra terms.
    err = expectError(() => g.selectSum(a, a, Uint8Array.of(1, 2), { points: offCurvePoint(), scalars: sc(1n) }), 'INVALID_ARGUMENT');
    expect(err.message).toBe('"selectors[1]" expected 0 or 1');
    // All of a is checked before b.
    expectError(() => g.selectSum(concatBytes(P, offCurvePoint()), concatBytes(offCurvePoint(), P), sel), 'INVALID_POINT', 1);
    expectError(() => g.selectSum(a, a, sel, { points: P, scalars: sc(1n, 2n) }), 'INVALID_LENGTH');
    expectError(() => g.selectSum(a, a, sel, { points: P.subarray(1), scalars: sc(1n) }), 'INVALID_LENGTH');
    expectError(() => g.selectSum(a, a, sel, null as never), 'INVALID_ARGUMENT');
  });
});
