/**
 * `zkmeter simulate`: a fleet of simulated meters driving a running service
 * over HTTP. Each meter gets a fresh BIP340 key and a certificate signed with
 * the provisioning key (`--provisioning-key FILE`, or `provisioning.key.json`
 * in the service's key directory `--keys DIR`), and is registered with it
 * (admin token); every meter-day of household load (simulation.ts: night base load,
 * morning and evening peaks, occasional abnormal spikes) is sealed into a daily
 * record in worker threads, and records are submitted in batches by several
 * concurrent clients as they are sealed. Progress goes to stderr; the summary
 * (accepted, abnormal, rejected by reason, throughput, request latency) is one
 * JSON object on stdout. Exit 1 if any honest record was rejected.
 * @module
 */
import os from 'node:os';
import path from 'node:path';
import { bytesToHex } from '../crypto/codec.js';
import { cryptoRandom, randomScalar } from '../crypto/random.js';
import { schnorrPublicKey } from '../crypto/schnorr.js';
import { HOUSEHOLD } from '../protocol/meter.js';
import { householdDay, seededUniform } from '../protocol/simulation.js';
import { ServiceClient, ServiceError } from '../server/client.js';
import { PROVISIONING_KEY_FILE, readProvisioningKey } from '../server/keys.js';
import { ZkmeterError } from '../errors.js';
import { WorkerPool } from '../server/pool.js';
import type { WorkerResult, WorkerTask } from '../server/worker.js';
import { progress } from './progress.js';
import { parseSmallInt, UsageError } from './parse.js';

type Options = Record<string, string | boolean | undefined>;

export interface SimulationSummary {
  meters: number;
  days: number;
  records: number;
  readings: number;
  accepted: number;
  abnormal: number;
  repeated: number;
  invalid: number;
  reasons: Record<string, number>;
  requests: number;
  retriedAfter503: number;
  sealSeconds: number;
  seconds: number;
  readingsPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
}

/** The q-quantile (0 ≤ q ≤ 1) of ascending `sorted` (0 when empty); also the load bench's. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function simulateCommand(o: Options): Promise<{ ok: boolean; summary: SimulationSummary }> {
  if (typeof o.url !== 'string' || !/^https?:\/\/[^/]+/.test(o.url)) throw new UsageError('--url expected the service URL, like http://127.0.0.1:8080');
  const meters = parseSmallInt(typeof o.meters === 'string' ? o.meters : '20', '--meters', 1, 1_000_000);
  const days = parseSmallInt(typeof o.days === 'string' ? o.days : '1', '--days', 1, 3660);
  const batch = parseSmallInt(typeof o.batch === 'string' ? o.batch : '16', '--batch', 1, 1000);
  const concurrency = parseSmallInt(typeof o.concurrency === 'string' ? o.concurrency : '4', '--concurrency', 1, 256);
  const workers = parseSmallInt(typeof o.workers === 'string' ? o.workers : String(os.availableParallelism()), '--workers', 1, 256);
  const seed = parseSmallInt(typeof o.seed === 'string' ? o.seed : '1', '--seed', 0, 2 ** 31);
  const abnormalShare = typeof o.abnormal === 'string' ? Number(o.abnormal) : 0.002;
  if (!(abnormalShare >= 0 && abnormalShare <= 1)) throw new UsageError('--abnormal expected a share between 0 and 1');
  const token = typeof o.token === 'string' ? o.token : process.env.ZKMETER_ADMIN_TOKEN;
  // Days end at today's UTC midnight by default: the last `days` whole days.
  const today = Math.floor(Date.now() / 86_400_000) * 86_400;
  const start = typeof o.start === 'string' ? parseSmallInt(o.start, '--start', 0, 2 ** 40) : today - days * 86_400;
  if (start % 86_400 !== 0) throw new UsageError('--start expected a UTC midnight (a multiple of 86400)');
  const provisioningFile = typeof o.provisioningKey === 'string' ? o.provisioningKey : typeof o.keys === 'string' ? path.join(o.keys, PROVISIONING_KEY_FILE) : undefined;
  if (provisioningFile === undefined) {
    throw new UsageError(`--provisioning-key expected the provisioning key file that certifies the meters (or --keys, the service's key directory holding ${PROVISIONING_KEY_FILE})`);
  }
  let provisioningKey: bigint;
  try {
    provisioningKey = readProvisioningKey(provisioningFile).secretKey;
  } catch (e) {
    if (e instanceof ZkmeterError) throw new UsageError(`--provisioning-key: ${e.message}`);
    throw e;
  }
  const log = (line: string) => process.stderr.write(line + '\n');

  const client = new ServiceClient(o.url, { ...(token ? { token } : {}) });
  const config = await client.config().catch((e: unknown) => {
    throw new UsageError(e instanceof ServiceError ? e.message : String(e));
  });
  if (config.meterClass.bits !== HOUSEHOLD.bits || config.meterClass.intervalSeconds !== HOUSEHOLD.intervalSeconds) {
    throw new UsageError(`the service's meter class (${config.meterClass.bits} bits, ${config.meterClass.intervalSeconds} s) is not the simulator's household class`);
  }
  const run = bytesToHex(cryptoRandom(3));
  const fleet = Array.from({ length: meters }, (_, i) => {
    const signingKey = randomScalar();
    return { meterId: `sim-${run}-${i}`, signingKey, publicKey: schnorrPublicKey(signingKey), feeder: `F${i % 10}` };
  });
  log(`simulating ${meters} meters × ${days} days against ${client.url} (run ${run}, ${workers} sealing workers, ${concurrency} clients, ${batch} records per request)`);
  // Certified as installed well before the simulated days, so that grids count them as established meters.
  const validFrom = Math.max(0, start - 400 * 86_400);
  for (let i = 0; i < fleet.length; i += 1000) {
    const certify = fleet.slice(i, i + 1000).map((m) => ({ meterId: m.meterId, publicKey: m.publicKey, feeder: m.feeder, validFrom }));
    await client.registerMeters(provisioningKey, certify).catch((e: unknown) => {
      throw new UsageError(`registering meters: ${(e as Error).message}${e instanceof ServiceError && e.status === 401 ? ' (set ZKMETER_ADMIN_TOKEN or --token)' : ''}`);
    });
  }

  const perDay = 86_400 / HOUSEHOLD.intervalSeconds;
  const random = seededUniform(seed);
  const pool = new WorkerPool<WorkerTask, WorkerResult>(new URL('../server/worker.js', import.meta.url), workers);
  const sealing = progress('meters sealing', meters * days, 'records');
  const submitting = progress('submitting', meters * days * perDay, 'readings');
  const ready: Uint8Array[] = [];
  let sealedAll = false;
  const waiting: (() => void)[] = [];
  const wake = () => {
    for (const w of waiting.splice(0)) w();
  };
  const t0 = performance.now();
  let sealSeconds = 0;
  const sealed = (async () => {
    const tasks: Promise<void>[] = [];
    for (let d = 0; d < days; d++) {
      for (const m of fleet) {
        const { readings } = householdDay(random, { abnormalShare });
        const task: WorkerTask = {
          type: 'seal',
          mode: 'daily',
          meterId: m.meterId,
          signingKey: m.signingKey,
          utilityKey: config.utilityKey,
          meterClass: HOUSEHOLD,
          tariffVersion: config.tariffVersion,
          sequence: d,
          dayStart: start + d * 86_400,
          readings,
        };
        tasks.push(
          pool.run(task).then((r) => {
            if (r.type !== 'seal') throw new Error('unexpected worker result');
            ready.push(...r.records);
            sealing.tick(r.records.length);
            wake();
          }),
        );
      }
    }
    try {
      await Promise.all(tasks);
    } finally {
      sealedAll = true;
      sealSeconds = (performance.now() - t0) / 1000;
      sealing.done();
      wake();
    }
  })();

  const summary: SimulationSummary = {
    meters,
    days,
    records: 0,
    readings: 0,
    accepted: 0,
    abnormal: 0,
    repeated: 0,
    invalid: 0,
    reasons: {},
    requests: 0,
    retriedAfter503: 0,
    sealSeconds: 0,
    seconds: 0,
    readingsPerSec: 0,
    latencyMs: { p50: 0, p99: 0, max: 0 },
  };
  const latencies: number[] = [];
  let firstSubmit: number | undefined;
  const sender = async () => {
    for (;;) {
      if (ready.length === 0) {
        if (sealedAll) return;
        await new Promise<void>((r) => waiting.push(r));
        continue;
      }
      const records = ready.splice(0, batch);
      firstSubmit ??= performance.now();
      const t = performance.now();
      const r = await client.submit(records);
      latencies.push(performance.now() - t);
      summary.requests++;
      summary.retriedAfter503 += r.retries;
      for (const x of r.results) {
        summary.records++;
        if (x.status === 'invalid') {
          summary.invalid++;
          summary.reasons[x.reason ?? 'unknown'] = (summary.reasons[x.reason ?? 'unknown'] ?? 0) + 1;
          continue;
        }
        summary.readings += x.intervals?.length ?? 0;
        if (x.repeated) summary.repeated++;
        else if (x.status === 'abnormal') summary.abnormal++;
        else summary.accepted++;
      }
      submitting.tick(records.length * perDay);
    }
  };
  try {
    await Promise.all([sealed, ...Array.from({ length: concurrency }, sender)]);
  } finally {
    await pool.close();
  }
  submitting.done();
  const end = performance.now();
  summary.sealSeconds = sealSeconds;
  summary.seconds = (end - (firstSubmit ?? end)) / 1000;
  summary.readingsPerSec = summary.seconds > 0 ? summary.readings / summary.seconds : 0;
  latencies.sort((a, b) => a - b);
  summary.latencyMs = { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1] ?? 0 };
  log(
    `${summary.records} records (${summary.readings} readings): ${summary.accepted} accepted, ${summary.abnormal} abnormal, ${summary.repeated} already stored, ${summary.invalid} rejected` +
      `${summary.invalid ? ` (${Object.entries(summary.reasons).map(([k, v]) => `${v} ${k}`).join(', ')})` : ''}; ${summary.readingsPerSec.toFixed(0)} readings/s while submitting; ` +
      `request latency p50 ${summary.latencyMs.p50.toFixed(0)} ms, p99 ${summary.latencyMs.p99.toFixed(0)} ms`,
  );
  return { ok: summary.invalid === 0, summary };
}
