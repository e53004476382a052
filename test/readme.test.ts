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
  it('the tariff file example is a valid tariff, and what the text says of it holds', async () => {
    const { tariffFromJson } = await import('../lib/protocol/json.js');
    const { HOUSEHOLD } = await import('../lib/protocol/meter.js');
    const { priceSpreadProblem, tariffTimeZone } = await import('../lib/protocol/tariff.js');
    const section = readme.slice(readme.indexOf('### Tariff files'));
    const json = /```json\n([\s\S]*?)```/.exec(section)![1]!;
    const tariff = tariffFromJson(JSON.parse(json));
    expect(tariffTimeZone(tariff)).toBe('Europe/London');
    expect(priceSpreadProblem(tariff, HOUSEHOLD, 48)).toBeUndefined();
    // "at most about 3.87× the cheapest": 59 against 15 is refused, 58 passes.
    const at = (p: bigint) => ({ ...tariff, bands: tariff.bands.map((b) => (b.pricePerWh === 40n ? { ...b, pricePerWh: p } : b)) });
    expect(priceSpreadProblem(at(59n), HOUSEHOLD, 48)).toMatch(/spread too far/);
    expect(priceSpreadProblem(at(58n), HOUSEHOLD, 48)).toBeUndefined();
  });

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
