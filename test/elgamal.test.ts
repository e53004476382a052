/** EC ElGamal and baby-step giant-step decryption on the active backend. */
import { describe, expect, it } from 'vitest';
import { errorCode } from './support/errors.js';
import { CURVE_ORDER } from '../lib/backend/bytes.js';
import { babyStepTable, DEFAULT_TABLE_BITS, discreteLog } from '../lib/crypto/bsgs.js';
import { bytesToHex } from '../lib/crypto/codec.js';
import * as eg from '../lib/crypto/elgamal.js';
import { getGroup } from '../lib/backend/index.js';
import { scalarToBytes } from '../lib/backend/bytes.js';
import { TestRng, testSeed } from './support/rng.js';

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
console.log(`elgamal.test.ts on ${getGroup().name}: seed ${seed}`);
const { secretKey, publicKey } = eg.keygen(rand);
const B = BigInt(babyStepTable(DEFAULT_TABLE_BITS).size);


describe('ElGamal round trips', () => {
  it('keys: Y = x·G, and the public key round-trips through 33 bytes', () => {
    expect(bytesToHex(eg.publicKeyOf(secretKey))).toBe(bytesToHex(publicKey));
    expect(bytesToHex(eg.decodePublicKey(eg.encodePublicKey(publicKey)))).toBe(bytesToHex(publicKey));
  });

  it('decrypts what it encrypts, across the table and giant-step boundaries', () => {
    const values = [0n, 1n, 2n, B - 1n, B, B + 1n, 2n * B, 2n * B + 1n, 3n * B, 3n * B + 1n, 12345678n, 2n ** 32n - 1n, 2n ** 32n];
    for (let i = 0; i < 8; i++) values.push(rng.bigint(4));
    for (const m of values) {
      const ct = eg.decodeCiphertext(eg.encodeCiphertext(eg.encrypt(publicKey, m, rand)));
      expect(eg.decrypt(secretKey, ct)).toBe(m);
    }
  });

  it('decrypts at the edges of [0, max] and refuses just past them', () => {
    for (const max of [0n, 1n, 1000n, B, 2n * B + 7n]) {
      expect(eg.decrypt(secretKey, eg.encrypt(publicKey, max, rand), { max })).toBe(max);
      expect(errorCode(() => eg.decrypt(secretKey, eg.encrypt(publicKey, max + 1n, rand), { max }))).toBe('VALUE_OUT_OF_RANGE');
    }
    expect(errorCode(() => eg.decrypt(secretKey, eg.encrypt(publicKey, 2n ** 32n + 1n, rand)))).toBe('VALUE_OUT_OF_RANGE');
    // "negative" values (n − 1) are out of range, not a wrap-around
    expect(errorCode(() => eg.decrypt(secretKey, eg.encrypt(publicKey, CURVE_ORDER - 1n, rand)))).toBe('VALUE_OUT_OF_RANGE');
  });

  it('decrypts with other table sizes, including one far smaller than the value', () => {
    const ct = eg.encrypt(publicKey, 1_000_003n, rand);
    expect(eg.decrypt(secretKey, ct, { tableBits: 4 })).toBe(1_000_003n);
    expect(eg.decrypt(secretKey, ct, { tableBits: 10 })).toBe(1_000_003n);
  });

  it('a wrong key does not decrypt to the value', () => {
    const other = eg.keygen(rand);
    const ct = eg.encrypt(publicKey, 77n, rand);
    let got: bigint | string;
    try {
      got = eg.decrypt(other.secretKey, ct);
    } catch (e) {
      got = String((e as { code?: string }).code);
    }
    expect(got).not.toBe(77n);
  });

  it('uses fresh randomness: two encryptions of one value differ', () => {
    const a = eg.encodeCiphertext(eg.encrypt(publicKey, 5n));
    const b = eg.encodeCiphertext(eg.encrypt(publicKey, 5n));
    expect(bytesToHex(a)).not.toBe(bytesToHex(b));
  });

  it('re-randomization changes the bytes, not the value', () => {
    const ct = eg.encrypt(publicKey, 99n, rand);
    const rr = eg.rerandomize(publicKey, ct, rand);
    expect(bytesToHex(eg.encodeCiphertext(rr))).not.toBe(bytesToHex(eg.encodeCiphertext(ct)));
    expect(eg.decrypt(secretKey, rr)).toBe(99n);
  });

  it('encryption with given randomness is deterministic and C1 = r·G', () => {
    const r = 123456789n;
    const a = eg.encryptWithRandomness(publicKey, 10n, r);
    expect(bytesToHex(eg.encodeCiphertext(a))).toBe(bytesToHex(eg.encodeCiphertext(eg.encryptWithRandomness(publicKey, 10n, r))));
    expect(bytesToHex(a.c1)).toBe(bytesToHex(getGroup().mulGen(scalarToBytes(r))));
  });
});

describe('homomorphism', () => {
  it('the sum of 1000 encrypted values decrypts to their sum', () => {
    const values = Array.from({ length: 1000 }, () => BigInt(rng.int(5000)));
    const cts = values.map((m) => eg.encrypt(publicKey, m, rand));
    const sum = values.reduce((a, b) => a + b, 0n);
    expect(eg.decrypt(secretKey, eg.weightedSum(cts))).toBe(sum);
    // pairwise addition agrees with the MSM sum
    let acc = cts[0]!;
    for (const ct of cts.slice(1, 50)) acc = eg.add(acc, ct);
    expect(eg.decrypt(secretKey, acc)).toBe(values.slice(0, 50).reduce((a, b) => a + b, 0n));
  });

  it('a weighted sum (a time-of-use tariff) decrypts to the weighted sum', () => {
    const values = Array.from({ length: 96 }, () => BigInt(rng.int(2000)));
    const prices = values.map((_, i) => BigInt(i < 28 || i >= 88 ? 12 : 31)); // night and day prices
    const cts = values.map((m) => eg.encrypt(publicKey, m, rand));
    const expected = values.reduce((a, m, i) => a + m * prices[i]!, 0n);
    expect(eg.decrypt(secretKey, eg.weightedSum(cts, prices))).toBe(expected);
  });

  it('subtract and scale', () => {
    const a = eg.encrypt(publicKey, 500n, rand);
    const b = eg.encrypt(publicKey, 123n, rand);
    expect(eg.decrypt(secretKey, eg.subtract(a, b))).toBe(377n);
    expect(eg.decrypt(secretKey, eg.scale(b, 7n))).toBe(861n);
    expect(eg.decrypt(secretKey, eg.add(eg.scale(b, -1n), a))).toBe(377n);
    // subtracting a ciphertext from itself gives the point at infinity: decrypts to 0, has no encoding
    const zero = eg.subtract(a, a);
    expect(eg.decrypt(secretKey, zero)).toBe(0n);
    expect(errorCode(() => eg.encodeCiphertext(zero))).toBe('POINT_AT_INFINITY');
  });

  it('an empty sum encrypts 0', () => {
    expect(eg.decrypt(secretKey, eg.weightedSum([]))).toBe(0n);
  });
});

describe('input checks', () => {
  it('rejects values outside [0, n) and bad keys or randomness', () => {
    expect(errorCode(() => eg.encrypt(publicKey, -1n))).toBe('VALUE_OUT_OF_RANGE');
    expect(errorCode(() => eg.encrypt(publicKey, CURVE_ORDER))).toBe('VALUE_OUT_OF_RANGE');
    expect(errorCode(() => eg.encrypt(publicKey, 5 as never))).toBe('VALUE_OUT_OF_RANGE');
    expect(errorCode(() => eg.encryptWithRandomness(publicKey, 5n, 0n))).toBe('INVALID_SCALAR');
    expect(errorCode(() => eg.publicKeyOf(0n))).toBe('INVALID_SCALAR');
    expect(errorCode(() => eg.decrypt(CURVE_ORDER, eg.encrypt(publicKey, 1n)))).toBe('INVALID_SCALAR');
    expect(errorCode(() => eg.encrypt(new Uint8Array(33), 1n))).toBe('INVALID_LENGTH');
    expect(errorCode(() => eg.weightedSum([eg.encrypt(publicKey, 1n)], [1n, 2n]))).toBe('INVALID_LENGTH');
  });
  it('rejects bad decryption bounds and table sizes', () => {
    const ct = eg.encrypt(publicKey, 1n);
    expect(errorCode(() => eg.decrypt(secretKey, ct, { max: -1n }))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => eg.decrypt(secretKey, ct, { tableBits: 0 }))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => eg.decrypt(secretKey, ct, { tableBits: 40 }))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => discreteLog(new Uint8Array(64).fill(1), 10n))).toBe('INVALID_POINT');
    // a search that would take hours is refused up front, with advice
    expect(() => eg.decrypt(secretKey, ct, { max: 2n ** 64n })).toThrowError(/use a larger tableBits/);
  });
});
