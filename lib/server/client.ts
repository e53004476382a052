/**
 * A small HTTP client of the control-center service (app.ts), on node's fetch:
 * what the meter simulator, the load bench and the tests use. Submissions go
 * in the binary framing by default; a 503 is retried after its Retry-After.
 * Any other non-2xx answer (except a submission's 422, whose body still holds
 * every record's result) becomes a ServiceError with the server's code.
 * @module
 */
import { bytesToHex } from '../crypto/codec.js';
import { certifyMeter, type RegistrationChange } from '../protocol/certificate.js';
import { HOUSEHOLD, type MeterClass } from '../protocol/meter.js';
import { encodeFrames } from './wire.js';

export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export interface SubmitResult {
  readonly accepted: number;
  readonly abnormal: number;
  readonly invalid: number;
  readonly results: readonly {
    status: 'accepted' | 'abnormal' | 'invalid';
    meterId?: string;
    intervals?: number[];
    repeated?: boolean;
    recordId?: string;
    reason?: string;
    detail?: string;
  }[];
  /** 503 answers waited out before this one. */
  readonly retries: number;
}

/** The answer to a registration: how many certificates were accepted, and what each changed. */
export interface RegistrationResult {
  readonly registered: number;
  readonly changes: readonly RegistrationChange[];
}

/** A meter to certify: a certificate's fields, with epoch 0 and the household class by default. */
export interface MeterToCertify {
  readonly meterId: string;
  /** 32-byte x-only BIP340 key. */
  readonly publicKey: Uint8Array;
  readonly feeder: string;
  /** Unix seconds from which the key signs readings. */
  readonly validFrom: number;
  readonly keyEpoch?: number;
  readonly meterClass?: MeterClass;
}

export class ServiceClient {
  readonly url: string;
  private readonly token: string | undefined;
  /** Most 503 retries of one request before giving up (default 120). */
  private readonly maxRetries: number;

  constructor(url: string, o: { token?: string; maxRetries?: number } = {}) {
    this.url = url.replace(/\/+$/, '');
    this.token = o.token;
    this.maxRetries = o.maxRetries ?? 120;
  }

  /** One request; JSON in and out. Retries 503s; `accept` lists the non-2xx statuses whose JSON body is an answer. */
  async request<T>(method: string, path: string, body?: unknown, o: { accept?: number[]; binary?: Uint8Array } = {}): Promise<{ status: number; body: T; retries: number }> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    let payload: string | Uint8Array | undefined;
    if (o.binary !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      payload = o.binary;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    for (let retries = 0; ; retries++) {
      let res: Response;
      try {
        res = await fetch(this.url + path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause?.code;
        throw new ServiceError(0, 'UNREACHABLE', `cannot reach ${this.url}: ${cause ?? (e as Error).message}`);
      }
      const text = await res.text();
      if (res.status === 503 && retries < this.maxRetries) {
        const wait = Number(res.headers.get('retry-after') ?? '1');
        await new Promise((r) => setTimeout(r, 1000 * (Number.isFinite(wait) && wait > 0 ? Math.min(wait, 30) : 1)));
        continue;
      }
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = text;
      }
      if (res.ok || o.accept?.includes(res.status)) return { status: res.status, body: json as T, retries };
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ServiceError(res.status, err?.code ?? 'HTTP_ERROR', `${method} ${path}: ${res.status} ${err?.message ?? text.slice(0, 200)}`);
    }
  }

  async config(): Promise<{ utilityKey: string; tariffVersion: number; meterClass: { name: string; bits: number; intervalSeconds: number }; billing: boolean }> {
    return (await this.request<Awaited<ReturnType<ServiceClient['config']>>>('GET', '/v1/config')).body;
  }

  /** Registers meter certificates (all or nothing; a refused one is a ServiceError 403 or 400 naming it). */
  async registerCertificates(certificates: readonly Uint8Array[]): Promise<RegistrationResult> {
    return (await this.request<RegistrationResult>('POST', '/v1/meters', { certificates: certificates.map(bytesToHex) })).body;
  }

  /**
   * Certifies meters with a provisioning secret key, as an installer would, and
   * registers the certificates: for simulations and tests, where one operator
   * holds the provisioning key.
   */
  async registerMeters(provisioningKey: bigint, meters: readonly MeterToCertify[]): Promise<RegistrationResult> {
    return this.registerCertificates(
      meters.map((m) =>
        certifyMeter({ meterId: m.meterId, publicKey: m.publicKey, keyEpoch: m.keyEpoch ?? 0, validFrom: m.validFrom, feeder: m.feeder, meterClass: m.meterClass ?? HOUSEHOLD }, provisioningKey),
      ),
    );
  }

  /** A feeder's grid over whole days [from, to); totals are decimal strings. */
  async grid(feeder: string, from: number, to: number): Promise<{ feeder: string; from: number; to: number; members: string[]; excluded: { meterId: string; why: string }[]; totals: { intervalStart: number; totalWh: string }[] }> {
    return (await this.request<Awaited<ReturnType<ServiceClient['grid']>>>('GET', `/v1/feeders/${encodeURIComponent(feeder)}/grid?from=${from}&to=${to}`)).body;
  }

  /** Submits records; resolves once the server has committed them, with every record's result. */
  async submit(records: readonly Uint8Array[], o: { json?: boolean } = {}): Promise<SubmitResult> {
    const r = o.json
      ? await this.request<SubmitResult>('POST', '/v1/records', { records: records.map(bytesToHex) }, { accept: [422] })
      : await this.request<SubmitResult>('POST', '/v1/records', undefined, { accept: [422], binary: encodeFrames(records) });
    return { ...r.body, retries: r.retries };
  }

  async intervals(meterId: string, from: number, to: number): Promise<{ counts: Record<'accepted' | 'abnormal' | 'invalid' | 'missing', number>; intervals: { intervalStart: number; status: string; reason?: string }[] }> {
    return (await this.request<Awaited<ReturnType<ServiceClient['intervals']>>>('GET', `/v1/meters/${encodeURIComponent(meterId)}/intervals?from=${from}&to=${to}`)).body;
  }

  async bill(meterId: string, from: number, to: number): Promise<Record<string, unknown>> {
    return (await this.request<Record<string, unknown>>('POST', '/v1/bills', { meterId, from, to })).body;
  }

  async health(): Promise<Record<string, unknown>> {
    return (await this.request<Record<string, unknown>>('GET', '/healthz')).body;
  }
}
