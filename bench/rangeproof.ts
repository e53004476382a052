/**
 * Bulletproofs benchmarks on the active backend (ZKMETER_BACKEND), one process
 * per backend, run by `zkmeter bench`; prints one JSON line of metrics.
 * Batches larger than the number of distinct proofs made cycle through them
 * (verification work per item is the same either way: nothing is merged).
 */
import { backendName, getGroup } from '../lib/backend/index.js';
import { scalarToBytes, scalarsToBytes } from '../lib/backend/bytes.js';
import { vectorGenerators } from '../lib/crypto/generators.js';
import { commit } from '../lib/crypto/pedersen.js';
import { randomScalar, randomScalars } from '../lib/crypto/random.js';
import { RANGE_BITS, batchVerifyRange, proveRange, verifyRange, type RangeBits, type RangeItem } from '../lib/crypto/bulletproofs/range.js';
import type { ResultRow, WorkerOutput } from './results.js';
import { median, randomValue, timeMs } from './msm.js';

const ctx = new TextEncoder().encode('bench');

export function makeItem(bits: RangeBits, values: bigint[], bounds?: { min: bigint; max: bigint }): RangeItem {
  const blindings = values.map(() => randomScalar());
  const statement = { commitments: values.map((v, i) => commit(v, blindings[i]!)), bits, ...(bounds ? { bounds } : {}) };
  return { statement, proof: proveRange(statement, { values, blindings }, ctx), context: ctx };
}

export function runRangeBench(quick: boolean, log: (line: string) => void): WorkerOutput {
  const b = backendName();
  const rows: ResultRow[] = [];
  const native = b === 'native';
  const m: Record<string, number> = {};
  const budget = quick ? 100 : 600;
  const say = (name: string, value: number) => {
    m[`${b}.${name}`] = value;
    log(`${b.padEnd(6)} ${name.padEnd(34)} ${value.toFixed(3)}`);
  };

  if (native) {
    // Machine calibration: one variable-base multiplication, the figure DEVELOPERS.md gives
    // for its reference machine (29 µs), so that reference figures can be scaled to this one.
    const g = getGroup();
    const pt = g.mulGen(scalarToBytes(randomScalar()));
    const k = scalarToBytes(randomScalar());
    say('mul1.us', 1000 * timeMs(() => g.mulVartime(pt, k), budget / 4, 200));
  }

  // 64-bit, m = 1
  const distinct = native ? (quick ? 8 : 32) : 4;
  const items = Array.from({ length: distinct }, () => makeItem(64, [randomValue(64)]));
  const first = items[0]!;
  const w = { values: [] as bigint[], blindings: [] as bigint[] };
  {
    const gamma = randomScalar();
    const v = randomValue(64);
    const st = { commitments: [commit(v, gamma)], bits: 64 as const };
    w.values = [v];
    w.blindings = [gamma];
    say('rp64.prove.ms', timeMs(() => proveRange(st, w, ctx), budget, native ? 5 : 2));
  }
  if (!native) {
    say('rp64.verify.ms', timeMs(() => verifyRange(first.statement, first.proof, ctx), budget, 3));
  } else {
    // The limit: one MSM with as many points as that verification (128 generators from a
    // prepared table, 18 proof/commitment/H points, and G), timed in alternating rounds
    // with the verification so that machine noise hits both alike.
    const g = getGroup();
    const gens = vectorGenerators(64);
    const table = g.createTable(new Uint8Array([...gens.G, ...gens.H]));
    const pts = g.mulGen(scalarsToBytes(randomScalars(18)));
    const input = { table, tableScalars: scalarsToBytes(randomScalars(128)), points: pts, scalars: scalarsToBytes(randomScalars(18)), gScalar: scalarToBytes(randomScalar()) };
    const verifies: number[] = [];
    const msms: number[] = [];
    const block = 8;
    for (let round = 0; round < (quick ? 3 : 11); round++) {
      let t = performance.now();
      for (let i = 0; i < block; i++) verifyRange(items[i % items.length]!.statement, items[i % items.length]!.proof, ctx);
      verifies.push((performance.now() - t) / block);
      t = performance.now();
      for (let i = 0; i < block; i++) g.msm(input);
      msms.push((performance.now() - t) / block);
    }
    say('rp64.verify.ms', median(verifies));
    const msm = median(msms);
    m['native.rp64.msmSameSize.ms'] = msm;
    m['native.rp64.verifyOverMsm'] = m['native.rp64.verify.ms']! / msm;
    log(`native rp64.msmSameSize.ms                 ${msm.toFixed(3)}  (verify / MSM = ${m['native.rp64.verifyOverMsm']!.toFixed(2)}×)`);
  }
  // Batch verification, amortized per proof, over a range of batch sizes (the report's plot).
  const sizes = native ? (quick ? [1, 4, 16, 64] : [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000]) : quick ? [1, 4] : [1, 2, 4, 8, 16, 32];
  for (const size of sizes) {
    const batch = Array.from({ length: size }, (_, i) => items[i % items.length]!);
    const per = timeMs(() => batchVerifyRange(batch), budget, size >= 1000 ? 2 : quick || !native ? 1 : 3) / size;
    say(`rp64.batch${size}.msPerProof`, per);
    m[`${b}.rp64.batch.msPerProof`] = per;
    m[`${b}.rp64.batch.size`] = size;
    rows.push({ impl: b, op: 'rangeBatchVerify', bits: 64, m: 1, batch: size, ms: per });
  }
  // One figure per quantity: the sweep's 64-bit single proof is the one timed above, with more
  // repetitions (and, for verify, in alternating rounds with the bare MSM).
  rows.push(...sweepRange(quick, log, { prove: m[`${b}.rp64.prove.ms`]!, verify: m[`${b}.rp64.verify.ms`]! }));

  // The paper's configuration (n = 16, m = 1) and a meter's day (96 readings of 16 bits, one proof).
  const p16 = makeItem(16, [12345n]);
  say('rp16.prove.ms', timeMs(() => makeItem(16, [12345n]), budget, 2));
  say('rp16.verify.ms', timeMs(() => verifyRange(p16.statement, p16.proof, ctx), budget, 3));
  if (native) {
    // (pure TypeScript would take minutes to derive 4,096 generators and prove N = 2048)
    const day = Array.from({ length: 96 }, (_, i) => BigInt(100 + ((i * 37) % 900)));
    let dayItem: RangeItem | undefined;
    say('rpDay96x16.prove.ms', timeMs(() => (dayItem = makeItem(16, day)), native ? budget : 0, 1));
    say('rpDay96x16.verify.ms', timeMs(() => verifyRange(dayItem!.statement, dayItem!.proof, ctx), budget, 1));
    m[`${b}.rpDay96x16.bytes`] = dayItem!.proof.length;
  }
  m[`${b}.rp64.bytes`] = first.proof.length;
  return { metrics: m, rows };
}

/** Aggregation sizes and bit lengths swept per backend; pure TypeScript is ~25× slower. */
function sweepShape(quick: boolean, native: boolean): { bits: RangeBits; ms: number[] }[] {
  const aggregations = native ? (quick ? [1, 4, 16] : [1, 2, 4, 8, 16, 32, 64]) : quick ? [1] : [1, 2, 4, 8, 16];
  return RANGE_BITS.map((bits) => ({ bits, ms: bits === 64 || !quick ? aggregations : [1] }));
}

/**
 * Prove and verify one proof of m values of n bits, for every (n, m) of the sweep, and the
 * proof's size in bytes, measured from the proof itself. The 64-bit single proof's times are
 * `rp64` (already measured), not timed again.
 */
function sweepRange(quick: boolean, log: (line: string) => void, rp64: { prove: number; verify: number }): ResultRow[] {
  const b = backendName();
  const native = b === 'native';
  const rows: ResultRow[] = [];
  const budget = quick ? 0 : native ? 400 : 1000;
  for (const { bits, ms } of sweepShape(quick, native)) {
    for (const count of ms) {
      const values = Array.from({ length: count }, () => randomValue(bits));
      const blindings = randomScalars(count);
      const statement = { commitments: values.map((v, i) => commit(v, blindings[i]!)), bits };
      const witness = { values, blindings };
      const timed = bits === 64 && count === 1 ? rp64 : undefined;
      const prove = timed?.prove ?? timeMs(() => proveRange(statement, witness, ctx), budget, quick || count * bits > 512 ? 1 : 3);
      const item = { statement, proof: proveRange(statement, witness, ctx) };
      const verify = timed?.verify ?? timeMs(() => verifyRange(item.statement, item.proof, ctx), budget, quick ? 1 : 3);
      if (!verifyRange(item.statement, item.proof, ctx)) throw new Error(`a ${bits}-bit proof of ${count} values did not verify`);
      rows.push({ impl: b, op: 'rangeProve', bits, m: count, ms: prove });
      rows.push({ impl: b, op: 'rangeVerify', bits, m: count, ms: verify });
      rows.push({ impl: b, op: 'rangeProofSize', bits, m: count, bytes: item.proof.length });
      log(`${b.padEnd(6)} range n=${String(bits).padStart(2)} m=${String(count).padStart(2)}  prove ${prove.toFixed(2)} ms  verify ${verify.toFixed(2)} ms  ${item.proof.length} B`);
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const output = runRangeBench(process.argv.includes('--quick'), (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify(output) + '\n');
}
