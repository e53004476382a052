/**
 * The native backend: the N-API addon (native/addon.cc over libsecp256k1),
 * loaded with node-gyp-build so a prebuilt binary from `prebuilds/` is used
 * when one matches, and `build/Release` otherwise.
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawGroup } from './group.js';

/** The package root: the nearest folder above this file holding binding.gyp. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'binding.gyp'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the zkmeter package root (binding.gyp)');
    dir = up;
  }
  return dir;
}

interface Addon extends Omit<RawGroup, 'name'> {
  msmScratchBytes(n: number): number;
  msmBatchCapacity(n: number): number;
}

let addon: Addon | undefined;

/** Loads the addon (once). Throws the loader's error when there is none for this platform. */
export function loadAddon(): Addon {
  if (addon === undefined) {
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => Addon;
    addon = load(packageRoot());
  }
  return addon;
}

/** The raw native backend. Throws if the addon cannot be loaded. */
export function createNativeRaw(): RawGroup {
  const a = loadAddon();
  return {
    name: 'native',
    decompress: a.decompress,
    compress: a.compress,
    validate: a.validate,
    add: a.add,
    negate: a.negate,
    mul: a.mul,
    mulGen: a.mulGen,
    msmConst: a.msmConst,
    selectSum: a.selectSum,
    scalarTensorAcc: a.scalarTensorAcc,
    scalarInvert: a.scalarInvert,
    schnorrSign: a.schnorrSign,
    progressionX: a.progressionX,
    tableCreate: a.tableCreate,
    msm: a.msm,
  };
}
