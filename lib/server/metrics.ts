/**
 * The service's Prometheus metrics (prom-client), one registry per server so
 * several servers in one process (tests) do not share counters. Served as text
 * at GET /metrics.
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServerMetrics {
  readonly registry: Registry;
  /** Readings in records whose signature and proofs verified (accepted, abnormal or repeated). */
  readonly readingsVerified: Counter;
  /** Records by outcome: accepted, abnormal, repeated. */
  readonly recordsAccepted: Counter<'outcome'>;
  /** Records rejected, by reason (malformed, signature, range-proof, duplicate, …). */
  readonly recordsRejected: Counter<'reason'>;
  /** Seconds from a micro-batch's dispatch to its durable commit. */
  readonly batchSeconds: Histogram;
  /** Records per micro-batch. */
  readonly batchRecords: Histogram;
  /** Records waiting for verification or commit: the queue depth. */
  readonly queueRecords: Gauge;
  /** Their bytes: what the back-pressure limit counts (verification cost is close to proportional to a record's size). */
  readonly queueBytes: Gauge;
  /** Requests answered 503 because the queue was full. */
  readonly overloaded: Counter;
  /** HTTP requests by route and status code. */
  readonly requests: Counter<'route' | 'status'>;
}

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    readingsVerified: new Counter({ name: 'zkmeter_readings_verified_total', help: 'Readings whose record verified (signature, range proof, proof of equivalence)', registers }),
    recordsAccepted: new Counter({ name: 'zkmeter_records_accepted_total', help: 'Records stored or recognised as already stored, by outcome', labelNames: ['outcome'], registers }),
    recordsRejected: new Counter({ name: 'zkmeter_records_rejected_total', help: 'Records rejected, by reason', labelNames: ['reason'], registers }),
    batchSeconds: new Histogram({
      name: 'zkmeter_batch_seconds',
      help: 'Seconds from dispatching a micro-batch to its durable commit',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchRecords: new Histogram({ name: 'zkmeter_batch_records', help: 'Records per micro-batch', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], registers }),
    queueRecords: new Gauge({ name: 'zkmeter_queue_depth', help: 'Records waiting for verification or commit', registers }),
    queueBytes: new Gauge({ name: 'zkmeter_queue_bytes', help: 'Bytes of the records waiting (the back-pressure limit counts these)', registers }),
    overloaded: new Counter({ name: 'zkmeter_overloaded_total', help: 'Submissions answered 503 because the queue was full', registers }),
    requests: new Counter({ name: 'zkmeter_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers }),
  };
}
