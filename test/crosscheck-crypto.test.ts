/**
 * Native and js produce byte-identical keys, ciphertexts, commitments, ZKPe
 * proofs and range proofs from the same fixed randomness, decryption shares
 * with derived DLEQ nonces, and the same decryptions. Each
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
    const proof = proveEquivalence(statement, { m, r, s }, ctx, rng);
    expect(verifyEquivalence(statement, proof, ctx)).toBe(true);
    out.push(bytesToHex(eg.encodeCiphertext(ciphertext)), bytesToHex(commitment), bytesToHex(proof));
    out.push(eg.decrypt(kp.secretKey, ciphertext).toString());
    cts.push(ciphertext);
  }
  out.push(bytesToHex(eg.encodeCiphertext(eg.weightedSum(cts, [3n, 5n, 7n, 11n]))));
  // DLEQ proofs with derived nonces (no randomness at all): decryption shares as the center and the authority make them.
  const { partialDecrypt, dangerouslyGenerateAllShares } = await import('../lib/crypto/threshold.js');
  const { key, shares } = dangerouslyGenerateAllShares(['control-center', 'privacy-authority'], 2, rng);
  for (const [i, ct] of cts.entries()) {
    const ds = partialDecrypt(key, shares.get(i % 2 === 0 ? 'control-center' : 'privacy-authority')!, ct, new TextEncoder().encode(`bill ${i}`));
    out.push(bytesToHex(ds.share), bytesToHex(ds.proof));
  }
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

/**
 * The provers' constant-time paths (issue 14, item 4) against the variable-time compositions
 * they replaced: commit = msmConst([G, H], [m, s]) was mulGen(m) + mul(H, s); encryption's C2 =
 * msmConst([G, Y], [m, r]) was mulGen(m) + mul(Y, r); the range prover's A = selectSum(…, {H, α})
 * was selectSum(…) + mul(H, α), and T_i = msmConst([G, H], [t_i, τ_i]). Same bytes, on both
 * backends, for edge scalars (0, ±1, ±2, (n−1)/2, around 2^128, λ and −λ, whose GLV halves are
 * 0 or ±1) and random ones, including sums that cancel to infinity.
 */
describe('constant-time prover paths give the bytes of the compositions they replaced', () => {
  afterAll(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });
  it('commit, encrypt, A and T on edge and random scalars, native and js', async () => {
    vi.stubEnv('ZKMETER_BACKEND', 'native');
    vi.resetModules();
    const { loadBackend } = await import('../lib/backend/index.js');
    const { CURVE_ORDER: N, bytesToBigint, concatBytes, scalarToBytes, scalarsToBytes } = await import('../lib/backend/bytes.js');
    const { generatorG, pedersenH, vectorGenerators } = await import('../lib/crypto/generators.js');
    const { commit } = await import('../lib/crypto/pedersen.js');
    const { encryptWithRandomness } = await import('../lib/crypto/elgamal.js');
    const { bytesToHex: hex } = await import('../lib/crypto/codec.js');
    const native = loadBackend('native');
    const js = loadBackend('js');
    const both = [native, js];
    const rng = fixedRng('zkmeter-consttime-crosscheck');
    const random = () => bytesToBigint(rng(32), 0, 32) % N;
    const LAMBDA = 0x5363ad4cc05c30e0a5261c028812645a122e22ea20816678df02967c1b23bd72n;
    const edge = [0n, 1n, 2n, N - 1n, N - 2n, (N - 1n) / 2n, 2n ** 128n - 1n, 2n ** 128n, LAMBDA, N - LAMBDA];
    const scalars = [...edge, ...Array.from({ length: 6 }, random)];
    const G = generatorG();
    const H = pedersenH();
    const GH = concatBytes(G, H);
    const sc = (k: bigint) => scalarToBytes(k);
    let compared = 0;

    // commit(m, s) and T_i = t_i·G + τ_i·H: every pair of scalars.
    for (const m of scalars) {
      for (const s of scalars) {
        const before = hex(js.add(js.mulGen(sc(m)), js.mul(H, sc(s))));
        expect(hex(commit(m, s)), `commit(${m}, ${s})`).toBe(before);
        for (const g of both) expect(hex(g.msmConst(GH, scalarsToBytes([m, s]))), `${g.name} msmConst`).toBe(before);
        compared++;
      }
    }

    // Encryption under keys G, −G (so m = r gives C2 = infinity), H and a random key.
    for (const Y of [G, js.negate(G), H, js.mulGen(sc(random() || 1n))]) {
      const GY = concatBytes(G, Y);
      for (const m of scalars) {
        for (const r of scalars.filter((r) => r !== 0n)) {
          const ct = encryptWithRandomness(Y, m, r);
          expect(hex(ct.c1)).toBe(hex(js.mulGen(sc(r))));
          const before = hex(js.add(js.mulGen(sc(m)), js.mul(Y, sc(r))));
          expect(hex(ct.c2), `C2 for m = ${m}, r = ${r}`).toBe(before);
          expect(hex(js.msmConst(GY, scalarsToBytes([m, r])))).toBe(before);
          compared++;
        }
      }
    }

    // A = α·H + Σ (bitᵢ ? Gᵢ : −Hᵢ), for bit patterns all 0, all 1, alternating, random, and a
    // selection that cancels: a = [P, −P], b = [−P, P] picks P − P or −P + P.
    const { G: Gv, H: Hv } = vectorGenerators(16);
    const negH = js.negate(Hv);
    const patterns = [
      new Uint8Array(16),
      new Uint8Array(16).fill(1),
      Uint8Array.from({ length: 16 }, (_, i) => i & 1),
      Uint8Array.from(rng(16), (b) => b & 1),
    ];
    for (const bits of patterns) {
      for (const alpha of scalars) {
        const before = hex(js.add(js.selectSum(Gv, negH, bits), js.mul(H, sc(alpha))));
        for (const g of both) {
          expect(hex(g.selectSum(Gv, negH, bits, { points: H, scalars: sc(alpha) })), `${g.name} A`).toBe(before);
        }
        compared++;
      }
    }
    const P = Gv.subarray(0, 64);
    const nP = js.negate(P);
    for (const sel of [Uint8Array.of(0, 0), Uint8Array.of(1, 1), Uint8Array.of(0, 1)]) {
      for (const alpha of [0n, 1n, N - 1n]) {
        const a = concatBytes(P, nP);
        const b = concatBytes(nP, P);
        const extra = { points: concatBytes(H, P, H), scalars: scalarsToBytes([alpha, (N - alpha) % N, alpha]) };
        const before = hex(js.add(js.selectSum(a, b, sel), js.msmConst(extra.points, extra.scalars)));
        for (const g of both) expect(hex(g.selectSum(a, b, sel, extra))).toBe(before);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('the range prover still names the commitment a witness does not open, on both backends', async () => {
    for (const backend of ['native', 'js'] as const) {
      vi.stubEnv('ZKMETER_BACKEND', backend);
      vi.resetModules();
      const { commit } = await import('../lib/crypto/pedersen.js');
      const { proveRange } = await import('../lib/crypto/bulletproofs/range.js');
      const { ZkmeterError } = await import('../lib/errors.js');
      const blindings = [11n, 22n, 33n];
      const statement = { commitments: [commit(1n, 11n), commit(2n, 22n), commit(3n, 33n)], bits: 8 as const };
      const ctx = new TextEncoder().encode('witness');
      expect(() => proveRange(statement, { values: [1n, 2n, 3n], blindings }, ctx)).not.toThrow();
      for (const [values, bad] of [
        [[1n, 5n, 3n], 1],
        [[1n, 2n, 4n], 2],
        [[0n, 2n, 3n], 0],
      ] as const) {
        let caught: unknown;
        try {
          proveRange(statement, { values: [...values], blindings }, ctx);
        } catch (e) {
          caught = e;
        }
        expect(caught).toBeInstanceOf(ZkmeterError);
        expect((caught as InstanceType<typeof ZkmeterError>).message).toBe(`"witness" does not open commitments[${bad}]`);
      }
    }
  });
});
