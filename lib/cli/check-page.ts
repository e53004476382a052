/**
 * `zkmeter check-page --out FILE [--force]`: writes the standalone bill-check page
 * (dist/web/check.html, built by web/build.mjs) from the installed package, so that a
 * customer can open it from their own disk instead of trusting a page their utility serves.
 * Prints its SHA-256, to compare with the one the package or a regulator publishes.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { STANDALONE_PAGE_FILE, STANDALONE_PAGE_SHA256_FILE } from '../server/check-page.js';
import { writeSecretFile } from '../server/keys.js';
import { UsageError } from './parse.js';

export function checkPageCommand(o: { out?: string; force?: boolean }): { file: string; sha256: string } {
  const out = o.out;
  if (typeof out !== 'string' || out === '') throw new UsageError('--out expected a file name');
  if (!existsSync(STANDALONE_PAGE_FILE) || !existsSync(STANDALONE_PAGE_SHA256_FILE)) {
    throw new UsageError(`the standalone bill-check page is not built (no ${STANDALONE_PAGE_FILE}): run \`npm run build:web\``);
  }
  const page = readFileSync(STANDALONE_PAGE_FILE);
  const sha256 = createHash('sha256').update(page).digest('hex');
  // Both files come from the same build: a mismatch is a damaged or half-rebuilt package, never to be handed out.
  const shipped = readFileSync(STANDALONE_PAGE_SHA256_FILE, 'utf8').slice(0, 64);
  if (shipped !== sha256) throw new UsageError(`${STANDALONE_PAGE_FILE} does not match its SHA-256 in ${STANDALONE_PAGE_SHA256_FILE}: rebuild it with \`npm run build:web\``);
  // Not secret, but never over an existing file unless asked.
  if (!o.force && existsSync(out)) throw new UsageError(`--out ${out} exists: never overwritten (--force replaces it)`);
  writeSecretFile(out, page.toString('utf8'), { replace: o.force === true, mode: 0o644 });
  return { file: out, sha256 };
}
