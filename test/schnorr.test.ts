/**
 * BIP340 signatures: the BIP's own test vectors (test/vectors/bip340.csv, from
 * bitcoin/bips), agreement with noble's independent verifier on random and
 * tampered signatures, batch verification naming bad items, and one MSM shared
 * with range proofs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schnorr } from '@noble/curves/secp256k1.js';
import { concatBytes } from '../lib/backend/bytes.js';
import { getGroup } from '../lib/backend/index.js';
import { hexToBytes } from '../lib/crypto/codec.js';
import { verifyChecks } from '../lib/crypto/msm-accumulator.js';
import { randomScalar } from '../lib/crypto/random.js';
import { batchVerifySchnorr, prepareSchnorrChecks, type SignatureItem, schnorrPublicKey, signSchnorr, verifySchnorr } from '../lib/crypto/schnorr.js';
import { commit } from '../lib/crypto/pedersen.js';
import { prepareRangeChecks, proveRange } from '../lib/crypto/bulletproofs/range.js';
import { TestRng, testSeed } from './support/rng.js';
import { errorCode, rejects } from './support/errors.js';

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
const g = getGroup();
console.log(`schnorr.test.ts on ${g.name}: seed ${seed}`);
const h = (s: string) => hexToBytes(s.toLowerCase(), 'hex');

const vectors = readFileSync(new URL('./vectors/bip340.csv', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [index, sk, pk, aux, msg, sig, result, comment] = line.split(',');
    return { index: Number(index), sk: sk!, pk: pk!, aux: aux!, msg: msg!, sig: sig!, ok: result === 'TRUE', comment: comment ?? '' };
  });

describe(`BIP340 (${g.name})`, () => {
  it('signs every vector with a secret key to the exact signature, and derives its public key', () => {
    const signing = vectors.filter((v) => v.sk !== '');
    expect(signing.length).toBe(4);
    for (const v of signing) {
      const d = BigInt('0x' + v.sk);
      expect(schnorrPublicKey(d)).toEqual(h(v.pk));
      const sig = signSchnorr([h(v.msg)], d, () => h(v.aux));
      expect(sig).toEqual(h(v.sig));
    }
  });

  it('verifies every vector as the BIP says, alone and in one batch', () => {
    expect(vectors.length).toBe(15);
    for (const v of vectors) {
      const ok = !rejects(() => verifySchnorr(h(v.pk), h(v.msg), h(v.sig)));
      expect(ok, `vector ${v.index} ${v.comment}`).toBe(v.ok);
    }
    const res = batchVerifySchnorr(vectors.map((v) => ({ publicKey: h(v.pk), message: h(v.msg), signature: h(v.sig) })));
    expect(res.invalid).toEqual(vectors.filter((v) => !v.ok).map((v) => v.index));
  });

  it('agrees with noble’s verifier on random signatures and their tampered versions', () => {
    for (let t = 0; t < 20; t++) {
      const d = randomScalar(rand);
      const pk = schnorrPublicKey(d);
      const msg = rand(32);
      const sig = signSchnorr([msg], d, rand);
      expect(verifySchnorr(pk, msg, sig)).toBe(true);
      expect(schnorr.verify(sig, msg, pk)).toBe(true);
      const bad = sig.slice();
      bad[rng.int(64)]! ^= 1 << rng.int(8);
      expect(!rejects(() => verifySchnorr(pk, msg, bad))).toBe(schnorr.verify(bad, msg, pk));
      const otherMsg = msg.slice();
      otherMsg[0]! ^= 1;
      expect(verifySchnorr(pk, otherMsg, sig)).toBe(false);
    }
  });

  it('a batch of 64 with three bad signatures names exactly those', () => {
    const d = randomScalar(rand);
    const pk = schnorrPublicKey(d);
    const msgs = Array.from({ length: 64 }, () => rand(32));
    const sigs = signSchnorr(msgs, d, rand);
    const items: SignatureItem[] = msgs.map((message, i) => ({ publicKey: pk, message, signature: sigs.slice(64 * i, 64 * i + 64) }));
    expect(batchVerifySchnorr(items)).toEqual({ valid: true, invalid: [] });
    const other = schnorrPublicKey(randomScalar(rand));
    items[5] = { ...items[5]!, publicKey: other }; // signed by someone else
    items[17] = { ...items[17]!, message: items[18]!.message };
    items[63] = { ...items[63]!, signature: concatBytes(items[63]!.signature.subarray(0, 32), new Uint8Array(32).fill(0xff)) }; // s ≥ n
    expect(batchVerifySchnorr(items)).toEqual({ valid: false, invalid: [5, 17, 63] });
  });

  it('joins the same MSM as range proofs', () => {
    const d = randomScalar(rand);
    const msg = rand(32);
    const sig = signSchnorr([msg], d, rand);
    const gamma = randomScalar(rand);
    const statement = { commitments: [commit(300n, gamma)], bits: 16 as const };
    const proof = proveRange(statement, { values: [300n], blindings: [gamma] }, new Uint8Array(0), rand);
    const sigs = prepareSchnorrChecks([{ publicKey: schnorrPublicKey(d), message: msg, signature: sig }]);
    const ranges = prepareRangeChecks([{ statement, proof, context: new Uint8Array(0) }]);
    expect(verifyChecks({ invalid: [], checks: [...sigs.checks, ...ranges.checks.map((c) => ({ ...c, index: 1 }))] }).valid).toBe(true);
    const wrong = prepareSchnorrChecks([{ publicKey: schnorrPublicKey(d), message: rand(32), signature: sig }]);
    expect(verifyChecks({ invalid: [], checks: [...wrong.checks, ...ranges.checks.map((c) => ({ ...c, index: 1 }))] }).invalid).toEqual([0]);
  });

  it('rejects malformed input with typed errors', () => {
    const d = randomScalar(rand);
    const pk = schnorrPublicKey(d);
    const msg = rand(32);
    const sig = signSchnorr([msg], d, rand);
    expect(errorCode(() => verifySchnorr(pk, msg, sig.subarray(0, 63)))).toBe('INVALID_LENGTH');
    expect(errorCode(() => verifySchnorr(pk.subarray(0, 31), msg, sig))).toBe('INVALID_LENGTH');
    expect(errorCode(() => verifySchnorr(pk, msg.subarray(1), sig))).toBe('INVALID_LENGTH');
    expect(errorCode(() => signSchnorr([msg], 0n))).toBe('INVALID_SCALAR');
    expect(errorCode(() => schnorrPublicKey(0n))).toBe('INVALID_SCALAR');
    expect(batchVerifySchnorr([{ publicKey: pk, message: msg, signature: sig.subarray(1) }, { publicKey: pk, message: msg, signature: sig }]).invalid).toEqual([0]);
  });
});
