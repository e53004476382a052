/**
 * zkmeter native against the C secp256k1-zkp Bulletproofs, head to head: the same three
 * figures (64-bit single proof: prove, verify; batch verification per proof) measured in
 * alternating rounds — the C harness (`--headline N`), then zkmeter in this process, then
 * the other way round — so that the drift of a shared VM over minutes hits both sides of
 * each ratio alike. Each ratio is the median of the per-round ratios, with its range.
 * Run by `zkmeter bench` on the native backend; prints one JSON line (WorkerOutput).
 * @module
 */
import { backendName } from '../lib/backend/index.js';
import { commit } from '../lib/crypto/pedersen.js';
import { randomScalar } from '../lib/crypto/random.js';
import { batchVerifyRange, proveRange, verifyRange } from '../lib/crypto/bulletproofs/range.js';
import { median, randomValue, timeMs } from './msm.js';
import { runSecp256k1ZkpC } from './peers/secp256k1-zkp-c.js';
import { makeItem } from './rangeproof.js';
import type { WorkerOutput } from './results.js';

const OPS = ['prove', 'verify', 'batch'] as const;
type Op = (typeof OPS)[number];

export async function runHeadToHead(quick: boolean, log: (line: string) => void): Promise<WorkerOutput> {
  if (backendName() !== 'native') return { metrics: {}, skipped: ['head to head with C: needs the native backend'] };
  const rounds = quick ? 2 : 5;
  const batchSize = quick ? 64 : 1000;
  const items = Array.from({ length: 32 }, () => makeItem(64, [randomValue(64)]));
  const batch = Array.from({ length: batchSize }, (_, i) => items[i % items.length]!);
  const single = items[0]!;

  const zkmeter = (): Record<Op, number> => {
    const gamma = randomScalar();
    const v = randomValue(64);
    const statement = { commitments: [commit(v, gamma)], bits: 64 as const };
    return {
      prove: timeMs(() => proveRange(statement, { values: [v], blindings: [gamma] }, single.context), 300, 3),
      verify: timeMs(() => verifyRange(single.statement, single.proof, single.context), 300, 10),
      batch: timeMs(() => batchVerifyRange(batch), 300, batchSize >= 256 ? 2 : 3) / batchSize,
    };
  };
  /** One C round: the harness's 64-bit figures, from its own process. */
  const c = async (): Promise<Record<Op, number> | { skipped: string[] }> => {
    const out = await runSecp256k1ZkpC(['--headline', String(batchSize)], log);
    const m = out.metrics;
    const [prove, verify, batchMs] = [m['secp256k1zkpC.rp64.prove.ms'], m['secp256k1zkpC.rp64.verify.ms'], m['secp256k1zkpC.rp64.batch.msPerProof']];
    if (prove === undefined || verify === undefined || batchMs === undefined) return { skipped: out.skipped ?? [] };
    return { prove, verify, batch: batchMs };
  };

  const ours: Record<Op, number>[] = [];
  const theirs: Record<Op, number>[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate which side goes first, so a steady drift does not favour either.
    const skip = (why: { skipped: string[] }): WorkerOutput => ({ metrics: {}, skipped: why.skipped.map((s) => `head to head: ${s}`) });
    const first = round % 2 === 0 ? await c() : undefined;
    if (first !== undefined && 'skipped' in first) return skip(first);
    ours.push(zkmeter());
    const them = first ?? (await c());
    if ('skipped' in them) return skip(them);
    theirs.push(them);
    const o = ours[round]!;
    const t = theirs[round]!;
    log(`h2h    round ${round + 1}/${rounds}: zkmeter / C = prove ${(o.prove / t.prove).toFixed(2)}×, verify ${(o.verify / t.verify).toFixed(2)}×, batch ${batchSize} ${(o.batch / t.batch).toFixed(2)}×`);
  }
  const metrics: Record<string, number> = { 'h2h.rounds': rounds, 'h2h.batch.size': batchSize };
  for (const op of OPS) {
    const name = op === 'batch' ? 'batch.msPerProof' : `${op}.ms`;
    metrics[`h2h.native.rp64.${name}`] = median(ours.map((x) => x[op]));
    metrics[`h2h.secp256k1zkpC.rp64.${name}`] = median(theirs.map((x) => x[op]));
    const ratios = ours.map((x, i) => x[op] / theirs[i]![op]);
    metrics[`native.rp64.${op}.overSecp256k1zkpC`] = median(ratios);
    metrics[`native.rp64.${op}.overSecp256k1zkpC.min`] = Math.min(...ratios);
    metrics[`native.rp64.${op}.overSecp256k1zkpC.max`] = Math.max(...ratios);
  }
  return { metrics };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const output = await runHeadToHead(process.argv.includes('--quick'), (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify(output) + '\n');
}
