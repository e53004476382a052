/**
 * Large plaintexts need a larger baby-step table (docs/notes-elgamal.md). Native
 * project only: building a 2^20-entry table in pure TypeScript takes minutes.
 */
import { describe, expect, it } from 'vitest';
import * as eg from '../lib/crypto/elgamal.js';

describe('decryption of large values with a larger table', () => {
  it('decrypts 40-bit values with tableBits 20, and refuses one past max', () => {
    const { secretKey, publicKey } = eg.keygen();
    const max = 2n ** 40n;
    for (const m of [max, max - 1n, 2n ** 39n + 12345n]) {
      expect(eg.decrypt(secretKey, eg.encrypt(publicKey, m), { max, tableBits: 20 })).toBe(m);
    }
    expect(() => eg.decrypt(secretKey, eg.encrypt(publicKey, max + 1n), { max, tableBits: 20 })).toThrowError(
      /not in the range/,
    );
  });
});
