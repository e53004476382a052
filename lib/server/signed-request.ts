/**
 * Signed HTTP requests: how the control center authenticates itself to the
 * privacy authority's service (authority-app.ts), over HTTP or HTTPS alike.
 *
 * The center signs each request with its BIP340 identity key (keys.ts,
 * `identity.key.json`) and sends
 *
 *     Authorization: ZKMETER-SIG key=<32-byte x-only key, hex>, ts=<Unix seconds>, nonce=<16 bytes, hex>, sig=<64 bytes, hex>
 *
 * where sig signs the 32-byte tagged hash (BIP340, tag "zkmeter/request v1") of
 *
 *     u32 len ‖ method ‖ u32 len ‖ path with query ‖ u64 ts ‖ nonce ‖ SHA-256(body)
 *
 * (lengths and ts big-endian; an empty body for a GET). The authority accepts
 * a request only if the key is one it was configured with, ts is within
 * `SIGNATURE_WINDOW_SECONDS` of its clock, the nonce was not seen within that
 * window, and the signature verifies. So a request cannot be forged, altered
 * or replayed by anyone without the center's identity key; its body is
 * bound, so nothing in it can be swapped. (HTTPS adds confidentiality: the
 * records and shares are ciphertexts and proofs, but the metadata is not.)
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { ZkmeterError } from '../errors.js';
import { equalBytes } from '../backend/bytes.js';
import { bytesToHex, hexToBytes } from '../crypto/codec.js';
import { schnorrPublicKey, signSchnorr, taggedHash, verifySchnorr } from '../crypto/schnorr.js';
import type { SigningKey } from './keys.js';

/** How far a request's timestamp may be from the verifier's clock, and how long its nonce is remembered. */
export const SIGNATURE_WINDOW_SECONDS = 300;

/** The header's scheme. */
export const SIGNATURE_SCHEME = 'ZKMETER-SIG';

const encoder = new TextEncoder();

/** The 32-byte message a request's signature signs. */
export function requestDigest(method: string, path: string, ts: number, nonce: Uint8Array, body: Uint8Array): Uint8Array {
  const m = encoder.encode(method.toUpperCase());
  const p = encoder.encode(path);
  const head = new Uint8Array(4 + m.length + 4 + p.length + 8);
  const v = new DataView(head.buffer);
  v.setUint32(0, m.length);
  head.set(m, 4);
  v.setUint32(4 + m.length, p.length);
  head.set(p, 8 + m.length);
  v.setBigUint64(8 + m.length + p.length, BigInt(ts));
  return taggedHash('zkmeter/request v1', head, nonce, createHash('sha256').update(body).digest());
}

/** The Authorization header value of a request signed by `key` now (or at `ts`). */
export function signRequest(key: SigningKey, method: string, path: string, body: Uint8Array, ts = Math.floor(Date.now() / 1000)): string {
  const nonce = new Uint8Array(randomBytes(16));
  const sig = signSchnorr([requestDigest(method, path, ts, nonce, body)], key.secretKey);
  return `${SIGNATURE_SCHEME} key=${bytesToHex(key.publicKey)}, ts=${ts}, nonce=${bytesToHex(nonce)}, sig=${bytesToHex(sig)}`;
}

/** Checks that a signing key's public key is its secret's. */
export function checkSigningKey(key: SigningKey, what: string): SigningKey {
  if (!equalBytes(schnorrPublicKey(key.secretKey), key.publicKey)) throw new ZkmeterError('INVALID_ARGUMENT', `${what}: the public key is not the secret key's`);
  return key;
}

const HEADER = /^ZKMETER-SIG key=([0-9a-f]{64}), ts=(0|[1-9][0-9]{0,11}), nonce=([0-9a-f]{32}), sig=([0-9a-f]{128})$/;

/**
 * Verifies signed requests for a fixed set of keys, remembering nonces for the
 * window (at most `maxNonces`; past that, requests are refused until old ones
 * expire, rather than forgetting a nonce that is still replayable).
 */
export class RequestVerifier {
  private readonly keys: readonly Uint8Array[];
  private readonly seen = new Map<string, number>();
  private readonly maxNonces: number;

  constructor(keys: readonly Uint8Array[], o: { maxNonces?: number } = {}) {
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => k instanceof Uint8Array && k.length === 32)) {
      throw new ZkmeterError('INVALID_ARGUMENT', 'expected at least one 32-byte x-only key to accept requests from');
    }
    this.keys = keys.map((k) => k.slice());
    this.maxNonces = o.maxNonces ?? 1_000_000;
  }

  /**
   * The key that signed the request, or a refusal: `INVALID_ARGUMENT` with a message that
   * says what is wrong (the service answers 401 with it).
   */
  verify(header: string | undefined, method: string, path: string, body: Uint8Array, now = Math.floor(Date.now() / 1000)): Uint8Array {
    const refuse = (why: string): never => {
      throw new ZkmeterError('INVALID_ARGUMENT', why);
    };
    if (header === undefined) refuse(`this route needs a request signed by the control center (Authorization: ${SIGNATURE_SCHEME} …)`);
    const m = HEADER.exec(header!);
    if (m === null) refuse(`the Authorization header is not "${SIGNATURE_SCHEME} key=…, ts=…, nonce=…, sig=…" in lowercase hex`);
    const [, keyHex, tsText, nonceHex, sigHex] = m!;
    const key = hexToBytes(keyHex!, 'key', 32);
    if (!this.keys.some((k) => equalBytes(k, key))) refuse(`key ${keyHex} is not the control center's key this authority accepts`);
    const ts = Number(tsText);
    if (Math.abs(now - ts) > SIGNATURE_WINDOW_SECONDS) refuse(`the request's time ${ts} is more than ${SIGNATURE_WINDOW_SECONDS} s from the authority's clock (${now})`);
    let valid: boolean;
    try {
      valid = verifySchnorr(key, requestDigest(method, path, ts, hexToBytes(nonceHex!, 'nonce', 16), body), hexToBytes(sigHex!, 'sig', 64));
    } catch {
      valid = false;
    }
    if (!valid) refuse('the request signature does not verify');
    this.expire(now);
    if (this.seen.has(nonceHex!)) refuse('the request was replayed (its nonce was seen)');
    if (this.seen.size >= this.maxNonces) refuse('too many signed requests in the window; retry later');
    this.seen.set(nonceHex!, ts);
    return key;
  }

  private expire(now: number): void {
    // Insertion order is close to time order; stop at the first nonce still in the window.
    for (const [nonce, ts] of this.seen) {
      if (ts >= now - SIGNATURE_WINDOW_SECONDS) break;
      this.seen.delete(nonce);
    }
  }
}
