/**
 * The worker-thread side of the pool (pool.ts): verifies batches of records
 * (the control center's hot path), for simulations seals meter records, and
 * warms its generator cache before a service listens. Each task is
 * self-contained: the registry entries and keys it needs travel with it, so
 * workers hold no state a crash could lose (the generator cache is derived).
 * @module
 */
import { decodeHexPoint, packVerdicts, type PackedVerdict } from './wire.js';
import { verifyRecordBatch, type VerifierRegistration } from '../protocol/center.js';
import { Meter, type MeterClass } from '../protocol/meter.js';
import { serveTasks } from './pool.js';
import { prepareVectorGenerators } from '../crypto/msm-accumulator.js';

export type WorkerTask =
  | {
      /** Prepare the vector generators a verification of up to `generators` per vector needs. */
      type: 'warm';
      generators: number;
    }
  | {
      type: 'verify';
      records: Uint8Array[];
      /** The batch's meters: current epoch, and earlier ones in `history` (records of an earlier epoch verify under its key). */
      registry: ({ meterId: string } & VerifierRegistration)[];
      utilityKey: string;
      tariffVersions?: number[];
    }
  | {
      type: 'seal';
      mode: 'daily' | 'reading';
      meterId: string;
      signingKey: bigint;
      utilityKey: string;
      meterClass: MeterClass;
      tariffVersion: number;
      sequence: number;
      dayStart: number;
      readings: bigint[];
    };

export type WorkerResult =
  | { type: 'warm' }
  | { type: 'verify'; verdicts: PackedVerdict[] }
  | { type: 'seal'; records: Uint8Array[]; openings: { intervalStart: number; reading: bigint; blinding: bigint }[] };

export function handle(task: WorkerTask): WorkerResult {
  if (task.type === 'warm') {
    prepareVectorGenerators(task.generators);
    return { type: 'warm' };
  }
  if (task.type === 'verify') {
    const registry = new Map<string, VerifierRegistration>(task.registry.map((r) => [r.meterId, r]));
    const tariffs = task.tariffVersions ? new Set(task.tariffVersions) : undefined;
    return { type: 'verify', verdicts: packVerdicts(verifyRecordBatch(task.records, (id) => registry.get(id), decodeHexPoint(task.utilityKey, 'utilityKey'), tariffs)) };
  }
  const meter = new Meter({
    meterId: task.meterId,
    signingKey: task.signingKey,
    utilityKey: decodeHexPoint(task.utilityKey, 'utilityKey'),
    meterClass: task.meterClass,
    tariffVersion: task.tariffVersion,
    sequence: task.sequence,
  });
  const records =
    task.mode === 'daily'
      ? [meter.daily(task.dayStart, task.readings).bytes]
      : task.readings.map((wh, i) => meter.reading(task.dayStart + i * task.meterClass.intervalSeconds, wh).bytes);
  return { type: 'seal', records, openings: meter.export() };
}

serveTasks<WorkerTask, WorkerResult>(handle);
