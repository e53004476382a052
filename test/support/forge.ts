/**
 * A lying meter, for the forgery tests: it seals a record as `Meter` does (honest
 * range proof over honest commitments, a valid signature), but adds a_j·G + b_j·H
 * to each C2_j, and feeds the proof of equivalence whatever witness it likes. With
 * b_j ≠ 0 and witness s_j − b_j this is the attack of issue 14, which ZKPe v1
 * accepted: the ciphertext then decrypts to v_j·G + b_j·H, whose log nobody knows.
 */
import { getGroup } from '../../lib/backend/index.js';
import { CURVE_ORDER, scalarToBytes } from '../../lib/backend/bytes.js';
import { proveRange } from '../../lib/crypto/bulletproofs/range.js';
import { encryptWithRandomness, type Ciphertext } from '../../lib/crypto/elgamal.js';
import { generatorG, pedersenH } from '../../lib/crypto/generators.js';
import { commit } from '../../lib/crypto/pedersen.js';
import { randomScalar, type RandomSource } from '../../lib/crypto/random.js';
import { signSchnorr } from '../../lib/crypto/schnorr.js';
import { proveAggregateEquivalence } from '../../lib/crypto/zkpe.js';
import { HOUSEHOLD, type MeterClass, type ReadingOpening } from '../../lib/protocol/meter.js';
import { decodeRecord, encodeHeader, encodeUnsigned, proofContext, signedMessage, type MeterRecord, type RecordHeader } from '../../lib/protocol/records.js';

const mod = (x: bigint) => ((x % CURVE_ORDER) + CURVE_ORDER) % CURVE_ORDER;

/** C + a·G + b·H (variable time: test code). */
export function shiftPoint(C: Uint8Array, a: bigint, b: bigint): Uint8Array {
  const g = getGroup();
  let out = C;
  if (mod(a) !== 0n) out = g.add(out, g.mulVartime(generatorG(), scalarToBytes(mod(a))));
  if (mod(b) !== 0n) out = g.add(out, g.mulVartime(pedersenH(), scalarToBytes(mod(b))));
  return out;
}

/** Whether (r, s′) satisfies ZKPe v1's relation, C1 = r·G and C2 − V = r·Y − s′·H, for one pair. */
export function satisfiesV1Relation(Y: Uint8Array, ct: Ciphertext, V: Uint8Array, r: bigint, sPrime: bigint): boolean {
  const g = getGroup();
  const eq = (a: Uint8Array, b: Uint8Array) => a.every((x, i) => x === b[i]);
  const rY = g.mulVartime(Y, scalarToBytes(mod(r)));
  const sH = g.mulVartime(pedersenH(), scalarToBytes(mod(-sPrime)));
  return eq(ct.c1, g.mulVartime(generatorG(), scalarToBytes(mod(r)))) && eq(g.add(ct.c2, g.negate(V)), g.add(rY, sH));
}

/** The witness a lying prover feeds ZKPe v2, given its shifts (a, b). */
export type ForgerWitness = 'honest' | 'v1' | 'shifted-value' | 'both';

/** A forged pair set: honest encryptions shifted, honest commitments, and the forger's witness. */
export function forgePairs(o: { utilityKey: Uint8Array; values: readonly bigint[]; a?: readonly bigint[]; b: readonly bigint[]; witness: ForgerWitness; rng: RandomSource }) {
  const r = o.values.map(() => randomScalar(o.rng));
  const s = o.values.map(() => randomScalar(o.rng));
  const a = o.a ?? o.values.map(() => 0n);
  const ciphertexts = o.values.map((v, j) => {
    const ct = encryptWithRandomness(o.utilityKey, v, r[j]!);
    return { c1: ct.c1, c2: shiftPoint(ct.c2, a[j]!, o.b[j]!) };
  });
  const commitments = o.values.map((v, j) => commit(v, s[j]!));
  const useValue = o.witness === 'shifted-value' || o.witness === 'both';
  const useBlinding = o.witness === 'v1' || o.witness === 'both';
  const witness = {
    m: o.values.map((v, j) => (useValue ? mod(v + a[j]!) : v)),
    r,
    s: s.map((x, j) => (useBlinding ? mod(x - o.b[j]!) : x)),
  };
  return { ciphertexts, commitments, witness, r, s };
}

/**
 * A whole signed record from a lying meter (bits and bounds of its class's normal range),
 * under key epoch `keyEpoch` (default 0) and tariff version `tariffVersion` (default 1).
 */
export function forgeRecord(o: {
  meterId: string;
  signingKey: bigint;
  utilityKey: Uint8Array;
  intervalStart: number;
  values: readonly bigint[];
  a?: readonly bigint[];
  b: readonly bigint[];
  witness: ForgerWitness;
  sequence?: number;
  keyEpoch?: number;
  tariffVersion?: number;
  meterClass?: MeterClass;
  rng: RandomSource;
}): MeterRecord & { openings: ReadingOpening[] } {
  const c = o.meterClass ?? HOUSEHOLD;
  const header: RecordHeader = {
    kind: o.values.length === 1 ? 'reading' : 'daily',
    abnormal: false,
    bits: c.bits,
    meterId: o.meterId,
    intervalStart: o.intervalStart,
    intervalSeconds: c.intervalSeconds,
    count: o.values.length,
    sequence: o.sequence ?? 0,
    keyEpoch: o.keyEpoch ?? 0,
    tariffVersion: o.tariffVersion ?? 1,
    bounds: c.normal,
  };
  const headerBytes = encodeHeader(header);
  const context = proofContext(headerBytes);
  const { ciphertexts, commitments, witness, s } = forgePairs(o);
  const rangeProof = proveRange({ commitments, bits: c.bits, bounds: c.normal }, { values: o.values, blindings: s }, context, o.rng);
  const equivalenceProof = proveAggregateEquivalence({ publicKey: o.utilityKey, ciphertexts, commitments }, witness, context, o.rng);
  const unsigned = encodeUnsigned(header, { ciphertexts, commitments, rangeProof, equivalenceProof });
  const signature = signSchnorr([signedMessage(unsigned)], o.signingKey, o.rng);
  const openings = o.values.map((reading, j) => ({ intervalStart: o.intervalStart + j * c.intervalSeconds, reading, blinding: s[j]! }));
  return Object.assign(decodeRecord(new Uint8Array([...unsigned, ...signature])), { openings });
}
