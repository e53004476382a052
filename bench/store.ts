/**
 * How fast the stores write: `putRecords` group commits of verified daily
 * records (96 readings each, every record a new meter-day), in readings stored
 * per second, for batch sizes the service forms. SQLite always (a temporary
 * file, WAL, synchronous = FULL); PostgreSQL too when ZKMETER_BENCH_PG_URL names
 * a database to use (it creates its tables there). The records are one
 * verified record re-labelled: the store does not verify, so only the write
 * path is timed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { keygen } from '../lib/crypto/elgamal.js';
import { randomScalar } from '../lib/crypto/random.js';
import { verifyRecordBatch, type VerifiedRecord } from '../lib/protocol/center.js';
import { HOUSEHOLD, Meter } from '../lib/protocol/meter.js';
import { householdDay, seededUniform } from '../lib/protocol/simulation.js';
import type { CenterStore } from '../lib/protocol/store.js';
import { PgStore } from '../lib/server/pg-store.js';
import { SqliteStore } from '../lib/server/sqlite-store.js';

const METERS = 500;

export async function runStoreBench(quick: boolean, log: (line: string) => void): Promise<Record<string, number>> {
  const m: Record<string, number> = {};
  const { publicKey } = keygen();
  const meter = new Meter({ meterId: 'S', signingKey: randomScalar(), utilityKey: publicKey });
  const record = meter.daily(0, householdDay(seededUniform(5)).readings);
  const [v] = verifyRecordBatch([record.bytes], () => ({ publicKey: meter.publicKey, meterClass: HOUSEHOLD, keyEpoch: 0 }), publicKey);
  if (v === undefined || !v.ok) throw new Error('the benchmark record did not verify');
  let next = 0;
  /** `n` distinct meter-days carrying the same payload. */
  const records = (n: number): VerifiedRecord[] =>
    Array.from({ length: n }, () => {
      const k = next++;
      return { ...v, header: { ...v.header, meterId: `S${k % METERS}`, intervalStart: 86_400 * Math.floor(k / METERS) }, recordId: k.toString(16).padStart(64, '0') };
    });
  const dir = mkdtempSync(join(os.tmpdir(), 'zkmeter-bench-store-'));
  const stores: [string, () => Promise<CenterStore>][] = [['sqlite', async () => new SqliteStore(join(dir, 'bench.db'))]];
  const pgUrl = process.env.ZKMETER_BENCH_PG_URL;
  if (pgUrl) stores.push(['postgres', () => PgStore.open(pgUrl)]);
  else log('store bench: PostgreSQL not measured (set ZKMETER_BENCH_PG_URL to a database to measure it)');
  try {
    for (const [name, open] of stores) {
      const store = await open();
      for (let i = 0; i < METERS; i++) await store.putMeter({ meterId: `S${i}`, publicKey: meter.publicKey, meterClass: HOUSEHOLD, feeder: undefined, keyEpoch: 0 });
      for (const batch of [8, 96]) {
        const rounds = quick ? 3 : 10;
        const t0 = performance.now();
        for (let r = 0; r < rounds; r++) {
          const out = await store.putRecords(records(batch));
          if (!out.every((x) => x.status === 'stored')) throw new Error('a benchmark record was not stored');
        }
        const rate = (rounds * batch * 96) / ((performance.now() - t0) / 1000);
        m[`store.${name}.batch${batch}.readingsPerSec`] = rate;
        log(`store ${name}.batch${batch}.readingsPerSec`.padEnd(42) + ` ${rate.toFixed(0)}  (group commits of ${batch} daily records)`);
      }
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return m;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const metrics = await runStoreBench(process.argv.includes('--quick'), (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify({ metrics }) + '\n'); // a WorkerOutput (bench/results.ts)
}
