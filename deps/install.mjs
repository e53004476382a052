#!/usr/bin/env node
/**
 * `npm install` hook: makes sure the native addon is there.
 *
 * If node-gyp-build can already load an addon (a prebuilt binary in prebuilds/,
 * or an existing build/Release), there is nothing to do. Otherwise it runs
 * `node-gyp rebuild` (node-gyp 12, from our dependencies), whose configure step
 * runs deps/fetch-secp256k1.mjs to extract the pinned libsecp256k1 source.
 * `--force` always rebuilds.
 *
 * If the build fails (no compiler, no registry access), zkmeter still works on
 * its pure-TypeScript backend, so by default this warns and exits 0. Set
 * ZKMETER_BACKEND=native (or ZKMETER_REQUIRE_NATIVE=1) to make it fail instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const force = process.argv.includes('--force');
const required = process.env.ZKMETER_BACKEND === 'native' || !!process.env.ZKMETER_REQUIRE_NATIVE;

// Build against the running node's own headers when it ships them (distribution
// packages and official tarballs do), rather than letting node-gyp download them.
const env = { ...process.env };
const prefix = dirname(dirname(process.execPath));
if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  env.npm_config_nodedir = prefix;
}

function run(args, stdio = 'inherit') {
  const res = spawnSync(process.execPath, args, { cwd: root, stdio, env });
  return res.status === 0;
}

/** Whether node-gyp-build finds an addon that loads, tested in a child process. */
function addonLoads() {
  const loader = require.resolve('node-gyp-build');
  return run(['-e', `require(${JSON.stringify(loader)})(${JSON.stringify(root)})`], 'ignore');
}

let ok;
try {
  ok = (!force && addonLoads()) || run([join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js'), 'rebuild']);
} catch (e) {
  process.stderr.write(`zkmeter: cannot run the addon build: ${e.message}\n`);
  ok = false;
}

if (!ok) {
  if (required) {
    process.stderr.write('zkmeter: the native addon failed to build, and ZKMETER_BACKEND=native requires it.\n');
    process.exit(1);
  }
  process.stderr.write(
    'zkmeter: WARNING: the native addon failed to build; zkmeter will use its pure-TypeScript backend ' +
      '(about 30× slower). See the build output above. Set ZKMETER_REQUIRE_NATIVE=1 to make this an error.\n',
  );
}
