/**
 * The Fiat–Shamir transcript shared by every zkmeter proof.
 *
 * Built on SHA-256 (@noble/hashes). Every append is framed as
 *   u32be(len(label)) ‖ label ‖ u32be(len(data)) ‖ data
 * so no two different sequences of appends hash the same way (labels and data
 * are length-prefixed; there is no ambiguity at boundaries). The transcript
 * starts with a version tag and the protocol's label, so proofs of different
 * protocols never share challenges (domain separation).
 *
 * A challenge is derived from the running hash without consuming it: two
 * SHA-256 blocks over (state ‖ "challenge" frame ‖ label ‖ 0x00 / 0x01) give
 * 64 bytes, reduced mod n (wide reduction: bias below 2^−256). The challenge
 * is then appended, so later challenges depend on earlier ones. This follows
 * the Merlin/STROBE transcript discipline used by dalek's bulletproofs, on a
 * plain hash instead of STROBE.
 *
 * Every proof appends its complete statement before any challenge — the
 * defence against the "Frozen Heart" class of Fiat–Shamir bugs.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { CURVE_ORDER, bytesToBigint, scalarToBytes } from '../backend/bytes.js';

const encoder = new TextEncoder();
const TRANSCRIPT_VERSION = 'zkmeter-transcript/v1';

type Hash = ReturnType<typeof sha256.create>;

/** Labels are few and fixed: encode each once. */
const labelCache = new Map<string, Uint8Array>();
function labelBytes(label: string): Uint8Array {
  let b = labelCache.get(label);
  if (b === undefined) {
    b = encoder.encode(label);
    if (labelCache.size < 1024) labelCache.set(label, b);
  }
  return b;
}

/** u32be(len(a)) ‖ a ‖ u32be(len(b)) ‖ b, in one buffer (one hash update). */
function frame(a: Uint8Array, b: Uint8Array, extra = 0): Uint8Array {
  const out = new Uint8Array(8 + a.length + b.length + extra);
  const view = new DataView(out.buffer);
  view.setUint32(0, a.length, false);
  out.set(a, 4);
  view.setUint32(4 + a.length, b.length, false);
  out.set(b, 8 + a.length);
  return out;
}

export class Transcript {
  private readonly hash: Hash;

  /** Starts a transcript for one protocol, e.g. `zkmeter/zkpe v1`. */
  constructor(protocol: string) {
    this.hash = sha256.create();
    this.appendMessage('transcript', encoder.encode(TRANSCRIPT_VERSION));
    this.appendMessage('protocol', encoder.encode(protocol));
  }

  /** Appends labelled bytes. */
  appendMessage(label: string, data: Uint8Array): this {
    this.hash.update(frame(labelBytes(label), data));
    return this;
  }

  /** Appends an unsigned integer < 2^64 as 8 big-endian bytes. */
  appendU64(label: string, value: number | bigint): this {
    const v = BigInt(value);
    if (v < 0n || v >= 1n << 64n) throw new RangeError(`"${label}" expected 0 <= value < 2^64, got ${v}`);
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, v, false);
    return this.appendMessage(label, out);
  }

  /** Appends a scalar as 32 big-endian bytes. */
  appendScalar(label: string, k: bigint): this {
    return this.appendMessage(label, scalarToBytes(k, label));
  }

  /** Derives a non-zero challenge scalar in [1, n−1] and appends it. */
  challengeScalar(label: string): bigint {
    for (let counter = 0; ; counter++) {
      // frame("challenge", label) ‖ u32be(counter) ‖ block index
      const suffix = frame(labelBytes('challenge'), labelBytes(label), 5);
      new DataView(suffix.buffer).setUint32(suffix.length - 5, counter, false);
      const block = (i: number) => {
        suffix[suffix.length - 1] = i;
        return this.hash.clone().update(suffix).digest();
      };
      const wide = new Uint8Array(64);
      wide.set(block(0), 0);
      wide.set(block(1), 32);
      const c = bytesToBigint(wide) % CURVE_ORDER;
      if (c !== 0n) {
        this.appendMessage(`challenge:${label}`, scalarToBytes(c));
        return c;
      }
    }
  }
}
