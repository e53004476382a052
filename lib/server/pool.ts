/**
 * A fixed pool of worker threads running one task handler, sized to the cores
 * by default. Tasks queue in order; each worker takes the next when it is free.
 * Errors in a task reject that task's promise (a ZkmeterError keeps its code);
 * a worker that dies is replaced and its task rejected.
 * @module
 */
import os from 'node:os';
import { Worker, parentPort, type TransferListItem } from 'node:worker_threads';
import { ZkmeterError, type ErrorCode } from '../errors.js';

interface Pending<Res> {
  id: number;
  task: unknown;
  transfer: readonly TransferListItem[];
  resolve: (r: Res) => void;
  reject: (e: Error) => void;
}

type Reply = { id: number; result: unknown } | { id: number; error: { message: string; code?: ErrorCode } };

export class WorkerPool<Req, Res> {
  readonly size: number;
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending<Res>>();
  private readonly queue: Pending<Res>[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly script: URL,
    size = os.availableParallelism(),
    private readonly env: Record<string, string | undefined> = process.env,
  ) {
    this.size = Math.max(1, size);
    for (let i = 0; i < this.size; i++) this.idle.push(this.spawn());
  }

  /** Runs `task` once on every worker (e.g. to warm caches), in parallel; only call while the pool is idle. */
  async runOnEach(task: Req): Promise<Res[]> {
    if (this.busy.size > 0 || this.queue.length > 0) throw new Error('runOnEach needs an idle pool');
    // With every worker idle, `size` tasks dispatch to `size` distinct workers.
    return Promise.all(Array.from({ length: this.size }, () => this.run(task)));
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  run(task: Req, transfer: readonly TransferListItem[] = []): Promise<Res> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, transfer, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle, ...this.busy.keys()];
    this.idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }

  private spawn(): Worker {
    // --input-type (node -e / stdin scripts) applies to the main entry only; a worker given it refuses to start.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const w = new Worker(this.script, { env: this.env, execArgv });
    w.on('message', (reply: Reply) => {
      const p = this.busy.get(w);
      if (p === undefined || p.id !== reply.id) return;
      this.busy.delete(w);
      this.idle.push(w);
      w.unref(); // an idle pool does not keep the process alive
      if ('error' in reply) {
        p.reject(reply.error.code ? new ZkmeterError(reply.error.code, reply.error.message) : new Error(reply.error.message));
      } else p.resolve(reply.result as Res);
      this.dispatch();
    });
    w.on('error', (e) => this.lost(w, e));
    w.on('exit', (code) => {
      if (!this.closed) this.lost(w, new Error(`worker exited with code ${code}`));
    });
    w.unref();
    return w;
  }

  private lost(w: Worker, e: Error): void {
    const p = this.busy.get(w);
    this.busy.delete(w);
    const at = this.idle.indexOf(w);
    if (at >= 0) this.idle.splice(at, 1);
    p?.reject(e);
    if (!this.closed) {
      this.idle.push(this.spawn());
      this.dispatch();
    }
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const p = this.queue.shift()!;
      this.busy.set(w, p);
      w.ref();
      w.postMessage({ id: p.id, task: p.task }, p.transfer as TransferListItem[]);
    }
  }
}

/** In a worker script: answers each task with `handler`'s result (or its error). */
export function serveTasks<Req, Res>(handler: (task: Req) => Res | Promise<Res>, transferOf?: (r: Res) => TransferListItem[]): void {
  if (parentPort === null) throw new Error('serveTasks must run in a worker thread');
  const port = parentPort;
  port.on('message', async ({ id, task }: { id: number; task: Req }) => {
    try {
      const result = await handler(task);
      port.postMessage({ id, result }, transferOf ? transferOf(result) : []);
    } catch (e) {
      const err = e as Error & { code?: ErrorCode };
      port.postMessage({ id, error: { message: err.message, code: e instanceof ZkmeterError ? err.code : undefined } });
    }
  });
}
