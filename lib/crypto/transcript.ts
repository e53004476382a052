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
 * A challenge is derived from the running hash without consuming it:
 * SHA-256(state ‖ "challenge" frame ‖ label ‖ counter), rejection-sampled into
 * [1, n−1] (no modular bias). The challenge is then appended, so later
 * challenges depend on earlier ones. This follows
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

/**
 * u32be(len(a)) ‖ a ‖ u32be(len(b)) ‖ b ‖ `extra` spare bytes, written into a
 * reused scratch buffer (valid until the next call): hash updates copy their
 * input, and appends sit on the hot path of batch verification.
 */
let scratch = new Uint8Array(1024);
function frame(a: Uint8Array, b: Uint8Array, extra = 0): Uint8Array {
  const len = 8 + a.length + b.length + extra;
  if (scratch.length < len) scratch = new Uint8Array(2 * len);
  const out = scratch;
  out[0] = a.length >>> 24;
  out[1] = (a.length >>> 16) & 0xff;
  out[2] = (a.length >>> 8) & 0xff;
  out[3] = a.length & 0xff;
  out.set(a, 4);
  const o = 4 + a.length;
  out[o] = b.length >>> 24;
  out[o + 1] = (b.length >>> 16) & 0xff;
  out[o + 2] = (b.length >>> 8) & 0xff;
  out[o + 3] = b.length & 0xff;
  out.set(b, o + 4);
  return out.subarray(0, len);
}

export class Transcript {
  private readonly hash: Hash;

  /** Starts a transcript for one protocol, e.g. `zkmeter/zkpe v1`. */
  constructor(protocol: string) {
    this.hash = sha256.create();
    this.appendMessage('transcript', encoder.encode(TRANSCRIPT_VERSION));
    this.appendMessage('protocol', encoder.encode(protocol));
  }

  /**
   * An independent copy of this transcript's state. Verifiers use it to hash a
   * prefix shared by many proofs (protocol, generators, public key) only once.
   */
  clone(): Transcript {
    const copy = Object.create(Transcript.prototype) as { hash: Hash };
    copy.hash = this.hash.clone();
    return copy as unknown as Transcript;
  }

  /** Appends labelled bytes. */
  appendMessage(label: string, data: Uint8Array): this {
    this.hash.update(frame(labelBytes(label), data));
    return this;
  }

  /**
   * Appends several labelled messages; the same bytes as appending them one by
   * one, hashed in a single update (verifiers call this per proof).
   */
  appendMessages(messages: readonly (readonly [string, Uint8Array])[]): this {
    let len = 0;
    const labels = messages.map(([label, data]) => {
      const l = labelBytes(label);
      len += 8 + l.length + data.length;
      return l;
    });
    const out = new Uint8Array(len);
    let off = 0;
    messages.forEach(([, data], i) => {
      const f = frame(labels[i]!, data);
      out.set(f, off);
      off += f.length;
    });
    this.hash.update(out);
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

  /**
   * Derives a challenge scalar in [1, n−1] and appends it. Uniform by rejection
   * sampling: a 32-byte digest is used as is when it is below n and non-zero
   * (probability 1 − 2^−127.9), otherwise the counter moves on. No modular bias.
   */
  challengeScalar(label: string): bigint {
    const suffix = frame(labelBytes('challenge'), labelBytes(label), 4).slice();
    for (let counter = 0; ; counter++) {
      // frame("challenge", label) ‖ u32be(counter)
      new DataView(suffix.buffer).setUint32(suffix.length - 4, counter, false);
      const c = bytesToBigint(this.hash.clone().update(suffix).digest());
      if (c !== 0n && c < CURVE_ORDER) {
        this.appendMessage(`challenge:${label}`, scalarToBytes(c));
        return c;
      }
    }
  }

}
