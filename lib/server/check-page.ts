/**
 * The customer's bill-check page at /check: the static files web/build.mjs writes to
 * dist/web/ (the page) and dist/browser/ (the library bundle, also importable from the
 * page's origin as /check/zkmeter.js). Everything the page verifies runs in the
 * customer's browser; the service only hands out these files.
 *
 * A page served by the control center is only as trustworthy as the center: a dishonest one
 * can serve a page that calls any bill right. So /check is a convenience. The independent
 * check is the standalone dist/web/check.html (web/build.mjs), opened from the customer's
 * own disk once its SHA-256 matches the one the zkmeter package or a regulator publishes
 * (`zkmeter check-page` writes it from the installed package), or `zkmeter check-bill`.
 * The center also offers that file at /check.html, as a download only: it is the hash
 * check, never where the file came from, that makes it trustworthy.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** Where the built page lives: dist/web and dist/browser, beside dist/lib. */
const distDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The standalone page in this installed package, and its SHA-256 file (`sha256sum -c` format). */
export const STANDALONE_PAGE_FILE = join(distDir, 'web', 'check.html');
export const STANDALONE_PAGE_SHA256_FILE = join(distDir, 'web', 'check.html.sha256');

/** URL path → [file under dist/, content type, extra headers]. */
const FILES: Record<string, [string, string, Record<string, string>?]> = {
  '/check': ['web/index.html', 'text/html; charset=utf-8'],
  '/check/': ['web/index.html', 'text/html; charset=utf-8'],
  '/check/check.js': ['web/check.js', 'text/javascript; charset=utf-8'],
  '/check/check.css': ['web/check.css', 'text/css; charset=utf-8'],
  '/check/zkmeter.js': ['browser/zkmeter.js', 'text/javascript; charset=utf-8'],
  // Saved, not rendered: run in this origin it would be no better than /check (and this CSP blocks its inline script).
  '/check.html': ['web/check.html', 'text/html; charset=utf-8', { 'content-disposition': 'attachment; filename="check.html"' }],
};

/** Scripts and styles from this origin only; the page fetches nothing but a bill address the customer types. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

export function registerCheckPage(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  for (const [route, [file, type, extra = {}]] of Object.entries(FILES)) {
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
        .headers(extra)
        .header('content-type', type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache')
        .send(body);
    });
  }
}
