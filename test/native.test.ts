/**
 * Properties of the native addon itself: scratch sizing that never splits an
 * MSM into batches, exported symbols, and one native call per vector.
 */
import { execFileSync } from 'node:child_process';
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
