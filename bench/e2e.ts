/**
 * End-to-end verified readings per second on all cores: records decoded and
 * their signatures, 16-bit two-sided range proofs and proofs of equivalence
 * batch-verified in worker threads (lib/server/pool.ts), for each record mode.
 * Run by `zkmeter bench` on the native backend; prints one JSON line of metrics.
 * Storage is not included (it is the server's: see issue 6's load test).
 */
import os from 'node:os';
import { bytesToHex, encodePoints } from '../lib/crypto/codec.js';
import { keygen } from '../lib/crypto/elgamal.js';
import { randomScalar } from '../lib/crypto/random.js';
import { backendName } from '../lib/backend/index.js';
import { HOUSEHOLD, Meter } from '../lib/protocol/meter.js';
import { householdDay, seededUniform } from '../lib/protocol/simulation.js';
import { WorkerPool } from '../lib/server/pool.js';
import type { PackedVerdict } from '../lib/server/wire.js';
import type { WorkerResult, WorkerTask } from '../lib/server/worker.js';
import { median } from './msm.js';

export async function runE2eBench(quick: boolean, log: (line: string) => void): Promise<Record<string, number>> {
  const b = backendName();
  const m: Record<string, number> = {};
  const cores = os.availableParallelism();
  const { publicKey } = keygen();
  const utilityKey = bytesToHex(encodePoints(publicKey));
  const random = seededUniform(7);
  const meters = Array.from({ length: quick ? 4 : 16 }, (_, i) => new Meter({ meterId: `MTR-${i}`, signingKey: randomScalar(), utilityKey: publicKey }));
  const registry = meters.map((x) => ({ meterId: x.meterId, publicKey: x.publicKey, meterClass: HOUSEHOLD, keyEpoch: 0 }));
  const pool = new WorkerPool<WorkerTask, WorkerResult>(new URL('../lib/server/worker.js', import.meta.url), cores);
  try {
    // Distinct records to cycle through: per-reading records (1000) and daily ones (one per meter).
    const perReading: Uint8Array[] = [];
    const daily: Uint8Array[] = [];
    for (const x of meters) {
      const { readings } = householdDay(random);
      daily.push(x.daily(0, readings).bytes);
      for (let i = 0; i < (quick ? 25 : 63) && perReading.length < 1000; i++) perReading.push(x.reading(86_400 + 900 * i, readings[i]!).bytes);
    }
    const measure = async (name: string, records: Uint8Array[], perRecord: number, batchRecords: number, batches: number) => {
      const batch = (k: number) => Array.from({ length: batchRecords }, (_, i) => records[(k * batchRecords + i) % records.length]!);
      const run = (k: number) => pool.run({ type: 'verify', records: batch(k), registry, utilityKey });
      await Promise.all(Array.from({ length: cores }, (_, k) => run(k))); // warm-up: tables in every worker
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: batches }, (_, k) => run(k)));
      const secs = (performance.now() - t0) / 1000;
      for (const r of results) if (r.type !== 'verify' || !r.verdicts.every((v) => v.ok)) throw new Error('a benchmark record did not verify');
      const rate = (batches * batchRecords * perRecord) / secs;
      m[`${b}.e2e.${name}.readingsPerSec`] = rate;
      m[`${b}.e2e.${name}.batchReadings`] = batchRecords * perRecord;
      log(`${b.padEnd(6)} e2e.${name}.readingsPerSec`.padEnd(42) + ` ${rate.toFixed(0)}  (${cores} workers, batches of ${batchRecords} records = ${batchRecords * perRecord} readings)`);
      return rate;
    };
    await measure('perReadingRecord', perReading, 1, 1000, quick ? 4 : 8);
    const dailyRate = await measure('dailyRecord', daily, 96, 200, quick ? 2 : 6);
    await measure('dailyRecordSmallBatch', daily, 96, 10, quick ? 8 : 24);
    // One core: a daily record's verification alone and in batches of 16, one task at a time
    // (every worker is warm by now), in milliseconds per record.
    const perRecordMs = async (name: string, batchRecords: number, rounds: number) => {
      const run = (k: number) => pool.run({ type: 'verify', records: Array.from({ length: batchRecords }, (_, i) => daily[(k * batchRecords + i) % daily.length]!), registry, utilityKey });
      const t0 = performance.now();
      for (let k = 0; k < rounds; k++) {
        const r = await run(k);
        if (r.type !== 'verify' || !r.verdicts.every((v) => v.ok)) throw new Error('a benchmark record did not verify');
      }
      const ms = (performance.now() - t0) / (rounds * batchRecords);
      m[`${b}.e2e.${name}.verifyMs`] = ms;
      log(`${b.padEnd(6)} e2e.${name}.verifyMs`.padEnd(42) + ` ${ms.toFixed(3)}  (one core, ${batchRecords} daily record${batchRecords > 1 ? 's' : ''} per batch)`);
    };
    await perRecordMs('dailyRecordAlone', 1, quick ? 10 : 40);
    await perRecordMs('dailyRecordBatch16', 16, quick ? 2 : 8);
    // One core: the same 16 daily records honest and with every signature forged, in alternating
    // rounds. Forged records are rejected after the signatures' MSM, before any proof work
    // (lib/protocol/verify.ts), so a flood of them costs less than honest traffic.
    const sixteen = Array.from({ length: 16 }, (_, i) => daily[i % daily.length]!);
    const forged = sixteen.map((r) => {
      const f = r.slice();
      f[f.length - 1]! ^= 1; // the low byte of the signature's s
      return f;
    });
    const batchMs = async (records: Uint8Array[], expect: (v: PackedVerdict) => boolean) => {
      const t0 = performance.now();
      const r = await pool.run({ type: 'verify', records, registry, utilityKey });
      if (r.type !== 'verify' || !r.verdicts.every(expect)) throw new Error('a benchmark verdict is not the expected one');
      return performance.now() - t0;
    };
    const honestMs: number[] = [];
    const forgedMs: number[] = [];
    for (let k = 0; k < (quick ? 3 : 9); k++) {
      honestMs.push(await batchMs(sixteen, (v) => v.ok));
      forgedMs.push(await batchMs(forged, (v) => !v.ok && v.reason === 'signature'));
    }
    const forgedOverHonest = median(forgedMs) / median(honestMs);
    m[`${b}.e2e.forgedSignatureBatch16.overHonest`] = forgedOverHonest;
    log(`${b.padEnd(6)} e2e.forgedSignatureBatch16.overHonest`.padEnd(42) + ` ${forgedOverHonest.toFixed(3)}  (one core, 16 daily records: ${median(forgedMs).toFixed(1)} ms forged, ${median(honestMs).toFixed(1)} ms honest)`);
    m[`${b}.e2e.readingsPerSec`] = dailyRate; // the recommended mode: daily records
    m[`${b}.e2e.cores`] = cores;
  } finally {
    await pool.close();
  }
  return m;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const metrics = await runE2eBench(process.argv.includes('--quick'), (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify({ metrics }) + '\n'); // a WorkerOutput (bench/results.ts)
}
