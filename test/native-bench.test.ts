/**
 * The benchmark report's smoke run, as CI runs it: `zkmeter bench --quick` on the
 * compiled CLI (both backends, every peer), then what it wrote: the SPEC.md metrics,
 * results.json with rows for every implementation and the soundness column, the
 * Markdown summary, and SVG plots that really render (rasterized with resvg).
 * Runs in the native project only (the bench itself runs both backends). Timings
 * are not checked here: performance is for bench/, not for tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../bench/results.js';

const root = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'zkmeter-bench-report-'));
let run: { code: number | null; stdout: string; stderr: string };
let results: BenchResults;

beforeAll(() => {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.ZKMETER_BACKEND;
  const res = spawnSync(process.execPath, [join(root, 'dist', 'lib', 'cli', 'main.js'), 'bench', '--quick', '--json', '--out', out], {
    cwd: root,
    encoding: 'utf8',
    env,
    timeout: 600_000,
  });
  run = { code: res.status, stdout: res.stdout, stderr: res.stderr };
  results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults;
}, 620_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

const PLOTS = ['verify-vs-bits.svg', 'batch-amortized.svg', 'proof-size.svg', 'decrypt-vs-magnitude.svg'];

describe('zkmeter bench --quick (the CI smoke run)', () => {
  it('exits 0, shows progress, and prints the SPEC.md metrics as its last stdout line', () => {
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stderr).toMatch(/\[1\/\d+\] MSM/);
    const last = JSON.parse(run.stdout.trim().split('\n').pop()!) as { machine: { mode: string }; metrics: Record<string, number> };
    expect(last.machine.mode).toBe('quick');
    for (const name of [
      'native.msm128.ms',
      'js.msm128.ms',
      'native.rp64.prove.ms',
      'js.rp64.prove.ms',
      'native.rp64.verify.ms',
      'js.rp64.verify.ms',
      'native.rp64.msmSameSize.ms',
      'native.rp64.batch.msPerProof',
      'native.rp64.batch.size',
      'bulletproofjs.rp64.verify.ms',
      'borromean.rp64.verify.ms',
      'native.elgamal.decrypt32.ms',
      'native.zkpe.verify.ms',
      'native.zkpe.batch256.msPerProof',
      'native.e2e.readingsPerSec',
      'native.e2e.perReadingRecord.readingsPerSec',
      'native.e2e.dailyRecord.readingsPerSec',
    ]) {
      expect(last.metrics[name], name).toBeGreaterThan(0);
    }
    expect(last.metrics).toEqual(results.metrics);
  });

  it('measures every implementation in this run, and labels every figure it did not measure', () => {
    const measured = new Set(results.rows.filter((r) => !r.reference).map((r) => r.impl));
    for (const impl of ['borromean', 'bulletproofjs', 'js', 'naive', 'native']) expect(measured.has(impl as never), impl).toBe(true);
    // The C peer is built from source at bench time: measured, or skipped with a reason and
    // replaced by the labelled figures measured earlier.
    const cMeasured = measured.has('secp256k1zkpC');
    expect(cMeasured || results.skipped.some((s) => s.startsWith('secp256k1-zkp C Bulletproofs:')), results.skipped.join('; ')).toBe(true);
    expect(results.rows.some((r) => r.impl === 'secp256k1zkpC' && r.reference)).toBe(!cMeasured);
    // Measured, it is also run head to head with zkmeter in alternating rounds.
    if (cMeasured) for (const op of ['prove', 'verify', 'batch']) expect(results.metrics[`native.rp64.${op}.overSecp256k1zkpC`], op).toBeGreaterThan(0);
    const reference = results.rows.filter((r) => r.reference);
    expect(reference.length).toBeGreaterThan(0);
    for (const r of reference) expect(r.source, JSON.stringify(r)).toMatch(/\w{8}/);
    for (const r of results.rows) expect((r.ms ?? r.bytes ?? r.perSec)!, JSON.stringify(r)).toBeGreaterThan(0);
    // The plots' operations all have data: verify by bits, batches, sizes by m, decryption by magnitude.
    for (const op of ['rangeVerify', 'rangeBatchVerify', 'rangeProofSize', 'elgamalDecrypt', 'zkpeVerify', 'e2eReadings']) {
      expect(results.rows.some((r) => r.op === op && !r.reference), op).toBe(true);
    }
    expect(new Set(results.rows.filter((r) => r.impl === 'native' && r.op === 'rangeVerify').map((r) => r.bits))).toEqual(new Set([8, 16, 32, 64]));
  });

  it('reports the soundness column: zkmeter and Borromean reject every forgery, bulletproof-js accepts two', () => {
    const outcome = (impl: string, forgery: string) => results.soundness.find((r) => r.impl === impl && r.forgery === forgery)?.outcome;
    for (const impl of ['native', 'js', 'borromean']) {
      for (const forgery of ['wrongCommitment', 'knownLogH', 'replayedChallenges']) expect(outcome(impl, forgery), `${impl} ${forgery}`).toBe('rejected');
    }
    expect(outcome('bulletproofjs', 'knownLogH')).toBe('accepted');
    expect(outcome('bulletproofjs', 'replayedChallenges')).toBe('accepted');
    expect(outcome('bulletproofjs', 'wrongCommitment')).toBe('rejected');
  });

  it('writes the Markdown summary with the headline table, the soundness table and every plot', () => {
    const md = readFileSync(join(out, 'README.md'), 'utf8');
    expect(md).toMatch(/\|.*zkmeter native.*\|/);
    expect(md).toMatch(/bulletproof-js/);
    expect(md).toMatch(/accepted/);
    expect(md).toMatch(/not measured in this run/);
    for (const plot of PLOTS) expect(md).toContain(`(${plot})`);
  });

  it('writes SVG plots that render to non-blank images', async () => {
    const { Resvg } = await import('@resvg/resvg-js');
    const files = readdirSync(out);
    for (const plot of PLOTS) {
      expect(files).toContain(plot);
      const svg = readFileSync(join(out, plot), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      const image = new Resvg(svg, { background: 'white', fitTo: { mode: 'width', value: 600 } }).render();
      expect(image.width).toBe(600);
      const px = image.pixels;
      let inked = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i]! < 200 || px[i + 1]! < 200 || px[i + 2]! < 200) inked++;
      // Axes, labels and lines: well above nothing, well below a filled rectangle.
      const share = inked / (px.length / 4);
      expect(share, plot).toBeGreaterThan(0.01);
      expect(share, plot).toBeLessThan(0.5);
    }
  });
});
