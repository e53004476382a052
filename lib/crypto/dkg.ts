/**
 * The distributed key generation one party at a time: what each party runs on
 * its own machine, exchanging serialized round packages with the others, so
 * that no process ever holds two shares (threshold.ts runs all parties in one
 * process only for tests and single-operator mode, through this same code).
 *
 * The protocol is the Pedersen-style DKG with Feldman VSS commitments and
 * proofs of knowledge of RFC 9591's FROST (Komlo, Goldberg 2020, §5.1), as
 * implemented by @noble/curves' `secp256k1_FROST.DKG`, without BIP340's even-Y
 * adjustment (so the shares reconstruct exactly the x behind Y = x·G):
 *  1. each party broadcasts `DkgRound1` (its VSS commitments to a random
 *     polynomial of degree t − 1 and a proof of knowledge of its constant term);
 *  2. after checking every other party's round 1, each party sends every other
 *     party j, **privately and authenticated**, `DkgRound2`: its polynomial's
 *     value at id_j (a secret);
 *  3. each party checks every share it received against the sender's
 *     commitments and sums them into its own share x_i; the public key Y and
 *     every verifying share Y_j follow from the commitments alone.
 * A party that sends inconsistent packages is caught in round 2 (a bad proof
 * of knowledge) or round 3 (a share off its commitments): `INVALID_ARGUMENT`
 * naming it.
 *
 * Wire forms (`dkgRound1ToJson`, `dkgRound2ToJson`): JSON with lowercase hex,
 * strict on input (unknown fields, wrong lengths, points off the curve refused).
 * @module
 */
import { secp256k1_FROST as FROST } from '@noble/curves/secp256k1.js';
import { ZkmeterError } from '../errors.js';
import { bytesToBigint, equalBytes } from '../backend/bytes.js';
import { bytesToHex, decodePoint, hexToBytes } from './codec.js';
import { cryptoRandom, type RandomSource } from './random.js';
import type { KeyShare, SharedKey } from './threshold.js';

const PARTY_PATTERN = /^[\x21-\x7e]{1,64}$/;

/** Round 1, broadcast: a party's VSS commitments (t compressed points) and proof of knowledge (65 bytes). */
export interface DkgRound1 {
  readonly party: string;
  readonly commitments: readonly Uint8Array[];
  readonly proof: Uint8Array;
}

/** Round 2, private from `from` to `to`: the sender's polynomial at the receiver's identifier. Secret. */
export interface DkgRound2 {
  readonly from: string;
  readonly to: string;
  /** 32-byte scalar. */
  readonly share: Uint8Array;
}

type Step = 'round1' | 'round2' | 'round3' | 'done';

/** Checks DKG parameters: 2 to 255 distinct names of 1–64 printable ASCII characters, 2 ≤ threshold ≤ n. */
export function validateDkgParties(parties: readonly string[], threshold: number): void {
  if (!Array.isArray(parties) || parties.length < 2 || parties.length > 255) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"parties" expected 2 to 255 names, got ${Array.isArray(parties) ? parties.length : typeof parties}`);
  }
  parties.forEach((p, i) => {
    if (typeof p !== 'string' || !PARTY_PATTERN.test(p)) throw new ZkmeterError('INVALID_ARGUMENT', `"parties[${i}]" expected 1 to 64 printable ASCII characters`);
  });
  if (new Set(parties).size !== parties.length) throw new ZkmeterError('INVALID_ARGUMENT', '"parties" must be distinct');
  if (!Number.isSafeInteger(threshold) || threshold < 2 || threshold > parties.length) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"threshold" expected 2 <= t <= ${parties.length}, got ${String(threshold)}`);
  }
}

/**
 * One party of the key generation. Call `round1`, `round2` and `round3` once
 * each, in order; the object holds the party's secret polynomial between rounds
 * and wipes it after round 3 (or on `abort`).
 */
export class DkgParticipant {
  readonly party: string;
  readonly parties: readonly string[];
  readonly threshold: number;
  private readonly ids: ReadonlyMap<string, string>;
  private readonly secret: ReturnType<typeof FROST.DKG.round1>['secret'];
  private readonly own: ReturnType<typeof FROST.DKG.round1>['public'];
  private received1: ReturnType<typeof FROST.DKG.round1>['public'][] = [];
  private step: Step = 'round1';

  constructor(party: string, parties: readonly string[], threshold: number, rng: RandomSource = cryptoRandom) {
    validateDkgParties(parties, threshold);
    if (!parties.includes(party)) throw new ZkmeterError('INVALID_ARGUMENT', `party ${JSON.stringify(party)} is not one of the parties`);
    this.party = party;
    this.parties = [...parties];
    this.threshold = threshold;
    this.ids = new Map(parties.map((p) => [p, FROST.Identifier.derive(p)]));
    // noble asks its randomness as (bytesLength = 32) => bytes.
    const r = FROST.DKG.round1(this.ids.get(party)!, { min: threshold, max: parties.length }, undefined, (n = 32) => rng(n) as Uint8Array<ArrayBuffer>);
    this.secret = r.secret;
    this.own = r.public;
  }

  private advance(from: Step, to: Step): void {
    if (this.step !== from) throw new ZkmeterError('INVALID_ARGUMENT', `DKG party ${this.party}: ${from} called at ${this.step}`);
    this.step = to;
  }

  private others(): string[] {
    return this.parties.filter((p) => p !== this.party);
  }

  /** This party's broadcast. */
  round1(): DkgRound1 {
    this.advance('round1', 'round2');
    return { party: this.party, commitments: this.own.commitment.map((c) => c.slice()), proof: this.own.proofOfKnowledge.slice() };
  }

  /** Given every other party's round 1, the private package for each other party. */
  round2(others: readonly DkgRound1[]): DkgRound2[] {
    this.advance('round2', 'round3');
    const byParty = exactlyOnce(others, (x) => x.party, this.others(), 'round 1 packages');
    this.received1 = this.others().map((p) => {
      const x = byParty.get(p)!;
      if (x.commitments.length !== this.threshold) this.fail(`party ${p}'s round 1 has ${x.commitments.length} commitments, not ${this.threshold}`);
      return { identifier: this.ids.get(p)!, commitment: x.commitments.map((c) => c.slice()), proofOfKnowledge: x.proof.slice() };
    });
    let out: Record<string, { identifier: string; signingShare: Uint8Array }>;
    try {
      out = FROST.DKG.round2(this.secret, this.received1);
    } catch (e) {
      this.fail(`a round 1 package does not verify (${(e as Error).message})`);
    }
    return this.others().map((p) => ({ from: this.party, to: p, share: out[this.ids.get(p)!]!.signingShare.slice() }));
  }

  /** Given the package every other party sent this one, its key share and the shared public key. */
  round3(received: readonly DkgRound2[]): { key: SharedKey; share: KeyShare } {
    this.advance('round3', 'done');
    for (const r of received) if (r.to !== this.party) this.fail(`a round 2 package from ${r.from} is addressed to ${r.to}`);
    const byParty = exactlyOnce(received, (x) => x.from, this.others(), 'round 2 packages');
    let key: ReturnType<typeof FROST.DKG.round3>;
    try {
      key = FROST.DKG.round3(
        this.secret,
        this.received1,
        this.others().map((p) => ({ identifier: this.ids.get(p)!, signingShare: byParty.get(p)!.share.slice() })),
      );
      FROST.validateSecret(key.secret, key.public);
    } catch (e) {
      this.fail(`a round 2 share does not match its sender's commitments (${(e as Error).message})`);
    } finally {
      FROST.DKG.clean(this.secret);
    }
    const parties = new Map<string, { id: bigint; verifyingShare: Uint8Array }>();
    for (const p of this.parties) {
      const id = this.ids.get(p)!;
      parties.set(p, { id: BigInt('0x' + id), verifyingShare: decodePoint(key.public.verifyingShares[id]!, 'verifyingShare') });
    }
    const shared: SharedKey = { publicKey: decodePoint(key.public.commitments[0]!, 'publicKey'), threshold: this.threshold, parties };
    const own = parties.get(this.party)!;
    return { key: shared, share: { party: this.party, id: own.id, secret: bytesToBigint(key.secret.signingShare, 0, 32) } };
  }

  /** Wipes the secret polynomial of a ceremony that will not finish. */
  abort(): void {
    if (this.step !== 'done') FROST.DKG.clean(this.secret);
    this.step = 'done';
  }

  private fail(message: string): never {
    this.abort();
    throw new ZkmeterError('INVALID_ARGUMENT', `DKG party ${this.party}: ${message}`);
  }
}

/** Items keyed by `key`, exactly one for each of `expected` and nothing else. */
function exactlyOnce<T>(items: readonly T[], key: (x: T) => string, expected: readonly string[], what: string): Map<string, T> {
  if (!Array.isArray(items)) throw new ZkmeterError('INVALID_ARGUMENT', `${what} expected an array`);
  const out = new Map<string, T>();
  for (const x of items) {
    const k = key(x);
    if (!expected.includes(k)) throw new ZkmeterError('INVALID_ARGUMENT', `${what}: unexpected party ${JSON.stringify(k)}`);
    if (out.has(k)) throw new ZkmeterError('INVALID_ARGUMENT', `${what}: two from ${k}`);
    out.set(k, x);
  }
  const missing = expected.filter((p) => !out.has(p));
  if (missing.length > 0) throw new ZkmeterError('INVALID_ARGUMENT', `${what}: none from ${missing.join(', ')}`);
  return out;
}

type Json = Record<string, unknown>;

function object(v: unknown, what: string, fields: readonly string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ZkmeterError('INVALID_ARGUMENT', `${what} expected a JSON object`);
  const o = v as Json;
  for (const k of Object.keys(o)) if (!fields.includes(k)) throw new ZkmeterError('INVALID_ARGUMENT', `${what} has an unknown field "${k}"`);
  for (const f of fields) if (!(f in o)) throw new ZkmeterError('INVALID_ARGUMENT', `${what} is missing "${f}"`);
  return o;
}

function partyName(v: unknown, what: string): string {
  if (typeof v !== 'string' || !PARTY_PATTERN.test(v)) throw new ZkmeterError('INVALID_ARGUMENT', `${what} expected 1 to 64 printable ASCII characters`);
  return v;
}

function hexField(v: unknown, what: string, length: number): Uint8Array {
  if (typeof v !== 'string') throw new ZkmeterError('INVALID_ARGUMENT', `${what} expected hex`);
  return hexToBytes(v, what, length);
}

/** `{"party", "commitments": [hex 33 bytes…], "proof": hex 65 bytes}`. */
export function dkgRound1ToJson(r: DkgRound1): Record<string, unknown> {
  return { party: r.party, commitments: r.commitments.map((c) => bytesToHex(c)), proof: bytesToHex(r.proof) };
}

export function dkgRound1FromJson(v: unknown): DkgRound1 {
  const o = object(v, 'DKG round 1', ['party', 'commitments', 'proof']);
  if (!Array.isArray(o.commitments) || o.commitments.length < 2 || o.commitments.length > 255) {
    throw new ZkmeterError('INVALID_ARGUMENT', 'DKG round 1 "commitments" expected 2 to 255 points');
  }
  const commitments = o.commitments.map((c, i) => {
    const b = hexField(c, `commitments[${i}]`, 33);
    decodePoint(b, `commitments[${i}]`); // on the curve, not the identity
    return b;
  });
  const proof = hexField(o.proof, 'proof', 65);
  decodePoint(proof.subarray(0, 33), 'proof R');
  return { party: partyName(o.party, 'party'), commitments, proof };
}

/** `{"from", "to", "share": hex 32 bytes}`: secret, for `to`'s eyes only. */
export function dkgRound2ToJson(r: DkgRound2): Record<string, unknown> {
  return { from: r.from, to: r.to, share: bytesToHex(r.share) };
}

export function dkgRound2FromJson(v: unknown): DkgRound2 {
  const o = object(v, 'DKG round 2', ['from', 'to', 'share']);
  const share = hexField(o.share, 'share', 32);
  if (equalBytes(share, new Uint8Array(32))) throw new ZkmeterError('INVALID_SCALAR', 'DKG round 2 "share" is zero');
  return { from: partyName(o.from, 'from'), to: partyName(o.to, 'to'), share };
}
