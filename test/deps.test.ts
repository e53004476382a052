/**
 * The vendoring of libsecp256k1 (deps/): nothing third-party is committed, the
 * extracted source carries the pinned integrity and our patch, and a tarball
 * that does not match the pin is refused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
// @ts-expect-error: a plain .mjs build script, without type declarations
import { PIN } from '../deps/fetch-secp256k1.mjs';

const root = join(import.meta.dirname, '..');
const src = join(root, 'deps', 'secp256k1');

let tracked: string[] | null = null;
try {
  tracked = execFileSync('git', ['ls-files', 'deps'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
} catch {
  tracked = null;
}

describe('deps/ vendoring', () => {
  it.skipIf(tracked === null)('commits only our script, patch and README (git ls-files deps)', () => {
    // Before the first commit nothing is tracked; afterwards exactly these files are.
    if (tracked!.length === 0) console.log('deps.test.ts: nothing committed yet under deps/');
    else {
      expect(tracked!.sort()).toEqual(
        ['deps/README.md', 'deps/fetch-secp256k1.mjs', 'deps/install.mjs', 'deps/restore-upstream.patch'].sort(),
      );
    }
  });

  it('extracted the pinned package, with its integrity recorded', () => {
    const stamp = JSON.parse(readFileSync(join(src, '.zkmeter-stamp.json'), 'utf8'));
    expect(stamp.integrity).toBe(PIN.integrity);
    expect(stamp.spec).toBe('secp256k1-wasm@2.0.0');
    expect(PIN.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
  });

  it('restored upstream util.h (no memcmp without <string.h>) and LF line endings', () => {
    const util = readFileSync(join(src, 'src', 'util.h'), 'utf8');
    expect(util).not.toMatch(/return memcmp\(/);
    expect(util).toMatch(/const unsigned char \*p1 = s1, \*p2 = s2;/);
    expect(util).not.toMatch(/\r/);
    const c = readFileSync(join(src, 'src', 'secp256k1.c'), 'utf8');
    expect(c).toMatch(/^# error "secp256k1.h processed without SECP256K1_BUILD/m);
  });

  it('refuses a tarball whose integrity does not match the pin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zkmeter-deps-test-'));
    try {
      const fake = join(dir, 'fake.tgz');
      writeFileSync(fake, gzipSync(Buffer.alloc(1024)));
      const out = join(dir, 'out');
      const r = spawnSync(process.execPath, [join(root, 'deps', 'fetch-secp256k1.mjs'), '--tarball', fake, '--out', out], {
        encoding: 'utf8',
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^deps: integrity mismatch for secp256k1-wasm@2\.0\.0: expected sha512-/m);
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
