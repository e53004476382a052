/**
 * The public API as a consumer imports it: the package's own name through its
 * exports map (Node's self-reference), on the compiled dist/.
 *  - Each subpath exports exactly the names of the documented surface
 *    (test/vectors/api-surface.json): adding or removing a public name is a
 *    deliberate change to that file, reviewed with the code.
 *  - Nothing else is reachable: deep imports are refused by the exports map.
 *  - Every entry point has its type declarations.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types?: string; default: string } | string> };
const surface = JSON.parse(readFileSync(join(root, 'test', 'vectors', 'api-surface.json'), 'utf8')) as Record<string, string[]>;
const DEEP = ['zkmeter/dist/lib/crypto/bsgs.js', 'zkmeter/lib/crypto/bsgs.ts', 'zkmeter/dist/lib/server/worker.js', 'zkmeter/bench/report.js'];

/**
 * Imports every subpath and deep path in a plain Node process in the project (as a
 * consumer's code would, past vitest's module runner): the exported names and their
 * types, and the error code of each refused import.
 */
function consumerView(): { names: Record<string, Record<string, string>>; refused: Record<string, string> } {
  const script = `
    const names = {}, refused = {};
    for (const s of ${JSON.stringify(Object.keys(surface))}) {
      const m = await import(s);
      names[s] = Object.fromEntries(Object.keys(m).map((k) => [k, typeof m[k]]));
    }
    for (const s of ${JSON.stringify(DEEP)}) {
      try { await import(s); refused[s] = 'imported'; } catch (e) { refused[s] = e.code ?? String(e); }
    }
    console.log(JSON.stringify({ names, refused }));`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: process.env });
  if (res.status !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout) as ReturnType<typeof consumerView>;
}
const view = consumerView();

describe('public API', () => {
  it('maps exactly the documented entry points, each with JavaScript and types', () => {
    const entries = Object.keys(pkg.exports).filter((k) => k !== './package.json');
    expect(entries.map((k) => (k === '.' ? 'zkmeter' : `zkmeter/${k.slice(2)}`)).sort()).toEqual(Object.keys(surface).sort());
    for (const key of entries) {
      const target = pkg.exports[key] as { types: string; default: string };
      expect(existsSync(join(root, target.default)), target.default).toBe(true);
      expect(existsSync(join(root, target.types)), target.types).toBe(true);
    }
  });

  for (const [specifier, names] of Object.entries(surface)) {
    it(`${specifier} exports the documented names and nothing else`, () => {
      const mod = view.names[specifier]!;
      expect(Object.keys(mod).sort()).toEqual(names);
      for (const name of names) expect(mod[name], name).not.toBe('undefined');
    });
  }

  it('refuses deep imports of internal modules', () => {
    expect(view.refused).toEqual(Object.fromEntries(DEEP.map((d) => [d, 'ERR_PACKAGE_PATH_NOT_EXPORTED'])));
  });
});
