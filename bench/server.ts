/**
 * Load test of the service: `zkmeter serve --single-operator` (native, SQLite)
 * in a child process, driven over loopback from this process by concurrent clients
 * submitting daily records in the binary framing. Measured side by side in
 * one run with the library's own batch verification of the same records on
 * the same cores (worker threads, no HTTP, no storage; timed before and after the
 * service and averaged), so the ratio
 * `native.server.overLibrary` is the share of the library's throughput the
 * service keeps. Also: request latency p50/p99, the first pass (every record
 * new, so stored) and the server's peak resident memory.
 *
 * Records are sealed once (about 0.5 s each per core) and cycled: after the
 * first pass the server recognises them as already stored, but verifies every
 * one in full first, exactly as it does a new record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey } from '../lib/crypto/schnorr.js';
import { HOUSEHOLD } from '../lib/protocol/meter.js';
import { householdDay, seededUniform } from '../lib/protocol/simulation.js';
import { quantile } from '../lib/cli/simulate.js';
import { ServiceClient } from '../lib/server/client.js';
import { PROVISIONING_KEY_FILE, readProvisioningKey } from '../lib/server/keys.js';
import { spawnServe } from '../lib/server/spawn.js';
import { WorkerPool } from '../lib/server/pool.js';
import type { WorkerResult, WorkerTask } from '../lib/server/worker.js';

const TOKEN = 'bench-token';

export async function runServerBench(quick: boolean, log: (line: string) => void): Promise<Record<string, number>> {
  const m: Record<string, number> = {};
  const cores = os.availableParallelism();
  const dir = mkdtempSync(join(os.tmpdir(), 'zkmeter-bench-server-'));
  // Single-operator mode (the authority's service in the server's process), its keys made on this first start in a
  // key directory of the bench's own: the bench measures ingest, which never asks the authority.
  const keys = join(dir, 'keys');
  const server = await spawnServe(['--single-operator', '--init', '--db', join(dir, 'bench.db'), '--keys', keys], { ZKMETER_ADMIN_TOKEN: TOKEN, ZKMETER_BACKEND: 'native' });
  const pool = new WorkerPool<WorkerTask, WorkerResult>(new URL('../lib/server/worker.js', import.meta.url), cores);
  try {
    const admin = new ServiceClient(server.url, { token: TOKEN });
    const config = await admin.config();
    const meterCount = quick ? 8 : 64;
    const days = 2;
    const fleet = Array.from({ length: meterCount }, (_, i) => {
      const signingKey = randomScalar();
      return { meterId: `bench-${i}`, signingKey, publicKey: schnorrPublicKey(signingKey) };
    });
    // Certified by the provisioning key the service made in its key directory on first start.
    const provisioning = readProvisioningKey(join(keys, PROVISIONING_KEY_FILE));
    await admin.registerMeters(provisioning.secretKey, fleet.map((f) => ({ ...f, feeder: 'F0', validFrom: 0 })));
    const random = seededUniform(11);
    const t0 = performance.now();
    const sealed = await Promise.all(
      fleet.flatMap((f) =>
        Array.from({ length: days }, (_, d) =>
          pool.run({
            type: 'seal',
            mode: 'daily',
            meterId: f.meterId,
            signingKey: f.signingKey,
            utilityKey: config.utilityKey,
            meterClass: HOUSEHOLD,
            tariffVersion: config.tariffVersion,
            sequence: d,
            dayStart: 1_764_115_200 + d * 86_400,
            readings: householdDay(random).readings,
          }),
        ),
      ),
    );
    const records = sealed.flatMap((r) => (r.type === 'seal' ? r.records : []));
    const perRecord = 86_400 / HOUSEHOLD.intervalSeconds;
    log(`server bench: ${records.length} daily records sealed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // The library alone: batch verification of the same records on the same cores.
    const registry = fleet.map((f) => ({ meterId: f.meterId, publicKey: f.publicKey, meterClass: HOUSEHOLD, keyEpoch: 0 }));
    const libBatch = 96;
    const libBatches = quick ? 6 : 16;
    const batch = (k: number) => Array.from({ length: libBatch }, (_, i) => records[(k * libBatch + i) % records.length]!);
    await pool.runOnEach({ type: 'verify', records: batch(0), registry, utilityKey: config.utilityKey }); // warm-up: tables and JIT in every worker
    const library = async () => {
      const t1 = performance.now();
      const verified = await Promise.all(Array.from({ length: libBatches }, (_, k) => pool.run({ type: 'verify', records: batch(k), registry, utilityKey: config.utilityKey })));
      const libSecs = (performance.now() - t1) / 1000;
      for (const r of verified) if (r.type !== 'verify' || !r.verdicts.every((v) => v.ok)) throw new Error('a benchmark record did not verify');
      return (libBatches * libBatch * perRecord) / libSecs;
    };
    // The library is timed before and after the service (idle workers cost nothing meanwhile) and averaged, since this machine drifts.
    const libBefore = await library();

    // The service, driven by concurrent clients; the first pass stores every record.
    const perRequest = 8;
    const concurrency = 32;
    const latencies: number[] = [];
    const drive = async (seconds: number, firstPassOnly: boolean) => {
      let sent = 0;
      let readings = 0;
      const deadline = performance.now() + 1000 * seconds;
      const start = performance.now();
      const client = new ServiceClient(server.url);
      const worker = async () => {
        while (firstPassOnly ? sent < records.length : performance.now() < deadline) {
          const from = sent % records.length;
          sent += perRequest;
          const chunk = Array.from({ length: perRequest }, (_, i) => records[(from + i) % records.length]!);
          const t = performance.now();
          const r = await client.submit(chunk);
          if (!firstPassOnly) latencies.push(performance.now() - t);
          if (r.invalid > 0) throw new Error(`the service rejected ${r.invalid} benchmark records`);
          readings += r.results.reduce((n, x) => n + (x.intervals?.length ?? 0), 0);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      return readings / ((performance.now() - start) / 1000);
    };
    m['native.server.firstPass.readingsPerSec'] = await drive(0, true);
    const seconds = quick ? 5 : 30;
    const rate = await drive(seconds, false);
    latencies.sort((a, b) => a - b);
    m['native.server.readingsPerSec'] = rate;
    m['native.server.recordsPerSec'] = rate / perRecord;
    m['native.server.latencyP50.ms'] = quantile(latencies, 0.5);
    m['native.server.latencyP99.ms'] = quantile(latencies, 0.99);
    const libRate = (libBefore + (await library())) / 2;
    m['native.server.libraryReadingsPerSec'] = libRate;
    m['native.server.overLibrary'] = rate / libRate;
    m['native.server.peakRss.MiB'] = server.peakRss() / 2 ** 20;
    m['native.server.requestRecords'] = perRequest;
    m['native.server.clients'] = concurrency;
    log(
      `native server.readingsPerSec`.padEnd(42) +
        ` ${rate.toFixed(0)}  (${concurrency} clients × ${perRequest} daily records per request, ${seconds} s; library alone ${libRate.toFixed(0)}: ${(100 * m['native.server.overLibrary']).toFixed(0)}%)`,
    );
    log(
      `native server latency p50 / p99`.padEnd(42) +
        ` ${m['native.server.latencyP50.ms']!.toFixed(0)} / ${m['native.server.latencyP99.ms']!.toFixed(0)} ms; first pass (storing) ${m['native.server.firstPass.readingsPerSec']!.toFixed(0)} readings/s; peak RSS ${m['native.server.peakRss.MiB']?.toFixed(0)} MiB`,
    );
  } finally {
    await pool.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return m;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const metrics = await runServerBench(process.argv.includes('--quick'), (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify({ metrics }) + '\n'); // a WorkerOutput (bench/results.ts)
}
