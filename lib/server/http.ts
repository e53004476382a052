/**
 * What the two services (the control center, app.ts, and the privacy
 * authority, authority-app.ts) share in front of their routes: fastify with
 * strict JSON Schema validation (no coercion), one error shape
 * `{"error":{"code","message"}}` with 4xx for the caller's mistakes and 5xx
 * only for real faults (logged, never a stack trace to the client), a bound
 * on the request bodies in flight (503 before the body is read), request
 * metrics, and the OpenAPI description generated from the same schemas.
 * @module
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import type { Counter } from 'prom-client';
import { ZkmeterError } from '../errors.js';
import { VERSION } from '../version.js';

/** A caller's error with its HTTP status and machine-readable code. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** fastify's own error codes for a bad request, and what we call them. */
const FASTIFY_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'BODY_TOO_LARGE'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'INVALID_CONTENT_LENGTH'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'INVALID_JSON'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'INVALID_JSON'],
};

export interface HttpAppOptions {
  /** Largest request body, bytes. */
  readonly bodyBytes: number;
  /** Most request-body bytes being received or handled at once (a body without Content-Length counts as `bodyBytes`). */
  readonly inflightBodyBytes: number;
  /** Seconds a 503 asks the client to wait. */
  readonly retryAfterSeconds: number;
  /** Where a real fault is logged: `<logName>: internal error on …` on stderr. */
  readonly logName: string;
  /** How a ZkmeterError code maps to a status (default 400). */
  readonly statusOf: Partial<Record<string, number>>;
  /** Extra headers of an error with this ZkmeterError code (say, Retry-After of a 503). */
  readonly headersOf?: Partial<Record<string, Record<string, string>>>;
  /** Called for every ZkmeterError answered (say, to log an unavailable dependency). */
  readonly onZkmeterError?: (err: ZkmeterError, req: FastifyRequest) => void;
  /** Counts requests by route and status. */
  readonly requests: Counter<'route' | 'status'>;
  /** Counts 503s for too many bodies in flight. */
  readonly overloaded?: Counter;
  /** The OpenAPI title and description. */
  readonly title: string;
  readonly description: string;
  readonly securitySchemes?: Record<string, unknown>;
  /** TLS key and certificate (PEM): serve HTTPS. */
  readonly https?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Most milliseconds to receive a whole request (default 60,000). */
  readonly requestTimeoutMs?: number;
}

/**
 * A fastify instance with the shared error handling, limits, metrics and
 * OpenAPI registered (and the `/openapi.json` route); the caller adds its routes
 * and calls `ready()`.
 */
export async function createHttpApp(o: HttpAppOptions): Promise<FastifyInstance> {
  const retryAfter = String(o.retryAfterSeconds);
  const app = (Fastify as unknown as (opts: Record<string, unknown>) => FastifyInstance)({
    logger: false,
    bodyLimit: o.bodyBytes,
    // Strict schemas: no coercion, no silent removal of unknown fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    // A client must send its whole request within this time: a connection that declares a large
    // body and sends nothing cannot hold the in-flight budget (or a socket) for ever.
    requestTimeout: o.requestTimeoutMs ?? 60_000,
    ...(o.https !== undefined ? { https: { key: o.https.key, cert: o.https.cert } } : {}),
  });
  app.removeContentTypeParser('text/plain'); // JSON (and what the caller adds) only: anything else is 415

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown; validationContext?: string }, req, reply) => {
    let status = 500;
    let code = 'INTERNAL';
    let message = 'internal error';
    if (err instanceof HttpError) {
      [status, code, message] = [err.statusCode, err.code, err.message];
      reply.headers(err.headers);
    } else if (err instanceof ZkmeterError) {
      [status, code, message] = [o.statusOf[err.code] ?? 400, err.code, err.message];
      reply.headers(o.headersOf?.[err.code] ?? {});
      o.onZkmeterError?.(err, req);
    } else if (err.validation !== undefined) {
      [status, code, message] = [400, 'INVALID_REQUEST', `${err.validationContext ?? 'request'} ${err.message.replace(/^(body|querystring|params)\s*/, '')}`];
    } else if (err.code !== undefined && FASTIFY_ERRORS[err.code] !== undefined) {
      [status, code] = FASTIFY_ERRORS[err.code]!;
      message = err.message;
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      [status, code, message] = [err.statusCode, 'BAD_REQUEST', err.message];
    }
    if (status >= 500 && !(err instanceof HttpError) && !(err instanceof ZkmeterError && status === 503)) {
      process.stderr.write(`${o.logName}: internal error on ${req.method} ${req.url}: ${err.stack ?? err.message}\n`);
    }
    void reply.code(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });

  let inflightBody = 0;
  const claimed = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (req) => {
    if (req.method !== 'POST' && req.method !== 'PUT' && req.method !== 'PATCH') return;
    const declared = Number(req.headers['content-length']);
    const size = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, o.bodyBytes + 1) : o.bodyBytes;
    if (inflightBody > 0 && inflightBody + size > o.inflightBodyBytes) {
      o.overloaded?.inc();
      throw new HttpError(503, 'OVERLOADED', 'too many request bodies in flight; retry later', { 'retry-after': retryAfter });
    }
    inflightBody += size;
    claimed.set(req, size);
  });
  const release = (req: FastifyRequest) => {
    inflightBody -= claimed.get(req) ?? 0;
    claimed.delete(req);
  };
  app.addHook('onResponse', async (req, reply) => {
    release(req);
    o.requests.inc({ route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });
  app.addHook('onRequestAbort', async (req) => release(req));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: o.title, version: VERSION, description: o.description },
      ...(o.securitySchemes !== undefined ? { components: { securitySchemes: o.securitySchemes } } : {}),
    },
  } as Parameters<typeof swagger>[1]);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

/** Whether a bound address is a loopback one (127.0.0.0/8, ::1): what needs no warning over plain HTTP. */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address === 'localhost' || address.startsWith('::ffff:127.');
}

/** The URL a listening fastify instance can be reached at, from the address it actually bound. */
export function listeningUrl(app: FastifyInstance, tls: boolean): string {
  const a = app.server.address();
  if (a === null || typeof a === 'string') throw new Error('the server is not listening on TCP');
  const host = a.family === 'IPv6' || a.family === (6 as unknown as string) ? `[${a.address}]` : a.address;
  return `${tls ? 'https' : 'http'}://${host}:${a.port}`;
}
