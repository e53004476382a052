/**
 * Micro-batching verification: records from concurrent requests are gathered
 * into batches (up to `maxBatchRecords` records or `maxBatchBytes` bytes, or
 * whatever arrived within `maxWaitMs`), each batch is verified in one worker
 * thread (verifyRecordBatch: its signatures in one MSM, then the proofs of the
 * records whose signature verified in another), and its verdicts are stored in one
 * durable commit (ControlCenter.accept) before any request is answered.
 *
 * While every worker is busy, the open batch keeps growing instead of queueing
 * small batches: under load batches get larger, which is when the MSM's
 * per-point cost falls. A bad record fails only itself (bisection inside the
 * batch verifier), and a forged signature costs a signature check, never proof
 * work. The queue is bounded by bytes (verification cost is close to
 * proportional to a record's size): `offer` refuses work past `maxQueuedBytes`,
 * which the HTTP layer answers with 503 and Retry-After.
 * @module
 */
import type { ControlCenter, RecordOutcome, VerifierEpoch } from '../protocol/center.js';
import type { StoredEpoch } from '../protocol/store.js';
import type { ServerMetrics } from './metrics.js';
import type { WorkerPool } from './pool.js';
import type { WorkerResult, WorkerTask } from './worker.js';
import { unpackVerdicts } from './wire.js';

export interface VerifierOptions {
  readonly center: ControlCenter;
  readonly pool: WorkerPool<WorkerTask, WorkerResult>;
  /** The utility's public key, 33-byte compressed hex (what the workers decode). */
  readonly utilityKeyHex: string;
  readonly tariffVersions?: readonly number[];
  readonly metrics: ServerMetrics;
  /** Most records in one batch (default 1000). */
  readonly maxBatchRecords?: number;
  /** Most bytes in one batch (default 1 MiB, about 96 daily records or one second of one core). */
  readonly maxBatchBytes?: number;
  /** Longest a record waits for its batch to fill, ms (default 20). */
  readonly maxWaitMs?: number;
  /** Most bytes queued or in flight before `offer` refuses (default 64 MiB). */
  readonly maxQueuedBytes?: number;
}

interface Item {
  /** Transferred to the worker (then detached): `size` keeps its length. */
  readonly bytes: Uint8Array;
  readonly size: number;
  readonly resolve: (o: RecordOutcome) => void;
  readonly reject: (e: Error) => void;
}

export class MicroBatchVerifier {
  private readonly o: Required<Omit<VerifierOptions, 'tariffVersions'>> & Pick<VerifierOptions, 'tariffVersions'>;
  private open: Item[] = [];
  private openBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The open batch has waited its maxWaitMs and goes as soon as a worker is free. */
  private due = false;
  private inFlight = 0;
  private queuedRecords = 0;
  private queuedBytes = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(o: VerifierOptions) {
    this.o = { maxBatchRecords: 1000, maxBatchBytes: 1 << 20, maxWaitMs: 20, maxQueuedBytes: 64 << 20, ...o };
  }

  /** Records and bytes queued or in flight. */
  get depth(): { records: number; bytes: number; batchesInFlight: number } {
    return { records: this.queuedRecords, bytes: this.queuedBytes, batchesInFlight: this.inFlight };
  }

  /**
   * Queues records for verification and storage; resolves with one outcome per
   * record, in order, once they are committed. Returns undefined (and queues
   * nothing) if they would take the queue past its limit.
   */
  offer(records: readonly Uint8Array[]): Promise<RecordOutcome[]> | undefined {
    const bytes = records.reduce((n, r) => n + r.length, 0);
    if (this.queuedBytes > 0 && this.queuedBytes + bytes > this.o.maxQueuedBytes) {
      this.o.metrics.overloaded.inc();
      return undefined;
    }
    this.queuedRecords += records.length;
    this.queuedBytes += bytes;
    this.gauge();
    return Promise.all(
      records.map(
        (r) =>
          new Promise<RecordOutcome>((resolve, reject) => {
            // Its own buffer, so the worker gets (by transfer) just this record, not the whole request body.
            this.open.push({ bytes: r.slice(), size: r.length, resolve, reject });
            this.openBytes += r.length;
            if (this.open.length >= this.o.maxBatchRecords || this.openBytes >= this.o.maxBatchBytes) this.flush();
            else if (this.timer === undefined && !this.due) this.timer = setTimeout(() => this.expire(), this.o.maxWaitMs);
          }),
      ),
    );
  }

  /** Resolves when nothing is queued or in flight (for a clean shutdown). */
  drained(): Promise<void> {
    if (this.queuedRecords === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private expire(): void {
    this.timer = undefined;
    if (this.inFlight < this.o.pool.size) this.flush();
    else this.due = true; // every worker is busy: keep filling until one is free
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.due = false;
    if (this.open.length === 0) return;
    const all = this.open;
    this.open = [];
    this.openBytes = 0;
    // Spread what is waiting over the idle workers: a part on an otherwise idle core
    // finishes sooner than the whole on one, even though each batch pays the
    // generator MSM (about 80 ms for a daily record's 8192 generators) once.
    const parts = Math.max(1, Math.min(this.o.pool.size - this.inFlight, all.length));
    for (let p = 0; p < parts; p++) {
      const batch = all.slice(Math.floor((p * all.length) / parts), Math.floor(((p + 1) * all.length) / parts));
      this.inFlight++;
      void this.run(batch).finally(() => this.settled(batch));
    }
  }

  private settled(batch: readonly Item[]): void {
    this.inFlight--;
    this.queuedRecords -= batch.length;
    this.queuedBytes -= batch.reduce((n, it) => n + it.size, 0);
    this.gauge();
    if (this.due) this.flush();
    if (this.queuedRecords === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(batch: Item[]): Promise<void> {
    const started = performance.now();
    const m = this.o.metrics;
    try {
      const records = batch.map((it) => it.bytes);
      // What verification needs of each meter, and no more (not its certificates) across the thread boundary.
      const registry = [...(await this.o.center.registrations(records)).values()].map((m) => ({
        meterId: m.meterId,
        ...verifierEpoch(m),
        ...(m.history?.length ? { history: m.history.map(verifierEpoch) } : {}),
      }));
      const task: WorkerTask = { type: 'verify', records, registry, utilityKey: this.o.utilityKeyHex, ...(this.o.tariffVersions ? { tariffVersions: [...this.o.tariffVersions] } : {}) };
      const result = await this.o.pool.run(task, records.map((r) => r.buffer as ArrayBuffer));
      if (result.type !== 'verify') throw new Error('unexpected worker result');
      const outcomes = await this.o.center.accept(unpackVerdicts(result.verdicts));
      outcomes.forEach((x, i) => {
        if (x.status === 'invalid') m.recordsRejected.inc({ reason: x.reason });
        else {
          m.recordsAccepted.inc({ outcome: x.repeated ? 'repeated' : x.status });
          m.readingsVerified.inc(x.intervals.length);
        }
        batch[i]!.resolve(x);
      });
      m.batchRecords.observe(batch.length);
      m.batchSeconds.observe((performance.now() - started) / 1000);
    } catch (e) {
      for (const it of batch) it.reject(e as Error);
    }
  }

  private gauge(): void {
    this.o.metrics.queueRecords.set(this.queuedRecords);
    this.o.metrics.queueBytes.set(this.queuedBytes);
  }
}

function verifierEpoch(e: StoredEpoch): VerifierEpoch {
  return { publicKey: e.publicKey, meterClass: e.meterClass, keyEpoch: e.keyEpoch, validFrom: e.validFrom ?? 0 };
}
