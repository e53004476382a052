/**
 * Every ```ts block in the README that imports zkmeter runs as written, and its
 * `// value` comments on expression lines hold: the docs cannot drift from the code.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /from 'zkmeter/.test(b));

/** Turns `expr; // 123n` lines into assertions that print a mismatch. */
function instrument(code: string): string {
  return code
    .split('\n')
    .map((line) => {
      const m = /^([^/]*?);\s*\/\/\s*(-?\d+n|true|false)\s*$/.exec(line);
      if (!m || /^\s*(const|let|import)\b/.test(m[1]!)) return line;
      return `{ const __v = (${m[1]}); if (String(__v) !== String(${m[2]})) { console.error('README mismatch: ${m[1]!.replace(/'/g, "\\'")} = ' + __v); process.exit(1); } }`;
    })
    .join('\n');
}

describe('README examples', () => {
  it('has examples to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });
  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs and its stated results hold`, () => {
      const res = spawnSync(process.execPath, ['--input-type=module', '-e', instrument(code)], { cwd: root, encoding: 'utf8' });
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
    });
  });
});
