#!/usr/bin/env node
// Generates test/vectors/proofs-v2.json: frozen proofs of equivalence (zkpe v2, single and
// aggregated) and whole meter records (record format v2, a daily and a reading record), made
// from fixed randomness. Run once (node test/vectors/generate.mjs after `npm run build:ts`)
// and commit the output; test/vectors.test.ts checks that every later version still verifies
// them and, given the same randomness, produces the same bytes.
//
// proofs-v1.json (range proofs, whose format has not changed, and the v1 ZKPe proofs, now
// refused) and records-v1.json (version 1 records, now refused) were made by earlier
// versions and are kept as they are.
import { writeFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, encodePoints } from '../../dist/lib/crypto/codec.js';
import * as eg from '../../dist/lib/crypto/elgamal.js';
import { commit } from '../../dist/lib/crypto/pedersen.js';
import { randomScalar } from '../../dist/lib/crypto/random.js';
import { proveAggregateEquivalence, proveEquivalence } from '../../dist/lib/crypto/zkpe.js';
import { Meter } from '../../dist/lib/protocol/meter.js';

/** The byte source of every vector: SHA-256(seed/counter) blocks. test/support/rng.ts has the same. */
function fixedRng(seed) {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let off = 0; off < length; off += 32) {
      const block = sha256(new TextEncoder().encode(`${seed}/${counter++}`));
      out.set(block.subarray(0, Math.min(32, length - off)), off);
    }
    return out;
  };
}
const u = (s) => new TextEncoder().encode(s);

const zkpe = [];
for (const [seed, value] of [['zkpe2-1', '0'], ['zkpe2-2', '123456789']]) {
  const rng = fixedRng(seed);
  const { publicKey } = eg.keygen(rng);
  const m = BigInt(value);
  const r = randomScalar(rng);
  const s = randomScalar(rng);
  const ciphertext = eg.encryptWithRandomness(publicKey, m, r);
  const commitment = commit(m, s);
  const context = `vector ${seed}`;
  const proof = proveEquivalence({ publicKey, ciphertext, commitment }, { m, r, s }, u(context), rng);
  zkpe.push({
    seed, value, context,
    publicKey: bytesToHex(eg.encodePublicKey(publicKey)),
    ciphertext: bytesToHex(eg.encodeCiphertext(ciphertext)),
    commitment: bytesToHex(encodePoints(commitment)),
    proof: bytesToHex(proof),
  });
}

const zkpeAggregate = [];
for (const [seed, values] of [['zkpe2-agg-3', ['0', '4000', '65535']], ['zkpe2-agg-8', ['1', '2', '3', '5', '8', '13', '21', '34']]]) {
  const rng = fixedRng(seed);
  const { publicKey } = eg.keygen(rng);
  const m = values.map(BigInt);
  const r = m.map(() => randomScalar(rng));
  const s = m.map(() => randomScalar(rng));
  const ciphertexts = m.map((v, j) => eg.encryptWithRandomness(publicKey, v, r[j]));
  const commitments = m.map((v, j) => commit(v, s[j]));
  const context = `vector ${seed}`;
  const proof = proveAggregateEquivalence({ publicKey, ciphertexts, commitments }, { m, r, s }, u(context), rng);
  zkpeAggregate.push({
    seed, values, context,
    publicKey: bytesToHex(eg.encodePublicKey(publicKey)),
    ciphertexts: ciphertexts.map((c) => bytesToHex(eg.encodeCiphertext(c))),
    commitments: commitments.map((c) => bytesToHex(encodePoints(c))),
    proof: bytesToHex(proof),
  });
}

// Whole records: a meter whose every random byte comes from the seed (its key is fixed).
const records = [];
for (const [seed, kind, start, readings] of [
  ['record2-daily', 'daily', 1_764_115_200, Array.from({ length: 96 }, (_, i) => String((i * 37) % 4001))],
  ['record2-reading', 'reading', 1_764_201_600, ['250']],
]) {
  const rng = fixedRng(seed);
  const { publicKey } = eg.keygen(rng);
  const signingKey = 0x1234567n;
  const meter = new Meter({ meterId: 'MTR-VEC', signingKey, utilityKey: publicKey, rng });
  const values = readings.map(BigInt);
  const record = kind === 'daily' ? meter.daily(start, values) : meter.reading(start, values[0]);
  records.push({
    seed, kind, intervalStart: start, readings,
    signingKey: signingKey.toString(),
    utilityKey: bytesToHex(eg.encodePublicKey(publicKey)),
    meterPublicKey: bytesToHex(meter.publicKey),
    bytes: bytesToHex(record.bytes),
  });
}

const out = {
  format: 'zkmeter proofs v2',
  note: 'generated once by test/vectors/generate.mjs; do not regenerate unless the wire format changes on purpose',
  zkpe,
  zkpeAggregate,
  records,
};
writeFileSync(new URL('./proofs-v2.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${zkpe.length} single and ${zkpeAggregate.length} aggregated ZKPe proofs and ${records.length} records`);
