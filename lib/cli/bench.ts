/**
 * `zkmeter bench`: runs the benchmark suite, prints the table on stderr and
 * returns the SPEC.md JSON object `{machine, metrics}` (printed last on stdout).
 * @module
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
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
  log('');
  const metrics: Record<string, number> = { ...msm.metrics };
  /** metrics[b] / metrics[a], when both were measured. */
  const ratio = (a: string, b: string) => {
    if (metrics[a] !== undefined && metrics[b] !== undefined) return metrics[b]! / metrics[a]!;
    return undefined;
  };
  // The crypto layer runs once per backend, each in its own process; peers in their own.
  for (const backend of nativeAvailable() ? ['native', 'js'] : ['js']) {
    Object.assign(metrics, runWorker('crypto.js', backend, opts.quick, log));
    Object.assign(metrics, runWorker('rangeproof.js', backend, opts.quick, log));
  }
  if (nativeAvailable()) Object.assign(metrics, runWorker('e2e.js', 'native', opts.quick, log));
  // The service under load from this process: `zkmeter serve` in its own child.
  if (nativeAvailable()) Object.assign(metrics, runWorker('server.js', 'native', opts.quick, log));
  Object.assign(metrics, runWorker('store.js', nativeAvailable() ? 'native' : 'js', opts.quick, log));
  Object.assign(metrics, runWorker('peers.js', 'js', opts.quick, log));
  const bpjs = ratio('js.rp64.verify.ms', 'bulletproofjs.rp64.verify.ms');
  if (bpjs !== undefined) metrics['js.rp64.verify.speedupOverBulletproofjs'] = bpjs;
  const nbpjs = ratio('native.rp64.verify.ms', 'bulletproofjs.rp64.verify.ms');
  if (nbpjs !== undefined) metrics['native.rp64.verify.speedupOverBulletproofjs'] = nbpjs;
  const zkpeSpeedup = ratio('native.zkpe.verify.ms', 'js.zkpe.verify.ms');
  if (zkpeSpeedup !== undefined) metrics['zkpe.verify.speedup'] = zkpeSpeedup;
  const pocDecrypt = metrics['native.elgamal.decrypt100000.ms'] ?? metrics['js.elgamal.decrypt100000.ms'];
  if (pocDecrypt !== undefined) metrics['poc.decrypt100000.speedup'] = POC_DECRYPT_100000_MS / pocDecrypt;
  // The C reference was measured on another machine: scale it by one variable-base
  // multiplication there (REFERENCE_MUL1_US) and here, and compare against that.
  const mul1 = metrics['native.mul1.us'];
  const scale = mul1 !== undefined ? mul1 / REFERENCE_MUL1_US : undefined;
  const reference: Record<string, number | string> = {
    note: 'figures not measured in this run: the earlier C proof of concept (published) and the C secp256k1-zkp Bulletproofs (measured earlier, DEVELOPERS.md)',
    'poc.encrypt.ms': POC_ENCRYPT_MS,
    'poc.decrypt100000.ms': POC_DECRYPT_100000_MS,
    secp256k1zkpNote: 'C secp256k1-zkp Bulletproofs, 64-bit, measured earlier on a machine like this one (DEVELOPERS.md), not in this run',
  };
  for (const [name, ms] of Object.entries(SECP256K1_ZKP_MS)) {
    reference[`secp256k1zkp.rp64.${name}`] = ms;
    if (scale === undefined) continue;
    reference[`secp256k1zkp.rp64.${name}.scaledHere`] = ms * scale;
    const ours = metrics[`native.rp64.${name}`];
    if (ours !== undefined) metrics[`native.rp64.${name}.overScaledSecp256k1zkp`] = ours / (ms * scale);
  }
  if (scale !== undefined) {
    reference.machineScale = scale;
    reference.machineScaleNote = `this machine's variable-base multiplication (native.mul1.us) over the reference machine's ${REFERENCE_MUL1_US} µs`;
    log(`machine scale: one multiplication takes ${mul1!.toFixed(1)} µs here, ${scale.toFixed(2)}× the reference machine's ${REFERENCE_MUL1_US} µs`);
    for (const name of Object.keys(SECP256K1_ZKP_MS)) {
      const r = metrics[`native.rp64.${name}.overScaledSecp256k1zkp`];
      if (r !== undefined) log(`rp64 ${name}: zkmeter native / secp256k1-zkp scaled to this machine = ${r.toFixed(2)}×`);
    }
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
      // SPEC.md: native.e2e.readingsPerSec is measured in this record mode.
      e2eRecordMode: 'daily',
    },
    reference,
    metrics,
  };
}

/** The earlier C proof of concept's published figures (not measured here). */
export const POC_ENCRYPT_MS = 0.34;
export const POC_DECRYPT_100000_MS = 11_700;
/** C secp256k1-zkp Bulletproofs, 64-bit, on the reference machine (DEVELOPERS.md; not run here). */
export const SECP256K1_ZKP_MS = { 'prove.ms': 11.6, 'verify.ms': 1.49, 'batch1000.msPerProof': 0.2 } as const;
/** One variable-base multiplication through the addon on that machine (DEVELOPERS.md), µs. */
export const REFERENCE_MUL1_US = 29;

function runWorker(script: string, backend: string, quick: boolean, log: (line: string) => void): Record<string, number> {
  const worker = fileURLToPath(new URL(`../../bench/${script}`, import.meta.url));
  const res = spawnSync(process.execPath, [worker, ...(quick ? ['--quick'] : [])], {
    env: { ...process.env, ZKMETER_BACKEND: backend },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (res.status !== 0) {
    log(`${script} on ${backend} failed (exit ${res.status})`);
    return {};
  }
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, number>;
}
