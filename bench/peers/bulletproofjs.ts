/**
 * Adapter for the npm package `bulletproof-js` (a pure-JS Bulletproofs on
 * secp256k1, elliptic + BigInt), for the benchmark and the soundness run. It is a
 * devDependency of the bench only: `loadBulletproofJs()` returns undefined when
 * it is not installed.
 *
 * Facts about it that the soundness run relies on, read from its source (v1.0.7):
 *  - its H is SHA-256(hex of uncompressed G)·G, so log_G(H) is public;
 *  - its Transcript serializes only its first point (A), repeated: the challenges
 *    y, z, x and the inner-product u_j depend on A and on their count alone, never
 *    on V, S, T1 or T2;
 *  - it has no byte encoding (toBytes() is empty), only JSON; sizes below count
 *    its proof elements at 33 B per point and 32 B per scalar;
 *  - it proves [0, 2^n) for n a power of two, one value per proof (no aggregation).
 * @module
 */
import { createRequire } from 'node:module';

/** An elliptic.js point, as far as we use it. */
export interface EPoint {
  add(p: EPoint): EPoint;
  mul(k: unknown): EPoint;
  neg(): EPoint;
  eq(p: EPoint): boolean;
  encode(enc: 'hex', compact?: boolean): string;
}

export interface BpProof {
  V: EPoint;
  T1: EPoint;
  x: bigint;
  z: bigint;
  ind: unknown[];
  verify(low: bigint, up: bigint): boolean;
  toJson(pretty?: boolean): string;
}

interface BulletproofJsModule {
  Constants: { secp256k1: { n: bigint } };
  ProofUtils: {
    getnewGenFromHashingGen(G: EPoint): EPoint;
    getPedersenCommitment(v: bigint, x: bigint, n: bigint, H: EPoint): EPoint;
    sha256pointtohex(p: EPoint): string;
    toBN(x: bigint): unknown;
  };
  ProofFactory: {
    computeBulletproof(v: bigint, x: bigint, V: EPoint, G: EPoint, H: EPoint, low: bigint, up: bigint, n: bigint, asserts: boolean): { compressProof(asserts: boolean): BpProof };
  };
  CompressedProofs: { fromJsonString(json: string): BpProof };
}

export interface BulletproofJs {
  /** The group order. */
  n: bigint;
  G: EPoint;
  H: EPoint;
  /** log_G(H): public, since H = SHA-256(G)·G. */
  logH: bigint;
  commit(v: bigint, blinding: bigint): EPoint;
  /** Proves v ∈ [0, 2^bits) for V = v·G + blinding·H (its own prover). */
  prove(v: bigint, blinding: bigint, bits: number, V?: EPoint): BpProof;
  verify(proof: BpProof, bits: number): boolean;
  /** A proof as a verifier receives it: serialized with V replaced, then parsed by its own decoder. */
  withFields(proof: BpProof, fields: { V?: EPoint; T1?: EPoint }): BpProof;
  mul(p: EPoint, k: bigint): EPoint;
  /** Bytes of one proof of `bits` bits: (4 + 2·log2 bits) points and 5 scalars. */
  proofBytes(bits: number): number;
}

export function loadBulletproofJs(): BulletproofJs | undefined {
  const require = createRequire(import.meta.url);
  let bp: BulletproofJsModule;
  let G: EPoint;
  try {
    bp = require('bulletproof-js') as BulletproofJsModule;
    const EC = (require('elliptic') as { ec: new (curve: string) => { g: EPoint } }).ec;
    G = new EC('secp256k1').g;
  } catch {
    return undefined;
  }
  const n = bp.Constants.secp256k1.n;
  const H = bp.ProofUtils.getnewGenFromHashingGen(G);
  const logH = BigInt('0x' + bp.ProofUtils.sha256pointtohex(G)) % n;
  const mod = (a: bigint) => ((a % n) + n) % n;
  const mul = (p: EPoint, k: bigint) => p.mul(bp.ProofUtils.toBN(mod(k)));
  if (!mul(G, logH).eq(H)) throw new Error('bulletproof-js: H is no longer SHA-256(G)·G; update bench/peers/bulletproofjs.ts');
  const commit = (v: bigint, blinding: bigint) => bp.ProofUtils.getPedersenCommitment(mod(v), mod(blinding), n, H);
  return {
    n,
    G,
    H,
    logH,
    commit,
    mul,
    prove: (v, blinding, bits, V = commit(v, blinding)) =>
      bp.ProofFactory.computeBulletproof(v, mod(blinding), V, G, H, 0n, BigInt(bits), n, false).compressProof(false),
    verify: (proof, bits) => proof.verify(0n, BigInt(bits)),
    withFields(proof, fields) {
      const json = JSON.parse(proof.toJson()) as Record<string, unknown>;
      if (fields.V) json.V = fields.V.encode('hex');
      if (fields.T1) json.T1 = fields.T1.encode('hex');
      return bp.CompressedProofs.fromJsonString(JSON.stringify(json));
    },
    proofBytes: (bits) => 33 * (4 + 2 * Math.log2(bits)) + 32 * 5,
  };
}
