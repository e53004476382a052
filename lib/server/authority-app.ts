/**
 * The privacy authority as its own HTTP service (`zkmeter authority serve`),
 * on its own host, holding only its own share of the utility key. The control
 * center asks it for its decryption share of a bill or a feeder's grid,
 * sending the signed records; the authority re-verifies them
 * (protocol/verify.ts) and applies its own policy (protocol/authority.ts) over
 * its own registry and ledger, kept in its own store (authority-store.ts).
 *
 *  - **Only the center may ask.** The release and registration routes accept
 *    only requests signed by the center's identity key it was configured with
 *    (signed-request.ts); anything else is 401.
 *  - **Recorded before released.** Decisions are taken one at a time; a
 *    release's ledger entry is committed to the store before its share leaves,
 *    in the same step that decided it. A fault of the store answers 500 and
 *    releases nothing.
 *  - **Idempotent.** The identical request (same meter, period, tariff and
 *    records; or the same grid) gets the same share back, so a share lost in
 *    transit costs nothing and a retry burns nothing.
 *  - **Public log.** `GET /v1/releases` lists every ledger entry, hash-chained,
 *    with when it was recorded: what was released, for whom and when.
 *  - **Signed heads.** Every answer to a signed request, the log and /healthz
 *    carry the ledger's head signed by its identity key (log-head.ts). A signed
 *    request may name the newest head the center was given (`seen`); if this
 *    ledger does not hold that head, it was restored from an older state, and
 *    from then on every signed request is refused, 503 LEDGER_ROLLED_BACK,
 *    deciding nothing, until a restart on the newest ledger.
 *  - **Signed tariffs.** `GET /v1/tariffs` gives its tariffs signed by its
 *    identity key, which a customer checks a bill's prices against.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { ZkmeterError } from '../errors.js';
import { backendName } from '../backend/index.js';
import { bytesToHex, encodePoints, hexToBytes } from '../crypto/codec.js';
import type { KeyShare, SharedKey } from '../crypto/threshold.js';
import { MemoryLedger, PrivacyAuthority, type AuthorityPolicy, type LedgerEntry, type PreparedRelease } from '../protocol/authority.js';
import { sharedKeyToJson, tariffToJson } from '../protocol/json.js';
import type { MeterClass } from '../protocol/meter.js';
import { signTariff, tariffDigest, type Tariff } from '../protocol/tariff.js';
import { VERSION } from '../version.js';
import { ZERO_CHAIN, type AuthorityStore, type StoredLedgerEntry } from './authority-store.js';
import { sharedKeyDigest } from './ceremony.js';
import { billReleaseToJson, gridReleaseToJson } from './authority-wire.js';
import * as S from './authority-schemas.js';
import { createHttpApp, HttpError } from './http.js';
import type { SigningKey } from './keys.js';
import { signLogHead, signedLogHeadFromJson, verifyLogHead, type SignedLogHead } from './log-head.js';
import { RequestVerifier } from './signed-request.js';

export const AUTHORITY_LIMITS = Object.freeze({
  /** Largest request body (default 128 MiB: about 6,000 daily records as hex). */
  bodyBytes: 128 << 20,
  /** Most records in one request (default 100,000). */
  recordsPerRequest: 100_000,
  /** Largest record (16 KiB, as the center). */
  recordBytes: 16 << 10,
  /** Most certificates in one registration (10,000). */
  metersPerRequest: 10_000,
  /** Request-body bytes in flight at once (256 MiB): past it, 503 before the body is read. */
  inflightBodyBytes: 256 << 20,
  /** Largest page of the public log, in JSON bytes of its entries (4 MiB); a page holds at least one entry. */
  logPageBytes: 4 << 20,
});

export type AuthorityLimits = typeof AUTHORITY_LIMITS;

export interface AuthorityServerOptions {
  readonly store: AuthorityStore;
  /** The utility's shared key and the authority's own share of it. */
  readonly key: SharedKey;
  readonly share: KeyShare;
  /** The authority's identity key: signs its tariffs. */
  readonly identity: SigningKey;
  /** The 32-byte x-only identity keys of the control center whose signed requests it accepts. */
  readonly centerKeys: readonly Uint8Array[];
  /** The provisioning keys whose meter certificates it trusts. */
  readonly provisioningKeys: readonly Uint8Array[];
  readonly tariffs: readonly Tariff[];
  readonly policy?: Partial<AuthorityPolicy>;
  readonly meterClasses?: readonly MeterClass[];
  readonly limits?: Partial<AuthorityLimits>;
  /** TLS key and certificate (PEM): serve HTTPS. */
  readonly https?: { readonly key: string | Buffer; readonly cert: string | Buffer };
}

export interface AuthorityServer {
  readonly app: FastifyInstance;
  readonly authority: PrivacyAuthority;
  /** Stops accepting, waits for the decision in progress, closes the store. */
  close(): Promise<void>;
}

/** Entries the public log reads from the store at a time (its page is bounded in bytes). */
const LOG_READ_BATCH = 16;

/** Statuses of the authority's ZkmeterErrors (others: 400). A rolled-back ledger is this service's fault: 503. */
const STATUS: Partial<Record<string, number>> = { POLICY_REFUSED: 403, VALUE_OUT_OF_RANGE: 422, LEDGER_ROLLED_BACK: 503 };

/** Strict JSON: a key that could reach an object's prototype (`__proto__`, `constructor`) is refused. */
function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'), (k: string, v: unknown) => {
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') throw new Error('forbidden key');
      return v;
    });
  } catch {
    throw new HttpError(400, 'INVALID_JSON', 'the body is not valid JSON (or names __proto__, constructor or prototype)');
  }
}

export async function buildAuthorityServer(o: AuthorityServerOptions): Promise<AuthorityServer> {
  const limits: AuthorityLimits = { ...AUTHORITY_LIMITS, ...o.limits };
  // The store holds this key's ledger and no other's.
  const keyDigest = sharedKeyDigest(o.key);
  await o.store.bindKey(bytesToHex(keyDigest));
  // The authority is rebuilt from its own ledger: its registry, tariff versions and releases.
  const stored = await o.store.load();
  const ledger = new MemoryLedger(stored.map((r) => r.entry));
  const authority = new PrivacyAuthority({
    key: o.key,
    share: o.share,
    provisioningKeys: o.provisioningKeys,
    tariffs: o.tariffs,
    ...(o.policy !== undefined ? { policy: o.policy } : {}),
    ...(o.meterClasses !== undefined ? { meterClasses: o.meterClasses } : {}),
    ledger,
    identityKey: o.identity.secretKey,
  });
  const configured = ledger.entries.slice(stored.length); // tariff versions seen for the first time
  if (configured.length > 0) await o.store.append(configured);
  // Made once the store is open (and, on PostgreSQL, its lock held): its memory of nonces
  // starts here, after every request an earlier process on this store accepted.
  let mark = await o.store.requestMark();
  let markWritten = Promise.resolve();
  // Restarted within the second of the mark: wait that second out, so that the center's next
  // requests (signed from now on) are past the mark and only the old ones are refused.
  const wait = (mark + 1) * 1000 - Date.now();
  if (wait > 0 && wait <= 2000) await new Promise((resolve) => setTimeout(resolve, wait));
  const verifier = new RequestVerifier(o.centerKeys, o.identity.publicKey, { notBefore: Math.max(Math.floor(Date.now() / 1000), mark + 1) });
  const signedTariffs = o.tariffs.map((t) => ({ tariff: tariffToJson(t), digest: tariffDigest(t), signature: bytesToHex(signTariff(t, o.identity.secretKey)) }));

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const requests = new Counter({ name: 'zkmeter_authority_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'] as const, registers });
  const released = new Counter({ name: 'zkmeter_authority_releases_total', help: 'Releases by kind (bill, grid) and whether the ledger already held them (repeat)', labelNames: ['kind', 'repeat'] as const, registers });
  const refused = new Counter({ name: 'zkmeter_authority_refusals_total', help: 'Requests its policy refused', registers });
  const unauthorized = new Counter({ name: 'zkmeter_authority_unauthorized_total', help: 'Requests refused for their signature', registers });

  const app = await createHttpApp({
    bodyBytes: limits.bodyBytes,
    inflightBodyBytes: limits.inflightBodyBytes,
    retryAfterSeconds: 1,
    logName: 'zkmeter authority',
    statusOf: STATUS,
    requests,
    title: 'zkmeter privacy authority',
    description:
      "The privacy authority: it co-decrypts bills and feeder grids with its own share of the utility key, only when its policy allows, re-verifying the signed records itself. Release routes take requests signed by the control center's identity key (Authorization: ZKMETER-SIG …). Errors are {\"error\":{\"code\",\"message\"}}.",
    securitySchemes: { center: { type: 'apiKey', in: 'header', name: 'Authorization', description: "ZKMETER-SIG key=…, ts=…, nonce=…, sig=…: a BIP340 signature by the center's identity key" } },
    ...(o.https !== undefined ? { https: o.https } : {}),
  });
  // JSON bodies are kept raw until the signature over their bytes verifies: nothing an
  // unauthenticated client sends is parsed (parsing can cost many times a body's size).
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body: Buffer, done) => done(null, body));
  const requireCenter = async (req: FastifyRequest) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let ts: number;
    try {
      ({ ts } = verifier.verify(req.headers.authorization, req.method, req.url, body));
    } catch (e) {
      if (!(e instanceof ZkmeterError)) throw e;
      unauthorized.inc();
      throw new HttpError(401, 'UNAUTHORIZED', e.message);
    }
    // Durable before the request acts (for every request of that second): a later process refuses its replay.
    if (ts > mark) {
      mark = ts;
      markWritten = o.store.raiseRequestMark(ts);
    }
    await markWritten;
    req.body = parseJson(body);
  };

  /** The ledger's head, signed (cached: it is re-signed only when the ledger grew). */
  let lastHead: SignedLogHead | undefined;
  const signedHead = async (): Promise<SignedLogHead> => {
    const h = await o.store.head();
    if (lastHead?.seq !== h.seq || lastHead.chain !== h.chain) lastHead = signLogHead(h, keyDigest, o.identity.secretKey);
    return lastHead;
  };
  /**
   * Refuses a request whose `seen` head this ledger does not hold. Safe outside the
   * decision queue: a head given out is committed, and appends only lengthen the ledger.
   * Once one proves the ledger was rolled back, every signed request is refused (not only
   * those that name the head), until a restart on the newest store: a center that leaves
   * `seen` out cannot profit from the releases the ledger forgot.
   */
  let rolledBack: string | undefined;
  const checkSeen = async (req: FastifyRequest) => {
    const refuse = (why: string): never => {
      throw new ZkmeterError('LEDGER_ROLLED_BACK', `${why}: the ledger was restored from an older state, and this authority decides nothing until its operator restores the newest ledger`);
    };
    if (rolledBack !== undefined) refuse(rolledBack);
    const body = req.body as { seen?: unknown } | undefined;
    if (body?.seen === undefined) return;
    const seen = signedLogHeadFromJson(body.seen, '"seen"');
    if (!verifyLogHead(seen, keyDigest, o.identity.publicKey)) throw new ZkmeterError('INVALID_ARGUMENT', '"seen" is not a log head signed by this authority for this key');
    const head = await o.store.head();
    if (seen.seq === head.seq && seen.chain === head.chain) return; // the usual case: no entry to read
    const chain = seen.seq === 0 ? ZERO_CHAIN : seen.seq <= head.seq ? (await o.store.log({ after: seen.seq - 1, limit: 1 }))[0]?.chain : undefined;
    if (chain === seen.chain) return;
    rolledBack =
      seen.seq > head.seq
        ? `the center was given this authority's signed head at seq ${seen.seq}, but its ledger ends at seq ${head.seq}`
        : `the center was given this authority's signed head at seq ${seen.seq} with another chain than its ledger holds there`;
    process.stderr.write(`zkmeter authority: ${rolledBack}: the ledger was restored from an older state; refusing every signed request until the newest ledger is restored\n`);
    refuse(rolledBack);
  };
  // After the body is read, before the schema is applied (to the parsed body); `seen` checked once valid.
  const signed = { preValidation: requireCenter, preHandler: checkSeen };
  const security = [{ center: [] }];

  /** One decision at a time: prepared, recorded, committed, then answered with the head that holds it. */
  let queue: Promise<unknown> = Promise.resolve();
  const decide = <R>(kind: 'bill' | 'grid', prepare: () => PreparedRelease<R>): Promise<{ release: R; head: SignedLogHead }> => {
    const run = queue.then(async () => {
      let p: PreparedRelease<R>;
      try {
        p = prepare();
      } catch (e) {
        if (e instanceof ZkmeterError && e.code === 'POLICY_REFUSED') refused.inc();
        throw e;
      }
      if (p.entry !== undefined) {
        await o.store.append([p.entry]); // durable before the share leaves
        authority.commit(p.entry);
      }
      released.inc({ kind, repeat: String(p.entry === undefined) });
      return { release: p.release, head: await signedHead() };
    });
    queue = run.catch(() => undefined);
    return run;
  };
  const serially = <R>(fn: () => Promise<R>): Promise<R> => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };

  app.get('/healthz', { schema: { summary: 'Liveness' } }, async () => ({
    status: 'ok',
    role: 'privacy-authority',
    party: o.share.party,
    version: VERSION,
    backend: backendName(),
    store: o.store.describe(),
    ledger: await signedHead(),
  }));

  app.get('/metrics', { schema: { summary: 'Prometheus metrics (text format)', produces: ['text/plain'] } }, async (_req, reply) => {
    void reply.type(registry.contentType);
    return registry.metrics();
  });

  app.get('/v1/identity', { schema: { summary: "Who this authority is: its party, its identity key and the shared key it holds a share of" } }, async () => ({
    party: o.share.party,
    identityKey: bytesToHex(o.identity.publicKey),
    utilityKey: bytesToHex(encodePoints(o.key.publicKey)),
    sharedKey: sharedKeyToJson(o.key),
    centerKeys: o.centerKeys.map((k) => bytesToHex(k)),
    provisioningKeys: o.provisioningKeys.map((k) => bytesToHex(k)),
    policy: authority.policy,
  }));

  app.get('/v1/tariffs', { schema: { summary: "Its tariffs, each signed (BIP340, tag zkmeter/signed-tariff v1 over the tariff's digest) by its identity key" } }, async () => ({
    identityKey: bytesToHex(o.identity.publicKey),
    tariffs: signedTariffs,
  }));

  app.get(
    '/v1/releases',
    {
      schema: {
        summary: 'The public log: every entry of its ledger (certificates registered, tariff versions, bills and grids released), in order, hash-chained',
        description:
          "chain_i = SHA-256(chain_{i-1} ‖ canonical JSON of {seq, at, entry}); `head` is the last one, signed by the authority's identity key (BIP340 over taggedHash(\"zkmeter/log-head v1\", shared-key digest ‖ seq (8 bytes, big-endian) ‖ chain)): keep it, and a later log that no longer holds it is evidence of a rollback. Page with after= (the last seq of the page before) and limit=; a page also ends before its JSON would pass logPageBytes (4 MiB by default), and an empty page is the end.",
        querystring: S.releasesQuery,
      },
    },
    async (req) => {
      const q = req.query as { after?: string; limit?: string };
      // Bounded by bytes as well as by count (one grid entry can name a whole feeder's meters):
      // read a few entries at a time, and stop past logPageBytes of JSON. The first entry always
      // goes, so paging after= the last seq always moves on.
      const limit = Number(q.limit ?? '100');
      const entries: StoredLedgerEntry[] = [];
      let after = Number(q.after ?? '0');
      page: for (let bytes = 0; entries.length < limit; ) {
        const batch = await o.store.log({ after, limit: Math.min(LOG_READ_BATCH, limit - entries.length) });
        if (batch.length === 0) break;
        for (const e of batch) {
          bytes += Buffer.byteLength(JSON.stringify(e));
          if (entries.length > 0 && bytes > limits.logPageBytes) break page;
          entries.push(e);
        }
        after = batch.at(-1)!.seq;
      }
      return { entries, head: await signedHead() };
    },
  );

  app.post(
    '/v1/meters',
    { ...signed, schema: { summary: 'Register meters from provisioning certificates, all or nothing', security, body: S.registerBody(limits.metersPerRequest), response: S.responses({}) } },
    async (req) => {
      const bytes = (req.body as { certificates: string[] }).certificates.map((h, i) => hexToBytes(h, `certificates[${i}]`));
      return serially(async () => {
        let changes;
        try {
          changes = authority.checkRegistrations(bytes);
        } catch (e) {
          if (e instanceof ZkmeterError && e.index !== undefined) throw new ZkmeterError(e.code, `certificates[${e.index}]: ${e.message}`, { index: e.index, cause: e });
          throw e;
        }
        const fresh = bytes.filter((_, i) => changes[i]!.change !== 'unchanged');
        // Recorded first, then applied: a fault of the store changes nothing.
        const entries: LedgerEntry[] = fresh.map((b) => ({ kind: 'certificate', certificate: bytesToHex(b) }));
        if (entries.length > 0) await o.store.append(entries);
        authority.registerCertificates(fresh);
        return { registered: changes.length, changes, head: await signedHead() };
      });
    },
  );

  app.post(
    '/v1/bill-shares',
    {
      ...signed,
      schema: {
        summary: "Its decryption share of a meter's bill for whole days [from, to), from the signed records",
        security,
        body: S.billShareBody(limits.recordsPerRequest, limits.recordBytes),
        response: S.responses({ 200: S.billRelease }),
      },
    },
    async (req) => {
      const b = req.body as { meterId: string; from: number; to: number; tariffVersion: number; records: string[] };
      const records = b.records.map((h, i) => hexToBytes(h, `records[${i}]`));
      const { release, head } = await decide('bill', () => authority.prepareBill({ meterId: b.meterId, from: b.from, to: b.to, tariffVersion: b.tariffVersion, records }));
      return { ...billReleaseToJson(release), head };
    },
  );

  app.post(
    '/v1/grid-shares',
    {
      ...signed,
      schema: {
        summary: "Its decryption shares of a feeder's grid: every interval total of whole days [from, to), over the meters that qualify",
        security,
        body: S.gridShareBody(limits.recordsPerRequest, limits.recordBytes),
        response: S.responses({ 200: S.gridRelease }),
      },
    },
    async (req) => {
      const b = req.body as { feeder: string; from: number; to: number; tariffVersion: number; intervalSeconds?: number; records: string[] };
      const records = b.records.map((h, i) => hexToBytes(h, `records[${i}]`));
      const { release, head } = await decide('grid', () =>
        authority.prepareGrid({ feeder: b.feeder, from: b.from, to: b.to, tariffVersion: b.tariffVersion, ...(b.intervalSeconds !== undefined ? { intervalSeconds: b.intervalSeconds } : {}), records }),
      );
      return { ...gridReleaseToJson(release), head };
    },
  );

  app.post(
    '/v1/grid-checks',
    { ...signed, schema: { summary: 'Whether a grid request could be allowed at all (its tariff and period), before the center loads its records', security, body: S.gridCheckBody } },
    async (req) => {
      authority.checkGridRequest(req.body as { feeder: string; from: number; to: number; tariffVersion: number });
      return { ok: true, head: await signedHead() };
    },
  );

  await app.ready();
  let closing: Promise<void> | undefined;
  return {
    app,
    authority,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await queue;
        await o.store.close();
      })()),
  };
}
