/**
 * Threshold EC ElGamal: the utility's decryption key x is Shamir-shared among
 * parties (the control center, a privacy authority, …) so that any `threshold`
 * of them can decrypt together and fewer learn nothing about x.
 *
 * Key generation is distributed: the Pedersen-style DKG with Feldman VSS
 * commitments and proofs of knowledge (Gennaro, Jarecki, Krawczyk, Rabin 2007;
 * Komlo, Goldberg 2020, FROST §5.1), as implemented by @noble/curves'
 * `secp256k1_FROST.DKG` (RFC 9591 ciphersuite FROST(secp256k1, SHA-256), the
 * variant without BIP340's even-Y adjustment, so the shares reconstruct exactly
 * the x behind Y = x·G). No party ever holds x. Each party's verifying share
 * Y_i = x_i·G is public, and every share is checked against the VSS
 * commitments (`validateSecret`, RFC 9591 Appendix C.2).
 *
 * Decryption of (C1, C2): party i publishes D_i = x_i·C1 with a DLEQ proof that
 * log_G(Y_i) = log_C1(D_i) (dleq.ts). Anyone holding `threshold` valid shares
 * computes x·C1 = Σ λ_i·D_i, with Lagrange coefficients at 0
 * λ_i = Π_{j≠i} id_j / (id_j − id_i), and then m from C2 − x·C1 = m·G by
 * baby-step giant-step. Every step is publicly verifiable.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { getGroup } from '../backend/index.js';
import { AFFINE_BYTES, CURVE_ORDER, abytes, concatBytes, equalBytes, scalarToBytes, scalarsToBytes } from '../backend/bytes.js';
import { DEFAULT_TABLE_BITS, discreteLog } from './bsgs.js';
import { DkgParticipant, validateDkgParties } from './dkg.js';
import { proveDleq, verifyDleq } from './dleq.js';
import { DEFAULT_MAX, unmask, type Ciphertext, type DecryptOptions } from './elgamal.js';
import { cryptoRandom, type RandomSource } from './random.js';
import { invertPublic, modN } from './scalar.js';

/** One party's secret share x_i of the decryption key. Keep it secret. */
export interface KeyShare {
  /** The party's name, as given to the key generation. */
  readonly party: string;
  /** The share's identifier id_i (a non-zero scalar derived from the name, RFC 9591 `derive`). */
  readonly id: bigint;
  readonly secret: bigint;
}

/** The public side of a shared key, the same for every party. */
export interface SharedKey {
  /** Y = x·G, the key meters encrypt under (64-byte affine). */
  readonly publicKey: Uint8Array;
  /** Shares needed to decrypt (t of n). */
  readonly threshold: number;
  /** Each party's identifier id_i and verifying share Y_i = x_i·G (64-byte affine). */
  readonly parties: ReadonlyMap<string, { readonly id: bigint; readonly verifyingShare: Uint8Array }>;
}

/** One party's decryption share of a ciphertext: D_i = x_i·C1 and its DLEQ proof. */
export interface DecryptionShare {
  readonly party: string;
  /** D_i, 64-byte affine. */
  readonly share: Uint8Array;
  /** DLEQ proof (64 bytes) that log_G(Y_i) = log_C1(D_i), bound to the context. */
  readonly proof: Uint8Array;
}

/**
 * DANGER: whoever calls this holds every party's secret share, so it alone can
 * decrypt any single reading. It runs the distributed key generation for
 * `parties` (names of 1–64 printable ASCII characters) with a `threshold`-of-n
 * access structure, 2 ≤ threshold ≤ n, every party in this one process
 * (`DkgParticipant` in dkg.ts is one party on its own; this passes their
 * packages between them). For tests and `serve --single-operator --init` only;
 * not exported from the package (a deployment runs the ceremony between hosts). Returns the public key, every
 * party's verifying share and every party's secret share, each checked against
 * the VSS commitments.
 */
export function dangerouslyGenerateAllShares(parties: readonly string[], threshold: number, rng: RandomSource = cryptoRandom): { key: SharedKey; shares: Map<string, KeyShare> } {
  validateDkgParties(parties, threshold);
  const participants = parties.map((p) => new DkgParticipant(p, parties, threshold, rng));
  const round1 = participants.map((p) => p.round1());
  const round2 = participants.flatMap((p, i) => p.round2(round1.filter((_, j) => j !== i)));
  const results = participants.map((p) => p.round3(round2.filter((r) => r.to === p.party)));
  const key = results[0]!.key;
  for (const r of results) {
    if (!equalBytes(r.key.publicKey, key.publicKey)) throw new ZkmeterError('INTERNAL', 'DKG parties disagree on the public key');
  }
  return { key, shares: new Map(results.map((r) => [r.share.party, r.share])) };
}

const SHARE_CONTEXT = new TextEncoder().encode('zkmeter/decryption-share v1');

function shareContext(context: Uint8Array): Uint8Array {
  return concatBytes(SHARE_CONTEXT, abytes(context, 'context'));
}

/**
 * Party `share.party`'s decryption share of `ct`: D_i = x_i·C1 (constant time
 * natively) and a DLEQ proof bound to `context` (say, the bill's identifier).
 * Without `rng` the proof's nonce is derived (dleq.ts), so the share is a function
 * of its inputs; with it, the nonce is hedged with 32 bytes of `rng`.
 */
export function partialDecrypt(key: SharedKey, share: KeyShare, ct: Ciphertext, context: Uint8Array, rng?: RandomSource): DecryptionShare {
  const party = key.parties.get(share?.party);
  if (party === undefined || party.id !== share.id) throw new ZkmeterError('INVALID_ARGUMENT', `"share" is not a share of this key`);
  abytes(ct?.c1, 'ciphertext.c1', AFFINE_BYTES);
  const D = getGroup().mul(ct.c1, scalarToBytes(share.secret));
  const statement = { P: generatorG(), A: party.verifyingShare, Q: ct.c1, B: D };
  return { party: share.party, share: D, proof: proveDleq(statement, share.secret, shareContext(context), rng) };
}

/** Whether `ds` is party `ds.party`'s correct decryption share of `ct` under `context`. */
export function verifyDecryptionShare(key: SharedKey, ct: Ciphertext, ds: DecryptionShare, context: Uint8Array): boolean {
  const party = key.parties.get(ds?.party);
  if (party === undefined) throw new ZkmeterError('INVALID_ARGUMENT', `"share.party" ${JSON.stringify(ds?.party)} holds no share of this key`);
  abytes(ds.share, 'share.share', AFFINE_BYTES);
  if (ds.share.every((b) => b === 0)) return false;
  return verifyDleq({ P: generatorG(), A: party.verifyingShare, Q: ct.c1, B: ds.share }, ds.proof, shareContext(context));
}

/**
 * x·C1 from `threshold` or more verified decryption shares of distinct parties
 * (the first `threshold` are used). Throws INVALID_ARGUMENT naming a share that
 * does not verify, or when too few distinct parties took part.
 */
export function combineDecryptionShares(key: SharedKey, ct: Ciphertext, shares: readonly DecryptionShare[], context: Uint8Array): Uint8Array {
  if (!Array.isArray(shares)) throw new ZkmeterError('INVALID_ARGUMENT', '"shares" expected an array');
  const seen = new Set<string>();
  const used: DecryptionShare[] = [];
  shares.forEach((ds, i) => {
    if (!verifyDecryptionShare(key, ct, ds, context)) {
      throw new ZkmeterError('INVALID_ARGUMENT', `"shares[${i}]" (party ${ds.party}) is not a correct decryption share`, { index: i });
    }
    if (!seen.has(ds.party) && used.length < key.threshold) used.push(ds);
    seen.add(ds.party);
  });
  if (used.length < key.threshold) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"shares" expected ${key.threshold} distinct parties, got ${used.length}`);
  }
  const ids = used.map((ds) => key.parties.get(ds.party)!.id);
  const lambdas = lagrangeAt(ids, 0n);
  return getGroup().msm({ points: concatBytes(...used.map((ds) => ds.share)), scalars: scalarsToBytes(lambdas) });
}

/**
 * Decrypts `ct` from verified decryption shares: m ∈ [0, max] with C2 − x·C1 = m·G.
 * Throws VALUE_OUT_OF_RANGE when the plaintext is not in [0, max].
 */
export function thresholdDecrypt(
  key: SharedKey,
  ct: Ciphertext,
  shares: readonly DecryptionShare[],
  context: Uint8Array,
  options: DecryptOptions = {},
): bigint {
  const M = unmask(ct, combineDecryptionShares(key, ct, shares, context));
  return discreteLog(M, options.max ?? DEFAULT_MAX, options.tableBits ?? DEFAULT_TABLE_BITS);
}

/** λ_i(x) = Π_{j≠i} (x − id_j) / (id_i − id_j) mod n: f(x) = Σ λ_i(x)·f(id_i) for f of degree < ids.length. */
export function lagrangeAt(ids: readonly bigint[], x: bigint): bigint[] {
  const nums: bigint[] = [];
  const dens: bigint[] = [];
  ids.forEach((xi, i) => {
    let num = 1n;
    let den = 1n;
    ids.forEach((xj, j) => {
      if (i === j) return;
      num = modN(num * (x - xj));
      den = modN(den * (xi - xj));
    });
    nums.push(num);
    dens.push(den);
  });
  const inv = invertPublic(dens);
  return nums.map((num, i) => modN(num * inv[i]!));
}

/**
 * Checks that a shared key is consistent: distinct non-zero party ids, a threshold
 * 2 ≤ t ≤ n, and verifying shares Y_i on one polynomial of degree t − 1 whose value at 0
 * is the public key Y (Σ λ_i·Y_i = Y for the first t parties, and every other party's Y_j
 * is that polynomial at id_j). Without this, DLEQ-verified decryption shares could combine
 * to something other than x·C1, and a wrong amount would pass as decrypted. INVALID_ARGUMENT
 * otherwise; returns the key.
 */
export function validateSharedKey(key: SharedKey): SharedKey {
  const bad = (why: string): never => {
    throw new ZkmeterError('INVALID_ARGUMENT', `the shared key is inconsistent: ${why}`);
  };
  const parties = [...key.parties.values()];
  const ids = parties.map((p) => p.id);
  if (ids.some((id) => typeof id !== 'bigint' || id <= 0n || id >= CURVE_ORDER)) bad('a party id is not a non-zero scalar');
  if (new Set(ids).size !== ids.length) bad('two parties have the same id');
  if (!Number.isSafeInteger(key.threshold) || key.threshold < 2 || key.threshold > parties.length) bad(`threshold ${key.threshold} of ${parties.length} parties`);
  const base = parties.slice(0, key.threshold);
  const points = concatBytes(...base.map((p) => p.verifyingShare));
  const at = (x: bigint) => getGroup().msm({ points, scalars: scalarsToBytes(lagrangeAt(base.map((p) => p.id), x)) });
  if (!equalBytes(at(0n), key.publicKey)) bad('its verifying shares do not interpolate to its public key');
  for (const p of parties.slice(key.threshold)) if (!equalBytes(at(p.id), p.verifyingShare)) bad('a verifying share is off the polynomial of the others');
  return key;
}

let G64: Uint8Array | undefined;
function generatorG(): Uint8Array {
  G64 ??= getGroup().mulGen(scalarToBytes(1n));
  return G64;
}
