/**
 * Properties of the native addon itself: scratch sizing that never splits an
 * MSM into batches, exported symbols, one native call per vector, and bounds
 * checks that crafted arguments cannot wrap.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAddon, packageRoot } from '../lib/backend/native.js';

const addon = loadAddon();

describe('native MSM scratch space', () => {
  it('fits every MSM from 1 to 5000 points in one batch (no silent 2× slowdown)', () => {
    const short: number[] = [];
    for (let n = 1; n <= 5000; n++) if (addon.msmBatchCapacity(n) < n) short.push(n);
    expect(short).toEqual([]);
  });
  it('does not over-allocate for Pippenger sizes', () => {
    // Strauss needs ~4 KiB per point; Pippenger well under 1 KiB: sized for the algorithm used.
    expect(addon.msmScratchBytes(1024) / 1024).toBeLessThan(1024);
    for (const n of [100, 1000, 10000, 20000]) expect(addon.msmBatchCapacity(n)).toBeGreaterThanOrEqual(n);
  });
});

describe('native addon binary', () => {
  const file = join(packageRoot(), 'build', 'Release', 'zkmeter.node');
  let nm = '';
  try {
    nm = execFileSync('nm', ['-D', '--defined-only', file], { encoding: 'utf8' });
  } catch {
    nm = '';
  }
  it.skipIf(process.platform !== 'linux' || !existsSync(file) || nm === '')(
    'exports only its N-API entry points (no libsecp256k1 symbols leak)',
    () => {
      const symbols = nm
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[2])
        .filter((s): s is string => !!s);
      expect(symbols.filter((s) => s.includes('secp256k1'))).toEqual([]);
      expect(symbols.sort()).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
    },
  );
});

/**
 * Bounds checks of the raw addon that cannot wrap (issue 14, item 5). Every crafted call must
 * throw a JavaScript error in this process (and a child process running the same calls must
 * exit normally, so a regression shows up as a signal rather than a dead test worker).
 */
describe('native bounds checks do not wrap', () => {
  const raw = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  const TWO64 = 2n ** 64n;
  const scalar = (v: bigint) => {
    const b = new Uint8Array(32);
    for (let i = 31; i >= 0; i--, v >>= 8n) b[i] = Number(v & 0xffn);
    return b;
  };
  const one = scalar(1n);
  const pairsOf = (k: number) => new Uint8Array(64 * k).fill(0).map((_, i) => (i % 32 === 31 ? 1 : 0));

  /**
   * offset and stride (both ≤ 1e12, so the addon accepts them as counts) for which the old check
   * offset + stride·(2^k − 1) < accLen passed after wrapping size_t to 0, while the kernel then
   * read acc at offset + stride·i, far outside the buffer: stride = ⌊2^64 / (2^k − 1)⌋ and
   * offset = 2^64 − stride·(2^k − 1).
   */
  function wrapping(k: number): { offset: number; stride: number } {
    const last = (1n << BigInt(k)) - 1n;
    const stride = TWO64 / last;
    const offset = TWO64 - stride * last;
    expect((offset + stride * last) % TWO64).toBe(0n); // the old arithmetic's "last index": 0
    expect(stride <= 10n ** 12n && offset <= 10n ** 12n).toBe(true);
    return { offset: Number(offset), stride: Number(stride) };
  }

  const crafted: [string, () => unknown][] = [];
  for (const k of [25, 26, 28, 30]) {
    const { offset, stride } = wrapping(k);
    crafted.push([`scalarTensorAcc k=${k} offset=${offset} stride=${stride} (wraps to index 0)`, () =>
      raw.scalarTensorAcc!(new Uint8Array(32 * 4), offset, stride, k, pairsOf(k), one, null)]);
  }
  crafted.push(
    ['scalarTensorAcc offset past the end, k = 0', () => raw.scalarTensorAcc!(new Uint8Array(32 * 4), 4, 1, 0, null, one, null)],
    ['scalarTensorAcc offset 1e12', () => raw.scalarTensorAcc!(new Uint8Array(32 * 4), 1e12, 1, 1, pairsOf(1), one, null)],
    ['scalarTensorAcc stride 1e12, k = 1', () => raw.scalarTensorAcc!(new Uint8Array(32 * 4), 0, 1e12, 1, pairsOf(1), one, null)],
    ['scalarTensorAcc stride 0', () => raw.scalarTensorAcc!(new Uint8Array(32 * 4), 0, 0, 1, pairsOf(1), one, null)],
    ['scalarTensorAcc k = 31', () => raw.scalarTensorAcc!(new Uint8Array(32 * 4), 0, 1, 31, pairsOf(31), one, null)],
    ['scalarTensorAcc k = 64 (a shift by the width of size_t)', () => raw.scalarTensorAcc!(new Uint8Array(32 * 4), 0, 1, 64, pairsOf(64), one, null)],
    ['scalarTensorAcc k = 65', () => raw.scalarTensorAcc!(new Uint8Array(32 * 4), 0, 1, 65, pairsOf(65), one, null)],
    ['scalarTensorAcc offset 2^64 (not a safe count)', () => raw.scalarTensorAcc!(new Uint8Array(32 * 4), 2 ** 64, 1, 0, null, one, null)],
    ['scalarTensorAcc offset −1', () => raw.scalarTensorAcc!(new Uint8Array(32 * 4), -1, 1, 0, null, one, null)],
    ['scalarTensorAcc offset 0.5', () => raw.scalarTensorAcc!(new Uint8Array(32 * 4), 0.5, 1, 0, null, one, null)],
    ['scalarTensorAcc offset NaN', () => raw.scalarTensorAcc!(new Uint8Array(32 * 4), NaN, 1, 0, null, one, null)],
    ['scalarTensorAcc too few pairs for k', () => raw.scalarTensorAcc!(new Uint8Array(32 * 8), 0, 1, 3, pairsOf(2), one, null)],
  );
  // Counts whose byte length (count · element size) wraps size_t: 2^58 · 64 = 2^64, 2^59 · 32 = 2^64.
  for (const n of [2 ** 58, 2 ** 59, 2 ** 62, 1e12 + 1, 1e12]) {
    const small = new Uint8Array(64);
    crafted.push(
      [`mul count ${n}`, () => raw.mul!(small, small, small, n, true)],
      [`mulGen count ${n}`, () => raw.mulGen!(small, small, n)],
      [`add count ${n}`, () => raw.add!(small, small, small, n)],
      [`decompress count ${n}`, () => raw.decompress!(small, small, n)],
      [`compress count ${n}`, () => raw.compress!(small, small, n)],
      [`validate count ${n}`, () => raw.validate!(small, n)],
      [`negate count ${n}`, () => raw.negate!(small, small, n)],
      [`msmConst count ${n}`, () => raw.msmConst!(small, small, small, n)],
      [`selectSum count ${n}`, () => raw.selectSum!(small, small, small, small, n)],
      [`selectSum extra count ${n}`, () => raw.selectSum!(small, small, small, small, 0, small, small, n)],
      [`schnorrSign count ${n}`, () => raw.schnorrSign!(small, small, small, small, n)],
      [`scalarInvert count ${n}`, () => raw.scalarInvert!(small, small, n)],
      [`progressionX count ${n}`, () => raw.progressionX!(small, small, small, n)],
      [`tableCreate count ${n}`, () => raw.tableCreate!(small, n)],
      [`msm count ${n}`, () => raw.msm!(small, null, null, 0, small, 64, small, n, null)],
      [`msm compressed count ${n}`, () => raw.msm!(small, null, null, 0, small, 33, small, n, null)],
      [`msm tableCount ${n}`, () => raw.msm!(small, raw.tableCreate!(small, 1), small, n, null, 64, null, 0, null)],
    );
  }
  crafted.push(
    ['msm stride 32', () => raw.msm!(new Uint8Array(64), null, null, 0, new Uint8Array(64), 32, new Uint8Array(32), 1, null)],
    ['msm table that is not a table handle', () => raw.msm!(new Uint8Array(64), {}, new Uint8Array(32), 1, null, 64, null, 0, null)],
  );

  for (const [title, call] of crafted) {
    it(`throws instead of reading out of bounds: ${title}`, () => {
      expect(call).toThrow(/too short|must be an integer from 0 to 1e12|must be <= 30|must be 33 or 64|exceeds the table|handle from tableCreate/);
    });
  }

  it('valid calls at the edge of the buffer still work (last index = accLen − 1)', () => {
    // acc of 7 scalars, offset 1, stride 2, k = 2: entries 1, 3, 5, 7 would need 8; 1, 3, 5 with
    // k = 2 is four entries, so use offset 0: 0, 2, 4, 6 (the last one is accLen − 1).
    const acc = new Uint8Array(32 * 7);
    expect(raw.scalarTensorAcc!(acc, 0, 2, 2, pairsOf(2), one, null)).toBe(0);
    for (const i of [0, 2, 4, 6]) expect(acc[32 * i + 31]).toBe(1);
    expect(() => raw.scalarTensorAcc!(acc, 1, 2, 2, pairsOf(2), one, null)).toThrow(/too short/);
  });

  it('the same crafted calls in a child process: it exits normally, no signal', () => {
    // k = 25: the old kernel's 2^25-entry buffer (1 GiB) allocates, and its reads at offset +
    // stride·i then fault (SIGSEGV); k = 30 failed to allocate first.
    const w25 = wrapping(25);
    const w30 = wrapping(30);
    const script = `
      const addon = require('node-gyp-build')(${JSON.stringify(packageRoot())});
      const one = new Uint8Array(32); one[31] = 1;
      const pairs = new Uint8Array(64 * 30);
      const calls = [
        () => addon.scalarTensorAcc(new Uint8Array(128), ${w25.offset}, ${w25.stride}, 25, pairs, one, null),
        () => addon.scalarTensorAcc(new Uint8Array(128), ${w30.offset}, ${w30.stride}, 30, pairs, one, null),
        () => addon.scalarTensorAcc(new Uint8Array(128), 0, 1, 64, pairs, one, null),
        () => addon.mul(new Uint8Array(64), new Uint8Array(64), new Uint8Array(64), 2 ** 58, true),
        () => addon.msm(new Uint8Array(64), null, null, 0, new Uint8Array(64), 64, new Uint8Array(64), 2 ** 58, null),
      ];
      let thrown = 0;
      for (const c of calls) { try { c(); } catch { thrown++; } }
      console.log('thrown ' + thrown + ' of ' + calls.length);
    `;
    const res = spawnSync(process.execPath, ['-e', script], { cwd: packageRoot(), encoding: 'utf8', timeout: 60_000 });
    expect(res.signal).toBeNull();
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout.trim()).toBe('thrown 5 of 5');
  });
});
