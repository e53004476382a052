/**
 * A naive EC ElGamal on @noble/curves, decrypting as the earlier C proof of concept
 * did: by counting up, k·G for k = 0, 1, 2, … until it equals m·G. Written here as
 * the baseline the report's decryption plot compares baby-step giant-step against;
 * nothing else uses it.
 *
 * Encryption (exponential ElGamal): C1 = r·G, C2 = m·G + r·Y with Y = x·G.
 * Decryption: M = C2 − x·C1 = m·G, then m by exhaustive search: O(m) additions.
 * @module
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { randomScalar } from '../../lib/crypto/random.js';

const Point = secp256k1.Point;
type P = InstanceType<typeof Point>;

export interface NaiveCiphertext {
  c1: P;
  c2: P;
}

export function naiveKeygen(): { secretKey: bigint; publicKey: P } {
  const secretKey = randomScalar();
  return { secretKey, publicKey: Point.BASE.multiply(secretKey) };
}

export function naiveEncrypt(publicKey: P, m: bigint): NaiveCiphertext {
  const r = randomScalar();
  const mG = m === 0n ? Point.ZERO : Point.BASE.multiply(m);
  return { c1: Point.BASE.multiply(r), c2: mG.add(publicKey.multiply(r)) };
}

/** Counts up to at most `max`; throws if the plaintext is larger. */
export function naiveDecrypt(secretKey: bigint, ct: NaiveCiphertext, max: bigint): bigint {
  const target = ct.c2.subtract(ct.c1.multiply(secretKey));
  let acc = Point.ZERO;
  for (let k = 0n; k <= max; k++) {
    if (acc.equals(target)) return k;
    acc = acc.add(Point.BASE);
  }
  throw new Error(`plaintext larger than ${max}`);
}
