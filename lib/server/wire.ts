/**
 * Small wire helpers shared by the CLI, the server and the workers.
 * @module
 */
import { decodePoint, hexToBytes } from '../crypto/codec.js';
import type { Verdict } from '../protocol/center.js';

/** A 33-byte compressed point given as hex, decoded to 64-byte affine. */
export function decodeHexPoint(hex: string, title: string): Uint8Array {
  return decodePoint(hexToBytes(hex, title, 33), title);
}


/** A verdict as it crosses a thread boundary: points packed in one buffer (a view would clone its whole backing buffer). */
export type PackedVerdict = Exclude<Verdict, { ok: true }> | { ok: true; header: Extract<Verdict, { ok: true }>['header']; recordId: string; bytes: Uint8Array; points: Uint8Array };

export function packVerdicts(verdicts: readonly Verdict[]): PackedVerdict[] {
  return verdicts.map((v) => {
    if (!v.ok) return v;
    const points = new Uint8Array(128 * v.ciphertexts.length);
    v.ciphertexts.forEach((c, j) => {
      points.set(c.c1, 128 * j);
      points.set(c.c2, 128 * j + 64);
    });
    return { ok: true, header: v.header, recordId: v.recordId, bytes: v.bytes.slice(), points };
  });
}

export function unpackVerdicts(packed: readonly PackedVerdict[]): Verdict[] {
  return packed.map((v) => {
    if (!v.ok) return v;
    const ciphertexts = Array.from({ length: v.points.length / 128 }, (_, j) => ({
      c1: v.points.subarray(128 * j, 128 * j + 64),
      c2: v.points.subarray(128 * j + 64, 128 * j + 128),
    }));
    return { ok: true, header: v.header, recordId: v.recordId, bytes: v.bytes, ciphertexts };
  });
}

/** The binary submission format (application/octet-stream): frames of u32 big-endian length ‖ record bytes. */
export function encodeFrames(records: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(records.reduce((n, r) => n + 4 + r.length, 0));
  const v = new DataView(out.buffer);
  let at = 0;
  for (const r of records) {
    v.setUint32(at, r.length);
    out.set(r, at + 4);
    at += 4 + r.length;
  }
  return out;
}
