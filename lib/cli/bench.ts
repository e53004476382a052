/**
 * `zkmeter bench`: runs the benchmark suite (one process per backend and per peer),
 * prints progress and tables on stderr, writes the comparative report
 * (bench/report.ts: Markdown, results.json and SVG plots) and returns the SPEC.md
 * JSON object `{machine, reference, metrics}` (printed last on stdout).
 * @module
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { msmTable, runMsmBench } from '../../bench/msm.js';
import type { BenchResults, MachineInfo, ResultRow, SoundnessRow, WorkerOutput } from '../../bench/results.js';
import { nativeAvailable } from '../backend/index.js';
import { VERSION } from '../version.js';

export interface BenchOptions {
  quick: boolean;
  json: boolean;
  /** Where the report goes (created if missing); null writes no report. */
  out: string | null;
}

export async function runBench(opts: BenchOptions): Promise<unknown> {
  const started = new Date();
  const log = (line: string) => process.stderr.write(line + '\n');
  const native = nativeAvailable();
  log(`zkmeter ${VERSION} benchmark (${opts.quick ? 'quick' : 'full'}), native addon ${native ? 'loaded' : 'NOT available'}`);
  const steps: [script: string, backend: string, args?: string[]][] = [];
  for (const backend of native ? ['native', 'js'] : ['js']) steps.push(['crypto.js', backend], ['rangeproof.js', backend]);
  if (native) steps.push(['e2e.js', 'native']);
  // The service load test takes about 40 s before it measures anything (a service to
  // start, records to seal): full mode only, so that --quick stays under 2 minutes.
  if (native && !opts.quick) steps.push(['server.js', 'native']);
  steps.push(['store.js', native ? 'native' : 'js'], ['peers.js', 'js'], ['peers/secp256k1-zkp-c.js', 'js']);
  // Ratios against C come from alternating rounds in one worker, not from processes minutes apart.
  if (native) steps.push(['headtohead.js', 'native']);
  for (const backend of native ? ['native', 'js'] : ['js']) steps.push(['soundness.js', backend, backend === 'js' ? ['--peers'] : []]);
  const total = steps.length + 1;

  log(`[1/${total}] MSM, both backends in this process`);
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
  const rows: ResultRow[] = [];
  const soundness: SoundnessRow[] = [];
  const skipped: string[] = [];
  if (native && opts.quick) skipped.push('server.js (the service under load): full mode only');
  steps.forEach(([script, backend, args = []], i) => {
    log(`[${i + 2}/${total}] ${script} on ${backend} (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s so far)`);
    const out = runWorker(script, backend, [...(opts.quick ? ['--quick'] : []), ...args], log);
    if (out === undefined) {
      skipped.push(`${script} on ${backend}: failed (its stderr is above in the run's log)`);
      return;
    }
    Object.assign(metrics, out.metrics);
    rows.push(...(out.rows ?? []));
    soundness.push(...(out.soundness ?? []));
    skipped.push(...(out.skipped ?? []));
  });
  /** metrics[b] / metrics[a], when both were measured. */
  const ratio = (a: string, b: string) => {
    if (metrics[a] !== undefined && metrics[b] !== undefined) return metrics[b]! / metrics[a]!;
    return undefined;
  };
  for (const [name, a, b] of [
    ['js.rp64.verify.speedupOverBulletproofjs', 'js.rp64.verify.ms', 'bulletproofjs.rp64.verify.ms'],
    ['native.rp64.verify.speedupOverBulletproofjs', 'native.rp64.verify.ms', 'bulletproofjs.rp64.verify.ms'],
    ['native.rp64.verify.speedupOverBorromean', 'native.rp64.verify.ms', 'borromean.rp64.verify.ms'],
    ['js.rp64.verify.speedupOverBorromean', 'js.rp64.verify.ms', 'borromean.rp64.verify.ms'],
    ['native.rp64.prove.speedupOverBorromean', 'native.rp64.prove.ms', 'borromean.rp64.prove.ms'],
    ['rp64.verify.speedup', 'native.rp64.verify.ms', 'js.rp64.verify.ms'],
    ['zkpe.verify.speedup', 'native.zkpe.verify.ms', 'js.zkpe.verify.ms'],
    ['native.elgamal.decrypt100000.speedupOverNaive', 'native.elgamal.decrypt100000.ms', 'naive.elgamal.decrypt100000.ms'],
  ] as const) {
    const r = ratio(a, b);
    if (r !== undefined) metrics[name] = r;
  }
  if (metrics['native.rp64.bytes'] !== undefined && metrics['borromean.rp64.bytes'] !== undefined) {
    metrics['borromean.rp64.bytesOverNative'] = metrics['borromean.rp64.bytes'] / metrics['native.rp64.bytes'];
  }
  // End-to-end throughput is one figure per record mode.
  for (const [mode, label] of [
    ['dailyRecord', 'daily records (96 readings each), the recommended mode'],
    ['dailyRecordSmallBatch', 'daily records, small batches'],
    ['perReadingRecord', 'one record per reading'],
  ]) {
    const perSec = metrics[`native.e2e.${mode}.readingsPerSec`];
    const batch = metrics[`native.e2e.${mode}.batchReadings`];
    if (perSec !== undefined) rows.push({ impl: 'native', op: 'e2eReadings', perSec, mode: label, note: `${batch} readings per batch, ${metrics['native.e2e.cores']} cores` });
  }
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
    secp256k1zkpNote: SECP256K1_ZKP_SOURCE,
    dalekNote: DALEK_NOTE,
  };
  for (const [name, ms] of Object.entries(SECP256K1_ZKP_MS)) {
    reference[`secp256k1zkp.rp64.${name}`] = ms;
    if (scale === undefined) continue;
    reference[`secp256k1zkp.rp64.${name}.scaledHere`] = ms * scale;
    const ours = metrics[`native.rp64.${name}`];
    if (ours !== undefined) metrics[`native.rp64.${name}.overScaledSecp256k1zkp`] = ours / (ms * scale);
  }
  // The C secp256k1-zkp figures measured earlier stand in only when it could not be built here.
  rows.push(...referenceRows(rows.some((r) => r.impl === 'secp256k1zkpC' && !r.reference)));
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
  const machine: MachineInfo = {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    zkmeter: VERSION,
    mode: opts.quick ? 'quick' : 'full',
    // SPEC.md: native.e2e.readingsPerSec is measured in this record mode.
    e2eRecordMode: 'daily',
  };
  const results: BenchResults = {
    machine,
    startedAt: started.toISOString(),
    durationSeconds: (Date.now() - started.getTime()) / 1000,
    metrics,
    reference,
    rows,
    soundness,
    skipped,
  };
  if (opts.out !== null) {
    try {
      const { writeReport } = await import('../../bench/report.js');
      const files = await writeReport(results, opts.out, log);
      log(`report: ${files.length} files in ${opts.out} (${path.join(opts.out, 'README.md')})`);
    } catch (e) {
      log(`report: not written: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  }
  log(`done in ${results.durationSeconds.toFixed(0)} s`);
  return { machine, reference, metrics };
}

/** The earlier C proof of concept's published figures (not measured here). */
export const POC_ENCRYPT_MS = 0.34;
export const POC_DECRYPT_100000_MS = 11_700;
/** C secp256k1-zkp Bulletproofs, 64-bit, on the reference machine (DEVELOPERS.md; not run here). */
export const SECP256K1_ZKP_MS = { 'prove.ms': 11.6, 'verify.ms': 1.49, 'batch1000.msPerProof': 0.2 } as const;
const SECP256K1_ZKP_SOURCE =
  'C secp256k1-zkp Bulletproofs, 64-bit: measured earlier on the project machine (2-vCPU AMD EPYC, node 20; DEVELOPERS.md), not in this run';
/** A 64-bit secp256k1-zkp Bulletproof's size, as Grin's consensus rules fix it (MAX_PROOF_SIZE). */
export const SECP256K1_ZKP_PROOF_BYTES = 675;
const DALEK_NOTE =
  'dalek bulletproofs (Ristretto, Rust): its README states that with the AVX2 backend it verifies 64-bit range proofs about twice as fast as the libsecp256k1-based Bulletproofs; a published relative claim on its own machine, no absolute figure, so it is not plotted';

/**
 * The reference figures as report rows: labelled, with their source; never measured here.
 * The C secp256k1-zkp rows are left out when that library was measured in this run.
 */
function referenceRows(secp256k1zkpMeasured: boolean): ResultRow[] {
  const c = { impl: 'secp256k1zkpC', reference: true, source: SECP256K1_ZKP_SOURCE } as const;
  const secp256k1zkp: ResultRow[] = [
    { ...c, op: 'rangeProve', bits: 64, m: 1, ms: SECP256K1_ZKP_MS['prove.ms'] },
    { ...c, op: 'rangeVerify', bits: 64, m: 1, ms: SECP256K1_ZKP_MS['verify.ms'] },
    { ...c, op: 'rangeBatchVerify', bits: 64, m: 1, batch: 1, ms: SECP256K1_ZKP_MS['verify.ms'] },
    { ...c, op: 'rangeBatchVerify', bits: 64, m: 1, batch: 1000, ms: SECP256K1_ZKP_MS['batch1000.msPerProof'] },
    { ...c, op: 'rangeProofSize', bits: 64, m: 1, bytes: SECP256K1_ZKP_PROOF_BYTES, source: "Grin's consensus limit for one secp256k1-zkp 64-bit Bulletproof (MAX_PROOF_SIZE)" },
  ];
  return [
    ...(secp256k1zkpMeasured ? [] : secp256k1zkp),
    {
      impl: 'poc',
      op: 'elgamalDecrypt',
      magnitude: 100_000,
      ms: POC_DECRYPT_100000_MS,
      reference: true,
      source: "the earlier C proof of concept's published figure (decryption by counting up), on its authors' machine",
    },
  ];
}
/** One variable-base multiplication through the addon on that machine (DEVELOPERS.md), µs. */
export const REFERENCE_MUL1_US = 29;

/**
 * Runs `bench/<script>` in its own process with ZKMETER_BACKEND=backend; its stderr is
 * the run's log, its last stdout line a WorkerOutput. Returns undefined if it failed.
 */
function runWorker(script: string, backend: string, args: string[], log: (line: string) => void): WorkerOutput | undefined {
  const worker = fileURLToPath(new URL(`../../bench/${script}`, import.meta.url));
  const res = spawnSync(process.execPath, [worker, ...args], {
    env: { ...process.env, ZKMETER_BACKEND: backend },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  if (res.status !== 0) {
    log(`${script} on ${backend} failed (exit ${res.status ?? res.signal})`);
    return undefined;
  }
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as WorkerOutput;
}
