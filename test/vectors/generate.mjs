#!/usr/bin/env node
// Generates test/vectors/proofs-v1.json: frozen range proofs and ZKPe proofs made from
// fixed randomness. Run once (node test/vectors/generate.mjs after `npm run build:ts`) and
// commit the output; test/vectors.test.ts checks that every later version still verifies
// them and, given the same randomness, produces the same bytes.
import { writeFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, encodePoints } from '../../dist/lib/crypto/codec.js';
import * as eg from '../../dist/lib/crypto/elgamal.js';
import { commit } from '../../dist/lib/crypto/pedersen.js';
import { randomScalar } from '../../dist/lib/crypto/random.js';
import { proveEquivalence } from '../../dist/lib/crypto/zkpe.js';
import { proveRange } from '../../dist/lib/crypto/bulletproofs/range.js';

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

const range = [];
for (const [seed, bits, values, bounds] of [
  ['rp-64-1', 64, ['18446744073709551615'], null],
  ['rp-16-3', 16, ['0', '1', '65535'], null],
  ['rp-8-bounded', 8, ['150', '100'], { min: '100', max: '300' }],
  ['rp-32-1', 32, ['3000000000'], null],
]) {
  const rng = fixedRng(seed);
  const vs = values.map(BigInt);
  const blindings = vs.map(() => randomScalar(rng));
  const commitments = vs.map((v, i) => commit(v, blindings[i]));
  const b = bounds ? { min: BigInt(bounds.min), max: BigInt(bounds.max) } : undefined;
  const statement = { commitments, bits, ...(b ? { bounds: b } : {}) };
  const context = `vector ${seed}`;
  const proof = proveRange(statement, { values: vs, blindings }, new TextEncoder().encode(context), rng);
  range.push({ seed, bits, values, bounds, context, commitments: commitments.map((c) => bytesToHex(encodePoints(c))), proof: bytesToHex(proof) });
}

const zkpe = [];
for (const [seed, value] of [['zkpe-1', '0'], ['zkpe-2', '123456789']]) {
  const rng = fixedRng(seed);
  const { publicKey } = eg.keygen(rng);
  const r = randomScalar(rng);
  const s = randomScalar(rng);
  const ciphertext = eg.encryptWithRandomness(publicKey, BigInt(value), r);
  const commitment = commit(BigInt(value), s);
  const context = `vector ${seed}`;
  const proof = proveEquivalence({ publicKey, ciphertext, commitment }, { r, s }, new TextEncoder().encode(context), rng);
  zkpe.push({
    seed, value, context,
    publicKey: bytesToHex(eg.encodePublicKey(publicKey)),
    ciphertext: bytesToHex(eg.encodeCiphertext(ciphertext)),
    commitment: bytesToHex(encodePoints(commitment)),
    proof: bytesToHex(proof),
  });
}

const out = { format: 'zkmeter proofs v1', note: 'generated once by test/vectors/generate.mjs; do not regenerate unless the wire format changes on purpose', range, zkpe };
writeFileSync(new URL('./proofs-v1.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${range.length} range proofs and ${zkpe.length} ZKPe proofs`);
