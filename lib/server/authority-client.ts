/**
 * The control center's client of the privacy authority's service
 * (authority-app.ts): a `BillingAuthority` over HTTP(S). Every request is
 * signed with the center's identity key (signed-request.ts); an https
 * authority's certificate may be pinned to a CA. It holds no secret of the
 * utility key: the center's own share stays with the caller.
 *
 * Errors: a refusal is the authority's `POLICY_REFUSED` (or its other 4xx
 * code); an authority that cannot be reached, times out, refuses the center's
 * signature or answers a fault or a malformed answer is `AUTHORITY_UNAVAILABLE`,
 * which the center's service answers 503 with a Retry-After. Releases are
 * idempotent at the authority, so the caller may simply retry.
 *
 * Rollback: every answer to a signed request carries the authority's ledger
 * head, signed by its identity key (log-head.ts). The client keeps the newest
 * (`headMemory`), sends it along with each request (`seen`: an authority whose
 * ledger lacks it refuses), and refuses an answer whose head is older than the
 * one it knew when it asked, or that contradicts one it holds
 * (AUTHORITY_UNAVAILABLE, naming the rollback).
 * @module
 */
import http from 'node:http';
import https from 'node:https';
import { ZkmeterError, type ErrorCode } from '../errors.js';
import { abytes } from '../backend/bytes.js';
import { bytesToHex, hexToBytes } from '../crypto/codec.js';
import type { SharedKey } from '../crypto/threshold.js';
import type { BillRelease, BillShareRequest, GridRelease, GridShareRequest } from '../protocol/authority.js';
import type { BillingAuthority } from '../protocol/billing.js';
import type { RegistrationChange } from '../protocol/certificate.js';
import { sharedKeyToJson, tariffFromJson, type Json } from '../protocol/json.js';
import { verifyTariffSignature, type Tariff } from '../protocol/tariff.js';
import { billReleaseFromJson, gridReleaseFromJson, registrationChangesFromJson } from './authority-wire.js';
import { sharedKeyDigest } from './ceremony.js';
import { HttpRequestError, httpRequest } from './http-request.js';
import type { SigningKey } from './keys.js';
import { headAtLeast, memoryLogHeadMemory, signedLogHeadFromJson, verifyLogHead, type LogHeadMemory, type SignedLogHead } from './log-head.js';
import { checkSigningKey, signRequest } from './signed-request.js';

/** The error codes an authority's 4xx may carry through to the caller as they are. */
const PASSED_THROUGH: readonly ErrorCode[] = ['POLICY_REFUSED', 'INVALID_ARGUMENT', 'INVALID_RECORD', 'INVALID_POINT', 'INVALID_SCALAR', 'INVALID_LENGTH', 'UNSUPPORTED_VERSION', 'VALUE_OUT_OF_RANGE'];

export interface AuthorityClientOptions {
  /** The authority service's base URL, http:// or https://. */
  readonly url: string;
  /** The utility's shared key: the client checks that the authority holds a share of this very key. */
  readonly key: SharedKey;
  /** The center's identity key, which signs every request. */
  readonly identity: SigningKey;
  /**
   * The authority's identity key (from the key ceremony's parties.json): every request is
   * addressed to it (signed for this authority only), and its signed tariffs are checked against it.
   */
  readonly authorityKey: Uint8Array;
  /** PEM of the CA an https authority's certificate must chain to (default: the system's CAs). */
  readonly ca?: string | Buffer;
  /** Per request (default 120 s: a year's bill is re-verified by the authority before it answers). */
  readonly timeoutMs?: number;
  /** Largest answer accepted (default 64 MiB). */
  readonly maxResponseBytes?: number;
  /**
   * Where the newest signed head of the authority's ledger is kept between runs (the CLI:
   * `authority-head.json` in the center's keys directory). Default: in memory, for this client's life.
   */
  readonly headMemory?: LogHeadMemory;
}

export class AuthorityClient implements BillingAuthority {
  readonly url: URL;
  private readonly o: AuthorityClientOptions;
  private readonly agent: http.Agent;
  private readonly keyDigest: Uint8Array;
  private readonly memory: LogHeadMemory;
  /** The newest signed head of the authority's ledger this client was given (or kept from before). */
  private known: SignedLogHead | undefined;

  constructor(o: AuthorityClientOptions) {
    let url: URL;
    try {
      url = new URL(o.url);
    } catch {
      throw new ZkmeterError('INVALID_ARGUMENT', `the authority URL ${JSON.stringify(o.url)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ZkmeterError('INVALID_ARGUMENT', `the authority URL must be http:// or https://, not ${url.protocol}`);
    this.url = url;
    this.o = { ...o, identity: checkSigningKey(o.identity, 'the center identity key'), authorityKey: abytes(o.authorityKey, 'authorityKey', 32).slice() };
    this.keyDigest = sharedKeyDigest(o.key);
    this.memory = o.headMemory ?? memoryLogHeadMemory();
    const kept = this.memory.load();
    this.known = kept === undefined ? undefined : this.trusted(kept);
    this.agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true, ...(o.ca !== undefined ? { ca: o.ca } : {}) }) : new http.Agent({ keepAlive: true });
  }

  /** The newest signed head of the authority's ledger this client has been given (undefined before the first). */
  get head(): SignedLogHead | undefined {
    return this.known;
  }

  /** The authority's identity key, as configured (`authorityKey`). */
  get identityKey(): Uint8Array {
    return this.o.authorityKey;
  }

  async billShare(req: BillShareRequest): Promise<BillRelease> {
    const body = { meterId: req.meterId, from: req.from, to: req.to, tariffVersion: req.tariffVersion, records: req.records.map(bytesToHex) };
    return this.signedPost('/v1/bill-shares', body, billReleaseFromJson);
  }

  async gridShares(req: GridShareRequest): Promise<GridRelease> {
    const body = {
      feeder: req.feeder,
      from: req.from,
      to: req.to,
      tariffVersion: req.tariffVersion,
      ...(req.intervalSeconds !== undefined ? { intervalSeconds: req.intervalSeconds } : {}),
      records: req.records.map(bytesToHex),
    };
    return this.signedPost('/v1/grid-shares', body, gridReleaseFromJson);
  }

  async checkGridRequest(req: { feeder: string; from: number; to: number; tariffVersion: number }): Promise<void> {
    await this.signedPost('/v1/grid-checks', { feeder: req.feeder, from: req.from, to: req.to, tariffVersion: req.tariffVersion }, () => undefined);
  }

  async registerCertificates(certificates: readonly Uint8Array[]): Promise<RegistrationChange[]> {
    return this.signedPost('/v1/meters', { certificates: certificates.map(bytesToHex) }, registrationChangesFromJson);
  }

  /** The authority's /healthz. */
  async health(): Promise<Record<string, unknown>> {
    return (await this.call('GET', '/healthz')) as Record<string, unknown>;
  }

  /**
   * The authority's tariffs, each checked against its signature by `authorityKey`
   * (refused, AUTHORITY_UNAVAILABLE, if any does not verify).
   */
  async tariffs(): Promise<{ tariff: Tariff; signature: Uint8Array }[]> {
    const key = this.o.authorityKey;
    return this.parse(await this.call('GET', '/v1/tariffs'), (v) => {
      const list = (v as { tariffs?: unknown }).tariffs;
      if (!Array.isArray(list)) throw new ZkmeterError('INVALID_ARGUMENT', '"tariffs" expected an array');
      return list.map((x: { tariff?: unknown; signature?: unknown }) => {
        const tariff = tariffFromJson(x.tariff);
        const signature = hexToBytes(String(x.signature), 'signature', 64);
        if (!verifyTariffSignature(tariff, signature, key)) throw new ZkmeterError('INVALID_ARGUMENT', `tariff version ${tariff.version} is not signed by the authority's key`);
        return { tariff, signature };
      });
    });
  }

  /** Closes idle connections. */
  close(): void {
    this.agent.destroy();
  }

  /** Checks that the authority answers and holds a share of this key (its /v1/identity names the same shared key). */
  async checkKey(): Promise<void> {
    const id = (await this.call('GET', '/v1/identity')) as { sharedKey?: unknown } | undefined;
    if (JSON.stringify(id?.sharedKey) !== JSON.stringify(sharedKeyToJson(this.o.key))) {
      throw new ZkmeterError('AUTHORITY_UNAVAILABLE', `the authority at ${this.url.origin} holds a share of another key than this center's`);
    }
  }

  /**
   * A signed POST that names the head known now (`seen`), and whose answer carries the
   * ledger's signed head: checked against that head and the newest one known since, then kept.
   */
  private async signedPost<T>(path: string, body: Json, read: (v: unknown) => T): Promise<T> {
    const sent = this.known;
    const answer = await this.call('POST', path, sent === undefined ? body : { ...body, seen: sent });
    const { head, value } = this.parse(answer, (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ZkmeterError('INVALID_ARGUMENT', 'expected a JSON object');
      const { head: h, ...rest } = v as Record<string, unknown>;
      const signed = signedLogHeadFromJson(h, '"head"');
      if (!verifyLogHead(signed, this.keyDigest, this.o.authorityKey)) throw new ZkmeterError('INVALID_ARGUMENT', '"head" is not signed by the authority\'s identity key for this utility key');
      return { head: signed, value: read(rest) };
    });
    const rolledBack = (than: SignedLogHead) =>
      new ZkmeterError(
        'AUTHORITY_UNAVAILABLE',
        `the privacy authority at ${this.url.origin} answered with its ledger at seq ${head.seq}, behind or beside the head at seq ${than.seq} it signed before: its ledger was rolled back (restored from an older state), or this answer is a replay; it is not used`,
      );
    // An answer is decided after its request was sent: its head is at least the one sent. An
    // answer to a request sent earlier may come after a newer one (concurrent requests): only
    // the same seq with another chain contradicts the head known now.
    if (sent !== undefined && !headAtLeast(head, sent)) throw rolledBack(sent);
    const now = this.known;
    if (now !== undefined && head.seq === now.seq && head.chain !== now.chain) throw rolledBack(now);
    // Kept durably before the answer is used (a memory that cannot keep it fails the request).
    if (now === undefined || head.seq > now.seq) {
      const kept = this.memory.save(head); // or a newer one another process on the memory kept
      this.known = kept === head ? head : this.trusted(kept);
    }
    return value;
  }

  /** A head read from the memory, checked: signed by this authority for this utility key (INVALID_ARGUMENT otherwise). */
  private trusted(kept: SignedLogHead): SignedLogHead {
    if (!verifyLogHead(kept, this.keyDigest, this.o.authorityKey)) {
      throw new ZkmeterError('INVALID_ARGUMENT', "the kept log head is not signed by this authority's identity key for this utility key (another authority's, or altered)");
    }
    return kept;
  }

  private parse<T>(v: unknown, read: (v: unknown) => T): T {
    try {
      return read(v);
    } catch (e) {
      if (!(e instanceof ZkmeterError)) throw e;
      throw new ZkmeterError('AUTHORITY_UNAVAILABLE', `the authority at ${this.url.origin} answered malformed JSON: ${e.message}`, { cause: e });
    }
  }

  private async call(method: 'GET' | 'POST', path: string, json?: unknown): Promise<unknown> {
    const body = json === undefined ? new Uint8Array(0) : Buffer.from(JSON.stringify(json));
    const headers: Record<string, string> = { authorization: signRequest(this.o.identity, this.o.authorityKey, method, path, body), accept: 'application/json' };
    if (json !== undefined) headers['content-type'] = 'application/json';
    const unavailable = (why: string, cause?: unknown) =>
      new ZkmeterError('AUTHORITY_UNAVAILABLE', `the privacy authority at ${this.url.origin} ${why}`, cause === undefined ? undefined : { cause });
    let res;
    try {
      res = await httpRequest({
        url: new URL(path, this.url),
        method,
        headers,
        ...(json !== undefined ? { body } : {}),
        agent: this.agent,
        timeoutMs: this.o.timeoutMs ?? 120_000,
        maxResponseBytes: this.o.maxResponseBytes ?? 64 << 20,
      });
    } catch (e) {
      if (e instanceof HttpRequestError) throw unavailable(`is unavailable: ${e.message}`, e);
      throw e;
    }
    let answer: unknown;
    try {
      answer = res.body.length === 0 ? undefined : JSON.parse(res.body.toString('utf8'));
    } catch {
      throw unavailable(`answered ${res.status} with a body that is not JSON`);
    }
    if (res.status >= 200 && res.status < 300) return answer;
    const err = (answer as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const message = typeof err?.message === 'string' ? err.message : `status ${res.status}`;
    if (res.status === 401) throw unavailable(`refuses this center's signed request: ${message}`);
    if (res.status >= 400 && res.status < 500) {
      const code = PASSED_THROUGH.find((c) => c === err?.code) ?? 'INVALID_ARGUMENT';
      throw new ZkmeterError(code, message);
    }
    throw unavailable(`answered ${res.status}: ${message}`);
  }
}
