/**
 * Signed HTTP requests: how the control center authenticates itself to the
 * privacy authority's service (authority-app.ts), over HTTP or HTTPS alike.
 *
 * The center signs each request with its BIP340 identity key (keys.ts,
 * `identity.key.json`) and sends
 *
 *     Authorization: ZKMETER-SIG key=<32-byte x-only key, hex>, ts=<Unix seconds>, nonce=<16 bytes, hex>, sig=<64 bytes, hex>
 *
 * where sig signs the 32-byte tagged hash (BIP340, tag "zkmeter/request v2") of
 *
 *     audience ‖ u32 len ‖ method ‖ u32 len ‖ path with query ‖ u64 ts ‖ nonce ‖ SHA-256(body)
 *
 * (lengths and ts big-endian; an empty body for a GET; audience: the 32-byte
 * x-only identity key of the authority the request is for). The authority
 * accepts a request only if the key is one it was configured with, the
 * audience is its own identity key, ts is within `SIGNATURE_WINDOW_SECONDS` of
 * its clock and not before the verifier started, the nonce was not seen, and
 * the signature verifies. So a request cannot be forged, altered or replayed,
 * to this authority or to another that trusts the same center, by anyone
 * without the center's identity key; its body is bound, so nothing in it can
 * be swapped. Nonces live in memory; the authority's store keeps the latest
 * request time it accepted (raised before the request is handled), and a
 * restarted authority refuses every request signed at or before it, or before
 * it started, so nothing an earlier process saw can be replayed to it. (HTTPS
 * adds confidentiality: the records and shares are ciphertexts and proofs, but
 * the metadata is not.)
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { ZkmeterError } from '../errors.js';
import { abytes, equalBytes } from '../backend/bytes.js';
import { bytesToHex, hexToBytes } from '../crypto/codec.js';
import { schnorrPublicKey, signSchnorr, taggedHash, verifySchnorr } from '../crypto/schnorr.js';
import type { SigningKey } from './keys.js';

/** How far a request's timestamp may be from the verifier's clock, and how long its nonce is remembered. */
export const SIGNATURE_WINDOW_SECONDS = 300;

/** The header's scheme. */
export const SIGNATURE_SCHEME = 'ZKMETER-SIG';

const encoder = new TextEncoder();

/** The 32-byte message a request's signature signs, for the authority whose identity key is `audience`. */
export function requestDigest(audience: Uint8Array, method: string, path: string, ts: number, nonce: Uint8Array, body: Uint8Array): Uint8Array {
  abytes(audience, 'audience', 32);
  const m = encoder.encode(method.toUpperCase());
  const p = encoder.encode(path);
  const head = new Uint8Array(4 + m.length + 4 + p.length + 8);
  const v = new DataView(head.buffer);
  v.setUint32(0, m.length);
  head.set(m, 4);
  v.setUint32(4 + m.length, p.length);
  head.set(p, 8 + m.length);
  v.setBigUint64(8 + m.length + p.length, BigInt(ts));
  return taggedHash('zkmeter/request v2', audience, head, nonce, createHash('sha256').update(body).digest());
}

/** The Authorization header value of a request to the authority `audience` (its identity key), signed by `key` now (or at `ts`). */
export function signRequest(key: SigningKey, audience: Uint8Array, method: string, path: string, body: Uint8Array, ts = Math.floor(Date.now() / 1000)): string {
  const nonce = new Uint8Array(randomBytes(16));
  const sig = signSchnorr([requestDigest(audience, method, path, ts, nonce, body)], key.secretKey);
  return `${SIGNATURE_SCHEME} key=${bytesToHex(key.publicKey)}, ts=${ts}, nonce=${bytesToHex(nonce)}, sig=${bytesToHex(sig)}`;
}

/** Checks that a signing key's public key is its secret's. */
export function checkSigningKey(key: SigningKey, what: string): SigningKey {
  if (!equalBytes(schnorrPublicKey(key.secretKey), key.publicKey)) throw new ZkmeterError('INVALID_ARGUMENT', `${what}: the public key is not the secret key's`);
  return key;
}

const HEADER = /^ZKMETER-SIG key=([0-9a-f]{64}), ts=(0|[1-9][0-9]{0,11}), nonce=([0-9a-f]{32}), sig=([0-9a-f]{128})$/;

/**
 * Verifies signed requests for a fixed set of keys, addressed to `audience` (the
 * authority's own identity key), remembering nonces for the window (at most
 * `maxNonces`; past that, requests are refused until old ones expire, rather than
 * forgetting a nonce that is still replayable). Requests signed before `notBefore`
 * (default: when it was made) are refused: its memory of nonces starts there. The
 * authority sets it past the latest request time any earlier process accepted
 * (its store's request mark), so that what they saw cannot be replayed to it.
 */
export class RequestVerifier {
  private readonly keys: readonly Uint8Array[];
  private readonly audience: Uint8Array;
  private readonly seen = new Map<string, number>();
  private readonly maxNonces: number;
  private readonly notBefore: number;

  constructor(keys: readonly Uint8Array[], audience: Uint8Array, o: { maxNonces?: number; notBefore?: number } = {}) {
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => k instanceof Uint8Array && k.length === 32)) {
      throw new ZkmeterError('INVALID_ARGUMENT', 'expected at least one 32-byte x-only key to accept requests from');
    }
    this.keys = keys.map((k) => k.slice());
    this.audience = abytes(audience, 'audience', 32).slice();
    this.maxNonces = o.maxNonces ?? 1_000_000;
    this.notBefore = o.notBefore ?? Math.floor(Date.now() / 1000);
  }

  /**
   * The key that signed the request and its time, or a refusal: `INVALID_ARGUMENT` with a message that
   * says what is wrong (the service answers 401 with it).
   */
  verify(header: string | undefined, method: string, path: string, body: Uint8Array, now = Math.floor(Date.now() / 1000)): { key: Uint8Array; ts: number } {
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
    if (ts < this.notBefore) refuse(`the request was signed at ${ts}, before this authority's memory of requests begins (${this.notBefore}): sign it again`);
    let valid: boolean;
    try {
      valid = verifySchnorr(key, requestDigest(this.audience, method, path, ts, hexToBytes(nonceHex!, 'nonce', 16), body), hexToBytes(sigHex!, 'sig', 64));
    } catch {
      valid = false;
    }
    if (!valid) refuse('the request signature does not verify (signed by another key, altered, or addressed to another authority)');
    this.expire(now);
    if (this.seen.has(nonceHex!)) refuse('the request was replayed (its nonce was seen)');
    if (this.seen.size >= this.maxNonces) refuse('too many signed requests in the window; retry later');
    this.seen.set(nonceHex!, ts);
    return { key, ts };
  }

  private expire(now: number): void {
    // Insertion order is close to time order; stop at the first nonce still in the window.
    for (const [nonce, ts] of this.seen) {
      if (ts >= now - SIGNATURE_WINDOW_SECONDS) break;
      this.seen.delete(nonce);
    }
  }
}
