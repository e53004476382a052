/** Every rejection path of the strict wire codecs, on the active backend. */
import { describe, expect, it } from 'vitest';
import { errorCode } from './support/errors.js';
import { CURVE_ORDER, FIELD_PRIME, concatBytes, scalarToBytes, writeBigint } from '../lib/backend/bytes.js';
import { getGroup } from '../lib/backend/index.js';
import { decodePoint, decodeScalar, hexToBytes, bytesToHex, encodePoints } from '../lib/crypto/codec.js';
import { decodeCiphertext, decodePublicKey, decodeSecretKey, encodeCiphertext, encrypt, keygen } from '../lib/crypto/elgamal.js';
import { compressedX, isCurveX } from './support/curve.js';


const g = getGroup();
const P33 = g.compress(g.mulGen(scalarToBytes(777n)));

describe('points', () => {
  it('round-trip', () => {
    expect(bytesToHex(encodePoints(decodePoint(P33)))).toBe(bytesToHex(P33));
  });
  it('reject wrong lengths and trailing bytes', () => {
    expect(errorCode(() => decodePoint(P33.subarray(0, 32)))).toBe('INVALID_LENGTH');
    expect(errorCode(() => decodePoint(concatBytes(P33, Uint8Array.of(0))))).toBe('INVALID_LENGTH');
    expect(errorCode(() => decodePoint(new Uint8Array(0)))).toBe('INVALID_LENGTH');
  });
  it('reject prefixes other than 02/03, x ≥ p and x off the curve', () => {
    for (const prefix of [0, 1, 4, 5, 6, 7]) {
      const b = P33.slice();
      b[0] = prefix;
      expect(errorCode(() => decodePoint(b))).toBe('INVALID_POINT');
    }
    expect(errorCode(() => decodePoint(compressedX(FIELD_PRIME)))).toBe('INVALID_POINT');
    let x = 2n;
    while (isCurveX(x)) x++;
    expect(errorCode(() => decodePoint(compressedX(x)))).toBe('INVALID_POINT');
  });
  it('have no encoding for infinity', () => {
    expect(errorCode(() => encodePoints(new Uint8Array(64)))).toBe('POINT_AT_INFINITY');
  });
});

describe('scalars', () => {
  it('accept 0 … n−1 and reject n, n+1, 2^256−1 (never reduce)', () => {
    expect(decodeScalar(scalarToBytes(0n))).toBe(0n);
    expect(decodeScalar(scalarToBytes(CURVE_ORDER - 1n))).toBe(CURVE_ORDER - 1n);
    for (const v of [CURVE_ORDER, CURVE_ORDER + 1n, 2n ** 256n - 1n]) {
      const b = new Uint8Array(32);
      writeBigint(b, 0, 32, v);
      expect(errorCode(() => decodeScalar(b))).toBe('INVALID_SCALAR');
    }
  });
  it('reject zero where it is not allowed, and wrong lengths', () => {
    expect(errorCode(() => decodeScalar(new Uint8Array(32), 'k', true))).toBe('INVALID_SCALAR');
    expect(errorCode(() => decodeSecretKey(new Uint8Array(32)))).toBe('INVALID_SCALAR');
    expect(errorCode(() => decodeScalar(new Uint8Array(31)))).toBe('INVALID_LENGTH');
    expect(errorCode(() => decodeScalar(new Uint8Array(33)))).toBe('INVALID_LENGTH');
  });
});

describe('ciphertexts and keys', () => {
  const { publicKey } = keygen();
  const wire = encodeCiphertext(encrypt(publicKey, 42n));
  it('round-trip in 66 bytes', () => {
    expect(wire.length).toBe(66);
    expect(bytesToHex(encodeCiphertext(decodeCiphertext(wire)))).toBe(bytesToHex(wire));
  });
  it('reject 65 or 67 bytes, a bad C1 or a bad C2', () => {
    expect(errorCode(() => decodeCiphertext(wire.subarray(0, 65)))).toBe('INVALID_LENGTH');
    expect(errorCode(() => decodeCiphertext(concatBytes(wire, Uint8Array.of(1))))).toBe('INVALID_LENGTH');
    const badC1 = wire.slice();
    badC1[0] = 4;
    expect(errorCode(() => decodeCiphertext(badC1))).toBe('INVALID_POINT');
    const badC2 = wire.slice();
    badC2.set(compressedX(FIELD_PRIME), 33);
    expect(errorCode(() => decodeCiphertext(badC2))).toBe('INVALID_POINT');
  });
  it('public keys are 33-byte points', () => {
    expect(errorCode(() => decodePublicKey(new Uint8Array(33)))).toBe('INVALID_POINT');
    expect(errorCode(() => decodePublicKey(new Uint8Array(65)))).toBe('INVALID_LENGTH');
  });
});

describe('hex', () => {
  it('is lowercase without 0x, with an even number of digits', () => {
    expect(bytesToHex(hexToBytes('00ff10', 'h'))).toBe('00ff10');
    for (const bad of ['0x00', 'FF', 'abc', 'zz', ' 00', '00 ']) expect(errorCode(() => hexToBytes(bad, 'h'))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => hexToBytes('00', 'h', 2))).toBe('INVALID_LENGTH');
  });
});
