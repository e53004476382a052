#!/usr/bin/env node
/**
 * Browser builds, with esbuild:
 *  - dist/browser/zkmeter.js: the library for browsers (web/src/browser.ts), ES module;
 *  - dist/web/: the customer's bill-check page (web/index.html, web/src/check.ts and
 *    web/check.css), which `zkmeter serve` serves at /check;
 *  - dist/web/check.html: the same page as one self-contained file, its script and style
 *    inlined and allowed by their hashes only (a Content-Security-Policy meta with no
 *    connection allowed), to open from the customer's own disk; its SHA-256 goes to
 *    dist/web/check.html.sha256 (`sha256sum -c` format). The build is deterministic, so
 *    anyone rebuilding the same sources gets the same hash.
 * lib/backend/native.ts is replaced by web/src/native-browser.ts, and the build fails if
 * anything on the path imports a Node built-in. Writes esbuild's metafiles to
 * build/web/meta.json (not shipped; test/web.test.ts reads it) and prints the bundle sizes.
 *
 * `node web/build.mjs --standalone-to DIR` builds only check.html (and its .sha256) into DIR,
 * touching nothing else: test/web.test.ts rebuilds it so to check that the build is reproducible.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

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

/** The tags of web/index.html that the standalone page replaces with the inlined files. */
const STYLE_TAG = '<link rel="stylesheet" href="/check/check.css">';
const SCRIPT_TAG = '<script type="module" src="/check/check.js"></script>';
const CHARSET_TAG = '<meta charset="utf-8">';

/** `text` with `what` replaced exactly once: a changed index.html must fail the build, not ship a page that loads nothing. */
function replaceOnce(text, what, by) {
  const at = text.indexOf(what);
  if (at < 0 || text.indexOf(what, at + 1) >= 0) throw new Error(`web/index.html: expected exactly one ${what}`);
  return text.slice(0, at) + by + text.slice(at + what.length);
}

/** web/index.html for one variant: keeps its `<!-- if VARIANT -->…<!-- end if -->` blocks, drops the other's. */
function pageFor(variant) {
  const html = readFileSync(join(root, 'web', 'index.html'), 'utf8').replace(
    /[ \t]*<!-- if (served|standalone) -->\n([\s\S]*?)[ \t]*<!-- end if -->\n/g,
    (_m, which, body) => (which === variant ? body : ''),
  );
  if (/<!-- (if|end if)\b/.test(html)) throw new Error('web/index.html: an unmatched <!-- if … --> or <!-- end if --> marker');
  return html;
}

const sha256 = (text) => createHash('sha256').update(text, 'utf8');

/**
 * The standalone page's HTML and metafile. Whatever esbuild does not escape and could end an
 * inline element early or change how the HTML parser reads it refuses the build.
 */
async function buildStandalone() {
  const script = await build({
    ...common,
    entryPoints: [join(root, 'web', 'src', 'check.ts')],
    // Never written (write: false); names the output only.
    outfile: join(root, 'dist', 'web', 'check.html.js'),
    write: false,
    // The licences of what is bundled go inside the one file.
    legalComments: 'eof',
    define: { ZKMETER_STANDALONE: 'true' },
  });
  const style = await build({ entryPoints: [join(root, 'web', 'check.css')], bundle: true, minify: true, write: false, logLevel: 'warning', outfile: join(root, 'dist', 'web', 'check.html.css') });
  const [js] = script.outputFiles.map((f) => f.text);
  const [css] = style.outputFiles.map((f) => f.text);
  if (/<\/script|<!--|<script/i.test(js)) throw new Error('the page bundle holds "</script", "<script" or "<!--": it cannot be inlined safely');
  if (/<\/style|@import|url\(/i.test(css)) throw new Error('web/check.css holds "</style", an @import or a url(): it cannot be inlined as a self-contained style');
  const hash = (text) => `'sha256-${sha256(text).digest('base64')}'`;
  // No network at all: the page reads the files the customer picks; img-src data: is the
  // empty favicon only. (frame-ancestors and the like are ignored in a meta CSP, so not given.)
  const csp = `default-src 'none'; script-src ${hash(js)}; style-src ${hash(css)}; img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'`;
  let html = pageFor('standalone');
  html = replaceOnce(html, CHARSET_TAG, `${CHARSET_TAG}\n  <meta http-equiv="Content-Security-Policy" content="${csp}">`);
  html = replaceOnce(html, STYLE_TAG, `<style>${css}</style>`);
  html = replaceOnce(html, SCRIPT_TAG, `<script type="module">${js}</script>`);
  return { html, metafile: script.metafile };
}

/** Writes check.html and check.html.sha256 into `dir`; returns the hex digest. */
function writeStandalone(dir, html) {
  const digest = sha256(html).digest('hex');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'check.html'), html);
  writeFileSync(join(dir, 'check.html.sha256'), `${digest}  check.html\n`);
  return digest;
}

const size = (file) => {
  const bytes = readFileSync(file);
  return `${(bytes.length / 1024).toFixed(0)} KiB (${(gzipSync(bytes).length / 1024).toFixed(0)} KiB gzipped)`;
};

const onlyTo = process.argv.indexOf('--standalone-to');
if (onlyTo >= 0) {
  const dir = process.argv[onlyTo + 1];
  if (dir === undefined) throw new Error('--standalone-to needs a directory');
  const digest = writeStandalone(dir, (await buildStandalone()).html);
  process.stderr.write(`web: ${join(dir, 'check.html')} ${size(join(dir, 'check.html'))}, sha256 ${digest}\n`);
} else {
  const web = join(root, 'dist', 'web');
  for (const d of ['dist/browser', 'dist/web']) rmSync(join(root, d), { recursive: true, force: true });
  const lib = await build({ ...common, entryPoints: [join(root, 'web', 'src', 'browser.ts')], outfile: join(root, 'dist', 'browser', 'zkmeter.js') });
  const page = await build({ ...common, entryPoints: [join(root, 'web', 'src', 'check.ts')], outfile: join(web, 'check.js'), define: { ZKMETER_STANDALONE: 'false' } });
  const standalone = await buildStandalone();
  mkdirSync(web, { recursive: true });
  writeFileSync(join(web, 'index.html'), pageFor('served'));
  writeFileSync(join(web, 'check.css'), readFileSync(join(root, 'web', 'check.css')));
  const digest = writeStandalone(web, standalone.html);
  mkdirSync(join(root, 'build', 'web'), { recursive: true });
  writeFileSync(join(root, 'build', 'web', 'meta.json'), JSON.stringify({ library: lib.metafile, page: page.metafile, standalone: standalone.metafile }));
  process.stderr.write(
    `web: dist/browser/zkmeter.js ${size(join(root, 'dist', 'browser', 'zkmeter.js'))}, dist/web/check.js ${size(join(web, 'check.js'))}, ` +
      `dist/web/check.html ${size(join(web, 'check.html'))}, sha256 ${digest}\n`,
  );
}
