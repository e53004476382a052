#!/usr/bin/env node
/**
 * Vendors libsecp256k1's C source at build time, from a pinned npm registry tarball.
 *
 * Steps (see deps/README.md for why this source and this patch):
 *  1. `npm pack secp256k1-wasm@2.0.0` into a temporary folder (the registry, or npm's cache);
 *  2. check the tarball's sha512 against the pinned SRI integrity — refuse anything else;
 *  3. extract `package/depend/secp256k1/{src,include,COPYING}` into `deps/secp256k1/`
 *     (git-ignored), normalising CRLF line endings to LF;
 *  4. apply `deps/restore-upstream.patch`, which undoes the package's local edits;
 *  5. write a stamp file, so a later run with the same pin and patch is a no-op.
 *
 * On success it prints the absolute source directory on stdout (binding.gyp reads it);
 * everything else goes to stderr. Exit code 1 on any failure, with a one-line reason.
 *
 * Options (for offline installs and tests):
 *   --tarball FILE  use this local copy of the pinned tarball instead of `npm pack`
 *                   (its integrity is checked all the same);
 *   --out DIR       extract into DIR instead of deps/secp256k1.
 * Node built-ins only: this runs before anything else is guaranteed to be installed.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const PIN = Object.freeze({
  spec: 'secp256k1-wasm@2.0.0',
  tarball: 'secp256k1-wasm-2.0.0.tgz',
  integrity:
    'sha512-MCYnxvzgp/z9SNQFjUZS5WOp95cLztfHi2gonZ5fV1C4Ff+yK2oKjDd9q2VlYF4dAN/lmK3Hz2VQCfFZYc1+/Q==',
  /** Folder inside the tarball that holds the libsecp256k1 tree. */
  prefix: 'package/depend/secp256k1/',
  /** Upstream bitcoin-core/secp256k1 commit that folder was taken from (git subtree, May 2021). */
  upstream: '50f33677',
});

const depsDir = dirname(fileURLToPath(import.meta.url));
const patchFile = join(depsDir, 'restore-upstream.patch');

function option(name) {
  const i = process.argv.indexOf(name);
  if (i === -1) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) fail(`${name} needs a value`);
  return v;
}

function fail(message) {
  process.stderr.write(`deps: ${message}\n`);
  process.exit(1);
}

function sri(bytes) {
  return 'sha512-' + createHash('sha512').update(bytes).digest('base64');
}

/** A failure with a one-line reason (the CLI prints it; the bench reports it as skipped). */
export class FetchError extends Error {}

/** Runs `npm pack` for `pin.spec` and returns the tarball's bytes. */
function packTarball(pin) {
  const dir = mkdtempSync(join(tmpdir(), 'zkmeter-deps-'));
  try {
    // Under `npm install`, npm tells us where its CLI is; otherwise use the npm on PATH.
    const npmCli = process.env.npm_execpath;
    const [cmd, args] =
      npmCli && /npm-cli\.js$/.test(npmCli)
        ? [process.execPath, [npmCli]]
        : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
    const res = spawnSync(cmd, [...args, 'pack', pin.spec, '--silent', '--pack-destination', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32',
      timeout: 300_000,
    });
    if (res.status !== 0) {
      throw new FetchError(`'npm pack ${pin.spec}' failed (exit ${res.status}): ${(res.stderr || String(res.error)).trim().split('\n').pop()}`);
    }
    const file = join(dir, pin.tarball);
    if (!existsSync(file)) throw new FetchError(`'npm pack ${pin.spec}' did not produce ${pin.tarball}`);
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Minimal ustar reader: yields { name, type, data } for each entry.
 * Handles the ustar `prefix` field and PAX `path` records; that is all npm tarballs use.
 */
function* readTar(buf) {
  let off = 0;
  let paxPath = null;
  const str = (b) => b.toString('utf8', 0, b.indexOf(0) === -1 ? b.length : b.indexOf(0));
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(str(h.subarray(124, 136)).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    const magic = str(h.subarray(257, 263));
    let name = str(h.subarray(0, 100));
    if (magic.startsWith('ustar')) {
      const prefix = str(h.subarray(345, 500));
      if (prefix) name = prefix + '/' + name;
    }
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      paxPath = m ? m[1] : null;
      continue;
    }
    if (type === 'g') continue;
    if (paxPath) {
      name = paxPath;
      paxPath = null;
    }
    yield { name, type, data };
  }
}

/** Applies a unified diff (paths relative to `root`, `a/`/`b/` prefixes) with exact context. */
function applyPatch(root, patchText) {
  const files = patchText.split(/^--- /m).slice(1);
  for (const chunk of files) {
    const lines = chunk.split('\n');
    const target = lines[1].replace(/^\+\+\+ b\//, '').trim();
    const path = join(root, target);
    const original = readFileSync(path, 'utf8').split('\n');
    const result = [];
    let cursor = 0; // next unread line of `original` (0-based)
    for (let i = 2; i < lines.length; i++) {
      const m = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(lines[i]);
      if (!m) continue;
      const start = Number(m[1]) - 1;
      while (cursor < start) result.push(original[cursor++]);
      for (i++; i < lines.length && !lines[i].startsWith('@@'); i++) {
        const l = lines[i];
        const body = l.slice(1);
        if (l.startsWith(' ') || l.startsWith('-')) {
          if (original[cursor] !== body) {
            throw new FetchError(`patch does not apply to ${target} at line ${cursor + 1}: expected ${JSON.stringify(body)}`);
          }
          cursor++;
          if (l.startsWith(' ')) result.push(body);
        } else if (l.startsWith('+')) {
          result.push(body);
        }
      }
      i--;
    }
    while (cursor < original.length) result.push(original[cursor++]);
    writeFileSync(path, result.join('\n'));
  }
}

/**
 * Fetches a pinned registry tarball (`npm pack`, or `localTarball`), refuses it unless its
 * sha512 matches `pin.integrity`, and extracts `COPYING`, `src/` and `include/` from under
 * `pin.prefix` into `outDir`, through a staging folder renamed into place, so a failure
 * leaves no half-written tree. `transform` may rewrite each file's bytes; `finish(staging)`
 * runs before the rename (patches, checks). A stamp `{integrity, ...stamp}` is written, and
 * a later call with an equal stamp returns at once. Throws FetchError with a one-line reason.
 * Used by this script and by the C secp256k1-zkp peer of the benchmark.
 * @returns {{ outDir: string, fetched: boolean, files: number }}
 */
export function extractPinnedSource(pin, outDir, { localTarball, transform = (data) => data, finish = () => {}, stamp = {}, log = () => {} } = {}) {
  const stampFile = join(outDir, '.zkmeter-stamp.json');
  const expected = { integrity: pin.integrity, ...stamp };
  if (existsSync(stampFile)) {
    try {
      const old = JSON.parse(readFileSync(stampFile, 'utf8'));
      if (Object.entries(expected).every(([k, v]) => old[k] === v)) return { outDir, fetched: false, files: 0 };
    } catch {
      /* unreadable stamp: extract again */
    }
  }
  log(`fetching ${pin.spec}`);
  const tgz = localTarball !== undefined ? readFileSync(localTarball) : packTarball(pin);
  const got = sri(tgz);
  if (got !== pin.integrity) throw new FetchError(`integrity mismatch for ${pin.spec}: expected ${pin.integrity}, got ${got}`);

  mkdirSync(dirname(outDir), { recursive: true });
  const staging = mkdtempSync(join(dirname(outDir), '.zkmeter-staging-'));
  try {
    let files = 0;
    for (const entry of readTar(gunzipSync(tgz))) {
      if (!entry.name.startsWith(pin.prefix)) continue;
      const rel = entry.name.slice(pin.prefix.length);
      if (!(rel === 'COPYING' || rel.startsWith('src/') || rel.startsWith('include/'))) continue;
      if (entry.type !== '0' && entry.type !== '\0') continue;
      const dest = resolve(staging, rel);
      if (!dest.startsWith(staging + sep)) throw new FetchError(`refusing tar entry outside the target: ${entry.name}`);
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, transform(entry.data));
      files++;
    }
    if (files === 0 || !existsSync(join(staging, 'src', 'secp256k1.c'))) {
      throw new FetchError(`${pin.spec} does not contain ${pin.prefix}src/secp256k1.c`);
    }
    finish(staging);
    writeFileSync(join(staging, '.zkmeter-stamp.json'), JSON.stringify({ ...expected, spec: pin.spec }, null, 2) + '\n');
    rmSync(outDir, { recursive: true, force: true });
    renameSync(staging, outDir);
    log(`extracted ${files} files to ${outDir}`);
    return { outDir, fetched: true, files };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function main() {
  const outDir = resolve(option('--out') ?? join(depsDir, 'secp256k1'));
  const localTarball = option('--tarball');
  const patchText = readFileSync(patchFile, 'utf8');
  try {
    extractPinnedSource(PIN, outDir, {
      localTarball,
      // The package ships CRLF line endings; upstream uses LF.
      transform: (data) => Buffer.from(data.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'),
      finish: (staging) => applyPatch(staging, patchText),
      stamp: { patch: sri(Buffer.from(patchText)), upstream: PIN.upstream },
      log: (line) => process.stderr.write(`deps: ${line}${line.startsWith('fetching') ? ` (libsecp256k1 upstream ${PIN.upstream})` : ''}\n`),
    });
  } catch (e) {
    if (e instanceof FetchError) fail(e.message);
    throw e;
  }
  process.stdout.write(outDir + '\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
