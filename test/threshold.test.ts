/**
 * DLEQ proofs and threshold ElGamal decryption: completeness, soundness
 * (wrong shares, other contexts, bit flips, malformed bytes), the DKG's shares
 * reconstructing the key behind Y, and a single share being unable to decrypt.
 */
import { describe, expect, it } from 'vitest';
import { secp256k1_FROST } from '@noble/curves/secp256k1.js';
import { CURVE_ORDER, bytesToBigint, concatBytes, scalarToBytes, writeBigint } from '../lib/backend/bytes.js';
import { getGroup } from '../lib/backend/index.js';
import { DLEQ_LENGTH, proveDleq, verifyDleq } from '../lib/crypto/dleq.js';
import * as eg from '../lib/crypto/elgamal.js';
import { randomScalar } from '../lib/crypto/random.js';
import {
  combineDecryptionShares,
  dangerouslyGenerateAllShares,
  lagrangeAt,
  partialDecrypt,
  thresholdDecrypt,
  validateSharedKey,
  verifyDecryptionShare,
} from '../lib/crypto/threshold.js';
import { sharedKeyFromJson, sharedKeyToJson } from '../lib/protocol/json.js';
import { TestRng, testSeed } from './support/rng.js';
import { errorCode, rejects } from './support/errors.js';

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
const g = getGroup();
console.log(`threshold.test.ts on ${g.name}: seed ${seed}`);
const u = (s: string) => new TextEncoder().encode(s);
const mulG = (k: bigint) => g.mulGen(scalarToBytes(k));
const G = mulG(1n);

describe(`DLEQ (${g.name})`, () => {
  const x = randomScalar(rand);
  const Q = mulG(randomScalar(rand));
  const statement = { P: G, A: mulG(x), Q, B: g.mul(Q, scalarToBytes(x)) };
  const ctx = u('bill 7');
  const proof = proveDleq(statement, x, ctx, rand);

  it('verifies, and is 64 bytes', () => {
    expect(proof.length).toBe(DLEQ_LENGTH);
    expect(verifyDleq(statement, proof, ctx)).toBe(true);
  });

  it('fails for another B, A, Q or context, and refuses to prove a false statement', () => {
    const other = mulG(randomScalar(rand));
    expect(verifyDleq({ ...statement, B: other }, proof, ctx)).toBe(false);
    expect(verifyDleq({ ...statement, A: other }, proof, ctx)).toBe(false);
    expect(verifyDleq({ ...statement, Q: other }, proof, ctx)).toBe(false);
    expect(verifyDleq(statement, proof, u('bill 8'))).toBe(false);
    expect(errorCode(() => proveDleq({ ...statement, B: other }, x, ctx))).toBe('INVALID_ARGUMENT');
  });

  it('derives its nonce: without rng the proof is a function of x, the statement and the context; with rng it is hedged', () => {
    const derived = proveDleq(statement, x, ctx);
    expect(verifyDleq(statement, derived, ctx)).toBe(true);
    expect(proveDleq(statement, x, ctx)).toEqual(derived);
    // Another context, or another statement of the same x: another nonce (z − e·x differs), still valid.
    const nonceOf = (p: Uint8Array) => (((bytesToBigint(p, 32, 32) - bytesToBigint(p, 0, 32) * x) % CURVE_ORDER) + CURVE_ORDER) % CURVE_ORDER;
    const other = proveDleq(statement, x, u('bill 8'));
    expect(verifyDleq(statement, other, u('bill 8'))).toBe(true);
    const Q2 = mulG(randomScalar(rand));
    const statement2 = { ...statement, Q: Q2, B: g.mul(Q2, scalarToBytes(x)) };
    const third = proveDleq(statement2, x, ctx);
    expect(verifyDleq(statement2, third, ctx)).toBe(true);
    const nonces = new Set([derived, other, third].map(nonceOf));
    expect(nonces.size).toBe(3);
    // Hedged: two proofs differ and both verify; neither is the derived one.
    const h1 = proveDleq(statement, x, ctx, rand);
    const h2 = proveDleq(statement, x, ctx, rand);
    expect(h1).not.toEqual(h2);
    expect(h1).not.toEqual(derived);
    expect(verifyDleq(statement, h1, ctx) && verifyDleq(statement, h2, ctx)).toBe(true);
  });

  it('rejects every bit flip, wrong lengths, e = 0 and non-canonical scalars', () => {
    for (let bit = 0; bit < 8 * DLEQ_LENGTH; bit++) {
      const t = proof.slice();
      t[bit >> 3]! ^= 1 << (bit & 7);
      expect(rejects(() => verifyDleq(statement, t, ctx))).toBe(true);
    }
    expect(errorCode(() => verifyDleq(statement, proof.subarray(0, 63), ctx))).toBe('INVALID_LENGTH');
    expect(errorCode(() => verifyDleq(statement, concatBytes(proof, new Uint8Array(1)), ctx))).toBe('INVALID_LENGTH');
    expect(errorCode(() => verifyDleq(statement, concatBytes(new Uint8Array(32), proof.subarray(32)), ctx))).toBe('INVALID_SCALAR');
    const big = proof.slice();
    writeBigint(big, 32, 32, CURVE_ORDER); // z = n
    expect(errorCode(() => verifyDleq(statement, big, ctx))).toBe('INVALID_SCALAR');
    expect(errorCode(() => verifyDleq({ ...statement, B: new Uint8Array(64) }, proof, ctx))).toBe('POINT_AT_INFINITY');
  });
});

describe(`threshold decryption (${g.name})`, () => {
  const { key, shares } = dangerouslyGenerateAllShares(['center', 'authority', 'regulator'], 2);
  const center = shares.get('center')!;
  const authority = shares.get('authority')!;
  const regulator = shares.get('regulator')!;
  const ctx = u('bill customer-9 2026-11');
  const m = 123_456n;
  const ct = eg.encrypt(key.publicKey, m, rand);

  it('the DKG shares reconstruct the x behind Y (any two of three), and no party was given x', () => {
    const ids = [center.id, regulator.id];
    const l = lagrangeAt(ids, 0n);
    const x = (l[0]! * center.secret + l[1]! * regulator.secret) % CURVE_ORDER;
    expect(mulG(x)).toEqual(key.publicKey);
    // Cross-check with noble's own reconstruction (RFC 9591 Appendix C).
    const hexId = (id: bigint) => id.toString(16).padStart(64, '0');
    const viaNoble = secp256k1_FROST.combineSecret(
      [center, authority].map((s) => ({ identifier: hexId(s.id), signingShare: scalarToBytes(s.secret) })),
      { min: 2, max: 3 },
    );
    expect(mulG(BigInt('0x' + Buffer.from(viaNoble).toString('hex')))).toEqual(key.publicKey);
    for (const s of shares.values()) {
      expect(mulG(s.secret)).toEqual(key.parties.get(s.party)!.verifyingShare);
      expect(mulG(s.secret)).not.toEqual(key.publicKey);
    }
  });

  it('two parties decrypt, with verifiable shares; any qualified pair gives the same value', () => {
    const a = partialDecrypt(key, center, ct, ctx, rand);
    const b = partialDecrypt(key, authority, ct, ctx, rand);
    const c = partialDecrypt(key, regulator, ct, ctx, rand);
    expect(verifyDecryptionShare(key, ct, a, ctx)).toBe(true);
    expect(thresholdDecrypt(key, ct, [a, b], ctx)).toBe(m);
    expect(thresholdDecrypt(key, ct, [c, a], ctx)).toBe(m);
    expect(thresholdDecrypt(key, ct, [b, c, a], ctx)).toBe(m);
  });

  it('a single share does not decrypt, and one party cannot count twice', () => {
    const a = partialDecrypt(key, center, ct, ctx, rand);
    expect(errorCode(() => thresholdDecrypt(key, ct, [a], ctx))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => thresholdDecrypt(key, ct, [a, a], ctx))).toBe('INVALID_ARGUMENT');
    // Treating one share as if it were the whole key gives a wrong point: x_i·C1 ≠ x·C1.
    const M = g.add(ct.c2, g.negate(a.share));
    expect(M).not.toEqual(mulG(m));
  });

  it('a wrong or misattributed decryption share is rejected and named', () => {
    const a = partialDecrypt(key, center, ct, ctx, rand);
    const b = partialDecrypt(key, authority, ct, ctx, rand);
    const forged = { ...b, share: g.add(b.share, G) };
    expect(verifyDecryptionShare(key, ct, forged, ctx)).toBe(false);
    expect(() => thresholdDecrypt(key, ct, [a, forged], ctx)).toThrow(/shares\[1\]/);
    expect(verifyDecryptionShare(key, ct, { ...b, party: 'center' }, ctx)).toBe(false);
    expect(verifyDecryptionShare(key, ct, b, u('another bill'))).toBe(false);
    const other = eg.encrypt(key.publicKey, m, rand);
    expect(verifyDecryptionShare(key, other, b, ctx)).toBe(false);
    expect(errorCode(() => verifyDecryptionShare(key, ct, { ...b, party: 'mallory' }, ctx))).toBe('INVALID_ARGUMENT');
    expect(combineDecryptionShares(key, ct, [a, b], ctx)).toEqual(combineDecryptionShares(key, ct, [b, a], ctx));
  });

  it('refuses bad parameters', () => {
    expect(errorCode(() => dangerouslyGenerateAllShares(['a'], 1))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => dangerouslyGenerateAllShares(['a', 'b'], 1))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => dangerouslyGenerateAllShares(['a', 'b'], 3))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => dangerouslyGenerateAllShares(['a', 'a'], 2))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => dangerouslyGenerateAllShares(['a', 'b c'], 2))).toBe('INVALID_ARGUMENT');
  });
});

describe(`shared key consistency (${g.name})`, () => {
  const { key } = dangerouslyGenerateAllShares(['center', 'authority', 'regulator'], 2);
  const { key: two } = dangerouslyGenerateAllShares(['center', 'authority'], 2);
  const withShare = (k: typeof key, party: string, verifyingShare: Uint8Array) =>
    ({ ...k, parties: new Map([...k.parties].map(([p, v]) => [p, p === party ? { ...v, verifyingShare } : v])) });

  it('accepts the keys the DKG makes, and their JSON round trip', () => {
    expect(validateSharedKey(key)).toBe(key);
    expect(validateSharedKey(two)).toBe(two);
    expect(sharedKeyFromJson(sharedKeyToJson(key))).toEqual(key);
  });

  it('refuses verifying shares that do not interpolate to the public key, in any position', () => {
    // A center that substitutes the authority's verifying share with one it knows the secret of
    // could otherwise have its own two shares pass every DLEQ check and "decrypt" any amount.
    for (const k of [key, two]) {
      for (const party of k.parties.keys()) {
        const forged = withShare(k, party, mulG(randomScalar(rand)));
        expect(errorCode(() => validateSharedKey(forged)), party).toBe('INVALID_ARGUMENT');
        expect(errorCode(() => sharedKeyFromJson(sharedKeyToJson(forged))), party).toBe('INVALID_ARGUMENT');
      }
      expect(errorCode(() => validateSharedKey({ ...k, publicKey: mulG(randomScalar(rand)) }))).toBe('INVALID_ARGUMENT');
    }
    // Duplicate ids and names.
    const [a, b] = [...two.parties.entries()];
    expect(errorCode(() => validateSharedKey({ ...two, parties: new Map([a!, [b![0], { ...b![1], id: a![1].id }]]) }))).toBe('INVALID_ARGUMENT');
    const json = sharedKeyToJson(two) as { parties: Record<string, unknown>[] };
    expect(errorCode(() => sharedKeyFromJson({ ...json, parties: [json.parties[0], { ...json.parties[1], party: json.parties[0]!.party }] }))).toBe('INVALID_ARGUMENT');
  });

  it('interpolates at any point: the third share from the first two', () => {
    const [c, a, r] = [...key.parties.values()];
    const l = lagrangeAt([c!.id, a!.id], r!.id);
    expect(g.msm({ points: concatBytes(c!.verifyingShare, a!.verifyingShare), scalars: concatBytes(...l.map((x) => scalarToBytes(x))) })).toEqual(r!.verifyingShare);
  });
});
