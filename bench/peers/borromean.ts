/**
 * Adapter for `@vulpemventures/secp256k1-zkp`: secp256k1-zkp compiled to WASM, with
 * the Borromean range proofs of Elements/Liquid confidential transactions
 * (Maxwell and Poelstra 2015). A devDependency of the bench only:
 * `loadBorromean()` resolves to undefined when it is not installed.
 *
 * Its commitments are v·A + r·G with A an asset generator hashed to the curve from
 * a 32-byte tag (no known log_G(A)). A proof of `bits` bits covers [0, 2^bits);
 * there is no aggregation and no batch verification: m values take m proofs.
 * @module
 */
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';

interface Zkp {
  rangeproof: {
    sign(value: string, commit: Uint8Array, gen: Uint8Array, blinder: Uint8Array, nonce: Uint8Array, minValue?: string, exp?: string, minBits?: string, message?: Uint8Array, extraCommit?: Uint8Array): Uint8Array;
    verify(proof: Uint8Array, commit: Uint8Array, gen: Uint8Array, extraCommit?: Uint8Array): boolean;
    info(proof: Uint8Array): { mantissa: string; minValue: string; maxValue: string };
  };
  pedersen: { commitment(value: string, gen: Uint8Array, blinder: Uint8Array): Uint8Array };
  generator: { generate(seed: Uint8Array): Uint8Array };
}

export interface Borromean {
  /** The asset generator A (serialized, 33 bytes). */
  A: Uint8Array;
  /** v·A + blinding·G; v is an unsigned 64-bit integer. */
  commit(v: bigint, blinding: Uint8Array): Uint8Array;
  /** A proof that the committed v lies in [0, 2^bits) (exponent 0, min value 0). */
  prove(v: bigint, blinding: Uint8Array, bits: number, commitment?: Uint8Array, extraCommit?: Uint8Array): Uint8Array;
  verify(proof: Uint8Array, commitment: Uint8Array, extraCommit?: Uint8Array): boolean;
  /** The range [min, max] a proof claims, as its own parser reads it. */
  claimedRange(proof: Uint8Array): { min: bigint; max: bigint };
}

export async function loadBorromean(): Promise<Borromean | undefined> {
  const require = createRequire(import.meta.url);
  let init: () => Promise<Zkp>;
  try {
    const mod = require('@vulpemventures/secp256k1-zkp') as { default?: () => Promise<Zkp> } & (() => Promise<Zkp>);
    init = mod.default ?? mod;
  } catch {
    return undefined;
  }
  const zkp = await init();
  const A = zkp.generator.generate(new Uint8Array(32).fill(0x5a));
  const commit = (v: bigint, blinding: Uint8Array) => zkp.pedersen.commitment(v.toString(), A, blinding);
  return {
    A,
    commit,
    prove: (v, blinding, bits, commitment = commit(v, blinding), extraCommit) =>
      zkp.rangeproof.sign(v.toString(), commitment, A, blinding, randomBytes(32), '0', '0', String(bits), undefined, extraCommit),
    verify: (proof, commitment, extraCommit) => {
      try {
        return zkp.rangeproof.verify(proof, commitment, A, extraCommit);
      } catch {
        return false;
      }
    },
    claimedRange(proof) {
      const info = zkp.rangeproof.info(proof);
      return { min: BigInt(info.minValue), max: BigInt(info.maxValue) };
    },
  };
}
