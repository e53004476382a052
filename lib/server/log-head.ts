/**
 * The privacy authority's signed log heads, and the control center's memory of
 * the newest one it has seen: evidence that the authority's ledger only grows.
 *
 * The ledger is hash-chained (authority-store.ts): chain_seq commits to every
 * entry up to seq. A head alone proves nothing about the past, so the authority
 * signs each head it answers with, by its identity key (BIP340, zero
 * auxiliary randomness: one head, one signature):
 *   m = taggedHash("zkmeter/log-head v1", keyDigest (32) ‖ seq (8, big-endian) ‖ chain_seq (32))
 * where keyDigest is `sharedKeyDigest` of the utility key, so a head of one
 * key's ledger is no head of another's.
 *
 * What it gives:
 *  - **The center notices a rollback.** It keeps the newest head it was given
 *    (`LogHeadMemory`, a file beside its keys) and refuses an answer whose head
 *    is older than the one it knew when it asked.
 *  - **The authority notices its own rollback.** The center sends the head it
 *    knows with every signed request (`seen`); an authority whose ledger lacks
 *    that head, or holds another chain at its seq, was restored from an older
 *    state, and from then on refuses every signed request for the rest of its
 *    run (LEDGER_ROLLED_BACK): its operator restores the newest ledger and
 *    restarts it.
 *  - **Equivocation is provable.** Two signed heads of one seq with different
 *    chains, or a head whose seq the published log no longer reaches, are
 *    evidence anyone can check against the authority's identity key.
 *
 * What it does not give: a center that withholds the head it knows (a curious
 * one, which would profit from a rollback) is not caught by the authority at
 * the time; it is caught afterwards by anyone who kept an earlier head (the
 * heads of `GET /v1/releases` are signed for that). Nor does a head bind the
 * answer it came with: it says how long the ledger was, not what it released
 * (the release itself is in the log, and its share carries its own DLEQ proof).
 * @module
 */
import { accessSync, closeSync, constants, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ZkmeterError } from '../errors.js';
import { abytes } from '../backend/bytes.js';
import { bytesToHex, hexToBytes } from '../crypto/codec.js';
import { signSchnorr, taggedHash, verifySchnorr } from '../crypto/schnorr.js';

export const LOG_HEAD_TAG = 'zkmeter/log-head v1';
/** The file, in the center's keys directory, that keeps the newest head (`fileLogHeadMemory`). */
export const LOG_HEAD_FILE = 'authority-head.json';

/** A ledger's head: its last seq and chain_seq (64 lowercase hex digits; 32 zero bytes for the empty ledger). */
export interface LogHead {
  readonly seq: number;
  readonly chain: string;
}

/** A head with the authority's BIP340 signature (128 lowercase hex digits). */
export interface SignedLogHead extends LogHead {
  readonly signature: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

/** The 32-byte message an authority signs for `head` of the ledger of the key with digest `keyDigest` (module comment). */
export function logHeadMessage(keyDigest: Uint8Array, head: LogHead): Uint8Array {
  if (!Number.isSafeInteger(head.seq) || head.seq < 0) throw new ZkmeterError('INVALID_ARGUMENT', 'a log head\'s "seq" expected a non-negative integer');
  if (!HEX64.test(head.chain)) throw new ZkmeterError('INVALID_ARGUMENT', 'a log head\'s "chain" expected 64 lowercase hex digits');
  const seq = new Uint8Array(8);
  new DataView(seq.buffer).setBigUint64(0, BigInt(head.seq));
  return taggedHash(LOG_HEAD_TAG, abytes(keyDigest, 'keyDigest', 32), seq, hexToBytes(head.chain, 'chain', 32));
}

/** The authority's signature of `head` (deterministic). */
export function signLogHead(head: LogHead, keyDigest: Uint8Array, secretKey: bigint): SignedLogHead {
  const signature = signSchnorr([logHeadMessage(keyDigest, head)], secretKey, (n) => new Uint8Array(n));
  return { seq: head.seq, chain: head.chain, signature: bytesToHex(signature) };
}

/** Whether `head` is signed by `publicKey` (32-byte x-only) for the key with digest `keyDigest`; false for a malformed one. */
export function verifyLogHead(head: SignedLogHead, keyDigest: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    if (typeof head.signature !== 'string' || !HEX128.test(head.signature)) return false;
    return verifySchnorr(publicKey, logHeadMessage(keyDigest, head), hexToBytes(head.signature, 'signature', 64));
  } catch (e) {
    if (e instanceof ZkmeterError) return false;
    throw e;
  }
}

/** Whether `later` is at least `earlier`'s head: a greater seq, or the same seq and chain. */
export function headAtLeast(later: LogHead, earlier: LogHead): boolean {
  return later.seq > earlier.seq || (later.seq === earlier.seq && later.chain === earlier.chain);
}

/** Reads a signed head from JSON, strictly: exactly seq, chain and signature, well formed (INVALID_ARGUMENT otherwise). */
export function signedLogHeadFromJson(v: unknown, what: string): SignedLogHead {
  const bad = (why: string) => new ZkmeterError('INVALID_ARGUMENT', `${what} ${why}`);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('expected a JSON object {seq, chain, signature}');
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 3 || !Object.hasOwn(o, 'seq') || !Object.hasOwn(o, 'chain') || !Object.hasOwn(o, 'signature')) throw bad('expected exactly the fields seq, chain and signature');
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 0) throw bad('has a "seq" that is not a non-negative integer');
  if (typeof o.chain !== 'string' || !HEX64.test(o.chain)) throw bad('has a "chain" that is not 64 lowercase hex digits');
  if (typeof o.signature !== 'string' || !HEX128.test(o.signature)) throw bad('has a "signature" that is not 128 lowercase hex digits');
  return { seq: o.seq, chain: o.chain, signature: o.signature };
}

/** Where the center keeps the newest signed head it has been given. */
export interface LogHeadMemory {
  /** The head kept, or undefined before the first. */
  load(): SignedLogHead | undefined;
  /**
   * Keeps `head` if it is newer (greater seq) than the one kept; returns the newest kept
   * (which another process sharing the memory may have put there). Durable when it returns.
   */
  save(head: SignedLogHead): SignedLogHead;
}

/** A memory that lasts as long as the process. */
export function memoryLogHeadMemory(): LogHeadMemory {
  let kept: SignedLogHead | undefined;
  return {
    load: () => kept,
    save: (h) => {
      if (kept === undefined || h.seq > kept.seq) kept = h;
      return kept;
    },
  };
}

/**
 * A memory in a JSON file (the center's keys directory: LOG_HEAD_FILE),
 * `{"key": hex sharedKeyDigest, "seq", "chain", "signature"}`. A head kept for another key
 * (before a new ceremony replaced it) is no head of this one's ledger: `load` ignores it and
 * the next `save` replaces it. Written whole to a temporary file, fsynced and renamed over
 * the old one, the directory fsynced: after a crash or a power loss the file holds the old
 * head or the new one. Re-read before each write, so a second process on the same directory
 * (a `center bill` beside `serve`) does not replace a newer head with an older one, except
 * in a race within one write. The directory must be writable: refused (INVALID_ARGUMENT)
 * when the memory is made, not at the first release.
 */
export function fileLogHeadMemory(file: string, keyDigest: Uint8Array): LogHeadMemory {
  const key = bytesToHex(abytes(keyDigest, 'keyDigest', 32));
  const dir = path.dirname(file);
  const fail = (what: string, e: unknown): never => {
    throw new ZkmeterError('INVALID_ARGUMENT', `cannot ${what} ${file} (it keeps the privacy authority's newest signed log head): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  };
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    fail('write', e);
  }
  const read = (): SignedLogHead | undefined => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return fail('read', e);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ZkmeterError('INVALID_ARGUMENT', `${file} is not JSON (it should hold the privacy authority's newest signed log head)`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json) || typeof (json as { key?: unknown }).key !== 'string') {
      throw new ZkmeterError('INVALID_ARGUMENT', `${file} expected {"key", "seq", "chain", "signature"}`);
    }
    const { key: kept, ...head } = json as { key: string };
    if (kept !== key) return undefined; // another key's ledger
    return signedLogHeadFromJson(head, file);
  };
  return {
    load: read,
    save: (h) => {
      const kept = read();
      if (kept !== undefined && h.seq <= kept.seq) return kept;
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        const fd = openSync(tmp, 'w', 0o644);
        try {
          writeSync(fd, `${JSON.stringify({ key, seq: h.seq, chain: h.chain, signature: h.signature })}\n`);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, file);
        const d = openSync(dir, 'r');
        try {
          fsyncSync(d);
        } finally {
          closeSync(d);
        }
      } catch (e) {
        rmSync(tmp, { force: true });
        fail('write', e);
      }
      return h;
    },
  };
}
