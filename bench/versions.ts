/**
 * Before and after, in one run: the end-to-end benchmark (bench/e2e.ts) of this
 * checkout and of an earlier commit, in alternating rounds, so that machine
 * drift hits both sides of each ratio alike.
 *
 *   node dist/bench/versions.js --rev <commit> [--rounds 3] [--quick]
 *
 * The earlier commit is checked out into a temporary git worktree with this
 * checkout's bench/e2e.ts (the same harness on both sides; only the library
 * differs), installed with `npm ci` and built. Prints a table on stderr and, last
 * on stdout, a JSON object with every round's metrics and the median ratios.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (line: string) => process.stderr.write(line + '\n');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The metrics compared, and whether larger is better. */
const COMPARED: [metric: string, higherIsBetter: boolean][] = [
  ['native.e2e.readingsPerSec', true],
  ['native.e2e.dailyRecordSmallBatch.readingsPerSec', true],
  ['native.e2e.perReadingRecord.readingsPerSec', true],
  ['native.e2e.dailyRecordAlone.verifyMs', false],
  ['native.e2e.dailyRecordBatch16.verifyMs', false],
  ['native.e2e.forgedSignatureBatch16.overHonest', false],
];

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status})`);
}

function e2e(tree: string, quick: boolean): Record<string, number> {
  const r = spawnSync(process.execPath, [path.join(tree, 'dist', 'bench', 'e2e.js'), ...(quick ? ['--quick'] : [])], {
    cwd: tree,
    env: { ...process.env, ZKMETER_BACKEND: 'native' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`the e2e bench failed in ${tree} (exit ${r.status})`);
  const last = r.stdout.trim().split('\n').pop()!;
  return (JSON.parse(last) as { metrics: Record<string, number> }).metrics;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const rev = arg('--rev');
  if (rev === undefined) throw new Error('usage: node dist/bench/versions.js --rev <commit> [--rounds N] [--quick]');
  const rounds = Number(arg('--rounds') ?? 3);
  const quick = process.argv.includes('--quick');
  const commit = execFileSync('git', ['rev-parse', '--short', rev], { cwd: root, encoding: 'utf8' }).trim();
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
  const before = mkdtempSync(path.join(os.tmpdir(), `zkmeter-${commit}-`));
  try {
    log(`checking out ${commit} into ${before} (with this checkout's bench/e2e.ts), npm ci, build`);
    run('git', ['worktree', 'add', '--detach', '--force', before, rev], root);
    copyFileSync(path.join(root, 'bench', 'e2e.ts'), path.join(before, 'bench', 'e2e.ts'));
    run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], before);
    run(process.execPath, ['deps/install.mjs'], before);
    run(process.execPath, [path.join(before, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], before);
    const rows: { round: number; side: 'before' | 'after'; metrics: Record<string, number> }[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which side goes first, so that neither always runs on a warmer machine.
      const order: ['before' | 'after', string][] = round % 2 === 0 ? [['before', before], ['after', root]] : [['after', root], ['before', before]];
      for (const [side, tree] of order) {
        log(`round ${round + 1}/${rounds}: ${side} (${side === 'before' ? commit : `${head}${dirty ? '+changes' : ''}`})`);
        rows.push({ round, side, metrics: e2e(tree, quick) });
      }
    }
    const ratios: Record<string, number> = {};
    log('');
    log(`${'metric'.padEnd(50)} ${'before'.padStart(10)} ${'after'.padStart(10)}  after/before (median of rounds, range)`);
    for (const [metric, higherIsBetter] of COMPARED) {
      const per: number[] = [];
      const b: number[] = [];
      const a: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const x = rows.find((r) => r.round === round && r.side === 'before')!.metrics[metric];
        const y = rows.find((r) => r.round === round && r.side === 'after')!.metrics[metric];
        if (x === undefined || y === undefined) continue;
        b.push(x);
        a.push(y);
        per.push(y / x);
      }
      if (per.length === 0) continue;
      ratios[metric] = median(per);
      const range = `${Math.min(...per).toFixed(3)}–${Math.max(...per).toFixed(3)}`;
      log(`${metric.padEnd(50)} ${median(b).toFixed(2).padStart(10)} ${median(a).toFixed(2).padStart(10)}  ${median(per).toFixed(3)} (${range}; ${higherIsBetter ? 'higher' : 'lower'} is better)`);
    }
    process.stdout.write(JSON.stringify({ before: commit, after: `${head}${dirty ? '+changes' : ''}`, rounds, quick, ratios, rows }) + '\n');
  } finally {
    spawnSync('git', ['worktree', 'remove', '--force', before], { cwd: root, stdio: 'ignore' });
    rmSync(before, { recursive: true, force: true });
  }
}

await main();
