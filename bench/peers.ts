/**
 * Peer implementations measured in the same run as zkmeter. Each peer is a
 * devDependency of the bench only; a missing peer is reported and skipped.
 * Prints one JSON line of metrics.
 *
 * bulletproof-js (npm): a pure-JS Bulletproofs on secp256k1 (elliptic + BigInt).
 * It is also unsound: its H = sha256(G)·G has a known discrete log, and its
 * transcript never hashes V (test/rangeproof.test.ts shows our verifier
 * rejecting the known-log-H forgery class).
 */
import { createRequire } from 'node:module';
import { timeMs } from './msm.js';

interface BulletproofJs {
  Constants: { secp256k1: { n: bigint } };
  ProofUtils: { getnewGenFromHashingGen(G: unknown): unknown; getPedersenCommitment(a: bigint, x: bigint, n: bigint, H: unknown): unknown };
  ProofFactory: {
    computeBulletproof(a: bigint, x: bigint, V: unknown, G: unknown, H: unknown, low: bigint, up: bigint, n: bigint, asserts: boolean): {
      compressProof(asserts: boolean): { verify(low: bigint, up: bigint): boolean };
    };
  };
}

export function runPeerBench(quick: boolean, log: (line: string) => void): Record<string, number> {
  const require = createRequire(import.meta.url);
  const m: Record<string, number> = {};
  let bp: BulletproofJs;
  let ec: { g: unknown };
  try {
    bp = require('bulletproof-js') as BulletproofJs;
    const EC = (require('elliptic') as { ec: new (curve: string) => { g: unknown } }).ec;
    ec = new EC('secp256k1');
  } catch {
    log('peer bulletproof-js: not installed (it is a devDependency of the bench), skipped');
    return m;
  }
  const n = bp.Constants.secp256k1.n;
  const G = ec.g;
  const H = bp.ProofUtils.getnewGenFromHashingGen(G);
  const x = 0x1234567890abcdefn;
  const a = 25003n;
  const V = bp.ProofUtils.getPedersenCommitment(a, x, n, H);
  let proof: { verify(low: bigint, up: bigint): boolean } | undefined;
  const prove = timeMs(() => (proof = bp.ProofFactory.computeBulletproof(a, x, V, G, H, 0n, 64n, n, false).compressProof(false)), 0, 1);
  m['bulletproofjs.rp64.prove.ms'] = prove;
  log(`peer   bulletproofjs.rp64.prove.ms        ${prove.toFixed(1)}`);
  const verify = timeMs(() => proof!.verify(0n, 64n), 0, quick ? 1 : 3);
  if (!proof!.verify(0n, 64n)) throw new Error('bulletproof-js rejected its own proof');
  m['bulletproofjs.rp64.verify.ms'] = verify;
  log(`peer   bulletproofjs.rp64.verify.ms       ${verify.toFixed(1)}`);
  return m;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const metrics = runPeerBench(process.argv.includes('--quick'), (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify(metrics) + '\n');
}
