#!/usr/bin/env node
/**
 * Builds the API reference with TypeDoc (typedoc.json: the package's five entry points,
 * warnings are errors) into docs/api/, or into the folder given by --out.
 *
 * TypeDoc needs TypeScript's JavaScript compiler API, which TypeScript 7 (the project's
 * compiler) no longer has, so TypeDoc and TypeScript 6 live in tools/typedoc/ with their own
 * lockfile; this script installs them there with `npm ci` on first use.
 * Exit code: TypeDoc's (non-zero on any warning or error).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tool = join(root, 'tools', 'typedoc');
const bin = join(tool, 'node_modules', 'typedoc', 'bin', 'typedoc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

if (!existsSync(bin)) {
  process.stderr.write('api-docs: installing TypeDoc and TypeScript 6 into tools/typedoc (npm ci)\n');
  const res = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--prefix', tool], { stdio: ['ignore', 'inherit', 'inherit'], shell: process.platform === 'win32' });
  if (res.status !== 0) {
    process.stderr.write(`api-docs: npm ci in tools/typedoc failed (exit ${res.status})\n`);
    process.exit(1);
  }
}
const out = process.argv.indexOf('--out');
const args = [bin, '--options', join(root, 'typedoc.json'), ...(out !== -1 && process.argv[out + 1] ? ['--out', process.argv[out + 1]] : [])];
const res = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(res.status ?? 1);
