/**
 * Native and js produce byte-identical keys, ciphertexts, commitments and
 * ZKPe proofs from the same fixed randomness, and the same decryptions. Each
 * backend gets a fresh module graph (vi.resetModules) with ZKMETER_BACKEND set.
 * Native project only.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fixedRng } from './support/rng.js';

async function transcriptOf(backend: 'native' | 'js') {
  vi.stubEnv('ZKMETER_BACKEND', backend);
  vi.resetModules();
  const { backendName } = await import('../lib/backend/index.js');
  const eg = await import('../lib/crypto/elgamal.js');
  const { commit } = await import('../lib/crypto/pedersen.js');
  const { randomScalar } = await import('../lib/crypto/random.js');
  const { proveEquivalence, verifyEquivalence } = await import('../lib/crypto/zkpe.js');
  const { bytesToHex } = await import('../lib/crypto/codec.js');
  const rng = fixedRng('zkmeter-crosscheck');
  const kp = eg.keygen(rng);
  const out: string[] = [backendName(), bytesToHex(eg.encodePublicKey(kp.publicKey))];
  const cts = [];
  for (const m of [0n, 1n, 4242n, 2n ** 31n + 5n]) {
    const r = randomScalar(rng);
    const s = randomScalar(rng);
    const ciphertext = eg.encryptWithRandomness(kp.publicKey, m, r);
    const commitment = commit(m, s);
    const statement = { publicKey: kp.publicKey, ciphertext, commitment };
    const ctx = new TextEncoder().encode(`ctx-${m}`);
    const proof = proveEquivalence(statement, { r, s }, ctx, rng);
    expect(verifyEquivalence(statement, proof, ctx)).toBe(true);
    out.push(bytesToHex(eg.encodeCiphertext(ciphertext)), bytesToHex(commitment), bytesToHex(proof));
    out.push(eg.decrypt(kp.secretKey, ciphertext).toString());
    cts.push(ciphertext);
  }
  out.push(bytesToHex(eg.encodeCiphertext(eg.weightedSum(cts, [3n, 5n, 7n, 11n]))));
  const { proveRange, verifyRange } = await import('../lib/crypto/bulletproofs/range.js');
  for (const [bits, values, bounds] of [
    [16, [0n, 65535n, 1234n], undefined],
    [8, [100n], { min: 50n, max: 300n }],
  ] as const) {
    const blindings = values.map(() => randomScalar(rng));
    const statement = { commitments: values.map((v, i) => commit(v, blindings[i]!)), bits, ...(bounds ? { bounds } : {}) };
    const ctx = new TextEncoder().encode('rp');
    const proof = proveRange(statement, { values, blindings }, ctx, rng);
    expect(verifyRange(statement, proof, ctx)).toBe(true);
    out.push(bytesToHex(proof));
  }
  return out;
}

describe('native and js agree on the crypto layer', () => {
  afterAll(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });
  it('byte-identical keys, ciphertexts, commitments and ZKPe proofs from fixed randomness', async () => {
    const native = await transcriptOf('native');
    const js = await transcriptOf('js');
    expect(native[0]).toBe('native');
    expect(js[0]).toBe('js');
    expect(js.slice(1)).toEqual(native.slice(1));
  });
});
