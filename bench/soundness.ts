/**
 * The soundness run: known forgery classes against zkmeter and every peer, each
 * reported as accepted or rejected by that implementation's own verifier
 * (FORGERY_CLASSES in results.ts). Every forgery targets a 32-bit range statement
 * and, where it claims an out-of-range value, uses v* = 2^32 + 1000, which the
 * attacker can open: an accepted forgery is a range proof for a value outside
 * the range.
 *
 * The forgeries (Bünz et al. 2018 §4.1 for the polynomial check they exploit;
 * "Frozen Heart", Trail of Bits 2022, for the unbound-transcript class):
 *  - wrongCommitment: an honest proof for V1 (of 1000) presented for V2 (of 2000).
 *  - knownLogH: V = v*·G + γ·H reopened as 1000·G + γ'·H with
 *    γ' = γ + (v* − 1000)/log_G(H), then proved in range. log_G(H) is public for
 *    bulletproof-js (H = SHA-256(G)·G); for the others no log is known, so the
 *    attack uses that same candidate and presents the proof it gets for V.
 *  - replayedChallenges: keep an honest proof's A, S, T2 and challenges (y, z, x),
 *    and move it to V2 = commitment to v*: the check t̂·G + τx·H = z²·V + δ·G + x·T1
 *    + x²·T2 holds again with T1' = T1 + (z²/x)·(V1 − V2). It passes if and only if
 *    the verifier's challenges ignore V and T1. (Borromean proofs have no such
 *    challenges: the unchanged proof is replayed under V2.)
 * Prints one JSON line (WorkerOutput) when run as a worker.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { backendName } from '../lib/backend/index.js';
import { encodePoints } from '../lib/crypto/codec.js';
import { commit } from '../lib/crypto/pedersen.js';
import { randomScalar } from '../lib/crypto/random.js';
import { Fn, modN } from '../lib/crypto/scalar.js';
import { proveRange, rangeChallenges, verifyRange } from '../lib/crypto/bulletproofs/range.js';
import { loadBorromean, type Borromean } from './peers/borromean.js';
import { loadBulletproofJs, type BulletproofJs } from './peers/bulletproofjs.js';
import type { SoundnessRow, WorkerOutput } from './results.js';

const BITS = 32;
/** The out-of-range value the forgeries commit to: 2^32 + 1000. */
export const FORGED_VALUE = (1n << 32n) + 1000n;
const HONEST = 1000n;
const ctx = new TextEncoder().encode('zkmeter soundness run');

/** The log_G(H) candidate the attacks use: bulletproof-js's SHA-256(hex of uncompressed G). */
export function candidateLogH(): bigint {
  const gHex = bytesToHex(secp256k1.Point.BASE.toBytes(false));
  return modN(BigInt('0x' + bytesToHex(sha256(new TextEncoder().encode(gHex)))));
}

const outcome = (accepted: boolean): SoundnessRow['outcome'] => (accepted ? 'accepted' : 'rejected');
const Point = secp256k1.Point;
/** zkmeter's 64-byte affine point as a noble point, for the attacker's arithmetic. */
const toNoble = (p64: Uint8Array) => Point.fromBytes(encodePoints(p64));

/** The three forgeries against zkmeter's range proofs on the active backend. */
export function forgeZkmeter(): SoundnessRow[] {
  const impl = backendName();
  const rows: SoundnessRow[] = [];
  const g1 = randomScalar();
  const st1 = { commitments: [commit(HONEST, g1)], bits: BITS } as const;
  const proof1 = proveRange(st1, { values: [HONEST], blindings: [g1] }, ctx);
  if (!verifyRange(st1, proof1, ctx)) throw new Error('zkmeter rejected its own proof');

  const V2 = commit(2000n, randomScalar());
  rows.push({
    impl,
    forgery: 'wrongCommitment',
    outcome: outcome(verifyRange({ commitments: [V2], bits: BITS }, proof1, ctx)),
    how: 'the proof for a commitment to 1000 checked against a commitment to 2000: V is hashed into the transcript and enters the check',
  });

  const gamma = randomScalar();
  const V = commit(FORGED_VALUE, gamma);
  const gammaPrime = modN(gamma + (FORGED_VALUE - HONEST) * Fn.inv(candidateLogH()));
  const reopened = { commitments: [commit(HONEST, gammaPrime)], bits: BITS } as const;
  const forged = proveRange(reopened, { values: [HONEST], blindings: [gammaPrime] }, ctx);
  rows.push({
    impl,
    forgery: 'knownLogH',
    outcome: outcome(verifyRange({ commitments: [V], bits: BITS }, forged, ctx)),
    how: 'no log_G(H) is known (H is hashed to the curve, RFC 9380): the reopening with the SHA-256(G) candidate opens another point, and the proof is rejected for V',
  });

  const { x, z } = rangeChallenges(st1, proof1, ctx);
  const Vstar = commit(FORGED_VALUE, randomScalar());
  const T1 = Point.fromBytes(proof1.subarray(66, 99));
  const shift = toNoble(st1.commitments[0]!).subtract(toNoble(Vstar)).multiply(Fn.div(Fn.sqr(z), x));
  const replayed = proof1.slice();
  replayed.set(T1.add(shift).toBytes(true), 66);
  rows.push({
    impl,
    forgery: 'replayedChallenges',
    outcome: outcome(verifyRange({ commitments: [Vstar], bits: BITS }, replayed, ctx)),
    how: 'T1 re-solved for a commitment to 2^32 + 1000 under the old challenges: V and T1 are hashed before x, so the verifier derives new challenges and the check fails',
  });
  return rows;
}

/** The three forgeries against bulletproof-js. */
export function forgeBulletproofJs(bp: BulletproofJs): SoundnessRow[] {
  const rows: SoundnessRow[] = [];
  const g1 = randomScalar();
  const V1 = bp.commit(HONEST, g1);
  const proof1 = bp.prove(HONEST, g1, BITS, V1);
  if (!bp.verify(proof1, BITS)) throw new Error('bulletproof-js rejected its own proof');

  const other = bp.withFields(proof1, { V: bp.commit(2000n, randomScalar()) });
  rows.push({
    impl: 'bulletproofjs',
    forgery: 'wrongCommitment',
    outcome: outcome(bp.verify(other, BITS)),
    how: 'the proof for a commitment to 1000, re-serialized with a commitment to 2000: V still enters its polynomial check',
  });

  const gamma = randomScalar();
  const V = bp.commit(FORGED_VALUE, gamma);
  const gammaPrime = modN(gamma + (FORGED_VALUE - HONEST) * Fn.inv(bp.logH));
  if (!bp.commit(HONEST, gammaPrime).eq(V)) throw new Error('bulletproof-js: the reopening does not open V');
  const forged = bp.prove(HONEST, gammaPrime, BITS, V);
  rows.push({
    impl: 'bulletproofjs',
    forgery: 'knownLogH',
    outcome: outcome(bp.verify(forged, BITS) && forged.V.eq(V)),
    how: 'H = SHA-256(G)·G, so V = (2^32 + 1000)·G + γ·H reopens as 1000·G + γ′·H; its own prover then proves V in [0, 2^32)',
  });

  const Vstar = bp.commit(FORGED_VALUE, randomScalar());
  const T1 = proof1.T1.add(bp.mul(V1.add(Vstar.neg()), Fn.div(Fn.sqr(proof1.z), proof1.x)));
  const replayed = bp.withFields(proof1, { V: Vstar, T1 });
  rows.push({
    impl: 'bulletproofjs',
    forgery: 'replayedChallenges',
    outcome: outcome(bp.verify(replayed, BITS)),
    how: 'T1 re-solved for a commitment to 2^32 + 1000 under the old challenges: its transcript hashes only A, so y, z, x are unchanged and the forged proof verifies',
  });
  return rows;
}

/** The three forgeries against secp256k1-zkp's Borromean range proofs (WASM). */
export function forgeBorromean(zkp: Borromean): SoundnessRow[] {
  const rows: SoundnessRow[] = [];
  const b1 = randomBytes(32);
  const C1 = zkp.commit(HONEST, b1);
  const proof1 = zkp.prove(HONEST, b1, BITS, C1);
  if (!zkp.verify(proof1, C1)) throw new Error('secp256k1-zkp rejected its own proof');
  rows.push({
    impl: 'borromean',
    forgery: 'wrongCommitment',
    outcome: outcome(zkp.verify(proof1, zkp.commit(2000n, randomBytes(32)))),
    how: 'the proof for a commitment to 1000 checked against a commitment to 2000: the ring keys are derived from the commitment',
  });

  const b = randomBytes(32);
  const C = zkp.commit(FORGED_VALUE, b);
  const bPrime = modN(BigInt('0x' + bytesToHex(b)) + (FORGED_VALUE - HONEST) * candidateLogH());
  const bPrimeBytes = Fn.toBytes(bPrime);
  const forged = zkp.prove(HONEST, bPrimeBytes, BITS);
  rows.push({
    impl: 'borromean',
    forgery: 'knownLogH',
    outcome: outcome(zkp.verify(forged, C)),
    how: 'no log_G(A) is known for its asset generator A (hashed to the curve): the reopening with the SHA-256(G) candidate opens another point, and the proof is rejected for V',
  });

  rows.push({
    impl: 'borromean',
    forgery: 'replayedChallenges',
    outcome: outcome(zkp.verify(proof1, zkp.commit(FORGED_VALUE, randomBytes(32)))),
    how: 'Borromean ring signatures have no challenges to re-solve around; the unchanged proof replayed for a commitment to 2^32 + 1000 is rejected, since its first challenge hashes the commitment',
  });
  return rows;
}

/** zkmeter's forgeries on the active backend and, with `peers`, every installed peer's. */
export async function runSoundness(log: (line: string) => void, peers: boolean): Promise<WorkerOutput> {
  const soundness = forgeZkmeter();
  const skipped: string[] = [];
  if (!peers) return report(soundness, skipped, log);
  const bp = loadBulletproofJs();
  if (bp) soundness.push(...forgeBulletproofJs(bp));
  else skipped.push('soundness: bulletproof-js not installed');
  const zkp = await loadBorromean();
  if (zkp) soundness.push(...forgeBorromean(zkp));
  else skipped.push('soundness: @vulpemventures/secp256k1-zkp not installed');
  return report(soundness, skipped, log);
}

function report(soundness: SoundnessRow[], skipped: string[], log: (line: string) => void): WorkerOutput {
  for (const r of soundness) log(`soundness ${r.impl.padEnd(13)} ${r.forgery.padEnd(18)} ${r.outcome}`);
  return { metrics: {}, soundness, skipped };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const output = await runSoundness((line) => process.stderr.write(line + '\n'), process.argv.includes('--peers'));
  process.stdout.write(JSON.stringify(output) + '\n');
}
