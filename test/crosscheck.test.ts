/**
 * Native vs pure TypeScript, byte for byte, on thousands of random inputs:
 * every operation, MSM sizes around the Strauss/Pippenger switch (87/88/89) and
 * beyond, zero scalars, infinity inputs and results, and malformed inputs,
 * which must fail with the same typed error, index and message on both.
 * Runs in the native project only (it needs the addon).
 */
import { describe, expect, it } from 'vitest';
import { loadBackend, type Group } from '../lib/backend/index.js';
import { CURVE_ORDER, concatBytes, scalarsToBytes } from '../lib/backend/bytes.js';
import { ZkmeterError } from '../lib/errors.js';
import { TestRng, offCurvePoint, testSeed } from './support/rng.js';
import { hex } from './support/curve.js';

const native = loadBackend('native');
const js = loadBackend('js');
const seed = testSeed();
const rng = new TestRng(seed);
console.log(`crosscheck.test.ts: seed ${seed} (set ZKMETER_TEST_SEED to replay)`);

type Outcome = { ok: string } | { code: string; index: number | undefined; message: string };

function run(g: Group, f: (g: Group) => Uint8Array | void): Outcome {
  try {
    const r = f(g);
    return { ok: r ? hex(r) : '' };
  } catch (e) {
    if (!(e instanceof ZkmeterError)) throw e;
    return { code: e.code, index: e.index, message: e.message };
  }
}

/** Runs f on both backends and requires identical bytes or an identical error. */
function agree(f: (g: Group) => Uint8Array | void): Outcome {
  const a = run(native, f);
  const b = run(js, f);
  expect(b).toEqual(a);
  return a;
}

const INF = new Uint8Array(64);

/** Random valid points: mostly uniform, sometimes infinity, G, or repeats. */
function points(n: number, infinity = true): Uint8Array {
  const out = new Uint8Array(64 * n);
  // Zero scalars give infinity; keep them out when infinity is not wanted.
  const fresh = native.mulGen(infinity ? rng.scalars(n) : scalarsToBytes(Array.from({ length: n }, () => rng.scalar() || 1n)));
  for (let i = 0; i < n; i++) {
    const r = rng.int(16);
    const p =
      r === 0 && infinity
        ? INF
        : r === 1 && i > 0
          ? out.slice(64 * (i - 1), 64 * i) // repeat the previous point
          : fresh.subarray(64 * i, 64 * i + 64);
    out.set(p, 64 * i);
  }
  return out;
}

describe('native and js agree byte for byte', () => {
  it('mulGen on 1000 scalars (edge values included)', () => {
    const k = rng.scalars(1000);
    agree((g) => g.mulGen(k));
    agree((g) => g.mulGen(scalarsToBytes([0n, 1n, 2n, CURVE_ORDER - 1n, CURVE_ORDER - 2n])));
  });

  it('decompress/compress on 2000 random encodings, valid and invalid', () => {
    let valid = 0;
    for (let i = 0; i < 2000; i++) {
      const enc = new Uint8Array(33);
      const r = rng.int(8);
      if (r < 5) enc.set(native.compress(native.mulGen(scalarsToBytes([rng.scalar() || 1n]))));
      else enc.set(rng.bytes(33));
      if (r === 5) enc[0] = 2 + rng.int(2);
      if (r === 6) enc.fill(0xff, 1, 1 + rng.int(33));
      const out = agree((g) => g.decompress(enc));
      if ('ok' in out) {
        valid++;
        agree((g) => g.compress(g.decompress(enc)));
      }
    }
    expect(valid).toBeGreaterThan(1000);
    expect(valid).toBeLessThan(2000);
  });

  it('add, negate on 1000 pairs, including P + P, P + (−P) and infinity', () => {
    const a = points(1000);
    const b = points(1000);
    for (let i = 0; i < 1000; i += 10) b.set(a.subarray(64 * i, 64 * i + 64), 64 * i); // doubling
    const negA = native.negate(a);
    for (let i = 5; i < 1000; i += 10) b.set(negA.subarray(64 * i, 64 * i + 64), 64 * i); // cancels
    agree((g) => g.add(a, b));
    agree((g) => g.negate(b));
  });

  it('mul (constant time) on 200 and mulVartime on 400 random pairs', () => {
    const p1 = points(200);
    const k1 = rng.scalars(200);
    agree((g) => g.mul(p1, k1));
    const p2 = points(400);
    const k2 = rng.scalars(400);
    agree((g) => g.mulVartime(p2, k2));
  });

  for (const n of [0, 1, 2, 3, 5, 8, 16, 31, 64, 87, 88, 89, 128, 1024]) {
    it(`msm of ${n} points, alone, compressed, and with a table and G`, () => {
      const pts = points(n);
      const k = rng.scalars(n);
      agree((g) => g.msm({ points: pts, scalars: k }));
      const finite = points(n, false);
      agree((g) => g.msm({ points: g.compress(finite), pointFormat: 'compressed', scalars: k }));
      const tablePoints = points(n + 3);
      const ts = rng.scalars(n);
      const gs = rng.scalars(1);
      const tables = new Map<Group, ReturnType<Group['createTable']>>();
      agree((g) => {
        if (!tables.has(g)) tables.set(g, g.createTable(tablePoints));
        return g.msm({ table: tables.get(g)!, tableScalars: ts, points: pts, scalars: k, gScalar: gs });
      });
    });
  }

  for (const n of [0, 1, 2, 3, 17, 64, 129]) {
    it(`msmConst of ${n} points (secret scalars) equals the variable-time MSM, on both`, () => {
      const pts = points(n);
      const k = rng.scalars(n);
      const out = agree((g) => g.msmConst(pts, k));
      expect(out).toEqual({ ok: hex(native.msm({ points: pts, scalars: k })) });
    });
  }

  it('selectSum on 200 random selections equals the sum of the chosen points, on both', () => {
    const a = points(200, false);
    const b = points(200, false);
    const sel = Uint8Array.from({ length: 200 }, () => rng.int(2));
    const out = agree((g) => g.selectSum(a, b, sel));
    const chosen = concatBytes(...Array.from(sel, (s, i) => (s ? a : b).subarray(64 * i, 64 * i + 64)));
    expect(out).toEqual({ ok: hex(native.msm({ points: chosen, scalars: scalarsToBytes(Array(200).fill(1n)) })) });
  });

  it('scalarTensorAcc on random tensors, with and without a constant, and with a zero first element, on both', () => {
    for (const [k, zeroAt] of [[0, -1], [1, -1], [3, -1], [6, -1], [3, 1], [5, 0]] as const) {
      const N = 2 ** k;
      const base = rng.scalars(2 * N + 1);
      const pairs = rng.scalars(2 * k);
      // A zero p0 takes the kernel's other construction (it cannot divide by p0).
      if (zeroAt >= 0) pairs.fill(0, 64 * zeroAt, 64 * zeroAt + 32);
      const w = rng.scalars(1);
      const c = rng.scalars(1);
      agree((g) => {
        const acc = base.slice();
        g.scalarTensorAcc(acc, { offset: 1, stride: 2, pairs, w });
        g.scalarTensorAcc(acc, { offset: 0, stride: 2, pairs, w, c });
        return acc;
      });
    }
  });

  it('msm with repeated points and edge scalars: doublings and cancellations inside the accumulation', () => {
    // Straus (js-strauss.ts) meets the accumulator equal to ±(the entry it adds) when a
    // point repeats with related scalars: these pairs reach both special cases.
    const special = [1n, 2n, 3n, 15n, 2n ** 128n, 2n ** 255n, CURVE_ORDER - 1n, CURVE_ORDER - 2n, CURVE_ORDER - 3n, (CURVE_ORDER - 1n) / 2n];
    const p = points(1, false);
    const G = native.mulGen(scalarsToBytes([1n]));
    const table = new Map<Group, ReturnType<Group['createTable']>>();
    for (const a of special) {
      for (const b of special) {
        const k = scalarsToBytes([a, b]);
        agree((g) => g.msm({ points: concatBytes(p, p), scalars: k }));
        agree((g) => g.msm({ points: G, scalars: scalarsToBytes([a]), gScalar: scalarsToBytes([b]) }));
        agree((g) => {
          if (!table.has(g)) table.set(g, g.createTable(concatBytes(p, p, G)));
          return g.msm({ table: table.get(g)!, tableScalars: scalarsToBytes([a, b, a]), points: p, scalars: scalarsToBytes([b]), gScalar: scalarsToBytes([b]) });
        });
      }
    }
    // Cancellation to infinity in the middle, then more terms.
    const q = points(1, false);
    agree((g) => g.msm({ points: concatBytes(p, p, q), scalars: scalarsToBytes([1n, CURVE_ORDER - 1n, 5n]) }));
  });

  it('invertScalars on 500 random scalars, and its errors', () => {
    const ks = scalarsToBytes(Array.from({ length: 500 }, () => rng.scalar() || 1n));
    agree((g) => g.invertScalars(ks));
    agree((g) => g.invertScalars(scalarsToBytes([1n, 0n])));
  });

  it('msm results at infinity', () => {
    const p = points(40, false);
    const k = rng.scalars(40);
    const negK = scalarsToBytes(
      Array.from({ length: 40 }, (_, i) => {
        const v = BigInt('0x' + hex(k.subarray(32 * i, 32 * i + 32)));
        return v === 0n ? 0n : CURVE_ORDER - v;
      }),
    );
    const out = agree((g) => g.msm({ points: concatBytes(p, p), scalars: concatBytes(k, negK) }));
    expect(out).toEqual({ ok: hex(INF) });
    agree((g) => g.msm({ points: p, scalars: new Uint8Array(32 * 40) }));
  });

  it('30 random mixed MSMs of random sizes', () => {
    for (let t = 0; t < 30; t++) {
      const n = rng.int(200);
      const pts = points(n);
      const k = rng.scalars(n);
      const gs = rng.int(2) ? rng.scalars(1) : undefined;
      agree((g) => g.msm({ points: pts, scalars: k, ...(gs ? { gScalar: gs } : {}) }));
    }
  });
});

describe('native and js reject malformed input identically', () => {
  const P = native.mulGen(scalarsToBytes([99n]));
  const badScalar = new Uint8Array(32).fill(0xff);
  const cases: [string, (g: Group) => Uint8Array | void][] = [
    ['decompress short', (g) => g.decompress(new Uint8Array(32))],
    ['decompress prefix 04', (g) => g.decompress(concatBytes(g.compress(P), new Uint8Array([4]), new Uint8Array(32)))],
    ['validate off-curve', (g) => g.validate(concatBytes(P, offCurvePoint()))],
    ['compress infinity', (g) => g.compress(concatBytes(P, P, INF))],
    ['add off-curve b', (g) => g.add(concatBytes(P, P), concatBytes(P, offCurvePoint()))],
    ['mul bad scalar', (g) => g.mul(concatBytes(P, P), concatBytes(scalarsToBytes([1n]), badScalar))],
    ['mul bad point before bad scalar', (g) => g.mul(concatBytes(P, offCurvePoint()), concatBytes(badScalar, badScalar))],
    ['mulGen bad scalar', (g) => g.mulGen(concatBytes(scalarsToBytes([1n, 2n]), badScalar))],
    ['msm bad g', (g) => g.msm({ points: P, scalars: scalarsToBytes([1n]), gScalar: badScalar })],
    ['msm bad point', (g) => g.msm({ points: concatBytes(P, offCurvePoint()), scalars: concatBytes(badScalar, badScalar) })],
    ['msm count mismatch', (g) => g.msm({ points: P, scalars: new Uint8Array(64) })],
    ['table bad point', (g) => void g.createTable(concatBytes(P, offCurvePoint()))],
    ['msmConst bad scalar', (g) => g.msmConst(concatBytes(P, P), concatBytes(scalarsToBytes([1n]), badScalar))],
    ['msmConst bad point', (g) => g.msmConst(concatBytes(P, offCurvePoint()), concatBytes(badScalar, badScalar))],
    ['selectSum bad selector', (g) => g.selectSum(concatBytes(P, P), concatBytes(P, P), Uint8Array.of(1, 2))],
    ['selectSum infinity', (g) => g.selectSum(concatBytes(P, P), concatBytes(P, INF), Uint8Array.of(1, 0))],
    ['selectSum length mismatch', (g) => g.selectSum(P, P, Uint8Array.of(1, 0))],
    ['scalarTensorAcc bad pair', (g) => { const acc = new Uint8Array(64); g.scalarTensorAcc(acc, { offset: 0, stride: 1, pairs: concatBytes(scalarsToBytes([1n]), badScalar), w: scalarsToBytes([1n]) }); return acc; }],
    ['scalarTensorAcc bad acc entry', (g) => { const acc = concatBytes(scalarsToBytes([1n]), badScalar); g.scalarTensorAcc(acc, { offset: 0, stride: 1, pairs: scalarsToBytes([1n, 2n]), w: scalarsToBytes([1n]) }); return acc; }],
    ['scalarTensorAcc too short', (g) => { const acc = new Uint8Array(32); g.scalarTensorAcc(acc, { offset: 0, stride: 1, pairs: scalarsToBytes([1n, 2n]), w: scalarsToBytes([1n]) }); return acc; }],
  ];
  for (const [name, f] of cases) {
    it(name, () => {
      const out = agree(f);
      expect('code' in out).toBe(true);
    });
  }
});
