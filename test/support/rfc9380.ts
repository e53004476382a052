/**
 * Independent reference implementation of RFC 9380 ("Hashing to Elliptic
 * Curves") for the suite `secp256k1_XMD:SHA-256_SSWU_RO_` (RFC 9380 §8.7).
 *
 * Test-support code only: written directly from the RFC's definitions using
 * plain bigint arithmetic, so that it can cross-check the project's own
 * generator derivation. It deliberately does NOT use @noble/curves (no field,
 * point or hash-to-curve code); only `sha256` from @noble/hashes is used, as
 * the hash function H. Nothing here is constant-time — never use it for
 * secret data.
 *
 * Sections implemented:
 *   - §4.1    sgn0 (m = 1: sgn0(x) = x mod 2)
 *   - §5.2    hash_to_field (L = 48, m = 1, p = secp256k1 field prime)
 *   - §5.3.1  expand_message_xmd (SHA-256: b_in_bytes = 32, s_in_bytes = 64)
 *   - §6.6.2  map_to_curve_simple_swu on the isogenous curve E'
 *             (A' and B' from §8.7, Z = -11; sqrt via x^((p+1)/4), p ≡ 3 mod 4,
 *             RFC 9380 Appendix I.1)
 *   - §6.6.3  / Appendix E.1  3-isogeny map E' -> E (secp256k1)
 *   - §3      hash_to_curve: u = hash_to_field(msg, 2),
 *             P = iso_map(map(u0)) + iso_map(map(u1)); h = 1 so
 *             clear_cofactor (§7) is the identity.
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** secp256k1 base-field prime p = 2^256 - 2^32 - 977. */
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
/** Isogenous curve E': y^2 = x^3 + A'x + B' (RFC 9380 §8.7). */
const A_ISO = 0x3f8731abdd661adca08a5558f0f5d272e953d363cb6f0e5d405447c01a444533n;
const B_ISO = 1771n;
/** Simplified SWU constant Z = -11 (RFC 9380 §8.7). */
const Z_SSWU = P - 11n;

/** 3-isogeny constants, RFC 9380 Appendix E.1. */
const K1 = [
  0x8e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38daaaaa8c7n, // k_(1,0)
  0x07d3d4c80bc321d5b9f315cea7fd44c5d595d2fc0bf63b92dfff1044f17c6581n, // k_(1,1)
  0x534c328d23f234e6e2a413deca25caece4506144037c40314ecbd0b53d9dd262n, // k_(1,2)
  0x8e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38daaaaa88cn, // k_(1,3)
] as const;
const K2 = [
  0xd35771193d94918a9ca34ccbb7b640dd86cd409542f8487d9fe6b745781eb49bn, // k_(2,0)
  0xedadc6f64383dc1df7c4b2d51b54225406d36b641f5e41bbc52a56612a8c6d14n, // k_(2,1)
] as const;
const K3 = [
  0x4bda12f684bda12f684bda12f684bda12f684bda12f684bda12f684b8e38e23cn, // k_(3,0)
  0xc75e0c32d5cb7c0fa9d0a54b12a0a6d5647ab046d686da6fdffc90fc201d71a3n, // k_(3,1)
  0x29a6194691f91a73715209ef6512e576722830a201be2018a765e85a9ecee931n, // k_(3,2)
  0x2f684bda12f684bda12f684bda12f684bda12f684bda12f684bda12f38e38d84n, // k_(3,3)
] as const;
const K4 = [
  0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffff93bn, // k_(4,0)
  0x7a06534bb8bdb49fd5e9e6632722c2989467c1bfc8e8d978dfb425d2685c2573n, // k_(4,1)
  0x6484aa716545ca2cf3a70c3fa8fe337e0a3d21162f0d6299a7bf8192bfd2a76fn, // k_(4,2)
] as const;

/** SHA-256 parameters for expand_message_xmd (§5.3.1). */
const B_IN_BYTES = 32;
const S_IN_BYTES = 64;
/** hash_to_field parameter L = ceil((ceil(log2(p)) + k) / 8) = ceil((256 + 128) / 8) = 48. */
const L = 48;

// ---------------------------------------------------------------------------
// Field arithmetic mod p (plain bigint)
// ---------------------------------------------------------------------------

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

/** inv0 (§4): multiplicative inverse, with inv0(0) = 0. */
function inv0(a: bigint): bigint {
  return pow(a, P - 2n);
}

/** sqrt for p ≡ 3 (mod 4) (Appendix I.1): x^((p+1)/4). Only meaningful for squares. */
function sqrt(a: bigint): bigint {
  return pow(a, (P + 1n) / 4n);
}

/** is_square (§4): true iff a is 0 or a quadratic residue mod p. */
function isSquare(a: bigint): boolean {
  const s = sqrt(a);
  return mod(s * s) === mod(a);
}

/** sgn0 (§4.1), m = 1: sign is the parity of the canonical representative. */
function sgn0(a: bigint): number {
  return Number(mod(a) & 1n);
}

// ---------------------------------------------------------------------------
// Byte helpers
// ---------------------------------------------------------------------------

/** I2OSP(x, len) — big-endian. */
function i2osp(value: number, length: number): Uint8Array {
  if (value < 0 || value >= 256 ** length) throw new Error(`i2osp: ${value} does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  return out;
}

/** OS2IP — big-endian bytes to bigint. */
function os2ip(bytes: Uint8Array): bigint {
  let r = 0n;
  for (const b of bytes) r = (r << 8n) | BigInt(b);
  return r;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function strxor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new Error('strxor: length mismatch');
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

// ---------------------------------------------------------------------------
// §5.3.1 expand_message_xmd (H = SHA-256)
// ---------------------------------------------------------------------------

/**
 * RFC 9380 §5.3.1 expand_message_xmd with H = SHA-256.
 * Throws if len(DST) > 255, ell > 255 or len_in_bytes > 65535.
 */
export function expandMessageXmd(msg: Uint8Array, dst: Uint8Array, lenInBytes: number): Uint8Array {
  if (!Number.isInteger(lenInBytes) || lenInBytes < 0) throw new Error('expand_message_xmd: invalid len_in_bytes');
  if (dst.length > 255) throw new Error('expand_message_xmd: DST longer than 255 bytes');
  const ell = Math.ceil(lenInBytes / B_IN_BYTES);
  if (ell > 255 || lenInBytes > 65535) throw new Error('expand_message_xmd: requested output too long');

  const dstPrime = concat(dst, i2osp(dst.length, 1));
  const zPad = new Uint8Array(S_IN_BYTES);
  const libStr = i2osp(lenInBytes, 2);
  const msgPrime = concat(zPad, msg, libStr, i2osp(0, 1), dstPrime);

  const b0 = sha256(msgPrime);
  const b: Uint8Array[] = [];
  b.push(sha256(concat(b0, i2osp(1, 1), dstPrime))); // b_1
  for (let i = 2; i <= ell; i++) {
    b.push(sha256(concat(strxor(b0, b[i - 2]!), i2osp(i, 1), dstPrime)));
  }
  return concat(...b).slice(0, lenInBytes);
}

// ---------------------------------------------------------------------------
// §5.2 hash_to_field (m = 1, L = 48)
// ---------------------------------------------------------------------------

/** RFC 9380 §5.2 hash_to_field into GF(p), p = secp256k1 field prime, m = 1, L = 48. */
export function hashToFieldFp(msg: Uint8Array, dst: Uint8Array, count: number): bigint[] {
  if (!Number.isInteger(count) || count < 1) throw new Error('hash_to_field: count must be a positive integer');
  const lenInBytes = count * L; // m = 1
  const uniformBytes = expandMessageXmd(msg, dst, lenInBytes);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const tv = uniformBytes.subarray(L * i, L * (i + 1));
    out.push(os2ip(tv) % P);
  }
  return out;
}

// ---------------------------------------------------------------------------
// §6.6.2 Simplified SWU on E'
// ---------------------------------------------------------------------------

interface Affine {
  x: bigint;
  y: bigint;
}

/** RFC 9380 §6.6.2 map_to_curve_simple_swu(u), on E': y^2 = x^3 + A'x + B'. */
function mapToCurveSimpleSwu(u: bigint): Affine {
  const A = A_ISO;
  const B = B_ISO;
  const Z = Z_SSWU;
  const u2 = mod(u * u);
  // 1. tv1 = inv0(Z^2 * u^4 + Z * u^2)
  const tv1 = inv0(mod(Z * Z * u2 * u2 + Z * u2));
  // 2. x1 = (-B / A) * (1 + tv1)
  let x1 = mod(mod(-B) * inv0(A) * (1n + tv1));
  // 3. If tv1 == 0, set x1 = B / (Z * A)
  if (tv1 === 0n) x1 = mod(B * inv0(mod(Z * A)));
  // 4. gx1 = x1^3 + A * x1 + B
  const gx1 = mod(x1 * x1 * x1 + A * x1 + B);
  // 5. x2 = Z * u^2 * x1
  const x2 = mod(Z * u2 * x1);
  // 6. gx2 = x2^3 + A * x2 + B
  const gx2 = mod(x2 * x2 * x2 + A * x2 + B);
  // 7./8. choose the x whose g(x) is square
  let x: bigint;
  let y: bigint;
  if (isSquare(gx1)) {
    x = x1;
    y = sqrt(gx1);
  } else {
    x = x2;
    y = sqrt(gx2);
  }
  // 9. fix the sign of y
  if (sgn0(u) !== sgn0(y)) y = mod(-y);
  return { x, y };
}

// ---------------------------------------------------------------------------
// Appendix E.1: 3-isogeny map E' -> E
// ---------------------------------------------------------------------------

/** RFC 9380 Appendix E.1 iso_map. Returns null (identity) if a denominator vanishes. */
function isoMap(p: Affine): Affine | null {
  const x1 = p.x;
  const x2 = mod(x1 * x1);
  const x3 = mod(x2 * x1);
  const xNum = mod(K1[3] * x3 + K1[2] * x2 + K1[1] * x1 + K1[0]);
  const xDen = mod(x2 + K2[1] * x1 + K2[0]);
  const yNum = mod(K3[3] * x3 + K3[2] * x2 + K3[1] * x1 + K3[0]);
  const yDen = mod(x3 + K4[2] * x2 + K4[1] * x1 + K4[0]);
  if (xDen === 0n || yDen === 0n) return null;
  return {
    x: mod(xNum * inv0(xDen)),
    y: mod(p.y * yNum * inv0(yDen)),
  };
}

// ---------------------------------------------------------------------------
// Affine group law on E: y^2 = x^3 + 7 (null = point at infinity)
// ---------------------------------------------------------------------------

function pointAdd(p: Affine | null, q: Affine | null): Affine | null {
  if (p === null) return q;
  if (q === null) return p;
  let lambda: bigint;
  if (p.x === q.x) {
    if (mod(p.y + q.y) === 0n) return null; // Q = -P (includes doubling a 2-torsion point)
    // doubling: lambda = 3x^2 / 2y   (a = 0)
    lambda = mod(3n * p.x * p.x * inv0(mod(2n * p.y)));
  } else {
    lambda = mod((q.y - p.y) * inv0(mod(q.x - p.x)));
  }
  const x = mod(lambda * lambda - p.x - q.x);
  const y = mod(lambda * (p.x - x) - p.y);
  return { x, y };
}

// ---------------------------------------------------------------------------
// §3 hash_to_curve (random-oracle encoding)
// ---------------------------------------------------------------------------

/**
 * RFC 9380 §3 hash_to_curve for secp256k1_XMD:SHA-256_SSWU_RO_ (§8.7):
 * u = hash_to_field(msg, 2); Q_i = iso_map(map_to_curve_simple_swu(u_i));
 * R = Q0 + Q1; cofactor h = 1, so P = R. Returns affine coordinates.
 */
export function hashToCurveSecp256k1(msg: Uint8Array, dst: Uint8Array): { x: bigint; y: bigint } {
  const [u0, u1] = hashToFieldFp(msg, dst, 2) as [bigint, bigint];
  const q0 = isoMap(mapToCurveSimpleSwu(u0));
  const q1 = isoMap(mapToCurveSimpleSwu(u1));
  const r = pointAdd(q0, q1);
  if (r === null) throw new Error('hash_to_curve: result is the point at infinity');
  return r;
}
