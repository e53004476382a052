/**
 * Frozen vectors, on both backends, so that the wire formats cannot change silently:
 *  - proofs-v2.json (made once by generate.mjs): zkpe v2 proofs, single and aggregated, and
 *    whole version 2 records; each verifies, and re-proving or re-sealing from the same
 *    randomness gives the same bytes;
 *  - proofs-v1.json: range proofs (a format that has not changed) still verify and
 *    reproduce; the v1 proofs of equivalence are refused;
 *  - records-v1.json: version 1 records, made by zkmeter 0.1.0, are refused with
 *    UNSUPPORTED_VERSION, by the decoder and by the center.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesToHex, decodePoint, hexToBytes } from '../lib/crypto/codec.js';
import * as eg from '../lib/crypto/elgamal.js';
import { randomScalar } from '../lib/crypto/random.js';
import { ZKPE_LENGTH, proveAggregateEquivalence, proveEquivalence, verifyAggregateEquivalence, verifyEquivalence } from '../lib/crypto/zkpe.js';
import { proveRange, verifyRange, type RangeBits } from '../lib/crypto/bulletproofs/range.js';
import { ControlCenter } from '../lib/protocol/center.js';
import { Meter } from '../lib/protocol/meter.js';
import { RECORD_VERSION, decodeRecord } from '../lib/protocol/records.js';
import { errorCode } from './support/errors.js';
import { fixedRng } from './support/rng.js';

interface SingleVector { seed: string; value: string; context: string; publicKey: string; ciphertext: string; commitment: string; proof: string }
interface V1 {
  range: { seed: string; bits: RangeBits; values: string[]; bounds: { min: string; max: string } | null; context: string; commitments: string[]; proof: string }[];
  zkpe: SingleVector[];
}
interface V2 {
  zkpe: SingleVector[];
  zkpeAggregate: { seed: string; values: string[]; context: string; publicKey: string; ciphertexts: string[]; commitments: string[]; proof: string }[];
  records: { seed: string; kind: 'daily' | 'reading'; intervalStart: number; readings: string[]; signingKey: string; utilityKey: string; meterPublicKey: string; bytes: string }[];
}

const load = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', name), 'utf8'));
const v1 = load('proofs-v1.json') as V1;
const v2 = load('proofs-v2.json') as V2;
const records1 = load('records-v1.json') as { utilityKey: string; meterPublicKey: string; daily: string; reading: string };
const u = (s: string) => new TextEncoder().encode(s);

describe('frozen range proofs (format unchanged since v1)', () => {
  for (const v of v1.range) {
    it(`${v.seed} verifies, and re-proving from the same randomness gives the same bytes`, () => {
      const bounds = v.bounds ? { min: BigInt(v.bounds.min), max: BigInt(v.bounds.max) } : undefined;
      const statement = { commitments: v.commitments.map((c) => decodePoint(hexToBytes(c, 'commitment'))), bits: v.bits, ...(bounds ? { bounds } : {}) };
      const proof = hexToBytes(v.proof, 'proof');
      expect(verifyRange(statement, proof, u(v.context))).toBe(true);
      const rng = fixedRng(v.seed);
      const values = v.values.map(BigInt);
      const blindings = values.map(() => randomScalar(rng));
      expect(bytesToHex(proveRange(statement, { values, blindings }, u(v.context), rng))).toBe(v.proof);
      const tampered = proof.slice();
      tampered[tampered.length - 1]! ^= 1;
      expect(verifyRange(statement, tampered, u(v.context))).toBe(false);
    });
  }
});

const singleStatement = (v: SingleVector) => ({
  publicKey: eg.decodePublicKey(hexToBytes(v.publicKey, 'publicKey')),
  ciphertext: eg.decodeCiphertext(hexToBytes(v.ciphertext, 'ciphertext')),
  commitment: decodePoint(hexToBytes(v.commitment, 'commitment')),
});

describe('frozen ZKPe v1 proofs are refused', () => {
  for (const v of v1.zkpe) {
    it(`${v.seed}: a 130-byte v1 proof is the wrong length for v2`, () => {
      const proof = hexToBytes(v.proof, 'proof');
      expect(proof.length).toBe(130);
      expect(errorCode(() => verifyEquivalence(singleStatement(v), proof, u(v.context)))).toBe('INVALID_LENGTH');
    });
  }
});

describe('frozen ZKPe v2 proofs', () => {
  for (const v of v2.zkpe) {
    it(`${v.seed} verifies, and re-proving from the same randomness gives the same bytes`, () => {
      const statement = singleStatement(v);
      const proof = hexToBytes(v.proof, 'proof');
      expect(proof.length).toBe(ZKPE_LENGTH);
      expect(verifyEquivalence(statement, proof, u(v.context))).toBe(true);
      expect(verifyEquivalence(statement, proof, u(v.context + '.'))).toBe(false);
      const rng = fixedRng(v.seed);
      eg.keygen(rng);
      const r = randomScalar(rng);
      const s = randomScalar(rng);
      expect(bytesToHex(proveEquivalence(statement, { m: BigInt(v.value), r, s }, u(v.context), rng))).toBe(v.proof);
    });
  }
  for (const v of v2.zkpeAggregate) {
    it(`${v.seed} (aggregated, K = ${v.values.length}) verifies and reproduces`, () => {
      const statement = {
        publicKey: eg.decodePublicKey(hexToBytes(v.publicKey, 'publicKey')),
        ciphertexts: v.ciphertexts.map((c) => eg.decodeCiphertext(hexToBytes(c, 'ciphertext'))),
        commitments: v.commitments.map((c) => decodePoint(hexToBytes(c, 'commitment'))),
      };
      const proof = hexToBytes(v.proof, 'proof');
      expect(verifyAggregateEquivalence(statement, proof, u(v.context))).toBe(true);
      const rng = fixedRng(v.seed);
      eg.keygen(rng);
      const m = v.values.map(BigInt);
      const r = m.map(() => randomScalar(rng));
      const s = m.map(() => randomScalar(rng));
      expect(bytesToHex(proveAggregateEquivalence(statement, { m, r, s }, u(v.context), rng))).toBe(v.proof);
    });
  }
});

describe('frozen version 2 records', () => {
  for (const v of v2.records) {
    it(`${v.seed}: decodes, is accepted by a center, and re-sealing from the same randomness gives the same bytes`, async () => {
      const bytes = hexToBytes(v.bytes, 'record');
      const record = decodeRecord(bytes);
      expect(bytes[4]).toBe(RECORD_VERSION);
      expect(record.header.kind).toBe(v.kind);
      expect(record.header.count).toBe(v.readings.length);
      const utilityKey = eg.decodePublicKey(hexToBytes(v.utilityKey, 'utilityKey'));
      const center = new ControlCenter({ utilityKey });
      await center.register({ meterId: record.header.meterId, publicKey: hexToBytes(v.meterPublicKey, 'meterPublicKey') });
      const [outcome] = await center.submit([bytes]);
      expect(outcome!.status).toBe('accepted');
      const rng = fixedRng(v.seed);
      eg.keygen(rng);
      const meter = new Meter({ meterId: record.header.meterId, signingKey: BigInt(v.signingKey), utilityKey, rng });
      const values = v.readings.map(BigInt);
      const again = v.kind === 'daily' ? meter.daily(v.intervalStart, values) : meter.reading(v.intervalStart, values[0]!);
      expect(bytesToHex(again.bytes)).toBe(v.bytes);
    });
  }
});

describe('version 1 records are refused', () => {
  for (const kind of ['daily', 'reading'] as const) {
    it(`a ${kind} record made by zkmeter 0.1.0: UNSUPPORTED_VERSION, naming the version; the center stores nothing`, async () => {
      const bytes = hexToBytes(records1[kind], 'record');
      expect(bytes[4]).toBe(1);
      expect(errorCode(() => decodeRecord(bytes))).toBe('UNSUPPORTED_VERSION');
      expect(() => decodeRecord(bytes)).toThrowError(/record version 1 /);
      const center = new ControlCenter({ utilityKey: eg.decodePublicKey(hexToBytes(records1.utilityKey, 'utilityKey')) });
      await center.register({ meterId: 'MTR-V1', publicKey: hexToBytes(records1.meterPublicKey, 'meterPublicKey') });
      const [outcome] = await center.submit([bytes]);
      expect(outcome).toMatchObject({ status: 'invalid', reason: 'unsupported-version', detail: expect.stringMatching(/version 1/) });
      expect(await center.readingsOf('MTR-V1', 0, 2 ** 40)).toEqual([]);
    });
  }
  it('any other version byte is refused the same way', () => {
    const bytes = hexToBytes(v2.records[1]!.bytes, 'record');
    for (const version of [0, 3, 255]) {
      const b = bytes.slice();
      b[4] = version;
      expect(errorCode(() => decodeRecord(b))).toBe('UNSUPPORTED_VERSION');
      expect(() => decodeRecord(b)).toThrowError(new RegExp(`version ${version}:`));
    }
  });
});
