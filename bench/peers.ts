/**
 * Peer implementations, measured in the same run as zkmeter, for the comparative
 * report: bulletproof-js (pure-JS Bulletproofs), secp256k1-zkp's Borromean range
 * proofs in WASM, and a naive ElGamal with brute-force decryption. The first two
 * are devDependencies of the bench: a missing peer is reported in `skipped`.
 * Prints one JSON line (WorkerOutput).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { randomScalar } from '../lib/crypto/random.js';
import { randomValue, timeMs } from './msm.js';
import { loadBorromean } from './peers/borromean.js';
import { loadBulletproofJs } from './peers/bulletproofjs.js';
import { naiveDecrypt, naiveEncrypt, naiveKeygen } from './peers/naive-elgamal.js';
import type { ResultRow, WorkerOutput } from './results.js';

const BITS = [8, 16, 32, 64];
const AGGREGATIONS = [1, 2, 4, 8, 16, 32, 64];

export async function runPeerBench(quick: boolean, log: (line: string) => void): Promise<WorkerOutput> {
  const metrics: Record<string, number> = {};
  const rows: ResultRow[] = [];
  const skipped: string[] = [];
  const report = (row: ResultRow, metric?: string) => {
    rows.push(row);
    if (metric !== undefined) metrics[metric] = row.ms ?? row.bytes!;
  };

  const bp = loadBulletproofJs();
  if (bp === undefined) {
    skipped.push('bulletproof-js: not installed (a devDependency of the bench)');
    log('peer bulletproof-js: not installed, skipped');
  } else {
    for (const bits of quick ? [8, 64] : BITS) {
      const v = randomValue(bits);
      const gamma = randomScalar();
      let proof = bp.prove(v, gamma, bits);
      const prove = timeMs(() => (proof = bp.prove(v, gamma, bits)), 0, 1);
      const verify = timeMs(() => bp.verify(proof, bits), 0, quick ? 1 : 3);
      if (!bp.verify(proof, bits)) throw new Error(`bulletproof-js rejected its own ${bits}-bit proof`);
      report({ impl: 'bulletproofjs', op: 'rangeProve', bits, m: 1, ms: prove }, bits === 64 ? 'bulletproofjs.rp64.prove.ms' : undefined);
      report({ impl: 'bulletproofjs', op: 'rangeVerify', bits, m: 1, ms: verify }, bits === 64 ? 'bulletproofjs.rp64.verify.ms' : undefined);
      if (bits === 64) report({ impl: 'bulletproofjs', op: 'rangeBatchVerify', bits, m: 1, batch: 1, ms: verify, note: 'no batch verification' });
      log(`peer   bulletproof-js n=${bits}: prove ${prove.toFixed(1)} ms, verify ${verify.toFixed(1)} ms`);
    }
    for (const m of AGGREGATIONS) {
      report({ impl: 'bulletproofjs', op: 'rangeProofSize', bits: 64, m, bytes: m * bp.proofBytes(64), note: 'no aggregation: m proofs; counted at 33 B per point, 32 B per scalar (it ships only JSON)' });
    }
  }

  const zkp = await loadBorromean();
  if (zkp === undefined) {
    skipped.push('@vulpemventures/secp256k1-zkp: not installed (a devDependency of the bench)');
    log('peer secp256k1-zkp (WASM): not installed, skipped');
  } else {
    let bytes64 = 0;
    for (const bits of BITS) {
      const v = randomValue(bits);
      const blinding = randomBytes(32);
      const commitment = zkp.commit(v, blinding);
      let proof = zkp.prove(v, blinding, bits, commitment);
      const prove = timeMs(() => (proof = zkp.prove(v, blinding, bits, commitment)), quick ? 0 : 300, quick ? 1 : 3);
      const verify = timeMs(() => zkp.verify(proof, commitment), quick ? 0 : 300, quick ? 1 : 3);
      if (!zkp.verify(proof, commitment)) throw new Error(`secp256k1-zkp rejected its own ${bits}-bit proof`);
      report({ impl: 'borromean', op: 'rangeProve', bits, m: 1, ms: prove }, bits === 64 ? 'borromean.rp64.prove.ms' : undefined);
      report({ impl: 'borromean', op: 'rangeVerify', bits, m: 1, ms: verify }, bits === 64 ? 'borromean.rp64.verify.ms' : undefined);
      if (bits === 64) {
        bytes64 = proof.length;
        metrics['borromean.rp64.bytes'] = bytes64;
        report({ impl: 'borromean', op: 'rangeBatchVerify', bits, m: 1, batch: 1, ms: verify, note: 'no batch verification' });
      }
      log(`peer   secp256k1-zkp Borromean n=${bits}: prove ${prove.toFixed(1)} ms, verify ${verify.toFixed(1)} ms, ${proof.length} B`);
    }
    for (const m of AGGREGATIONS) {
      report({ impl: 'borromean', op: 'rangeProofSize', bits: 64, m, bytes: m * bytes64, note: 'no aggregation: m proofs (measured bytes of one)' });
    }
  }

  // The earlier proof of concept's decryption: counting up from 0.
  const kp = naiveKeygen();
  for (const magnitude of quick ? [10, 100, 1_000, 10_000] : [10, 100, 1_000, 10_000, 100_000]) {
    const v = BigInt(magnitude);
    const ct = naiveEncrypt(kp.publicKey, v);
    const encrypt = timeMs(() => naiveEncrypt(kp.publicKey, v), quick ? 20 : 100, 3);
    const decrypt = timeMs(() => naiveDecrypt(kp.secretKey, ct, v), 0, magnitude >= 10_000 || quick ? 1 : 3);
    if (naiveDecrypt(kp.secretKey, ct, v) !== v) throw new Error('naive decryption failed');
    report({ impl: 'naive', op: 'elgamalEncrypt', magnitude, ms: encrypt });
    report({ impl: 'naive', op: 'elgamalDecrypt', magnitude, ms: decrypt, note: 'brute force: one addition per unit of value' }, `naive.elgamal.decrypt${magnitude}.ms`);
    log(`peer   naive ElGamal value ${String(magnitude).padStart(6)}: encrypt ${encrypt.toFixed(3)} ms, brute-force decrypt ${decrypt.toFixed(1)} ms`);
  }
  return { metrics, rows, skipped };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const output = await runPeerBench(process.argv.includes('--quick'), (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify(output) + '\n');
}
