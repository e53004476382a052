/**
 * What the package ships and documents (run once, in the native project):
 *  - the API reference builds with TypeDoc, with warnings treated as errors
 *    (scripts/api-docs.mjs installs TypeDoc into tools/typedoc on first use);
 *  - `npm pack --dry-run` lists dist/, the native sources, binding.gyp, the deps
 *    scripts and the prebuilds (made first with `npm run prebuild`, as before a
 *    publish), and no tests, TypeScript sources, bench report or tools. Both run in
 *    a copy of the package's files, so that rebuilding the addon there cannot touch
 *    the build/ that other test files are loading.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('package', () => {
  it('builds the API reference with TypeDoc and no warnings', () => {
    const out = mkdtempSync(join(tmpdir(), 'zkmeter-api-'));
    try {
      const res = spawnSync(process.execPath, [join(root, 'scripts', 'api-docs.mjs'), '--out', out], { cwd: root, encoding: 'utf8' });
      expect(res.status, res.stdout + res.stderr).toBe(0);
      expect(res.stdout + res.stderr).not.toMatch(/warning/i);
      expect(spawnSync('ls', [out], { encoding: 'utf8' }).stdout).toMatch(/index\.html/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);

  it('packs dist/, the native sources, binding.gyp, the deps scripts and the prebuilds, and nothing else', () => {
    let res: SpawnSyncReturns<string>;
    const copy = mkdtempSync(join(tmpdir(), 'zkmeter-pack-'));
    try {
      for (const f of ['package.json', 'README.md', 'binding.gyp', 'native', 'deps', 'dist']) {
        cpSync(join(root, f), join(copy, f), { recursive: true, filter: (src) => !src.includes(`${join('deps', 'secp256k1')}`) });
      }
      symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
      const built = spawnSync(npm, ['run', 'prebuild', '--silent'], { cwd: copy, encoding: 'utf8' });
      expect(built.status, built.stderr).toBe(0);
      res = spawnSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: copy, encoding: 'utf8' });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
    expect(res.status, res.stderr).toBe(0);
    const [pack] = JSON.parse(res.stdout) as { size: number; unpackedSize: number; files: { path: string; size: number }[] }[];
    const files = pack!.files.map((f) => f.path);
    for (const must of [
      'package.json',
      'README.md',
      'binding.gyp',
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/lib/crypto/index.d.ts',
      'dist/lib/protocol/index.d.ts',
      'dist/lib/server/index.d.ts',
      'dist/lib/cli/main.js',
      'native/kernel.c',
      'native/kernel.h',
      'native/addon.cc',
      'native/exports.map',
      'deps/fetch-secp256k1.mjs',
      'deps/install.mjs',
      'deps/restore-upstream.patch',
    ]) {
      expect(files, must).toContain(must);
    }
    expect(files.some((f) => /^prebuilds\/[^/]+\/[^/]+\.node$/.test(f)), 'a prebuilt addon').toBe(true);
    const allowed = /^(package\.json|README\.md|binding\.gyp|dist\/|native\/|deps\/(fetch-secp256k1\.mjs|install\.mjs|restore-upstream\.patch|README\.md)$|prebuilds\/)/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    // No tests, bench results, sources of the third-party library, or TypeScript sources.
    expect(files.filter((f) => /(^|\/)test\/|^bench\/|\.test\.|^lib\/|deps\/secp256k1\/|^tools\/|\.ts$(?<!\.d\.ts)/.test(f))).toEqual([]);
    console.log(`npm pack: ${(pack!.size / 1024).toFixed(0)} KiB packed, ${(pack!.unpackedSize / 2 ** 20).toFixed(2)} MiB unpacked, ${files.length} files`);
    expect(pack!.size).toBeLessThan(2 * 2 ** 20);
  }, 300_000);
});
