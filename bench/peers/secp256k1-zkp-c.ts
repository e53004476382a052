/**
 * Peer: the C Bulletproofs of secp256k1-zkp (the Grin / mimblewimble fork), measured on
 * this machine in the same run as zkmeter.
 *
 * The npm registry ships that library's C source inside `secp256k1-zkp@1.0.2` (an old
 * `nan` addon we do not use). At bench time this module
 *  1. runs `npm pack secp256k1-zkp@1.0.2` (the registry, or npm's cache), checks the
 *     tarball's sha512 against the pinned integrity and extracts the library's `src/`,
 *     `include/` and `COPYING` into a git-ignored cache
 *     (`node_modules/.cache/zkmeter-bench/secp256k1-zkp-1.0.2/`), once;
 *  2. compiles zkmeter's own timing harness (bench/peers/secp256k1-zkp-c/harness.c),
 *     which includes the library as one translation unit, with the optimisation flags
 *     of zkmeter's addon (binding.gyp: -std=c99 -O3, no -march=native); the binary's
 *     name carries a hash of the harness source, compiler and flags, so an unchanged
 *     harness is not rebuilt;
 *  3. runs it and turns its JSON lines into result rows.
 * A missing npm, network, or C compiler makes it return a `skipped` reason, never throw.
 *
 * Run directly (`node dist/bench/peers/secp256k1-zkp-c.js [--quick]`) it prints the
 * result as one JSON line (WorkerOutput) on stdout, progress on stderr.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../lib/backend/native.js';
import type { Operation, ResultRow, WorkerOutput } from '../results.js';

export const SECP256K1_ZKP_PIN = Object.freeze({
  spec: 'secp256k1-zkp@1.0.2',
  tarball: 'secp256k1-zkp-1.0.2.tgz',
  integrity: 'sha512-dDwqgZ9Y6Vqdu0IB6h3cLCFgDGOfz5aIzyXrmC7gvnw9U9A+l4EDDvmjfI7NcAOMj7FJvUeMVZtAIUhBBxm4FQ==',
  /** The library's tree inside the tarball. */
  prefix: 'package/src/secp256k1-zkp/',
});

/** The optimisation flags of zkmeter's own native kernel (binding.gyp). */
const CFLAGS = ['-std=c99', '-O3'];
const LABEL = 'secp256k1-zkp C Bulletproofs';
/** Our timing harness, relative to the project root (not shipped in dist/). */
const HARNESS_SOURCE = join('bench', 'peers', 'secp256k1-zkp-c', 'harness.c');

/** A failure that becomes a `skipped` entry: one line, no stack. */
class Skip extends Error {}

/** The project root (the package's, found as the native backend finds it), with the harness source. */
function projectRoot(): string {
  const root = packageRoot();
  if (!existsSync(join(root, HARNESS_SOURCE))) throw new Skip(`${HARNESS_SOURCE} is not there: run the bench from a clone of the repository`);
  return root;
}

function lastLine(text: string | undefined | null): string {
  const lines = (text ?? '').trim().split('\n').filter((l) => l.trim() !== '');
  return (lines[lines.length - 1] ?? '').trim().slice(0, 300);
}

/** deps/fetch-secp256k1.mjs's `extractPinnedSource`, which vendors our own libsecp256k1 too. */
type ExtractPinnedSource = (
  pin: typeof SECP256K1_ZKP_PIN,
  outDir: string,
  options: { finish?: (staging: string) => void; log?: (line: string) => void },
) => { outDir: string; fetched: boolean; files: number };

/** The extracted library (with `src/` and `include/`), fetched, checked and extracted once. */
async function librarySource(root: string, cacheDir: string, log: (line: string) => void): Promise<string> {
  const fetcher = (await import(pathToFileURL(join(root, 'deps', 'fetch-secp256k1.mjs')).href)) as { extractPinnedSource: ExtractPinnedSource; FetchError: new () => Error };
  const libDir = join(cacheDir, 'secp256k1-zkp');
  try {
    fetcher.extractPinnedSource(SECP256K1_ZKP_PIN, libDir, {
      finish: (staging) => {
        if (!existsSync(join(staging, 'include', 'secp256k1_bulletproofs.h'))) throw new Skip(`${SECP256K1_ZKP_PIN.spec} has no bulletproofs module`);
      },
      log: (line) => log(`peer   secp256k1-zkp C: ${line}`),
    });
  } catch (e) {
    if (e instanceof fetcher.FetchError) throw new Skip(e.message);
    throw e;
  }
  return libDir;
}

/** The first C compiler that answers `--version`: $CC, cc, gcc, clang. */
function findCompiler(): { cc: string; version: string } {
  const candidates = [process.env.CC, 'cc', 'gcc', 'clang'].filter((c): c is string => c !== undefined && c.trim() !== '');
  for (const cc of candidates) {
    const res = spawnSync(cc, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    if (res.error === undefined && res.status === 0) return { cc, version: (res.stdout.split('\n')[0] ?? '').trim() };
  }
  throw new Skip(`no C compiler found (tried ${candidates.join(', ')})`);
}

/** The harness binary for the current source, compiler and flags, compiled if missing. */
function harnessBinary(root: string, cacheDir: string, libDir: string, log: (line: string) => void): { bin: string; cc: string; command: string } {
  const source = join(root, HARNESS_SOURCE);
  const { cc, version } = findCompiler();
  const args = [...CFLAGS, `-DZKM_CFLAGS="${CFLAGS.join(' ')}"`, `-I${libDir}`, `-I${join(libDir, 'src')}`, source];
  const hash = createHash('sha256')
    .update(readFileSync(source))
    .update('\0' + [cc, version, ...CFLAGS, SECP256K1_ZKP_PIN.integrity].join('\0'))
    .digest('hex')
    .slice(0, 16);
  const binDir = join(cacheDir, 'bin');
  const bin = join(binDir, `harness-${hash}${process.platform === 'win32' ? '.exe' : ''}`);
  const command = `${cc} ${args.map((a) => (/[\s"]/.test(a) ? `'${a}'` : a)).join(' ')} -o ${bin}`;
  if (existsSync(bin)) return { bin, cc, command };
  mkdirSync(binDir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  log(`peer   secp256k1-zkp C: compiling the harness: ${command}`);
  const t0 = performance.now();
  const res = spawnSync(cc, [...args, '-o', tmp], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  if (res.error !== undefined || res.status !== 0 || !existsSync(tmp)) {
    rmSync(tmp, { force: true });
    const why = res.error?.message ?? lastLine((res.stderr ?? '').split('\n').filter((l) => /error/i.test(l)).join('\n') || res.stderr);
    throw new Skip(`compiling the harness with ${cc} failed (exit ${res.status ?? 'none'}): ${why}`);
  }
  chmodSync(tmp, 0o755);
  renameSync(tmp, bin);
  // Binaries of earlier harness versions are of no further use.
  for (const f of readdirSync(binDir)) {
    if (/^harness-[0-9a-f]{16}(\.exe)?$/.test(f) && join(binDir, f) !== bin) rmSync(join(binDir, f), { force: true });
  }
  log(`peer   secp256k1-zkp C: compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { bin, cc, command };
}

interface HarnessLine {
  config?: string;
  op?: Operation;
  bits?: number;
  m?: number;
  batch?: number;
  ms?: number;
  bytes?: number;
}

const OPS: ReadonlySet<string> = new Set(['rangeProve', 'rangeVerify', 'rangeProofSize', 'rangeBatchVerify']);

/** Runs the harness with `args`, handing each JSON line of its output to `onLine`; resolves with its exit status and stderr. */
function runHarness(bin: string, args: readonly string[], onLine: (line: HarnessLine) => void): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const quick = args.includes('--quick') || args.includes('--headline');
  return new Promise((resolvePromise) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let settled = false;
    const finish = (r: { code: number | null; signal: string | null; stderr: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise(r);
    };
    const timer = setTimeout(() => {
      stderr += `\ntimed out after ${quick ? 120 : 900} s`;
      child.kill('SIGKILL');
    }, (quick ? 120 : 900) * 1000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line.trim() === '') return;
      try {
        onLine(JSON.parse(line) as HarnessLine);
      } catch {
        stderr += `\nunparseable harness output: ${line.slice(0, 200)}`;
      }
    });
    child.on('error', (err) => finish({ code: null, signal: null, stderr: stderr + '\n' + err.message }));
    // 'close' fires after stdout has ended, so every line has been seen.
    child.on('close', (code, signal) => finish({ code, signal, stderr }));
  });
}

/** A short description of the build, from the harness's config line. */
function configNote(config: string, cc: string): string {
  const parts = [`${cc} ${CFLAGS.join(' ')}`];
  if (config.includes('USE_ASM_X86_64')) parts.push('x86-64 asm field');
  else if (config.includes('USE_FIELD_5X52')) parts.push('5x52 field');
  else parts.push('10x26 field');
  if (config.includes('USE_ENDOMORPHISM')) parts.push('endomorphism');
  return parts.join(', ');
}

/** The harness binary, fetched and built if needed; or why it cannot be (one line). */
async function buildHarness(log: (line: string) => void): Promise<{ bin: string; cc: string; command: string } | { skipped: string }> {
  try {
    const root = projectRoot();
    const cacheDir = join(root, 'node_modules', '.cache', 'zkmeter-bench', 'secp256k1-zkp-1.0.2');
    const libDir = await librarySource(root, cacheDir, log);
    return harnessBinary(root, cacheDir, libDir, log);
  } catch (err) {
    const reason = err instanceof Skip ? err.message : `setup failed: ${err instanceof Error ? err.message : String(err)}`;
    log(`peer   secp256k1-zkp C: skipped (${reason.split('\n')[0]})`);
    return { skipped: `${LABEL}: ${reason.split('\n')[0]}` };
  }
}

/**
 * Builds and runs the harness with `args` (`--quick`, or `--headline N` for the head-to-head
 * rounds): its rows, and the 64-bit metrics (prove, verify, size, batch at the largest size).
 */
export async function runSecp256k1ZkpC(args: readonly string[], log: (line: string) => void): Promise<WorkerOutput> {
  const rows: ResultRow[] = [];
  const metrics: Record<string, number> = {};
  const skipped: string[] = [];
  const build = await buildHarness(log);
  if ('skipped' in build) return { rows, metrics, skipped: [build.skipped] };

  const cc = build.cc;
  let config = '';
  const pending = new Map<string, { prove?: number; verify?: number }>();
  const t0 = performance.now();
  const result = await runHarness(build.bin, args, (line) => {
    if (line.config !== undefined) {
      config = line.config;
      return;
    }
    if (line.op === undefined || !OPS.has(line.op) || line.bits === undefined) return;
    const row: ResultRow = { impl: 'secp256k1zkpC', op: line.op, bits: line.bits, m: line.m ?? 1 };
    if (line.batch !== undefined) row.batch = line.batch;
    if (line.ms !== undefined) row.ms = line.ms;
    if (line.bytes !== undefined) row.bytes = line.bytes;
    if (line.op === 'rangeVerify' && config !== '') row.note = configNote(config, cc);
    rows.push(row);
    const key = `${row.bits}/${row.m}`;
    const p = pending.get(key) ?? {};
    if (row.op === 'rangeProve') p.prove = row.ms;
    if (row.op === 'rangeVerify') p.verify = row.ms;
    pending.set(key, p);
    if (row.op === 'rangeProofSize' && p.prove !== undefined && p.verify !== undefined) {
      const what = row.m === 1 ? `n=${row.bits}` : `n=${row.bits} m=${row.m}`;
      log(`peer   secp256k1-zkp C ${what}: prove ${p.prove.toFixed(1)} ms, verify ${p.verify.toFixed(2)} ms, ${row.bytes} B`);
    }
    if (row.op === 'rangeBatchVerify' && row.ms !== undefined) {
      log(`peer   secp256k1-zkp C n=64 batch ${String(row.batch).padStart(4)}: ${row.ms.toFixed(3)} ms per proof`);
    }
  });
  if (result.code !== 0) {
    const why = result.signal !== null ? `killed by ${result.signal}` : `exit ${result.code}`;
    const reason = `harness failed (${why}): ${lastLine(result.stderr) || 'no message'}`;
    skipped.push(`${LABEL}: ${reason}`);
    log(`peer   secp256k1-zkp C: ${reason}`);
    return { rows: [], metrics: {}, skipped };
  }
  const find = (op: Operation, batch?: number) =>
    rows.find((r) => r.op === op && r.bits === 64 && r.m === 1 && (batch === undefined || r.batch === batch));
  const prove = find('rangeProve');
  const verify = find('rangeVerify');
  const size = find('rangeProofSize');
  const batches = rows.filter((r) => r.op === 'rangeBatchVerify' && r.bits === 64 && r.m === 1 && r.batch !== undefined);
  const largest = batches.reduce<ResultRow | undefined>((a, r) => (a === undefined || r.batch! > a.batch! ? r : a), undefined);
  if (prove?.ms === undefined || verify?.ms === undefined || size?.bytes === undefined || largest?.ms === undefined) {
    skipped.push(`${LABEL}: the harness printed no 64-bit figures`);
    return { rows: [], metrics: {}, skipped };
  }
  metrics['secp256k1zkpC.rp64.prove.ms'] = prove.ms;
  metrics['secp256k1zkpC.rp64.verify.ms'] = verify.ms;
  metrics['secp256k1zkpC.rp64.bytes'] = size.bytes;
  metrics['secp256k1zkpC.rp64.batch.msPerProof'] = largest.ms;
  metrics['secp256k1zkpC.rp64.batch.size'] = largest.batch!;
  log(`peer   secp256k1-zkp C: ${rows.length} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s (${config.replace(/^.*?; /, '')})`);
  return { rows, metrics, skipped };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const output = await runSecp256k1ZkpC(process.argv.includes('--quick') ? ['--quick'] : [], (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify(output) + '\n');
}
