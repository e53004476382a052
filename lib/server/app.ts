/**
 * The control center as an HTTP service (fastify). Meters submit signed
 * records; verification runs in a pool of worker threads, micro-batched
 * (verifier.ts); a record is acknowledged only after its durable commit.
 * Operators (bearer token) register meters from provisioning certificates,
 * read interval status, issue bills with their decryption proofs and release
 * feeder grids (whole days of interval totals, with the privacy authority's consent).
 *
 * The privacy authority is a `BillingAuthority` the caller gives: a client of its
 * own service (authority-client.ts), or, in a single-operator deployment, a
 * `PrivacyAuthority` in this process. When it is unreachable, registration, bills
 * and grids answer 503 AUTHORITY_UNAVAILABLE with Retry-After; ingest never
 * depends on it. Every bill issued is stored (`CenterStore.putBill`) before it is
 * answered, under an id derived from its request, and served again from there.
 *
 * Every request body and query is checked by JSON Schema (ajv, no type
 * coercion); every error is `{"error":{"code","message"}}` with a 4xx status
 * for the caller's mistakes, never a stack trace. The OpenAPI description is
 * generated from the same schemas and served at /openapi.json.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import os from 'node:os';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { ZkmeterError } from '../errors.js';
import { backendName } from '../backend/index.js';
import { bytesToHex, encodePoints, hexToBytes } from '../crypto/codec.js';
import type { KeyShare, SharedKey } from '../crypto/threshold.js';
import { PrivacyAuthority } from '../protocol/authority.js';
import { billId, issueBill, releaseFeederGrid, type BillingAuthority } from '../protocol/billing.js';
import { ControlCenter, MAX_STATUS_INTERVALS, decodeRejection, type RecordOutcome } from '../protocol/center.js';
import { billToJson, sharedKeyToJson, tariffToJson } from '../protocol/json.js';
import { HOUSEHOLD, type MeterClass } from '../protocol/meter.js';
import { MAX_RECORD_READINGS, recordFromJson } from '../protocol/records.js';
import type { CenterStore } from '../protocol/store.js';
import { DEFAULT_TARIFF, formatAmount, type Tariff } from '../protocol/tariff.js';
import { VERSION } from '../version.js';
import { registerCheckPage } from './check-page.js';
import { createHttpApp, HttpError } from './http.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { WorkerPool } from './pool.js';
import * as S from './schemas.js';
import { MicroBatchVerifier } from './verifier.js';
import { redactUrl } from './pg-store.js';
import type { WorkerResult, WorkerTask } from './worker.js';

/** Request limits. Defaults fit 1000 daily records (about 10.8 kB each, 21.7 kB as hex) in one request. */
export interface ServerLimits {
  /** Largest request body, bytes (default 32 MiB). */
  readonly bodyBytes: number;
  /** Most records in one submission (default 1000). */
  readonly recordsPerRequest: number;
  /** Largest record, bytes (default 16 KiB: a 128-reading record of 64-bit proofs is about 14 kB). */
  readonly recordBytes: number;
  /** Most certificates registered in one request (default 10,000). */
  readonly metersPerRequest: number;
  /**
   * Most request-body bytes being received or handled at once (default 256 MiB),
   * counted from Content-Length (a body without one counts as `bodyBytes`): past
   * it a request is answered 503 before its body is read, so many concurrent
   * large uploads cannot exhaust memory.
   */
  readonly inflightBodyBytes: number;
}

export const DEFAULT_LIMITS: ServerLimits = Object.freeze({ bodyBytes: 32 << 20, recordsPerRequest: 1000, recordBytes: 16 << 10, metersPerRequest: 10_000, inflightBodyBytes: 256 << 20 });

export interface ServerOptions {
  readonly store: CenterStore;
  /** What the store is, for /healthz and logs (no secrets): e.g. "sqlite:./zkmeter.db". */
  readonly storeDescription?: string;
  /** The utility's shared key (its public key is what meters encrypt under). */
  readonly key: SharedKey;
  /** The control center's key share: needed (with an authority) to bill and release aggregates. */
  readonly centerShare?: KeyShare;
  /**
   * The privacy authority: a client of its service (authority-client.ts), or a
   * `PrivacyAuthority` in this process (single-operator deployments, tests), built by
   * the caller with its own registry, policy and ledger; the caller also closes it.
   * Without one, billing and grids answer 503 BILLING_UNAVAILABLE.
   */
  readonly authority?: BillingAuthority;
  /**
   * How the authority is reached, for /healthz (a URL's password and query are not shown).
   * Default: "single-operator" for a `PrivacyAuthority`, else "remote".
   */
  readonly authorityMode?: { readonly mode: 'remote'; readonly url: string } | { readonly mode: 'single-operator' };
  /** Serve HTTPS with this certificate (chain) and private key, PEM. Default: plain HTTP. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** The 32-byte x-only provisioning keys whose meter certificates the center accepts (the authority has its own). */
  readonly provisioningKeys: readonly Uint8Array[];
  readonly tariff?: Tariff;
  /** Bearer token of the admin routes; without one they answer 401. */
  readonly adminToken?: string;
  /** Verification worker threads (default: the cores). */
  readonly workers?: number;
  readonly limits?: Partial<ServerLimits>;
  readonly batching?: { maxBatchRecords?: number; maxBatchBytes?: number; maxWaitMs?: number; maxQueuedBytes?: number };
  /** Seconds a 503 asks the client to wait (default 1). */
  readonly retryAfterSeconds?: number;
}

// AUTHORITY_UNAVAILABLE is a fault, but not the caller's: 503, and Retry-After says when to ask again.
const ZKMETER_STATUS: Partial<Record<string, number>> = { POLICY_REFUSED: 403, VALUE_OUT_OF_RANGE: 422, AUTHORITY_UNAVAILABLE: 503 };

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface ZkmeterServer {
  readonly app: FastifyInstance;
  readonly center: ControlCenter;
  readonly verifier: MicroBatchVerifier;
  readonly metrics: ServerMetrics;
  /** Stops accepting, waits for queued records to commit, stops the workers, closes the store. */
  close(): Promise<void>;
}

export async function buildServer(o: ServerOptions): Promise<ZkmeterServer> {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const tariff = o.tariff ?? DEFAULT_TARIFF;
  const utilityKeyHex = bytesToHex(encodePoints(o.key.publicKey));
  const provisioningKeys = o.provisioningKeys ?? [];
  const center = new ControlCenter({ utilityKey: o.key.publicKey, tariffVersions: [tariff.version], store: o.store, provisioningKeys });
  const metrics = createMetrics();
  const pool = new WorkerPool<WorkerTask, WorkerResult>(new URL('./worker.js', import.meta.url), o.workers ?? os.availableParallelism());
  // Each worker derives the generators of the largest record the class allows before the first request.
  await pool.runOnEach({ type: 'warm', generators: HOUSEHOLD.bits * 2 * MAX_RECORD_READINGS });
  const verifier = new MicroBatchVerifier({ center, pool, utilityKeyHex, tariffVersions: [tariff.version], metrics, ...o.batching });
  const authority = o.authority;
  const authorityMode =
    authority === undefined
      ? { mode: 'none' }
      : o.authorityMode?.mode === 'remote'
        ? { mode: 'remote', url: redactUrl(o.authorityMode.url).replace(/\?.*$/, '') }
        : (o.authorityMode ?? { mode: authority instanceof PrivacyAuthority ? 'single-operator' : 'remote' });
  /** The registration in progress (registrations run one at a time). */
  let registering: Promise<unknown> = Promise.resolve();
  /** Bills being issued, by id: the same request twice at once asks the authority once. */
  const issuing = new Map<string, Promise<string>>();
  const adminDigest = o.adminToken ? digest(o.adminToken) : undefined;
  const retryAfter = String(o.retryAfterSeconds ?? 1);

  const app = await createHttpApp({
    bodyBytes: limits.bodyBytes,
    inflightBodyBytes: limits.inflightBodyBytes,
    retryAfterSeconds: o.retryAfterSeconds ?? 1,
    logName: 'zkmeter serve',
    statusOf: ZKMETER_STATUS,
    headersOf: { AUTHORITY_UNAVAILABLE: { 'retry-after': retryAfter } },
    onZkmeterError: (err, req) => {
      if (err.code === 'AUTHORITY_UNAVAILABLE') process.stderr.write(`zkmeter serve: ${req.method} ${req.url.split('?')[0]}: the privacy authority is unavailable: ${err.message}\n`);
    },
    requests: metrics.requests,
    overloaded: metrics.overloaded,
    title: 'zkmeter control center',
    description:
      'Privacy-preserving smart-meter billing. Meters submit signed records (EC ElGamal ciphertexts, a Bulletproofs range proof and a proof of equivalence); the center verifies them in micro-batches, stores them durably, and decrypts only totals, with the privacy authority. Errors are {"error":{"code","message"}}.',
    securitySchemes: { admin: { type: 'http', scheme: 'bearer', description: 'the admin token (ZKMETER_ADMIN_TOKEN)' } },
    ...(o.tls !== undefined ? { https: o.tls } : {}),
  });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: limits.bodyBytes }, (_req, body, done) => done(null, body));

  const requireAdmin = async (req: FastifyRequest) => {
    if (adminDigest === undefined) throw new HttpError(401, 'UNAUTHORIZED', 'admin routes are disabled: start the server with ZKMETER_ADMIN_TOKEN set');
    const h = req.headers.authorization;
    const token = typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
    if (token === undefined || !timingSafeEqual(digest(token), adminDigest)) {
      throw new HttpError(401, 'UNAUTHORIZED', 'this route needs the admin bearer token (Authorization: Bearer …)');
    }
  };
  const admin = { onRequest: requireAdmin };
  const security = [{ admin: [] }];


  registerCheckPage(app);

  app.get('/healthz', { schema: { summary: 'Liveness and queue state', response: S.responses({ 200: S.health }) } }, async () => ({
    status: 'ok',
    version: VERSION,
    backend: backendName(),
    store: o.storeDescription ?? 'custom',
    workers: pool.size,
    queue: verifier.depth,
    authority: authorityMode,
  }));

  app.get('/metrics', { schema: { summary: 'Prometheus metrics (text format)', produces: ['text/plain'] } }, async (_req, reply) => {
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get('/v1/config', { schema: { summary: 'What a meter needs: the utility key, the tariff version, the meter class and the limits', response: S.responses({ 200: S.config }) } }, async () => ({
    utilityKey: utilityKeyHex,
    tariffVersion: tariff.version,
    meterClass: { ...HOUSEHOLD, normal: bounds(HOUSEHOLD.normal), plausible: bounds(HOUSEHOLD.plausible) },
    limits,
    billing: o.centerShare !== undefined && authority !== undefined, // both halves of a decryption
    provisioningKeys: provisioningKeys.map(bytesToHex),
    sharedKey: sharedKeyToJson(o.key),
    tariff: tariffToJson(tariff),
  }));

  app.post(
    '/v1/meters',
    {
      ...admin,
      schema: {
        summary: 'Register meters, or new key epochs of them, from certificates signed by a trusted provisioning key',
        description:
          'All or nothing: the privacy authority registers the certificates first (all or nothing there), then the center (all or nothing, in one commit). A refused one is a 403 POLICY_REFUSED (rule registry), a malformed one a 400, each naming certificates[i]; 503 AUTHORITY_UNAVAILABLE with Retry-After when the authority cannot be reached (nothing is registered by the center then). Earlier key epochs are kept.',
        security,
        body: S.registerBody(limits.metersPerRequest),
        response: S.responses({ 200: S.registered }),
      },
    },
    async (req) => {
      if (provisioningKeys.length === 0) throw new HttpError(503, 'REGISTRATION_UNAVAILABLE', 'the service trusts no provisioning key: start it with --provisioning-keys');
      const bytes = (req.body as { certificates: string[] }).certificates.map((h, i) => named(i, () => hexToBytes(h, `certificates[${i}]`)));
      // One registration at a time, so that the center and the authority see the same order of epochs.
      const run = registering.then(async () => {
        try {
          // The authority first: its registry decides what it will co-decrypt, so a meter the center
          // accepts records of but the authority does not know could never be billed. Should the
          // center then refuse, the authority knows meters whose records the center never holds
          // (which releases nothing), and the request sent again is 'unchanged' there.
          if (authority !== undefined) await authority.registerCertificates(bytes);
          return await center.registerCertificates(bytes); // all or nothing, in one commit
        } catch (e) {
          if (e instanceof ZkmeterError && e.index !== undefined) throw new ZkmeterError(e.code, `certificates[${e.index}]: ${e.message}`, { index: e.index, cause: e });
          throw e;
        }
      });
      registering = run.catch(() => undefined);
      const changes = await run;
      return { registered: changes.length, changes };
    },
  );

  app.get(
    '/v1/meters/:meterId',
    { ...admin, schema: { summary: "A meter's registration: its current key epoch and the earlier ones", security, params: S.meterParams, response: S.responses({ 200: S.meter }) } },
    async (req) => {
      const { meterId } = req.params as { meterId: string };
      const m = await o.store.getMeter(meterId);
      if (m === undefined) throw new HttpError(404, 'UNKNOWN_METER', `meter ${meterId} is not registered`);
      const epoch = (e: { publicKey: Uint8Array; feeder: string | undefined; keyEpoch: number; validFrom?: number; meterClass: MeterClass; certificate?: Uint8Array }) => ({
        publicKey: bytesToHex(e.publicKey),
        feeder: e.feeder ?? null,
        keyEpoch: e.keyEpoch,
        validFrom: e.validFrom ?? 0,
        meterClass: e.meterClass.name,
        certified: e.certificate !== undefined,
      });
      return { meterId: m.meterId, ...epoch(m), history: (m.history ?? []).map(epoch) };
    },
  );

  app.post(
    '/v1/records',
    {
      schema: {
        summary: 'Submit signed records',
        description:
          'JSON: {"records":[hex | record JSON]}; or application/octet-stream: frames of a 4-byte big-endian length and the record bytes. Answers one result per record once the accepted ones are durably stored: 200 if any record was accepted (or already stored), 422 if none was, 503 with Retry-After when the verification queue is full.',
        body: {
          content: {
            'application/json': { schema: S.recordsBody(limits.recordsPerRequest, limits.recordBytes) },
            'application/octet-stream': { schema: { description: 'frames: u32 big-endian length ‖ record bytes' } },
          },
        },
        response: S.responses({ 200: S.submitted, 422: S.submittedRejected }),
      },
    },
    async (req, reply) => {
      const items = recordsOf(req.body, limits);
      const good = items.filter((x): x is Uint8Array => x instanceof Uint8Array);
      const pending = good.length > 0 ? verifier.offer(good) : Promise.resolve([]);
      if (pending === undefined) {
        throw new HttpError(503, 'OVERLOADED', 'the verification queue is full; retry later', { 'retry-after': retryAfter });
      }
      const verified = await pending;
      let k = 0;
      const results = items.map((x) => (x instanceof Uint8Array ? verified[k++]! : x));
      for (const x of items) if (!(x instanceof Uint8Array) && x.status === 'invalid') metrics.recordsRejected.inc({ reason: x.reason }); // the verifier counted the rest
      const count = (s: string) => results.filter((x) => x.status === s).length;
      const summary = { accepted: count('accepted'), abnormal: count('abnormal'), invalid: count('invalid'), results };
      if (summary.invalid === results.length) {
        const first = results[0] as Extract<RecordOutcome, { status: 'invalid' }>;
        void reply.code(422);
        return { error: { code: 'RECORDS_REJECTED', message: `${results.length === 1 ? 'the record was' : `all ${results.length} records were`} rejected (first: ${first.reason}: ${first.detail})` }, ...summary };
      }
      return summary;
    },
  );

  app.get(
    '/v1/meters/:meterId/intervals',
    {
      ...admin,
      schema: {
        summary: "The status of a meter's intervals in [from, to): accepted, abnormal, invalid or missing",
        security,
        params: S.meterParams,
        querystring: S.periodQuery,
        response: S.responses({ 200: S.intervals }),
      },
    },
    async (req) => {
      const { meterId } = req.params as { meterId: string };
      const { from, to } = period(req.query as { from: string; to: string });
      const m = await o.store.getMeter(meterId);
      if (m === undefined) throw new HttpError(404, 'UNKNOWN_METER', `meter ${meterId} is not registered`);
      if ((to - from) / m.meterClass.intervalSeconds > MAX_STATUS_INTERVALS) {
        throw new HttpError(400, 'PERIOD_TOO_LONG', `at most ${MAX_STATUS_INTERVALS} intervals per query`);
      }
      const intervals = await center.intervalStatus(meterId, from, to);
      const counts = { accepted: 0, abnormal: 0, invalid: 0, missing: 0 };
      for (const s of intervals) counts[s.status]++;
      return { meterId, from, to, counts, intervals };
    },
  );

  const billingParts = () => {
    if (o.centerShare === undefined || authority === undefined) {
      throw new HttpError(503, 'BILLING_UNAVAILABLE', "billing needs the control center's key share and a privacy authority (zkmeter serve --authority URL, or --single-operator)");
    }
    return { centerShare: o.centerShare, authority };
  };
  const billIdOf = (meterId: string, from: number, to: number) => billId(meterId, from, to, tariff.version);

  app.post(
    '/v1/bills',
    {
      ...admin,
      schema: {
        summary: "Compute a meter's bill for [from, to): the tariff-weighted homomorphic sum, threshold-decrypted with DLEQ proofs of both shares",
        description:
          "The bill is stored before it is answered, under its id (hex SHA-256 of the request's meter, period and tariff version): the same request again answers the stored bill, the same JSON, and GET /v1/bills/{id} serves it. 503 AUTHORITY_UNAVAILABLE with Retry-After when the privacy authority cannot be reached.",
        security,
        body: S.billBody,
        response: S.responses({ 200: S.bill }),
      },
    },
    async (req) => {
      const { meterId, from, to } = req.body as { meterId: string; from: number; to: number };
      if (to <= from) throw new HttpError(400, 'INVALID_REQUEST', '"to" must be after "from"');
      const id = billIdOf(meterId, from, to);
      // Issued before: the stored bill, even while the authority is unreachable (a lost answer costs nothing).
      const held = await o.store.getBill(id);
      if (held !== undefined) return JSON.parse(held) as unknown;
      let pending = issuing.get(id);
      if (pending === undefined) {
        pending = (async () => {
          if ((await o.store.getMeter(meterId)) === undefined) throw new HttpError(404, 'UNKNOWN_METER', `meter ${meterId} is not registered`);
          const { centerShare, authority: a } = billingParts();
          if ((await center.readingsOf(meterId, from, to)).length === 0) throw new HttpError(404, 'NO_READINGS', `meter ${meterId} has no accepted readings in [${from}, ${to})`);
          const bill = await issueBill({ center, centerShare, key: o.key, authority: a, tariff, meterId, from, to });
          const json = JSON.stringify({ id, ...billToJson(bill), display: `${formatAmount(tariff, bill.total)} ${bill.currency}` });
          // Durable before it is answered; if another center process stored this bill first, that one is the bill.
          return o.store.putBill(id, json);
        })().finally(() => issuing.delete(id));
        issuing.set(id, pending);
      }
      return JSON.parse(await pending) as unknown;
    },
  );

  app.get(
    '/v1/bills/:id',
    {
      ...admin,
      schema: {
        summary: 'A bill the center issued, as it was answered',
        security,
        params: S.billParams,
        response: S.responses({ 200: S.bill }),
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const held = await o.store.getBill(id);
      if (held === undefined) throw new HttpError(404, 'UNKNOWN_BILL', `no bill ${id} was issued`);
      return JSON.parse(held) as unknown;
    },
  );

  app.get(
    '/v1/feeders/:feeder/grid',
    {
      ...admin,
      schema: {
        summary: "A feeder's grid: its total consumption in every interval of whole days [from, to), released at once with the privacy authority's consent",
        description:
          'The members are the meters of the feeder that reported every interval of the period (and pass the authority’s other rules); the others are listed in excluded. Refused (403 POLICY_REFUSED, naming the rule) when too few qualify or the period is not whole days; 503 AUTHORITY_UNAVAILABLE with Retry-After when the privacy authority cannot be reached.',
        security,
        params: S.feederParams,
        querystring: S.periodQuery,
        response: S.responses({ 200: S.grid }),
      },
    },
    async (req) => {
      const { feeder } = req.params as { feeder: string };
      const { from, to } = period(req.query as { from: string; to: string });
      const { centerShare, authority: a } = billingParts();
      const meters = await o.store.getMeters(await center.feederMeters(feeder));
      if (meters.size === 0) throw new HttpError(404, 'UNKNOWN_FEEDER', `no meter is registered on feeder ${feeder}`);
      const meterClass = commonClass([...meters.values()].map((m) => m.meterClass));
      const grid = await releaseFeederGrid({ center, centerShare, key: o.key, authority: a, tariff, feeder, from, to, meterClass });
      return { ...grid, intervalSeconds: meterClass.intervalSeconds, totals: grid.totals.map((t) => ({ intervalStart: t.intervalStart, totalWh: t.totalWh.toString() })) };
    },
  );

  await app.ready();
  let closing: Promise<void> | undefined;
  return {
    app,
    center,
    verifier,
    metrics,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await verifier.drained();
        await pool.close();
        await o.store.close();
      })()),
  };
}

/** A ZkmeterError about certificates[i], saying so. */
function named<T>(i: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ZkmeterError) throw new ZkmeterError(e.code, `certificates[${i}]: ${e.message}`, { index: i, cause: e });
    throw e;
  }
}

/** The class most of a feeder's meters have (a grid's intervals are its intervals; the authority leaves out the others). */
function commonClass(classes: readonly MeterClass[]): MeterClass {
  const count = new Map<number, number>();
  for (const c of classes) count.set(c.intervalSeconds, (count.get(c.intervalSeconds) ?? 0) + 1);
  const best = Math.max(...count.values());
  return classes.find((c) => count.get(c.intervalSeconds) === best)!;
}

function bounds(b: { min: bigint; max: bigint }) {
  return { min: b.min.toString(), max: b.max.toString() };
}

function period(q: { from: string; to: string }): { from: number; to: number } {
  const from = Number(q.from);
  const to = Number(q.to);
  if (to <= from) throw new HttpError(400, 'INVALID_REQUEST', 'querystring "to" must be after "from"');
  return { from, to };
}

/** The records of a submission, as bytes, or as the outcome of one that cannot even be decoded from its JSON form. */
function recordsOf(body: unknown, limits: ServerLimits): (Uint8Array | RecordOutcome)[] {
  if (Buffer.isBuffer(body)) return framesOf(body, limits);
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { records?: unknown }).records)) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/json {"records":[…]} or application/octet-stream frames');
  }
  return (body as { records: unknown[] }).records.map((item) => {
    try {
      return typeof item === 'string' ? hexToBytes(item, 'record') : recordFromJson(item).bytes;
    } catch (e) {
      if (!(e instanceof ZkmeterError)) throw e;
      return { status: 'invalid', ...decodeRejection(e) };
    }
  });
}

/** application/octet-stream: frames of u32 big-endian length ‖ record bytes. */
function framesOf(body: Buffer, limits: ServerLimits): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 4) throw new HttpError(400, 'INVALID_FRAMING', `a frame header at byte ${at} is truncated`);
    const n = body.readUInt32BE(at);
    if (n === 0 || n > limits.recordBytes) throw new HttpError(400, 'INVALID_FRAMING', `frame at byte ${at} declares ${n} bytes (1 to ${limits.recordBytes} allowed)`);
    if (body.length - at - 4 < n) throw new HttpError(400, 'INVALID_FRAMING', `frame at byte ${at} declares ${n} bytes, ${body.length - at - 4} remain`);
    out.push(new Uint8Array(body.buffer, body.byteOffset + at + 4, n));
    at += 4 + n;
    if (out.length > limits.recordsPerRequest) throw new HttpError(400, 'TOO_MANY_RECORDS', `at most ${limits.recordsPerRequest} records per request`);
  }
  if (out.length === 0) throw new HttpError(400, 'INVALID_REQUEST', 'no records in the body');
  return out;
}
