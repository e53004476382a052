/**
 * A seeded, reproducible byte source for tests (xoshiro128**), so a failing
 * random test can be replayed: the seed is printed, and ZKMETER_TEST_SEED=<n>
 * fixes it. Not for secrets.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { CURVE_ORDER, scalarsToBytes, writeBigint } from '../../lib/backend/bytes.js';

export function testSeed(): number {
  const fixed = process.env.ZKMETER_TEST_SEED;
  const seed = fixed !== undefined ? Number(fixed) : Math.floor(Math.random() * 2 ** 32);
  return seed >>> 0;
}

export class TestRng {
  private s: Uint32Array;
  constructor(readonly seed: number) {
    this.s = new Uint32Array([seed ^ 0x9e3779b9, seed * 7 + 1, 0x6a09e667, 0xbb67ae85]);
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 2 ** 32) * n);
  }
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.u32() & 0xff;
    return out;
  }
  bigint(bytes: number): bigint {
    let v = 0n;
    for (const b of this.bytes(bytes)) v = (v << 8n) | BigInt(b);
    return v;
  }
  /** A scalar in [0, n): mostly uniform, sometimes an edge value. */
  scalar(): bigint {
    switch (this.int(16)) {
      case 0:
        return 0n;
      case 1:
        return 1n;
      case 2:
        return CURVE_ORDER - 1n;
      case 3:
        return BigInt(this.int(1000));
      default:
        return this.bigint(32) % CURVE_ORDER;
    }
  }
  scalars(count: number): Uint8Array {
    return scalarsToBytes(Array.from({ length: count }, () => this.scalar()));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** 64 bytes of affine (x, y) that are NOT on the curve (y = x + 1 with x small). */
export function offCurvePoint(x = 5n): Uint8Array {
  const out = new Uint8Array(64);
  writeBigint(out, 0, 32, x);
  writeBigint(out, 32, 32, x + 1n);
  return out;
}


/** A deterministic RandomSource: SHA-256(seed/counter) blocks. For reproducible proofs and vectors. */
export function fixedRng(seed: string): (length: number) => Uint8Array {
  let counter = 0;
  return (length: number) => {
    const out = new Uint8Array(length);
    for (let off = 0; off < length; off += 32) {
      const block = sha256(new TextEncoder().encode(`${seed}/${counter++}`));
      out.set(block.subarray(0, Math.min(32, length - off)), off);
    }
    return out;
  };
}
