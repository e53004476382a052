/**
 * MSM benchmark: one multi-scalar multiplication of N random points with N
 * random scalars, native vs pure TypeScript, side by side in one process.
 * Run with `zkmeter bench [--quick] [--json]` (or `npm run bench`).
 */
import { loadBackend, nativeAvailable, type Group } from '../lib/backend/index.js';
import { scalarsToBytes } from '../lib/backend/bytes.js';
import { randomScalar, randomScalars } from '../lib/crypto/random.js';

export interface MsmRow {
  points: number;
  nativeMs: number | null;
  jsMs: number | null;
}

export interface MsmBenchResult {
  rows: MsmRow[];
  metrics: Record<string, number>;
}

export const MSM_SIZES = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

/** A random value below 2^bits: the benches' range-proof inputs. */
export function randomValue(bits: number): bigint {
  return randomScalar() & ((1n << BigInt(bits)) - 1n);
}

/** The median of a list of timings. */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** Median time of `fn` in ms: at least `minReps` runs and about `budgetMs` of work. */
export function timeMs(fn: () => unknown, budgetMs: number, minReps = 3): number {
  fn(); // warm-up (JIT, lazily built tables)
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minReps || performance.now() - start < budgetMs) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
    if (samples.length >= 1000) break;
  }
  return median(samples);
}

function randomInput(g: Group, n: number): { points: Uint8Array; scalars: Uint8Array } {
  return {
    points: g.mulGen(scalarsToBytes(randomScalars(n))),
    scalars: scalarsToBytes(randomScalars(n)),
  };
}

export function runMsmBench(opts: { quick: boolean; log: (line: string) => void }): MsmBenchResult {
  const js = loadBackend('js');
  const native = nativeAvailable() ? loadBackend('native') : null;
  const budgetNative = opts.quick ? 60 : 400;
  const budgetJs = opts.quick ? 100 : 600;
  const rows: MsmRow[] = [];
  const metrics: Record<string, number> = {};
  for (const n of MSM_SIZES) {
    const input = randomInput(native ?? js, n);
    const nativeMs = native ? timeMs(() => native.msm(input), budgetNative) : null;
    // The largest pure-TS sizes take seconds per run; one timed run is enough in quick mode.
    const jsMs = timeMs(() => js.msm(input), budgetJs, opts.quick && n >= 1024 ? 1 : 3);
    rows.push({ points: n, nativeMs, jsMs });
    if (nativeMs !== null) metrics[`native.msm${n}.ms`] = nativeMs;
    metrics[`js.msm${n}.ms`] = jsMs;
    opts.log(
      `msm ${String(n).padStart(4)} points: native ${nativeMs === null ? '   n/a' : nativeMs.toFixed(3)} ms, js ${jsMs.toFixed(3)} ms`,
    );
  }
  const at = (n: number) => rows.find((r) => r.points === n)!;
  if (native) {
    metrics['msm128.speedup'] = at(128).jsMs! / at(128).nativeMs!;
    // Pippenger scaling: cost per point at 1024 relative to 128 (should fall well below 1).
    metrics['native.msm.perPoint1024over128'] = at(1024).nativeMs! / 1024 / (at(128).nativeMs! / 128);
  }
  return { rows, metrics };
}

/** The Markdown table the README shows. */
export function msmTable(rows: MsmRow[]): string {
  const lines = [
    '| points | native (ms) | native (µs/point) | TypeScript (ms) | native speed-up |',
    '|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const nat = r.nativeMs === null ? 'n/a' : r.nativeMs.toFixed(3);
    const per = r.nativeMs === null ? 'n/a' : ((r.nativeMs * 1000) / r.points).toFixed(2);
    const ratio = r.nativeMs === null || r.jsMs === null ? 'n/a' : `${(r.jsMs / r.nativeMs).toFixed(1)}×`;
    lines.push(`| ${r.points} | ${nat} | ${per} | ${r.jsMs === null ? 'n/a' : r.jsMs.toFixed(2)} | ${ratio} |`);
  }
  return lines.join('\n');
}
