/**
 * One HTTP(S) request on node:http/node:https, for the clients that must pin a
 * CA (global fetch cannot take one in node 20): a timeout over the whole
 * exchange and a bound on the response size, so a slow or hostile peer can
 * neither hang the caller nor exhaust its memory.
 * @module
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Why a request got no answer: the peer could not be reached, took too long or sent too much. */
export class HttpRequestError extends Error {
  constructor(
    readonly reason: 'unreachable' | 'timeout' | 'too-large',
    message: string,
  ) {
    super(message);
    this.name = 'HttpRequestError';
  }
}

export function httpRequest(o: {
  url: URL;
  method: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** PEM of the CA (or CAs) that must have issued an https peer's certificate; default: the system's. */
  ca?: string | Buffer;
  /** A keep-alive agent to reuse connections (its own `ca` then applies). */
  agent?: http.Agent;
  timeoutMs: number;
  maxResponseBytes: number;
}): Promise<HttpResponse> {
  const tls = o.url.protocol === 'https:';
  if (!tls && o.url.protocol !== 'http:') return Promise.reject(new HttpRequestError('unreachable', `unsupported URL scheme ${o.url.protocol}`));
  const headers: Record<string, string | number> = { ...o.headers };
  if (o.body !== undefined) headers['content-length'] = o.body.length;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      f();
    };
    const options: https.RequestOptions = { method: o.method, headers, ...(tls && o.ca !== undefined ? { ca: o.ca } : {}), ...(o.agent !== undefined ? { agent: o.agent } : {}) };
    const req = (tls ? https : http).request(o.url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > o.maxResponseBytes) {
          req.destroy();
          finish(() => reject(new HttpRequestError('too-large', `${o.url.origin} answered more than ${o.maxResponseBytes} bytes`)));
        } else chunks.push(c);
      });
      res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })));
      res.on('error', (e) => finish(() => reject(new HttpRequestError('unreachable', `${o.url.origin}: ${e.message}`))));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(() => reject(new HttpRequestError('timeout', `${o.url.origin} did not answer within ${o.timeoutMs} ms`)));
    }, o.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish(() => reject(new HttpRequestError('unreachable', `cannot reach ${o.url.origin}: ${e.code ?? e.message}`))));
    req.end(o.body);
  });
}
