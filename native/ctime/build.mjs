#!/usr/bin/env node
/**
 * Builds the constant-time harness (native/ctime/ctime_test.c) against the same single
 * translation unit the addon compiles: native/kernel.c, which includes libsecp256k1's
 * src/secp256k1.c from the pinned source deps/fetch-secp256k1.mjs extracts. The compiler flags
 * and defines are read from binding.gyp's `zkmeter_kernel` target (with its conditions for this
 * platform) and node-gyp's code-generation flags (-fPIC, -pthread, -m64 on x64), so the harness
 * checks the code the addon runs. Added: -DVALGRIND (kernel.c's and libsecp256k1's
 * declassification hooks) and -g (readable valgrind reports; -g does not change GCC's code).
 *
 * Output: build/ctime/ctime_test. Prints one JSON line on stdout:
 *   {"ok": true, "binary": PATH, "command": [...]}            built
 *   {"ok": false, "missing": "compiler"|"valgrind-headers", "reason": TEXT}   a tool is missing
 *   {"ok": false, "reason": TEXT}                                            anything else failed
 * and exits 0 when built, 1 otherwise. Only a missing tool is a reason to skip the check. Run the result with
 *   valgrind --error-exitcode=1 --track-origins=yes build/ctime/ctime_test [leak-mul|leak-add|leak-msm]
 * (test/native-ctime.test.ts does, for every mode). Node built-ins only.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cc = process.env.CC || 'cc';

function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(result.ok ? 0 : 1);
}

/** binding.gyp is a Python literal: drop `#` comments outside strings and trailing commas, then JSON. */
function readGyp(file) {
  const text = readFileSync(file, 'utf8');
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i];
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += ch;
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}

/** Evaluates a GYP condition such as "target_arch=='x64' and OS!='win'" for this machine. */
function condition(expr) {
  const vars = {
    target_arch: process.arch,
    OS: process.platform === 'win32' ? 'win' : process.platform === 'darwin' ? 'mac' : process.platform,
  };
  const js = expr
    .replace(/\band\b/g, '&&')
    .replace(/\bor\b/g, '||')
    .replace(/\bnot\b/g, '!')
    .replace(/\b(target_arch|OS)\b/g, (v) => JSON.stringify(vars[v]));
  if (!/^[\s"'a-z0-9_=!&|()]*$/i.test(js)) throw new Error(`unsupported binding.gyp condition: ${expr}`);
  return Function(`"use strict"; return (${js});`)();
}

const gyp = readGyp(join(root, 'binding.gyp'));
const target = gyp.targets.find((t) => t.target_name === 'zkmeter_kernel');
if (target === undefined) done({ ok: false, reason: 'binding.gyp has no zkmeter_kernel target' });
const defines = [...(target.defines ?? [])];
const cflags = [...(target.cflags ?? [])];
for (const [expr, then, otherwise] of target.conditions ?? []) {
  const branch = condition(expr) ? then : otherwise;
  if (branch?.defines) defines.push(...branch.defines);
  if (branch?.cflags) cflags.push(...branch.cflags);
}

// The pinned libsecp256k1 source (a no-op when already extracted and stamped).
const fetched = spawnSync(process.execPath, [join(root, 'deps', 'fetch-secp256k1.mjs')], { encoding: 'utf8' });
if (fetched.status !== 0) done({ ok: false, reason: `deps/fetch-secp256k1.mjs failed: ${fetched.stderr.trim()}` });
const secpDir = fetched.stdout.trim();

// valgrind/memcheck.h: the client requests both the harness and -DVALGRIND need.
const probe = spawnSync(cc, ['-E', '-x', 'c', '-'], { input: '#include <valgrind/memcheck.h>\n', encoding: 'utf8' });
if (probe.error) done({ ok: false, missing: 'compiler', reason: `cannot run ${cc}: ${probe.error.message}` });
if (probe.status !== 0) {
  done({ ok: false, missing: 'valgrind-headers', reason: `${cc} cannot find <valgrind/memcheck.h> (install valgrind, e.g. Debian's valgrind package)` });
}

const out = join(root, 'build', 'ctime');
mkdirSync(out, { recursive: true });
const binary = join(out, 'ctime_test');
const command = [
  cc,
  ...cflags,
  '-fPIC',
  '-pthread',
  ...(process.arch === 'x64' ? ['-m64'] : []),
  '-g',
  ...defines.map((d) => `-D${d}`),
  '-DVALGRIND',
  `-I${secpDir}`,
  `-I${join(secpDir, 'src')}`,
  `-I${join(secpDir, 'include')}`,
  join(root, 'native', 'kernel.c'),
  join(root, 'native', 'ctime', 'ctime_test.c'),
  '-o',
  binary,
];
const built = spawnSync(command[0], command.slice(1), { encoding: 'utf8' });
if (built.error) done({ ok: false, missing: 'compiler', reason: `cannot run ${cc}: ${built.error.message}` });
if (built.status !== 0) done({ ok: false, reason: `compile failed:\n${built.stderr}` });
done({ ok: true, binary, command });
