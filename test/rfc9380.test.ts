/**
 * Checks the independent RFC 9380 reference implementation in
 * test/support/rfc9380.ts against the RFC's official test vectors:
 *   - Appendix J.8.1  secp256k1_XMD:SHA-256_SSWU_RO_
 *   - Appendix K.1    expand_message_xmd(SHA-256)
 * All expected values below are transcribed from the RFC text.
 */
import { describe, it, expect } from 'vitest';
import { expandMessageXmd, hashToCurveSecp256k1, hashToFieldFp } from './support/rfc9380.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const big = (h: string): bigint => BigInt('0x' + h);

const P = 2n ** 256n - 2n ** 32n - 977n;
const modP = (a: bigint): bigint => ((a % P) + P) % P;

// ---------------------------------------------------------------------------
// RFC 9380 Appendix J.8.1 — secp256k1_XMD:SHA-256_SSWU_RO_
// ---------------------------------------------------------------------------

const H2C_DST = enc('QUUX-V01-CS02-with-secp256k1_XMD:SHA-256_SSWU_RO_');

interface H2CVector {
  name: string;
  msg: string;
  Px: string;
  Py: string;
  u0: string;
  u1: string;
}

const H2C_VECTORS: H2CVector[] = [
  {
    name: 'empty',
    msg: '',
    Px: 'c1cae290e291aee617ebaef1be6d73861479c48b841eaba9b7b5852ddfeb1346',
    Py: '64fa678e07ae116126f08b022a94af6de15985c996c3a91b64c406a960e51067',
    u0: '6b0f9910dd2ba71c78f2ee9f04d73b5f4c5f7fc773a701abea1e573cab002fb3',
    u1: '1ae6c212e08fe1a5937f6202f929a2cc8ef4ee5b9782db68b0d5799fd8f09e16',
  },
  {
    name: 'abc',
    msg: 'abc',
    Px: '3377e01eab42db296b512293120c6cee72b6ecf9f9205760bd9ff11fb3cb2c4b',
    Py: '7f95890f33efebd1044d382a01b1bee0900fb6116f94688d487c6c7b9c8371f6',
    u0: '128aab5d3679a1f7601e3bdf94ced1f43e491f544767e18a4873f397b08a2b61',
    u1: '5897b65da3b595a813d0fdcc75c895dc531be76a03518b044daaa0f2e4689e00',
  },
  {
    name: 'abcdef0123456789',
    msg: 'abcdef0123456789',
    Px: 'bac54083f293f1fe08e4a70137260aa90783a5cb84d3f35848b324d0674b0e3a',
    Py: '4436476085d4c3c4508b60fcf4389c40176adce756b398bdee27bca19758d828',
    u0: 'ea67a7c02f2cd5d8b87715c169d055a22520f74daeb080e6180958380e2f98b9',
    u1: '7434d0d1a500d38380d1f9615c021857ac8d546925f5f2355319d823a478da18',
  },
  {
    name: 'q128',
    msg: 'q128_' + 'q'.repeat(128),
    Px: 'e2167bc785333a37aa562f021f1e881defb853839babf52a7f72b102e41890e9',
    Py: 'f2401dd95cc35867ffed4f367cd564763719fbc6a53e969fb8496a1e6685d873',
    u0: 'eda89a5024fac0a8207a87e8cc4e85aa3bce10745d501a30deb87341b05bcdf5',
    u1: 'dfe78cd116818fc2c16f3837fedbe2639fab012c407eac9dfe9245bf650ac51d',
  },
  {
    name: 'a512',
    msg: 'a512_' + 'a'.repeat(512),
    Px: 'e3c8d35aaaf0b9b647e88a0a0a7ee5d5bed5ad38238152e4e6fd8c1f8cb7c998',
    Py: '8446eeb6181bf12f56a9d24e262221cc2f0c4725c7e3803024b5888ee5823aa6',
    u0: '8d862e7e7e23d7843fe16d811d46d7e6480127a6b78838c277bca17df6900e9f',
    u1: '68071d2530f040f081ba818d3c7188a94c900586761e9115efa47ae9bd847938',
  },
];

describe('RFC 9380 J.8.1 secp256k1_XMD:SHA-256_SSWU_RO_ (reference implementation)', () => {
  it('uses the expected vector lengths (sanity check on transcription)', () => {
    for (const v of H2C_VECTORS) {
      for (const h of [v.Px, v.Py, v.u0, v.u1]) expect(h).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  for (const v of H2C_VECTORS) {
    it(`hash_to_field u[0], u[1] for msg "${v.name}"`, () => {
      const u = hashToFieldFp(enc(v.msg), H2C_DST, 2);
      expect(u).toHaveLength(2);
      expect(u[0]).toBe(big(v.u0));
      expect(u[1]).toBe(big(v.u1));
    });

    it(`hash_to_curve P.x, P.y for msg "${v.name}"`, () => {
      const pt = hashToCurveSecp256k1(enc(v.msg), H2C_DST);
      expect(pt.x).toBe(big(v.Px));
      expect(pt.y).toBe(big(v.Py));
    });

    it(`result for msg "${v.name}" lies on y^2 = x^3 + 7 mod p`, () => {
      const { x, y } = hashToCurveSecp256k1(enc(v.msg), H2C_DST);
      expect(x >= 0n && x < P).toBe(true);
      expect(y >= 0n && y < P).toBe(true);
      expect(modP(y * y)).toBe(modP(x * x * x + 7n));
    });
  }

  it('is deterministic and domain-separated', () => {
    const a = hashToCurveSecp256k1(enc('abc'), H2C_DST);
    const b = hashToCurveSecp256k1(enc('abc'), H2C_DST);
    expect(a).toEqual(b);
    const c = hashToCurveSecp256k1(enc('abc'), enc('QUUX-V01-CS02-with-secp256k1_XMD:SHA-256_SSWU_NU_'));
    expect(c.x).not.toBe(a.x);
  });
});

// ---------------------------------------------------------------------------
// RFC 9380 Appendix K.1 — expand_message_xmd(SHA-256)
// ---------------------------------------------------------------------------

const XMD_DST = enc('QUUX-V01-CS02-with-expander-SHA256-128');

const XMD_VECTORS: { msg: string; len: number; out: string }[] = [
  { msg: '', len: 0x20, out: '68a985b87eb6b46952128911f2a4412bbc302a9d759667f87f7a21d803f07235' },
  { msg: 'abc', len: 0x20, out: 'd8ccab23b5985ccea865c6c97b6e5b8350e794e603b4b97902f53a8a0d605615' },
  { msg: 'abcdef0123456789', len: 0x20, out: 'eff31487c770a893cfb36f912fbfcbff40d5661771ca4b2cb4eafe524333f5c1' },
  {
    msg: 'q128_' + 'q'.repeat(128),
    len: 0x20,
    out: 'b23a1d2b4d97b2ef7785562a7e8bac7eed54ed6e97e29aa51bfe3f12ddad1ff9',
  },
  {
    msg: 'a512_' + 'a'.repeat(512),
    len: 0x20,
    out: '4623227bcc01293b8c130bf771da8c298dede7383243dc0993d2d94823958c4c',
  },
  {
    msg: '',
    len: 0x80,
    out:
      'af84c27ccfd45d41914fdff5df25293e221afc53d8ad2ac06d5e3e29485dadbe' +
      'e0d121587713a3e0dd4d5e69e93eb7cd4f5df4cd103e188cf60cb02edc3edf18' +
      'eda8576c412b18ffb658e3dd6ec849469b979d444cf7b26911a08e63cf31f9dc' +
      'c541708d3491184472c2c29bb749d4286b004ceb5ee6b9a7fa5b646c993f0ced',
  },
  {
    msg: 'abc',
    len: 0x80,
    out:
      'abba86a6129e366fc877aab32fc4ffc70120d8996c88aee2fe4b32d6c7b6437a' +
      '647e6c3163d40b76a73cf6a5674ef1d890f95b664ee0afa5359a5c4e07985635' +
      'bbecbac65d747d3d2da7ec2b8221b17b0ca9dc8a1ac1c07ea6a1e60583e2cb00' +
      '058e77b7b72a298425cd1b941ad4ec65e8afc50303a22c0f99b0509b4c895f40',
  },
  {
    msg: 'abcdef0123456789',
    len: 0x80,
    out:
      'ef904a29bffc4cf9ee82832451c946ac3c8f8058ae97d8d629831a74c6572bd9' +
      'ebd0df635cd1f208e2038e760c4994984ce73f0d55ea9f22af83ba4734569d4b' +
      'c95e18350f740c07eef653cbb9f87910d833751825f0ebefa1abe5420bb52be1' +
      '4cf489b37fe1a72f7de2d10be453b2c9d9eb20c7e3f6edc5a60629178d9478df',
  },
];

describe('RFC 9380 K.1 expand_message_xmd(SHA-256) (reference implementation)', () => {
  for (const v of XMD_VECTORS) {
    const label = v.msg.length > 20 ? v.msg.slice(0, 5) + '…' : v.msg;
    it(`msg "${label}", len_in_bytes 0x${v.len.toString(16)}`, () => {
      expect(v.out).toHaveLength(2 * v.len);
      const out = expandMessageXmd(enc(v.msg), XMD_DST, v.len);
      expect(out).toHaveLength(v.len);
      expect(hex(out)).toBe(v.out);
    });
  }

  it('rejects a DST longer than 255 bytes', () => {
    expect(() => expandMessageXmd(enc('abc'), new Uint8Array(256), 32)).toThrow(Error);
    expect(() => expandMessageXmd(enc('abc'), new Uint8Array(255), 32)).not.toThrow();
  });

  it('rejects ell > 255', () => {
    expect(() => expandMessageXmd(enc('abc'), XMD_DST, 255 * 32 + 1)).toThrow(Error);
    expect(expandMessageXmd(enc('abc'), XMD_DST, 255 * 32)).toHaveLength(255 * 32);
  });
});
