/**
 * The customer's bill-check page at /check: the static files web/build.mjs writes to
 * dist/web/ (the page) and dist/browser/ (the library bundle, also importable from the
 * page's origin as /check/zkmeter.js). Everything the page verifies runs in the
 * customer's browser; the service only hands out these files and /v1/config.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** Where the built page lives: dist/web and dist/browser, beside dist/lib. */
const distDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** URL path → [file under dist/, content type]. */
const FILES: Record<string, [string, string]> = {
  '/check': ['web/index.html', 'text/html; charset=utf-8'],
  '/check/': ['web/index.html', 'text/html; charset=utf-8'],
  '/check/check.js': ['web/check.js', 'text/javascript; charset=utf-8'],
  '/check/check.css': ['web/check.css', 'text/css; charset=utf-8'],
  '/check/zkmeter.js': ['browser/zkmeter.js', 'text/javascript; charset=utf-8'],
};

/** Scripts and styles from this origin only; the page fetches /v1/config and nothing else. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

export function registerCheckPage(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  for (const [route, [file, type]] of Object.entries(FILES)) {
    app.get(route, { schema: { hide: true } }, async (_req, reply) => {
      let body = cache.get(file);
      if (body === undefined) {
        const path = join(distDir, file);
        if (!existsSync(path)) {
          return reply.code(404).send({ error: { code: 'PAGE_NOT_BUILT', message: 'the bill-check page is not built: run `npm run build:web`' } });
        }
        body = readFileSync(path);
        cache.set(file, body);
      }
      return reply
        .header('content-type', type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache')
        .send(body);
    });
  }
}
