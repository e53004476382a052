/**
 * ElGamal and ZKPe benchmarks on the active backend (ZKMETER_BACKEND). Run as
 * its own process per backend by `zkmeter bench`, so each backend's crypto
 * layer runs exactly as in production; prints one JSON line of metrics.
 */
import { backendName } from '../lib/backend/index.js';
import { babyStepTable } from '../lib/crypto/bsgs.js';
import * as eg from '../lib/crypto/elgamal.js';
import { commit } from '../lib/crypto/pedersen.js';
import { randomScalar } from '../lib/crypto/random.js';
import { ZKPE_LENGTH, batchVerifyEquivalence, proveAggregateEquivalence, proveEquivalence, verifyAggregateEquivalence, verifyEquivalence } from '../lib/crypto/zkpe.js';
import { median, timeMs } from './msm.js';
import type { ResultRow, WorkerOutput } from './results.js';

/** 15-minute readings in a 31-day month. */
export const MONTH_READINGS = 31 * 96;

function randomBits(bits: number): bigint {
  return (randomScalar() & ((1n << BigInt(bits)) - 1n)) | (1n << BigInt(bits - 1));
}

export function runCryptoBench(quick: boolean, log: (line: string) => void): WorkerOutput {
  const b = backendName();
  const rows: ResultRow[] = [];
  const native = b === 'native';
  const m: Record<string, number> = {};
  const budget = quick ? 50 : 400;
  const kp = eg.keygen();
  const say = (name: string, value: number, unit = 'ms') => {
    m[`${b}.${name}`] = value;
    log(`${b.padEnd(6)} ${name.padEnd(34)} ${value.toFixed(3)} ${unit}`);
  };

  // ZKPe first: a fresh heap, before the ElGamal tables and a month of ciphertexts exist.
  const ctx = new TextEncoder().encode('bench');
  const batchSize = native ? 256 : quick ? 16 : 64;
  const items = Array.from({ length: batchSize }, (_, k) => {
    const r = randomScalar();
    const s = randomScalar();
    const value = BigInt(k * 13);
    const statement = { publicKey: kp.publicKey, ciphertext: eg.encryptWithRandomness(kp.publicKey, value, r), commitment: commit(value, s) };
    return { statement, proof: proveEquivalence(statement, { m: value, r, s }, ctx), context: ctx, m: value, r, s };
  });
  const first = items[0]!;
  say('zkpe.prove.ms', timeMs(() => proveEquivalence(first.statement, first, ctx), budget));
  // Single and batch verification are timed in alternating rounds, so that a
  // change in machine load hits both sides of the ratio alike; each round times a
  // block of single verifications and one batch, garbage collection included on both.
  const singles: number[] = [];
  const batches: number[] = [];
  const block = 32;
  for (let round = 0; round < (quick ? 3 : 11); round++) {
    let t = performance.now();
    for (let i = 0; i < block; i++) verifyEquivalence(items[i % batchSize]!.statement, items[i % batchSize]!.proof, ctx);
    singles.push((performance.now() - t) / block);
    t = performance.now();
    batchVerifyEquivalence(items);
    batches.push((performance.now() - t) / batchSize);
  }
  const single = median(singles);
  const batch = median(batches);
  say('zkpe.verify.ms', single);
  say(`zkpe.batch${batchSize}.msPerProof`, batch);
  m[`${b}.zkpe.bytes`] = ZKPE_LENGTH;
  rows.push(
    { impl: b, op: 'zkpeProve', m: 1, bytes: ZKPE_LENGTH, ms: m[`${b}.zkpe.prove.ms`]! },
    { impl: b, op: 'zkpeVerify', m: 1, bytes: ZKPE_LENGTH, ms: single },
    { impl: b, op: 'zkpeBatchVerify', m: 1, bytes: ZKPE_LENGTH, batch: batchSize, ms: batch },
  );
  m[`${b}.zkpe.batch${batchSize}.overSingle`] = batch / single;
  log(`${b.padEnd(6)} zkpe batch${batchSize} per proof / single verify = ${(batch / single).toFixed(3)}`);
  // The aggregated proof of a daily record: 96 pairs in one proof of the same size.
  const K = 96;
  const day = Array.from({ length: K }, (_, j) => BigInt(j * 41));
  const r = day.map(() => randomScalar());
  const s = day.map(() => randomScalar());
  const aggregate = { publicKey: kp.publicKey, ciphertexts: day.map((v, j) => eg.encryptWithRandomness(kp.publicKey, v, r[j]!)), commitments: day.map((v, j) => commit(v, s[j]!)) };
  const aggProof = proveAggregateEquivalence(aggregate, { m: day, r, s }, ctx);
  if (!verifyAggregateEquivalence(aggregate, aggProof, ctx)) throw new Error('the aggregated ZKPe did not verify');
  say(`zkpe.aggregate${K}.prove.ms`, timeMs(() => proveAggregateEquivalence(aggregate, { m: day, r, s }, ctx), budget));
  say(`zkpe.aggregate${K}.verify.ms`, timeMs(() => verifyAggregateEquivalence(aggregate, aggProof, ctx), budget));
  rows.push(
    { impl: b, op: 'zkpeProve', m: K, bytes: aggProof.length, ms: m[`${b}.zkpe.aggregate${K}.prove.ms`]! },
    { impl: b, op: 'zkpeVerify', m: K, bytes: aggProof.length, ms: m[`${b}.zkpe.aggregate${K}.verify.ms`]! },
  );

  say('elgamal.encrypt.ms', timeMs(() => eg.encrypt(kp.publicKey, 123456n), budget));
  let t0 = performance.now();
  const table = babyStepTable();
  say('elgamal.tableBuild.ms', performance.now() - t0);
  m[`${b}.elgamal.tableBytes`] = table.bytes;
  for (const bits of [16, 32]) {
    const cts = Array.from({ length: 8 }, () => eg.encrypt(kp.publicKey, randomBits(bits)));
    let i = 0;
    say(`elgamal.decrypt${bits}.ms`, timeMs(() => eg.decrypt(kp.secretKey, cts[i++ % cts.length]!), budget, quick ? 2 : 5));
  }
  // Encrypt and decrypt across plaintext sizes (the report's decryption plot): baby-step
  // giant-step decryption costs one giant step per table size (2^DEFAULT_TABLE_BITS) of value.
  for (const magnitude of quick ? [10, 1e3, 1e5, 1e7, 1e9] : [10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 2 ** 32 - 1]) {
    const v = BigInt(magnitude);
    const ct = eg.encrypt(kp.publicKey, v);
    const encrypt = timeMs(() => eg.encrypt(kp.publicKey, v), budget / 4, quick ? 2 : 5);
    const decrypt = timeMs(() => eg.decrypt(kp.secretKey, ct), budget / 4, quick ? 2 : 5);
    if (eg.decrypt(kp.secretKey, ct) !== v) throw new Error(`decryption of ${magnitude} failed`);
    rows.push({ impl: b, op: 'elgamalEncrypt', magnitude, ms: encrypt }, { impl: b, op: 'elgamalDecrypt', magnitude, ms: decrypt, note: 'baby-step giant-step, table built once' });
    log(`${b.padEnd(6)} elgamal value ${String(magnitude).padStart(10)}: encrypt ${encrypt.toFixed(3)} ms, decrypt ${decrypt.toFixed(3)} ms`);
  }
  const poc = eg.encrypt(kp.publicKey, 100_000n);
  say('elgamal.decrypt100000.ms', timeMs(() => eg.decrypt(kp.secretKey, poc), budget));
  if (native && !quick) {
    // 2^40 needs a larger table (2^22 entries, 64 MiB) to stay fast: 2^17 giant steps.
    t0 = performance.now();
    babyStepTable(22);
    say('elgamal.tableBuild22.ms', performance.now() - t0);
    const cts = Array.from({ length: 4 }, () => eg.encrypt(kp.publicKey, randomBits(40)));
    let i = 0;
    say('elgamal.decrypt40.ms', timeMs(() => eg.decrypt(kp.secretKey, cts[i++ % 4]!, { max: 2n ** 40n, tableBits: 22 }), budget, 3));
  }

  // A month of readings: built by repeated homomorphic addition (cheap on both backends).
  const step = eg.encrypt(kp.publicKey, 7n);
  const month: eg.Ciphertext[] = [step];
  for (let i = 1; i < MONTH_READINGS; i++) month.push(eg.add(month[i - 1]!, step));
  const prices = month.map((_, i) => BigInt(i % 96 < 28 ? 12 : 31));
  say('elgamal.sum2976.ms', timeMs(() => eg.weightedSum(month), budget, quick ? 1 : 3));
  say('elgamal.weightedSum2976.ms', timeMs(() => eg.weightedSum(month, prices), budget, quick ? 1 : 3));

  return { metrics: m, rows };
}

// Run as a worker: `node dist/bench/crypto.js [--quick]` prints one JSON line.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const output = runCryptoBench(process.argv.includes('--quick'), (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify(output) + '\n');
}
