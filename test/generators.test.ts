/**
 * The generators H, G_i, H_i (SPEC.md) against an independent RFC 9380
 * implementation written in test/support/rfc9380.ts from the RFC's definitions
 * (itself checked against the RFC's test vectors in rfc9380.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { bytesToBigint, concatBytes, scalarsToBytes } from '../lib/backend/bytes.js';
import { GENERATOR_DST, MAX_VECTOR_GENERATORS, pedersenH, vectorGenerators } from '../lib/crypto/generators.js';
import { hashToCurveSecp256k1 } from './support/rfc9380.js';
import { hex } from './support/curve.js';

const dst = new TextEncoder().encode('zkmeter/v1');

function reference(msg: Uint8Array): string {
  const { x, y } = hashToCurveSecp256k1(msg, dst);
  return x.toString(16).padStart(64, '0') + y.toString(16).padStart(64, '0');
}

function indexed(prefix: string, i: number): Uint8Array {
  const m = new Uint8Array(5);
  m[0] = prefix.charCodeAt(0);
  new DataView(m.buffer).setUint32(1, i);
  return m;
}

describe('generators', () => {
  it('use the DST zkmeter/v1', () => {
    expect(GENERATOR_DST).toBe('zkmeter/v1');
  });

  it('H = hash_to_curve("H")', () => {
    expect(hex(pedersenH())).toBe(reference(new TextEncoder().encode('H')));
  });

  it('G_i = hash_to_curve("G" ‖ u32be(i)) and H_i = hash_to_curve("H" ‖ u32be(i))', () => {
    const { G, H } = vectorGenerators(8);
    for (let i = 0; i < 8; i++) {
      expect(hex(G.subarray(64 * i, 64 * i + 64))).toBe(reference(indexed('G', i)));
      expect(hex(H.subarray(64 * i, 64 * i + 64))).toBe(reference(indexed('H', i)));
    }
  });

  it('are valid, distinct, and not G', () => {
    const g = getGroup();
    const { G, H } = vectorGenerators(32);
    const all = [pedersenH(), g.mulGen(scalarsToBytes([1n]))];
    for (let i = 0; i < 32; i++) all.push(G.subarray(64 * i, 64 * i + 64), H.subarray(64 * i, 64 * i + 64));
    g.validate(concatBytes(...all));
    expect(new Set(all.map(hex)).size).toBe(all.length);
    // none is infinity
    for (const p of all) expect(bytesToBigint(p)).not.toBe(0n);
  });

  it('are cached and stable: a longer request extends a shorter one', () => {
    const a = vectorGenerators(4);
    const b = vectorGenerators(6);
    expect(hex(b.G.subarray(0, 256))).toBe(hex(a.G));
    expect(hex(b.H.subarray(0, 256))).toBe(hex(a.H));
    // Returned arrays are copies: mutating one does not corrupt the cache.
    a.G.fill(0);
    expect(hex(vectorGenerators(4).G)).toBe(hex(b.G.subarray(0, 256)));
  });

  it('reject bad counts', () => {
    expect(() => vectorGenerators(-1)).toThrow(RangeError);
    expect(() => vectorGenerators(1.5)).toThrow(RangeError);
    expect(() => vectorGenerators(MAX_VECTOR_GENERATORS + 1)).toThrow(RangeError);
  });
});
