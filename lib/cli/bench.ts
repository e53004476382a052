/**
 * `zkmeter bench`: runs the benchmark suite, prints the table on stderr and
 * returns the SPEC.md JSON object `{machine, metrics}` (printed last on stdout).
 * @module
 */
import os from 'node:os';
import { msmTable, runMsmBench } from '../../bench/msm.js';
import { nativeAvailable } from '../backend/index.js';
import { VERSION } from '../version.js';

export function runBench(opts: { quick: boolean; json: boolean }): unknown {
  const log = (line: string) => process.stderr.write(line + '\n');
  log(`zkmeter ${VERSION} benchmark (${opts.quick ? 'quick' : 'full'}), native addon ${nativeAvailable() ? 'loaded' : 'NOT available'}`);
  const msm = runMsmBench({ quick: opts.quick, log });
  log('');
  log(msmTable(msm.rows));
  if (msm.metrics['msm128.speedup'] !== undefined) {
    log('');
    log(`MSM of 128 points: native is ${msm.metrics['msm128.speedup'].toFixed(1)}× faster than TypeScript`);
    log(`native cost per point at 1024 points = ${msm.metrics['native.msm.perPoint1024over128']!.toFixed(2)}× its cost per point at 128`);
  }
  const cpus = os.cpus();
  return {
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      zkmeter: VERSION,
      mode: opts.quick ? 'quick' : 'full',
    },
    metrics: msm.metrics,
  };
}
