/**
 * Constant time of the native prover paths, checked the way libsecp256k1's ctime test checks
 * its own: native/ctime/ctime_test.c, built by native/ctime/build.mjs from the same single
 * translation unit as the addon (native/kernel.c including libsecp256k1, binding.gyp's flags,
 * plus -DVALGRIND), marks the secret inputs undefined for valgrind memcheck and declassifies the
 * published outputs; memcheck then reports any branch or memory index that depends on a secret.
 *
 * Modes: the prover paths (mul, mulGen, msmConst, selectSum with and without its extra term,
 * commit, encrypt, the range prover's witness check, A, S, T1, T2, the ZKPe prover's A1, A2, A3,
 * BIP340 signing, over edge-case and random secrets) must pass; the same paths with nothing
 * marked must produce fully defined outputs; and three deliberately variable-time calls on a
 * secret (zk_mul's wNAF path, zk_add, zk_msm) must each be reported, which shows the check can
 * fail. Native project only (test/native*.test.ts). Skips, printing why, without valgrind, its
 * headers or a C compiler.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/backend/native.js';

const root = packageRoot();
/** The valgrind to run (ZKMETER_VALGRIND overrides the one on PATH); native/ctime/build.mjs honours CC. */
const valgrind = process.env.ZKMETER_VALGRIND || 'valgrind';

interface Built {
  ok: boolean;
  binary?: string;
  missing?: string;
  reason?: string;
}

/** Why the check cannot run here, or the harness binary. A build error (not a missing tool) throws. */
function prepare(): { skip: string } | { binary: string } {
  const version = spawnSync(valgrind, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) return { skip: `${valgrind} is not installed or does not run (Debian: apt-get install valgrind)` };
  const started = Date.now();
  const res = spawnSync(process.execPath, [join(root, 'native', 'ctime', 'build.mjs')], { encoding: 'utf8' });
  const line = res.stdout.trim().split('\n').pop() ?? '';
  let built: Built;
  try {
    built = JSON.parse(line) as Built;
  } catch {
    throw new Error(`native/ctime/build.mjs printed no result (status ${res.status}): ${res.stderr}`);
  }
  if (!built.ok) {
    if (built.missing !== undefined) return { skip: built.reason ?? built.missing };
    throw new Error(`native/ctime/build.mjs failed: ${built.reason}`);
  }
  console.log(`native-ctime: built ${built.binary} with ${version.stdout.trim()} in ${Date.now() - started} ms`);
  return { binary: built.binary! };
}

const prepared = prepare();
const skip = 'skip' in prepared ? prepared.skip : undefined;
if (skip !== undefined) console.log(`native-ctime: skipped: ${skip}`);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the harness under memcheck, as libsecp256k1 runs its ctime test. */
function memcheck(mode?: string): Promise<Run> {
  const binary = (prepared as { binary: string }).binary;
  const args = ['--error-exitcode=1', '--track-origins=yes', binary, ...(mode ? [mode] : [])];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(valgrind, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      const ms = Date.now() - started;
      console.log(`native-ctime: valgrind ctime_test ${mode ?? ''} -> exit ${status} in ${ms} ms: ${stdout.trim()}`);
      resolve({ status, stdout, stderr, ms });
    });
  });
}

/** The first memcheck report, for failure messages. */
function firstReport(stderr: string): string {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => /uninitialised|Uninitialised|Invalid (read|write)/.test(l));
  return at === -1 ? stderr.slice(-2000) : lines.slice(at, at + 14).join('\n');
}

describe.skipIf(skip !== undefined)('constant time under valgrind memcheck (native)', () => {
  it('no branch or memory index of the prover paths depends on a secret', { timeout: 300_000 }, async () => {
    const run = await memcheck();
    expect(run.stderr, firstReport(run.stderr)).toMatch(/ERROR SUMMARY: 0 errors/);
    expect(run.status).toBe(0);
    // Every round ran: 15 special scalars and 4 random ones, 3 recipes each.
    expect(run.stdout).toMatch(/57 rounds, \d+ kernel calls, secret inputs marked undefined/);
  });

  it('with nothing marked secret, every declassified output is fully defined', { timeout: 300_000 }, async () => {
    const run = await memcheck('defined');
    expect(run.stderr, firstReport(run.stderr)).toMatch(/ERROR SUMMARY: 0 errors/);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/57 rounds, \d+ kernel calls, every output checked to be defined/);
  });

  for (const [mode, where] of [
    ['leak-mul', /zk_mul \(kernel\.c/],
    ['leak-add', /zk_add \(kernel\.c/],
    ['leak-msm', /zk_msm \(kernel\.c/],
  ] as const) {
    it(`a deliberately variable-time call on a secret is reported (${mode})`, { timeout: 120_000 }, async () => {
      const run = await memcheck(mode);
      // The harness itself ran to the end; memcheck's error exit code is what fails it.
      expect(run.stdout).toContain(`ran ${mode}`);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/Conditional jump or move depends on uninitialised value|Use of uninitialised value/);
      expect(run.stderr).toContain('created by a client request');
      expect(run.stderr).toMatch(where);
      expect(run.stderr).not.toMatch(/ERROR SUMMARY: 0 errors/);
    });
  }
});

// Without the tools, the report shows one skipped test that says why.
if (skip !== undefined) it.skip(`constant time under valgrind memcheck: ${skip}`, () => {});
