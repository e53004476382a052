/**
 * The browser builds (web/build.mjs, run by npm test's pretest step): esbuild's
 * metafiles show that neither bundle takes in a Node built-in or the native backend,
 * and the library bundle runs, on its own, the pure-TypeScript backend.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const meta = JSON.parse(readFileSync(join(root, 'build', 'web', 'meta.json'), 'utf8')) as Record<'library' | 'page', { inputs: Record<string, { imports: { path: string; external?: boolean }[] }> }>;

describe('browser bundles', () => {
  for (const name of ['library', 'page'] as const) {
    it(`the ${name} bundle has no Node built-in, no native backend, and the browser stub in its place`, () => {
      const inputs = Object.keys(meta[name].inputs);
      expect(inputs.some((i) => i.endsWith('lib/crypto/bulletproofs/range.ts'))).toBe(true);
      expect(inputs.filter((i) => i.startsWith('node:') || /(^|\/)node_modules\/(node-gyp-build|better-sqlite3|pg|fastify)\//.test(i))).toEqual([]);
      expect(inputs.filter((i) => i.endsWith('lib/backend/native.ts'))).toEqual([]);
      expect(inputs.some((i) => i.endsWith('web/src/native-browser.ts'))).toBe(true);
      const external = Object.values(meta[name].inputs).flatMap((x) => x.imports.filter((imp) => imp.external).map((imp) => imp.path));
      expect(external).toEqual([]);
    });
  }

  it('the library bundle, loaded as an ES module, proves and verifies on the pure-TypeScript backend', async () => {
    const z = (await import(join(root, 'dist', 'browser', 'zkmeter.js'))) as {
      backendName(): string;
      crypto: { commit(v: bigint, s: bigint): Uint8Array; proveRange(st: unknown, w: unknown, ctx: Uint8Array): Uint8Array; verifyRange(st: unknown, p: Uint8Array, ctx: Uint8Array): boolean };
    };
    // As in a browser: no ZKMETER_BACKEND (the native project sets it to 'native', which the
    // bundle would honour by failing loudly, having no addon).
    const requested = process.env.ZKMETER_BACKEND;
    delete process.env.ZKMETER_BACKEND;
    try {
      expect(z.backendName()).toBe('js');
    } finally {
      if (requested !== undefined) process.env.ZKMETER_BACKEND = requested;
    }
    const ctx = new TextEncoder().encode('web test');
    const st = { commitments: [z.crypto.commit(1234n, 99n)], bits: 16 };
    const proof = z.crypto.proveRange(st, { values: [1234n], blindings: [99n] }, ctx);
    expect(z.crypto.verifyRange(st, proof, ctx)).toBe(true);
    expect(z.crypto.verifyRange({ ...st, commitments: [z.crypto.commit(1235n, 99n)] }, proof, ctx)).toBe(false);
  });
});
