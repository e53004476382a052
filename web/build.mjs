#!/usr/bin/env node
/**
 * Browser builds, with esbuild:
 *  - dist/browser/zkmeter.js: the library for browsers (web/src/browser.ts), ES module;
 *  - dist/web/: the customer's bill-check page (web/index.html, web/src/check.ts and
 *    web/check.css), which `zkmeter serve` serves at /check.
 * lib/backend/native.ts is replaced by web/src/native-browser.ts, and the build fails if
 * anything on the path imports a Node built-in. Writes esbuild's metafiles to
 * build/web/meta.json (not shipped; test/web.test.ts reads it) and prints the bundle sizes.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Substitutes the browser stub for the native backend, and refuses Node built-ins. */
const browserOnly = {
  name: 'zkmeter-browser',
  setup(b) {
    b.onResolve({ filter: /\/native\.js$/ }, (args) =>
      args.importer.includes(join('lib', 'backend')) ? { path: join(root, 'web', 'src', 'native-browser.ts') } : undefined,
    );
    b.onResolve({ filter: /^node:|^(fs|path|os|crypto|module|url|child_process|worker_threads|zlib|stream|buffer)$/ }, (args) => ({
      errors: [{ text: `Node built-in "${args.path}" imported by ${args.importer}: not allowed in the browser build` }],
    }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  metafile: true,
  legalComments: 'linked',
  plugins: [browserOnly],
  logLevel: 'warning',
  // TypeScript sources import their siblings as .js; esbuild maps those to .ts itself.
  resolveExtensions: ['.ts', '.js'],
};

for (const d of ['dist/browser', 'dist/web']) rmSync(join(root, d), { recursive: true, force: true });
const lib = await build({ ...common, entryPoints: [join(root, 'web', 'src', 'browser.ts')], outfile: join(root, 'dist', 'browser', 'zkmeter.js') });
const page = await build({ ...common, entryPoints: [join(root, 'web', 'src', 'check.ts')], outfile: join(root, 'dist', 'web', 'check.js') });
mkdirSync(join(root, 'dist', 'web'), { recursive: true });
copyFileSync(join(root, 'web', 'index.html'), join(root, 'dist', 'web', 'index.html'));
copyFileSync(join(root, 'web', 'check.css'), join(root, 'dist', 'web', 'check.css'));
mkdirSync(join(root, 'build', 'web'), { recursive: true });
writeFileSync(join(root, 'build', 'web', 'meta.json'), JSON.stringify({ library: lib.metafile, page: page.metafile }));

const size = (file) => {
  const bytes = readFileSync(file);
  return `${(bytes.length / 1024).toFixed(0)} KiB (${(gzipSync(bytes).length / 1024).toFixed(0)} KiB gzipped)`;
};
process.stderr.write(`web: dist/browser/zkmeter.js ${size(join(root, 'dist', 'browser', 'zkmeter.js'))}, dist/web/check.js ${size(join(root, 'dist', 'web', 'check.js'))}\n`);
