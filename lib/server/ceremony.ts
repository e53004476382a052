/**
 * The key ceremony between hosts: each party of the utility key (the control
 * center and the privacy authority, 2-of-2) runs its own `DkgParticipant`
 * (crypto/dkg.ts) on its own machine, and only signed envelopes cross the wire,
 * so no process ever holds two shares.
 *
 * Every message is an envelope signed (BIP340) by the sender's long-term
 * identity key, which each party is told out of band. The signature covers
 *   m = taggedHash("zkmeter/ceremony/v1/envelope", header ‖ payload)
 * with the header, byte for byte (`envelopeHeader`):
 *   version (1 byte, = 1) ‖ ceremony id (16) ‖ threshold (1) ‖ n (1) ‖
 *   n × (len (1) ‖ party name ‖ identity key (32, x-only)), sorted by name ‖
 *   round (1) ‖ len ‖ sender ‖ len ‖ recipient
 * so a message of another ceremony, party list, key, round, sender or recipient
 * does not verify where it does not belong. The rounds and their payloads:
 *  1. (to every other party) the DKG round 1 package and a fresh ephemeral
 *     secp256k1 key: t (1) ‖ t × commitment (33) ‖ proof (65) ‖ ephemeral key (33);
 *  2. (private) the DKG round 2 share (a secret scalar), AES-256-GCM encrypted
 *     under K = taggedHash("zkmeter/ceremony/v1/round2-key", ceremony ‖ ECDH
 *     point (33) ‖ sender's ephemeral key ‖ recipient's ‖ len ‖ sender ‖ len ‖
 *     recipient), with a random nonce and the header as associated data:
 *     nonce (12) ‖ ciphertext with tag (48). The ephemeral secrets are wiped
 *     once the shares are decrypted, so the identity keys never protect them
 *     (forward secrecy: a later theft of an identity key opens no transcript);
 *  3. (key confirmation) SHA-256 of the resulting shared key's canonical JSON
 *     (`sharedKeyDigest`). A party keeps its key only once every other party
 *     confirmed the same key.
 *
 * Transports: `listenForCeremony` / `runCeremonyClient` over HTTP(S) (node:http,
 * one POST per round, the peer's envelope in the response); the CLI's offline
 * mode moves the same envelopes as files (lib/cli/keys.ts).
 *
 * Retries and repeats (HTTP). The listener commits (writes its key files) on the
 * client's round 3, before its own round 3 reaches the client, so a lost reply
 * must cost nothing:
 *  - the client re-sends a round's POST, byte for byte the same envelope, on a
 *    transport failure (connection refused or reset, no answer in time, HTTP 5xx
 *    other than COMMIT_FAILED), a bounded number of times with a doubling
 *    backoff; any other answer (4xx, COMMIT_FAILED, a TLS failure) is final;
 *  - the listener answers an envelope identical to one it already answered in the
 *    current ceremony (the same canonical JSON: round, sender, payload and
 *    signature) with the identical reply bytes, without running the round again
 *    (no re-verification needed: those bytes verified the first time). A
 *    different envelope is handled as before (a different round 2 or 3 for an
 *    answered round is refused; a different round 1 restarts an unfinished
 *    ceremony);
 *  - after committing, the listener keeps listening for a grace period only to
 *    answer such repeats (a repeated round 3 gets the same confirmation; anything
 *    else is refused, 409 CEREMONY_FINISHED, and nothing restarts or is written
 *    again), and stops early once the client, after its own commit, POSTs
 *    `{"done":{version, ceremony, from, to, sharedKeyHash, signature}}`: BIP340 by
 *    the client's identity key over
 *      taggedHash("zkmeter/ceremony/v1/done", round 3 header ‖ sharedKeyHash),
 *    the header being the client's round 3 envelope header, so it binds the
 *    ceremony, its parties and keys, sender and recipient, and the key confirmed.
 *    The "done" is one best-effort POST: if it is lost the listener simply waits
 *    out the grace period, which by default outlasts the client's retries.
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ZkmeterError } from '../errors.js';
import { getGroup } from '../backend/index.js';
import { abytes, concatBytes, equalBytes, scalarToBytes } from '../backend/bytes.js';
import { bytesToHex, decodePoint, encodePoints, hexToBytes } from '../crypto/codec.js';
import { DkgParticipant, dkgRound1FromJson, validateDkgParties, type DkgRound1, type DkgRound2 } from '../crypto/dkg.js';
import { cryptoRandom, randomScalar, type RandomSource } from '../crypto/random.js';
import { signSchnorr, taggedHash, verifySchnorr } from '../crypto/schnorr.js';
import type { KeyShare, SharedKey } from '../crypto/threshold.js';
import { sharedKeyToJson } from '../protocol/json.js';
import { checkFileSafeParty, type CeremonyRecord, type SigningKey } from './keys.js';

export const CEREMONY_VERSION = 1;
export const CEREMONY_ID_BYTES = 16;
/** Largest request or response body of the HTTP transport (an envelope is about 1 KiB). */
export const MAX_CEREMONY_BODY = 64 * 1024;
/** The HTTP transport's one route. */
export const CEREMONY_PATH = '/v1/ceremony';

const ENVELOPE_TAG = 'zkmeter/ceremony/v1/envelope';
const ROUND2_KEY_TAG = 'zkmeter/ceremony/v1/round2-key';
const RNG_TAG = 'zkmeter/ceremony/v1/rng';
const DONE_TAG = 'zkmeter/ceremony/v1/done';
const NONCE_BYTES = 12;
const GCM_TAG_BYTES = 16;
const SHARE_CIPHERTEXT_BYTES = 32 + GCM_TAG_BYTES;

export type CeremonyRound = 1 | 2 | 3;

/** A party and its 32-byte x-only identity public key. */
export interface PartyIdentity {
  readonly party: string;
  readonly identityKey: Uint8Array;
}

/** What every envelope of one ceremony binds: its id, threshold and parties (sorted by name). */
export interface CeremonyContext {
  readonly ceremony: Uint8Array;
  readonly threshold: number;
  readonly parties: readonly PartyIdentity[];
}

export interface Round1Payload {
  /** The DKG round 1 package: t commitments (33 bytes each) and the proof of knowledge (65 bytes). */
  readonly commitments: readonly Uint8Array[];
  readonly proof: Uint8Array;
  /** The sender's ephemeral public key for round 2 (33 bytes compressed). */
  readonly ephemeralKey: Uint8Array;
}

export interface Round2Payload {
  readonly nonce: Uint8Array;
  /** The 32-byte share, AES-256-GCM encrypted, with its 16-byte tag appended. */
  readonly ciphertext: Uint8Array;
}

export interface Round3Payload {
  /** SHA-256 of the shared key's canonical JSON (`sharedKeyDigest`). */
  readonly sharedKeyHash: Uint8Array;
}

/** An envelope's header fields: the ceremony's context, sender and recipient. */
export interface EnvelopeFields extends CeremonyContext {
  readonly from: string;
  readonly to: string;
}

/** A ceremony message before signing. */
export type EnvelopeBody =
  | (EnvelopeFields & { readonly round: 1; readonly payload: Round1Payload })
  | (EnvelopeFields & { readonly round: 2; readonly payload: Round2Payload })
  | (EnvelopeFields & { readonly round: 3; readonly payload: Round3Payload });

/** A signed ceremony message; `signature` is BIP340 by `from`'s identity key. */
export type Envelope = EnvelopeBody & { readonly signature: Uint8Array };

function refuse(message: string): never {
  throw new ZkmeterError('INVALID_ARGUMENT', message);
}

const utf8 = new TextEncoder();

/** len (1 byte) ‖ UTF-8 bytes, for names of at most 64 characters. */
function lengthPrefixed(s: string): Uint8Array {
  const b = utf8.encode(s);
  return concatBytes(Uint8Array.of(b.length), b);
}

function byName(a: PartyIdentity, b: PartyIdentity): number {
  return a.party < b.party ? -1 : a.party > b.party ? 1 : 0;
}

/** Whether 32 bytes are the x-coordinate of a curve point (a usable BIP340 public key). */
function checkIdentityKey(key: Uint8Array, what: string): void {
  abytes(key, what, 32);
  try {
    decodePoint(concatBytes(Uint8Array.of(2), key), what);
  } catch {
    refuse(`${what} is not a BIP340 public key (not the x-coordinate of a curve point)`);
  }
}

/**
 * The context of a ceremony: `ceremony` (16 bytes), `threshold`, and the parties
 * with their identity keys (sorted by name here; distinct, file-safe names and
 * distinct valid keys).
 */
export function ceremonyContext(ceremony: Uint8Array, parties: readonly PartyIdentity[], threshold: number): CeremonyContext {
  abytes(ceremony, 'ceremony', CEREMONY_ID_BYTES);
  if (!Array.isArray(parties)) refuse('"parties" expected an array');
  const sorted = parties.map((p) => ({ party: p.party, identityKey: p.identityKey.slice() })).sort(byName);
  validateDkgParties(
    sorted.map((p) => p.party),
    threshold,
  );
  for (const p of sorted) {
    checkFileSafeParty(p.party);
    checkIdentityKey(p.identityKey, `${p.party}'s identity key`);
  }
  const keys = new Set(sorted.map((p) => bytesToHex(p.identityKey)));
  if (keys.size !== sorted.length) refuse('two parties have the same identity key (is --peer-key this party\'s own key?)');
  return { ceremony: ceremony.slice(), threshold, parties: sorted };
}

/** A fresh 16-byte ceremony id. */
export function newCeremonyId(rng: RandomSource = cryptoRandom): Uint8Array {
  return rng(CEREMONY_ID_BYTES).slice();
}

function identityOf(ctx: CeremonyContext, party: string): Uint8Array {
  const p = ctx.parties.find((x) => x.party === party);
  if (p === undefined) refuse(`${JSON.stringify(party)} is not a party of this ceremony`);
  return p.identityKey;
}

/** The signed header of an envelope (the module comment gives its bytes); round 2's associated data. */
export function envelopeHeader(e: EnvelopeFields & { readonly round: CeremonyRound }): Uint8Array {
  return concatBytes(
    Uint8Array.of(CEREMONY_VERSION),
    e.ceremony,
    Uint8Array.of(e.threshold, e.parties.length),
    ...e.parties.flatMap((p) => [lengthPrefixed(p.party), p.identityKey]),
    Uint8Array.of(e.round),
    lengthPrefixed(e.from),
    lengthPrefixed(e.to),
  );
}

function payloadBytes(e: EnvelopeBody): Uint8Array {
  switch (e.round) {
    case 1:
      return concatBytes(Uint8Array.of(e.payload.commitments.length), ...e.payload.commitments, e.payload.proof, e.payload.ephemeralKey);
    case 2:
      return concatBytes(e.payload.nonce, e.payload.ciphertext);
    case 3:
      return e.payload.sharedKeyHash;
  }
}

/** The 32-byte message an envelope's signature signs. */
export function envelopeMessage(e: EnvelopeBody): Uint8Array {
  return taggedHash(ENVELOPE_TAG, envelopeHeader(e), payloadBytes(e));
}

/** Signs an envelope with the sender's identity secret key. */
export function signEnvelope(body: EnvelopeBody, identitySecret: bigint, rng: RandomSource = cryptoRandom): Envelope {
  return { ...body, signature: signSchnorr([envelopeMessage(body)], identitySecret, rng) } as Envelope;
}

const hex = (b: Uint8Array) => bytesToHex(b);

/**
 * Checks a received envelope against this party's view of the ceremony and
 * returns it: the same ceremony id, threshold, parties and identity keys; the
 * expected round; a sender that is another party (`from` if given); addressed to
 * `to`; signed by the sender's identity key. Each refusal is INVALID_ARGUMENT
 * naming what was wrong.
 */
export function openEnvelope<R extends CeremonyRound>(ctx: CeremonyContext, e: Envelope, expect: { round: R; to: string; from?: string }): Extract<Envelope, { round: R }> {
  const what = `the round ${e.round} envelope from ${JSON.stringify(e.from)}`;
  if (!equalBytes(e.ceremony, ctx.ceremony)) refuse(`${what} belongs to ceremony ${hex(e.ceremony)}, not to this ceremony ${hex(ctx.ceremony)} (replayed from another ceremony?)`);
  if (e.threshold !== ctx.threshold) refuse(`${what} is for a ${e.threshold}-of-n key, this ceremony makes a ${ctx.threshold}-of-n key`);
  const names = (ps: readonly PartyIdentity[]) => ps.map((p) => p.party).join(', ');
  if (names(e.parties) !== names(ctx.parties)) refuse(`${what} names the parties ${names(e.parties)}, this ceremony's are ${names(ctx.parties)}`);
  e.parties.forEach((p, i) => {
    const known = ctx.parties[i]!.identityKey;
    if (!equalBytes(p.identityKey, known)) {
      refuse(`${what} names ${p.party}'s identity key ${hex(p.identityKey)}, but ${p.party === expect.to ? 'this party\'s own key' : 'the key this party was given (--peer-key)'} is ${hex(known)}`);
    }
  });
  if (e.round !== expect.round) refuse(`${what} is a round ${e.round} message, expected round ${expect.round}`);
  if (e.to !== expect.to) refuse(`${what} is addressed to ${e.to}, not to ${expect.to}`);
  if (e.from === e.to) refuse(`${what} is addressed to its own sender`);
  if (expect.from !== undefined && e.from !== expect.from) refuse(`${what} was expected from ${expect.from}`);
  const key = identityOf(ctx, e.from);
  let valid = false;
  try {
    valid = verifySchnorr(key, envelopeMessage(e), e.signature);
  } catch {
    valid = false;
  }
  if (!valid) refuse(`${what} is not signed by ${e.from}'s identity key ${hex(key)} (signed by another key, or altered)`);
  if (e.round === 1 && e.payload.commitments.length !== ctx.threshold) {
    refuse(`${what} has ${e.payload.commitments.length} commitments, not ${ctx.threshold}`);
  }
  return e as Extract<Envelope, { round: R }>;
}

type Json = Record<string, unknown>;

function object(v: unknown, what: string, fields: readonly string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) refuse(`${what} expected a JSON object`);
  const o = v as Json;
  for (const k of Object.keys(o)) if (!fields.includes(k)) refuse(`${what} has an unknown field "${k}"`);
  for (const f of fields) if (!(f in o)) refuse(`${what} is missing "${f}"`);
  return o;
}

function hexField(v: unknown, what: string, length: number): Uint8Array {
  if (typeof v !== 'string') refuse(`${what} expected hex`);
  return hexToBytes(v, what, length);
}

function nameField(v: unknown, what: string): string {
  if (typeof v !== 'string') refuse(`${what} expected a party name`);
  checkFileSafeParty(v);
  return v;
}

/**
 * `{"version":1,"ceremony","threshold","parties":[{"party","identityKey"}…],"round","from","to","payload","signature"}`,
 * all bytes lowercase hex; the payload is `{"commitments":[…],"proof","ephemeralKey"}` (round 1),
 * `{"nonce","ciphertext"}` (round 2) or `{"sharedKeyHash"}` (round 3).
 */
export function envelopeToJson(e: Envelope): Json {
  const payload =
    e.round === 1
      ? { commitments: e.payload.commitments.map(hex), proof: hex(e.payload.proof), ephemeralKey: hex(e.payload.ephemeralKey) }
      : e.round === 2
        ? { nonce: hex(e.payload.nonce), ciphertext: hex(e.payload.ciphertext) }
        : { sharedKeyHash: hex(e.payload.sharedKeyHash) };
  return {
    version: CEREMONY_VERSION,
    ceremony: hex(e.ceremony),
    threshold: e.threshold,
    parties: e.parties.map((p) => ({ party: p.party, identityKey: hex(p.identityKey) })),
    round: e.round,
    from: e.from,
    to: e.to,
    payload,
    signature: hex(e.signature),
  };
}

/** Strict: unknown or missing fields, wrong lengths, points off the curve and unsorted parties are refused. */
export function envelopeFromJson(v: unknown): Envelope {
  const o = object(v, 'ceremony envelope', ['version', 'ceremony', 'threshold', 'parties', 'round', 'from', 'to', 'payload', 'signature']);
  if (o.version !== CEREMONY_VERSION) refuse(`ceremony envelope "version" expected ${CEREMONY_VERSION}, got ${JSON.stringify(o.version)}`);
  if (!Number.isSafeInteger(o.threshold) || (o.threshold as number) < 2 || (o.threshold as number) > 255) refuse('ceremony envelope "threshold" expected an integer 2 to 255');
  if (!Array.isArray(o.parties) || o.parties.length < 2 || o.parties.length > 255) refuse('ceremony envelope "parties" expected 2 to 255 entries');
  const parties = o.parties.map((p, i) => {
    const x = object(p, `ceremony envelope parties[${i}]`, ['party', 'identityKey']);
    return { party: nameField(x.party, `parties[${i}].party`), identityKey: hexField(x.identityKey, `parties[${i}].identityKey`, 32) };
  });
  for (let i = 1; i < parties.length; i++) if (byName(parties[i - 1]!, parties[i]!) >= 0) refuse('ceremony envelope "parties" expected distinct names in sorted order');
  const fields = {
    ceremony: hexField(o.ceremony, 'ceremony', CEREMONY_ID_BYTES),
    threshold: o.threshold as number,
    parties,
    from: nameField(o.from, 'from'),
    to: nameField(o.to, 'to'),
    signature: hexField(o.signature, 'signature', 64),
  };
  switch (o.round) {
    case 1: {
      const p = object(o.payload, 'round 1 payload', ['commitments', 'proof', 'ephemeralKey']);
      // The DKG's own strict parser checks the commitments and proof (lengths, on the curve).
      const dkg = dkgRound1FromJson({ party: fields.from, commitments: p.commitments, proof: p.proof });
      const ephemeralKey = hexField(p.ephemeralKey, 'ephemeralKey', 33);
      decodePoint(ephemeralKey, 'ephemeralKey');
      return { ...fields, round: 1, payload: { commitments: dkg.commitments, proof: dkg.proof, ephemeralKey } };
    }
    case 2: {
      const p = object(o.payload, 'round 2 payload', ['nonce', 'ciphertext']);
      return { ...fields, round: 2, payload: { nonce: hexField(p.nonce, 'nonce', NONCE_BYTES), ciphertext: hexField(p.ciphertext, 'ciphertext', SHARE_CIPHERTEXT_BYTES) } };
    }
    case 3: {
      const p = object(o.payload, 'round 3 payload', ['sharedKeyHash']);
      return { ...fields, round: 3, payload: { sharedKeyHash: hexField(p.sharedKeyHash, 'sharedKeyHash', 32) } };
    }
    default:
      return refuse(`ceremony envelope "round" expected 1, 2 or 3, got ${JSON.stringify(o.round)}`);
  }
}

/**
 * A deterministic byte stream from a 32-byte secret seed (HMAC-SHA256 in counter
 * mode, one stream per `label`), so the offline ceremony can rebuild a party's
 * round 1 state from the seed in its state file. Not for anything else.
 */
export function seededRandom(seed: Uint8Array, label: string): RandomSource {
  // Not copied, so a caller that wipes `seed` after drawing also wipes what this holds.
  const key = abytes(seed, 'seed', 32);
  let counter = 0;
  let block = new Uint8Array(0);
  let used = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let filled = 0; filled < length; ) {
      if (used === block.length) {
        const c = new Uint8Array(4);
        new DataView(c.buffer).setUint32(0, counter++);
        block = new Uint8Array(createHmac('sha256', key).update(RNG_TAG).update(lengthPrefixed(label)).update(c).digest());
        used = 0;
      }
      const n = Math.min(length - filled, block.length - used);
      out.set(block.subarray(used, used + n), filled);
      filled += n;
      used += n;
    }
    return out;
  };
}

/** The ECDH point s·P, compressed (33 bytes); constant time in `secret` (the backend's `mul`). */
function ecdh(secret: Uint8Array, peer33: Uint8Array): Uint8Array {
  return encodePoints(getGroup().mul(decodePoint(peer33, 'ephemeralKey'), secret));
}

/** Round 2's AES-256-GCM key from `from` to `to`: bound to the ceremony, both ephemeral keys and both names. */
export function round2Key(ctx: CeremonyContext, from: string, to: string, point: Uint8Array, fromEphemeral: Uint8Array, toEphemeral: Uint8Array): Uint8Array {
  return taggedHash(ROUND2_KEY_TAG, ctx.ceremony, point, fromEphemeral, toEphemeral, lengthPrefixed(from), lengthPrefixed(to));
}

/** AES-256-GCM of a 32-byte share under `key` with `header` as associated data: ciphertext ‖ tag (48 bytes). */
export function sealShare(key: Uint8Array, nonce: Uint8Array, header: Uint8Array, share: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  c.setAAD(header);
  const out = Buffer.concat([c.update(share), c.final(), c.getAuthTag()]);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** The share `sealShare` encrypted, or undefined when the tag does not verify. */
export function openShare(key: Uint8Array, nonce: Uint8Array, header: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
  if (ciphertext.length !== SHARE_CIPHERTEXT_BYTES) return undefined;
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  d.setAAD(header);
  d.setAuthTag(ciphertext.subarray(32));
  try {
    const out = Buffer.concat([d.update(ciphertext.subarray(0, 32)), d.final()]);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch {
    return undefined;
  }
}

/** SHA-256 of the shared key's canonical JSON (sharedKeyToJson, parties sorted by name, no whitespace): what round 3 confirms. */
export function sharedKeyDigest(key: SharedKey): Uint8Array {
  const json = sharedKeyToJson(key) as { parties: { party: string }[] };
  const canonical = { ...json, parties: [...json.parties].sort((a, b) => (a.party < b.party ? -1 : a.party > b.party ? 1 : 0)) };
  return new Uint8Array(createHash('sha256').update(JSON.stringify(canonical)).digest());
}

/** What a ceremony leaves one party with. */
export interface CeremonyResult {
  readonly key: SharedKey;
  readonly share: KeyShare;
  readonly record: CeremonyRecord;
}

/**
 * Checks every other party's round 3 confirmation (one each) against `digest`,
 * the hash of the key this party computed; refuses one that differs.
 */
export function checkConfirmations(ctx: CeremonyContext, party: string, digest: Uint8Array, received: readonly Envelope[]): void {
  for (const e of oneFromEachPeer(ctx, party, received, 3)) {
    if (!equalBytes(e.payload.sharedKeyHash, digest)) {
      refuse(`${e.from}'s key confirmation ${hex(e.payload.sharedKeyHash)} does not match this party's key (${hex(digest)}): the parties did not end with the same key, so none is kept`);
    }
  }
}

/** Opens `received` as round `round` messages to `party`, exactly one from each other party, in the context's order. */
function oneFromEachPeer<R extends CeremonyRound>(ctx: CeremonyContext, party: string, received: readonly Envelope[], round: R): Extract<Envelope, { round: R }>[] {
  if (!Array.isArray(received)) refuse(`round ${round} messages expected an array`);
  const opened = received.map((e) => openEnvelope(ctx, e, { round, to: party }));
  return ctx.parties
    .filter((p) => p.party !== party)
    .map((p) => {
      const from = opened.filter((e) => e.from === p.party);
      if (from.length !== 1) refuse(`round ${round}: expected one message from ${p.party}, got ${from.length}`);
      return from[0]!;
    });
}

type Step = 'round1' | 'round2' | 'round3' | 'finish' | 'done' | 'failed';

/**
 * One party of a ceremony, transport-agnostic: `round1()`, then `round2`,
 * `round3` and `finish` with the other parties' messages of the round before,
 * each returning this party's messages for the next. A message that is refused
 * before anything changed (a bad envelope, signature or ciphertext) leaves the
 * session where it was, so the right message may still follow; a failure of the
 * key generation itself (a bad proof, a share off its commitments, a different
 * confirmed key) ends it (`failed`).
 *
 * The DKG's and the ephemeral key's randomness come from `seed` (see
 * `seededRandom`), so the same seed rebuilds the same round 1.
 */
export class CeremonySession {
  readonly ctx: CeremonyContext;
  readonly party: string;
  /** This party's ephemeral public key (33 bytes), sent in round 1. */
  readonly ephemeralKey: Uint8Array;
  private readonly identity: SigningKey;
  private readonly dkg: DkgParticipant;
  private ephemeralSecret: Uint8Array;
  private readonly peerEphemeral = new Map<string, Uint8Array>();
  private step: Step = 'round1';
  private outcome: { key: SharedKey; share: KeyShare; digest: Uint8Array } | undefined;

  constructor(ctx: CeremonyContext, party: string, identity: SigningKey, seed: Uint8Array) {
    this.ctx = ctx;
    this.party = party;
    if (!equalBytes(identityOf(ctx, party), identity.publicKey)) refuse(`this party's identity key is not the one the ceremony names for ${party}`);
    this.identity = identity;
    const names = ctx.parties.map((p) => p.party);
    // All randomness is drawn here; then this copy of the seed is wiped (the caller keeps its own
    // only for the offline state file).
    const own = abytes(seed, 'seed', 32).slice();
    try {
      this.dkg = new DkgParticipant(party, names, ctx.threshold, seededRandom(own, 'dkg'));
      this.ephemeralSecret = scalarToBytes(randomScalar(seededRandom(own, 'ephemeral')));
    } finally {
      own.fill(0);
    }
    this.ephemeralKey = encodePoints(getGroup().mulGen(this.ephemeralSecret));
  }

  /** Whether the key generation failed (start a new ceremony). */
  get failed(): boolean {
    return this.step === 'failed';
  }

  /** The key and share after round 3 (before the confirmations are checked). */
  get result(): { key: SharedKey; share: KeyShare; digest: Uint8Array } {
    if (this.outcome === undefined) refuse(`ceremony party ${this.party}: no key yet (at ${this.step})`);
    return this.outcome;
  }

  private at(step: Step): void {
    if (this.step !== step) refuse(`ceremony party ${this.party}: ${step} called at ${this.step}`);
  }

  private peers(): string[] {
    return this.ctx.parties.map((p) => p.party).filter((p) => p !== this.party);
  }

  /** Round 1 to every other party: the DKG commitments and proof, and this party's ephemeral key. */
  round1(): Envelope[] {
    this.at('round1');
    const r1 = this.dkg.round1();
    this.step = 'round2';
    return this.peers().map((to) => signEnvelope({ ...this.ctx, from: this.party, to, round: 1, payload: { commitments: r1.commitments, proof: r1.proof, ephemeralKey: this.ephemeralKey } }, this.identity.secretKey));
  }

  /** Given every other party's round 1, this party's encrypted DKG share for each of them. */
  round2(received: readonly Envelope[]): Envelope[] {
    this.at('round2');
    const opened = oneFromEachPeer(this.ctx, this.party, received, 1);
    const packages: DkgRound1[] = opened.map((e) => ({ party: e.from, commitments: e.payload.commitments, proof: e.payload.proof }));
    let out: DkgRound2[];
    try {
      out = this.dkg.round2(packages);
    } catch (e) {
      this.fail();
      throw e;
    }
    for (const e of opened) this.peerEphemeral.set(e.from, e.payload.ephemeralKey.slice());
    this.step = 'round3';
    return out.map((r) => {
      const fields = { ...this.ctx, from: this.party, to: r.to, round: 2 as const };
      const header = envelopeHeader(fields);
      const peerKey = this.peerEphemeral.get(r.to)!;
      const point = ecdh(this.ephemeralSecret, peerKey);
      const key = round2Key(this.ctx, this.party, r.to, point, this.ephemeralKey, peerKey);
      const nonce = cryptoRandom(NONCE_BYTES);
      const ciphertext = sealShare(key, nonce, header, r.share);
      for (const b of [point, key, r.share]) b.fill(0);
      return signEnvelope({ ...fields, payload: { nonce, ciphertext } }, this.identity.secretKey);
    });
  }

  /** Given every other party's round 2, this party's share and key, and its key confirmation for each of them. */
  round3(received: readonly Envelope[]): Envelope[] {
    this.at('round3');
    const opened = oneFromEachPeer(this.ctx, this.party, received, 2);
    // Decrypt all before anything changes: a refused ciphertext leaves the session as it was.
    const shares: DkgRound2[] = opened.map((e) => {
      const peerKey = this.peerEphemeral.get(e.from)!;
      const point = ecdh(this.ephemeralSecret, peerKey);
      const key = round2Key(this.ctx, e.from, this.party, point, peerKey, this.ephemeralKey);
      const share = openShare(key, e.payload.nonce, envelopeHeader(e), e.payload.ciphertext);
      point.fill(0);
      key.fill(0);
      if (share === undefined) refuse(`the round 2 share from ${e.from} does not decrypt: its ciphertext was altered, or it was not encrypted to this party's round 1 key`);
      return { from: e.from, to: this.party, share };
    });
    // Forward secrecy: the ephemeral secret has done its work.
    this.wipeEphemeral();
    let result: { key: SharedKey; share: KeyShare };
    try {
      result = this.dkg.round3(shares);
    } catch (e) {
      this.fail();
      throw e;
    } finally {
      for (const s of shares) s.share.fill(0);
    }
    this.outcome = { ...result, digest: sharedKeyDigest(result.key) };
    this.step = 'finish';
    return this.peers().map((to) => signEnvelope({ ...this.ctx, from: this.party, to, round: 3, payload: { sharedKeyHash: this.outcome!.digest } }, this.identity.secretKey));
  }

  /** Given every other party's confirmation: the key, this party's share and the ceremony's record. */
  finish(received: readonly Envelope[]): CeremonyResult {
    this.at('finish');
    const { key, share, digest } = this.result;
    try {
      checkConfirmations(this.ctx, this.party, digest, received);
    } catch (e) {
      // A signed confirmation of another key ends the ceremony; a message that is not one leaves it open.
      if (e instanceof ZkmeterError && /does not match this party's key/.test(e.message)) this.fail();
      throw e;
    }
    this.step = 'done';
    return { key, share, record: ceremonyRecord(this.ctx) };
  }

  /** Wipes what this session holds of a ceremony that will not finish. */
  abort(): void {
    if (this.step !== 'done') this.fail();
  }

  private wipeEphemeral(): void {
    this.ephemeralSecret.fill(0);
    this.ephemeralSecret = new Uint8Array(0);
  }

  private fail(): void {
    this.dkg.abort();
    this.wipeEphemeral();
    this.outcome = undefined;
    this.step = 'failed';
  }
}

/** What parties.json records of a ceremony. */
export function ceremonyRecord(ctx: CeremonyContext): CeremonyRecord {
  return { ceremony: ctx.ceremony.slice(), identities: new Map(ctx.parties.map((p) => [p.party, p.identityKey.slice()])) };
}

// ---------------------------------------------------------------- HTTP transport

/** How long a listener that committed keeps answering repeats, unless the client's "done" comes first: longer than the client's default retries. */
export const CEREMONY_GRACE_MS = 60_000;
/** The client's attempts at one round's POST when the transport fails. */
export const CEREMONY_ATTEMPTS = 5;
/** The client's wait before a round's 2nd attempt, doubled before each later one (5 attempts: 0.5 + 1 + 2 + 4 s). */
export const CEREMONY_RETRY_DELAY_MS = 500;
/** The client's limit on one attempt (no bytes for this long). 5 × 10 s + 7.5 s of backoff < CEREMONY_GRACE_MS. */
export const CEREMONY_ATTEMPT_TIMEOUT_MS = 10_000;

/** A refusal with an HTTP status, answered as {"error":{"code","message"}}. */
class CeremonyHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What both transports' ends are told. */
export interface CeremonyPartyOptions {
  /** This party's name and identity key (from its identity.key.json). */
  readonly party: string;
  readonly identity: SigningKey;
  /** The other party's name and identity key (told out of band: --peer-key). */
  readonly peer: PartyIdentity;
  /** Default 2. */
  readonly threshold?: number;
  /** Stop with an error after this long. */
  readonly timeoutMs: number;
  /** Writes the party's key files once the ceremony succeeded; returns their paths. */
  readonly commit: (result: CeremonyResult) => string[];
}

export interface CeremonyOutcome {
  readonly result: CeremonyResult;
  readonly files: string[];
}

export interface ListenOptions extends CeremonyPartyOptions {
  readonly host: string;
  readonly port: number;
  /** PEM certificate and key: serve HTTPS. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Called once, with the URL actually bound (port 0 picks one). */
  readonly onListening?: (url: string) => void;
  /** Called for every refused request (a log line, say). */
  readonly onRefused?: (status: number, code: string, message: string) => void;
  /**
   * After committing, how long to keep answering repeats of the envelopes answered (the
   * client may not have received this party's round 3) before stopping, unless the client's
   * signed "done" comes first. Default `CEREMONY_GRACE_MS` (60 s).
   */
  readonly graceMs?: number;
}

function contextFor(o: CeremonyPartyOptions, ceremony: Uint8Array): CeremonyContext {
  return ceremonyContext(ceremony, [{ party: o.party, identityKey: o.identity.publicKey }, o.peer], o.threshold ?? 2);
}

function formatUrl(scheme: string, a: AddressInfo): string {
  return `${scheme}://${a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
}

/** Reads a request body of at most `limit` bytes; a larger one is drained and refused (413), so the client sees the answer. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else if (size > 16 * limit) req.destroy(); // not worth draining
    });
    req.on('end', () => (size > limit ? reject(new CeremonyHttpError(413, 'BODY_TOO_LARGE', `the body is ${size} bytes; at most ${limit} are accepted`)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
    req.on('close', () => reject(new CeremonyHttpError(400, 'INVALID_REQUEST', 'the request was aborted')));
  });
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  sendText(res, status, JSON.stringify(body));
}

/** An envelope's canonical wire text: what a repeat is recognised by, and the exact bytes of a reply. */
const wireText = (e: Envelope): string => JSON.stringify(envelopeToJson(e));

/** The 32-byte message a "done" signs: the sender's round 3 header and the key it confirmed (see the module comment). */
function doneMessage(ctx: CeremonyContext, from: string, to: string, sharedKeyHash: Uint8Array): Uint8Array {
  return taggedHash(DONE_TAG, envelopeHeader({ ...ctx, from, to, round: 3 }), sharedKeyHash);
}

/**
 * The body of the client's last POST, `{"done":{"version":1,"ceremony","from","to","sharedKeyHash","signature"}}`
 * (bytes as lowercase hex): `from` has the confirmation of the key `sharedKeyHash` of this
 * ceremony and needs no more repeats, so `to` may stop. Signed by `from`'s identity key.
 */
export function ceremonyDoneJson(ctx: CeremonyContext, from: string, to: string, sharedKeyHash: Uint8Array, identitySecret: bigint, rng: RandomSource = cryptoRandom): Json {
  identityOf(ctx, from);
  identityOf(ctx, to);
  abytes(sharedKeyHash, 'sharedKeyHash', 32);
  const signature = signSchnorr([doneMessage(ctx, from, to, sharedKeyHash)], identitySecret, rng);
  return { done: { version: CEREMONY_VERSION, ceremony: hex(ctx.ceremony), from, to, sharedKeyHash: hex(sharedKeyHash), signature: hex(signature) } };
}

const isDoneBody = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, 'done');

/** Checks a "done" body against the ceremony `to` finished with the key digest `digest`; refuses (INVALID_ARGUMENT) anything else. */
function checkDone(ctx: CeremonyContext, to: string, digest: Uint8Array, v: unknown): void {
  const d = object(object(v, 'ceremony done message', ['done']).done, 'ceremony done message "done"', ['version', 'ceremony', 'from', 'to', 'sharedKeyHash', 'signature']);
  if (d.version !== CEREMONY_VERSION) refuse(`ceremony done message "version" expected ${CEREMONY_VERSION}, got ${JSON.stringify(d.version)}`);
  const ceremony = hexField(d.ceremony, 'ceremony', CEREMONY_ID_BYTES);
  const from = nameField(d.from, 'from');
  const addressed = nameField(d.to, 'to');
  const sharedKeyHash = hexField(d.sharedKeyHash, 'sharedKeyHash', 32);
  const signature = hexField(d.signature, 'signature', 64);
  const what = `the done message from ${JSON.stringify(from)}`;
  if (!equalBytes(ceremony, ctx.ceremony)) refuse(`${what} belongs to ceremony ${hex(ceremony)}, not to this ceremony ${hex(ctx.ceremony)}`);
  if (addressed !== to) refuse(`${what} is addressed to ${addressed}, not to ${to}`);
  if (from === to) refuse(`${what} is addressed to its own sender`);
  const key = identityOf(ctx, from);
  if (!equalBytes(sharedKeyHash, digest)) refuse(`${what} confirms the key ${hex(sharedKeyHash)}, not this ceremony's ${hex(digest)}`);
  let valid = false;
  try {
    valid = verifySchnorr(key, doneMessage(ctx, from, to, sharedKeyHash), signature);
  } catch {
    valid = false;
  }
  if (!valid) refuse(`${what} is not signed by ${from}'s identity key ${hex(key)} (signed by another key, or altered)`);
}

/**
 * Serves one ceremony as the party that waits (`zkmeter keys dkg --listen`):
 * POST /v1/ceremony with this party's envelope of each round in the response.
 * A validly signed round 1 from the peer (re)starts the ceremony, so a peer that
 * restarted can begin again (a replayed old round 1 can only restart it too: its
 * round 2 cannot decrypt under this party's fresh ephemeral key); a bad request
 * gets a 4xx {"error":{"code","message"}} and the listener keeps waiting. An
 * envelope identical to one already answered in the current ceremony gets the
 * identical reply and changes nothing (so the client may retry any round). Key
 * files are written (`commit`) after the peer's confirmation checked and before
 * this party's is sent; then the listener only answers repeats, for `graceMs` or
 * until the peer's signed "done", and this resolves once the server closed.
 * Rejects after `timeoutMs` without a finished ceremony.
 */
export async function listenForCeremony(o: ListenOptions): Promise<CeremonyOutcome> {
  // Check the parties once now, so a bad --peer-key is refused before anything listens.
  contextFor(o, new Uint8Array(CEREMONY_ID_BYTES));
  const graceMs = o.graceMs ?? CEREMONY_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < 0) refuse(`graceMs expected a non-negative number of milliseconds, got ${graceMs}`);
  // The replies as wire text, each made once, so a repeat gets the very bytes the first answer had.
  let session: { s: CeremonySession; round1: string; round2: string; round3?: string } | undefined;
  // The envelopes answered 200 in the current ceremony (by wire text) and the reply each got.
  // Invariant: only envelopes that verified and were answered in the ceremony `session` runs (or,
  // once `finished`, the one that finished); emptied whenever that ceremony restarts or fails, so
  // a repeat can never reach into another ceremony.
  const answered = new Map<string, string>();
  // Set once the key files are written; from then on only repeats and the peer's "done" are answered,
  // and nothing restarts or is written again.
  let finished: { ctx: CeremonyContext; digest: Uint8Array; outcome: CeremonyOutcome } | undefined;
  let settle: { resolve: (x: CeremonyOutcome) => void; reject: (e: unknown) => void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let grace: NodeJS.Timeout | undefined;
  let stopped = false;

  const handle = (e: Envelope, request: string): { reply: string; finish?: { result: CeremonyResult; ctx: CeremonyContext; digest: Uint8Array } } => {
    // A repeat (the client's retry after a lost reply): answered as before, nothing runs again.
    // Its bytes are the ones that verified the first time, signature included.
    const again = answered.get(request);
    if (again !== undefined) return { reply: again };
    if (finished !== undefined) {
      throw new CeremonyHttpError(409, 'CEREMONY_FINISHED', `ceremony ${hex(finished.ctx.ceremony)} is finished and ${o.party}'s key files are written: this listener only answers repeats of the envelopes it answered, and this round ${e.round} envelope is not one`);
    }
    if (e.round === 1) {
      const ctx = contextFor(o, e.ceremony);
      openEnvelope(ctx, e, { round: 1, to: o.party, from: o.peer.party });
      session?.s.abort();
      session = undefined;
      answered.clear();
      const s = new CeremonySession(ctx, o.party, o.identity, cryptoRandom(32));
      const [round1] = s.round1();
      const [round2] = s.round2([e]); // checks the peer's proof now; a bad one fails here
      session = { s, round1: wireText(round1!), round2: wireText(round2!) };
      answered.set(request, session.round1);
      return { reply: session.round1 };
    }
    if (session === undefined) throw new CeremonyHttpError(409, 'NO_CEREMONY', `no ceremony is in progress: round ${e.round} needs round 1 first`);
    const current = session;
    try {
      if (e.round === 2) {
        const [round3] = current.s.round3([e]);
        current.round3 = wireText(round3!);
        answered.set(request, current.round2);
        return { reply: current.round2 };
      }
      const result = current.s.finish([e]);
      session = undefined;
      // Not in `answered` yet: that waits for the commit, whose failure ends the listener.
      return { reply: current.round3!, finish: { result, ctx: current.s.ctx, digest: current.s.result.digest } };
    } catch (err) {
      if (current.s.failed) {
        session = undefined;
        answered.clear();
      }
      if (err instanceof ZkmeterError && /called at/.test(err.message)) throw new CeremonyHttpError(409, 'OUT_OF_ORDER', err.message);
      throw err;
    }
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void (async () => {
      try {
        const pathname = (req.url ?? '').split('?')[0];
        if (pathname !== CEREMONY_PATH) throw new CeremonyHttpError(404, 'NOT_FOUND', `no route ${req.method} ${pathname}: POST ${CEREMONY_PATH}`);
        if (req.method !== 'POST') throw new CeremonyHttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} ${CEREMONY_PATH}: only POST`);
        const body = await readBody(req, MAX_CEREMONY_BODY);
        let v: unknown;
        try {
          v = JSON.parse(body.toString('utf8'));
        } catch {
          throw new CeremonyHttpError(400, 'INVALID_REQUEST', 'the body is not JSON: expected a ceremony envelope');
        }
        if (isDoneBody(v)) {
          const f = finished;
          if (f === undefined) throw new CeremonyHttpError(409, 'NO_CEREMONY', 'no ceremony is finished here: "done" follows the round 3 exchange');
          checkDone(f.ctx, o.party, f.digest, v);
          res.once('close', () => settle?.resolve(f.outcome));
          send(res, 200, { done: hex(f.ctx.ceremony) });
          return;
        }
        const envelope = envelopeFromJson(v);
        const request = wireText(envelope);
        const { reply, finish } = handle(envelope, request);
        if (finish !== undefined) {
          let files: string[];
          try {
            files = o.commit(finish.result);
          } catch (e) {
            // The ceremony succeeded but its files cannot be written: tell the peer (which then keeps
            // nothing either) and stop, since this ceremony cannot be finished again.
            const message = `the ceremony succeeded, but ${o.party} could not write its key files: ${(e as Error).message}`;
            send(res, 500, { error: { code: 'COMMIT_FAILED', message } });
            settle?.reject(e);
            return;
          }
          // Written: the peer may still miss this reply, so answer its repeats for a while.
          answered.set(request, reply);
          const outcome = { result: finish.result, files };
          finished = { ctx: finish.ctx, digest: finish.digest, outcome };
          clearTimeout(timer);
          // Counted from the reply's end, so even a zero grace never cuts this reply short.
          res.once('close', () => {
            if (!stopped) grace = setTimeout(() => settle?.resolve(outcome), graceMs);
          });
        }
        sendText(res, 200, reply);
      } catch (e) {
        const [status, code, message] =
          e instanceof CeremonyHttpError ? [e.status, e.code, e.message] : e instanceof ZkmeterError ? [400, e.code, e.message] : [500, 'INTERNAL', `internal error: ${(e as Error).message}`];
        o.onRefused?.(status, code, message);
        if (!res.headersSent && !res.destroyed) send(res, status, { error: { code, message } });
      }
    })();
  };

  const server = o.tls !== undefined ? https.createServer({ cert: o.tls.cert, key: o.tls.key }, handler) : http.createServer(handler);
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(grace);
    server.close();
    server.closeAllConnections();
  };
  o.onListening?.(formatUrl(o.tls !== undefined ? 'https' : 'http', server.address() as AddressInfo));
  return new Promise<CeremonyOutcome>((resolve, reject) => {
    timer = setTimeout(() => {
      session?.s.abort();
      settle?.reject(new ZkmeterError('INVALID_ARGUMENT', `no key ceremony completed within ${Math.round(o.timeoutMs / 1000)} s: nothing was written`));
    }, o.timeoutMs);
    // Once only: the grace period's end and a "done" (or two) may both come.
    settle = {
      resolve: (x) => {
        if (stopped) return;
        stop();
        resolve(x);
      },
      reject: (e) => {
        if (stopped) return;
        stop();
        reject(e);
      },
    };
  });
}

export interface ConnectOptions extends CeremonyPartyOptions {
  /** The listener's base URL, as it printed it (http:// or https://). */
  readonly url: string;
  /** PEM CA certificate(s) to trust for an https:// listener. */
  readonly ca?: string | Buffer;
  /**
   * Attempts at each round's POST when the transport fails (connection refused or reset, no
   * answer within `attemptTimeoutMs`, HTTP 5xx other than COMMIT_FAILED); default
   * `CEREMONY_ATTEMPTS` (5). Every attempt sends the same bytes.
   */
  readonly attempts?: number;
  /** The wait before a round's 2nd attempt, doubled before each later one; default `CEREMONY_RETRY_DELAY_MS` (500 ms). */
  readonly retryDelayMs?: number;
  /** One attempt's limit (no bytes for this long); default `CEREMONY_ATTEMPT_TIMEOUT_MS` (10 s). Everything stays within `timeoutMs`. */
  readonly attemptTimeoutMs?: number;
}

/** Socket errors worth another attempt: the peer may answer a moment later, and a repeat costs nothing. */
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN']);

/** A POST that got no usable answer: `why` for the message, `transient` when another attempt may do better. */
class PostFailure extends Error {
  constructor(
    readonly why: string,
    readonly transient: boolean,
  ) {
    super(why);
  }
}

const formatMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 1000)} s`);

/** POSTs one JSON body and reads a bounded JSON response; rejects with a `PostFailure`. */
function post(url: URL, body: string, o: { ca?: string | Buffer; timeoutMs: number }): Promise<{ status: number; body: unknown }> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string, transient: boolean) => {
      if (settled) return;
      settled = true;
      reject(new PostFailure(why, transient));
    };
    const req = mod.request(
      url,
      {
        method: 'POST',
        agent: false,
        timeout: o.timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        ...(o.ca !== undefined ? { ca: o.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_CEREMONY_BODY) {
            fail(`the response is larger than ${MAX_CEREMONY_BODY} bytes`, false);
            res.destroy();
          } else chunks.push(c);
        });
        // A response cut short (the connection reset mid-body) is ECONNRESET: transient.
        res.on('error', (e: NodeJS.ErrnoException) => fail(e.message, TRANSIENT.has(e.code ?? '')));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // A proxy's 502 page, say.
            return fail(`HTTP ${res.statusCode}, and the response is not JSON`, status >= 500);
          }
          if (settled) return;
          settled = true;
          resolve({ status, body: parsed });
        });
      },
    );
    req.on('timeout', () => {
      fail(`no answer within ${formatMs(o.timeoutMs)}`, true);
      req.destroy();
    });
    // TLS failures (an untrusted certificate) are not transient: another attempt gets the same.
    req.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message, TRANSIENT.has(e.code ?? '')));
    req.end(body);
  });
}

/**
 * Runs one ceremony as the party that starts it (`zkmeter keys dkg --peer URL`):
 * picks the ceremony id, POSTs its envelope of each round to the listener and
 * checks the listener's in the response; writes the key files (`commit`) once
 * the listener's confirmation checked, then tells the listener it is done (one
 * best-effort signed POST). A round's POST that fails in transport is sent again,
 * the same bytes, up to `attempts` times (the listener answers a repeat as it
 * answered the first), so a lost reply, the round 3 one included, costs nothing.
 */
export async function runCeremonyClient(o: ConnectOptions): Promise<CeremonyOutcome> {
  let base: URL;
  try {
    base = new URL(o.url);
  } catch {
    refuse(`--peer ${JSON.stringify(o.url)} is not a URL (expected http://HOST:PORT or https://HOST:PORT)`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') refuse(`--peer ${o.url}: expected an http:// or https:// URL`);
  const attempts = o.attempts ?? CEREMONY_ATTEMPTS;
  const retryDelayMs = o.retryDelayMs ?? CEREMONY_RETRY_DELAY_MS;
  const attemptTimeoutMs = o.attemptTimeoutMs ?? CEREMONY_ATTEMPT_TIMEOUT_MS;
  if (!Number.isSafeInteger(attempts) || attempts < 1) refuse(`attempts expected an integer of at least 1, got ${attempts}`);
  if (!Number.isFinite(retryDelayMs) || retryDelayMs < 0) refuse(`retryDelayMs expected a non-negative number of milliseconds, got ${retryDelayMs}`);
  if (!Number.isFinite(attemptTimeoutMs) || attemptTimeoutMs <= 0) refuse(`attemptTimeoutMs expected a positive number of milliseconds, got ${attemptTimeoutMs}`);
  const endpoint = new URL(CEREMONY_PATH.slice(1), base.href.endsWith('/') ? base.href : base.href + '/');
  const ctx = contextFor(o, newCeremonyId());
  const s = new CeremonySession(ctx, o.party, o.identity, cryptoRandom(32));
  const deadline = Date.now() + o.timeoutMs;
  const tls = o.ca !== undefined ? { ca: o.ca } : {};
  const attemptTimeout = () => Math.max(1, Math.min(attemptTimeoutMs, deadline - Date.now()));
  /** Waits before attempt `attempt + 1`; false when there is to be none (attempts or time used up). */
  const backoff = async (attempt: number): Promise<boolean> => {
    if (attempt >= attempts) return false;
    const wait = retryDelayMs * 2 ** (attempt - 1);
    if (Date.now() + wait >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, wait));
    return true;
  };
  const exchange = async (mine: Envelope): Promise<Envelope> => {
    // One text for every attempt: the listener recognises a repeat by these bytes.
    const text = wireText(mine);
    for (let attempt = 1; ; attempt++) {
      const tries = attempt > 1 ? ` (${attempt} attempts)` : '';
      let r: { status: number; body: unknown };
      try {
        r = await post(endpoint, text, { ...tls, timeoutMs: attemptTimeout() });
      } catch (e) {
        if (!(e instanceof PostFailure)) throw e;
        if (e.transient && (await backoff(attempt))) continue;
        refuse(`cannot reach the peer at ${endpoint.origin}: ${e.why}${tries}`);
      }
      if (r.status !== 200) {
        const err = (r.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
        // A 4xx is the listener's verdict on this envelope, and COMMIT_FAILED is final: neither is retried.
        if (r.status >= 500 && err?.code !== 'COMMIT_FAILED' && (await backoff(attempt))) continue;
        refuse(`the peer refused round ${mine.round} (HTTP ${r.status} ${String(err?.code ?? '')}): ${String(err?.message ?? 'no reason given')}${tries}`);
      }
      return envelopeFromJson(r.body);
    }
  };
  try {
    const r1 = await exchange(s.round1()[0]!);
    const r2 = await exchange(s.round2([r1])[0]!);
    const r3 = await exchange(s.round3([r2])[0]!);
    const result = s.finish([r3]);
    try {
      return { result, files: o.commit(result) };
    } finally {
      // Once, best effort, whatever the commit did: this party needs no more repeats. If it is
      // lost, the listener (which has written its files) only stays up for its grace period.
      const done = JSON.stringify(ceremonyDoneJson(ctx, o.party, o.peer.party, s.result.digest, o.identity.secretKey));
      await post(endpoint, done, { ...tls, timeoutMs: attemptTimeout() }).catch(() => undefined);
    }
  } finally {
    s.abort();
  }
}
