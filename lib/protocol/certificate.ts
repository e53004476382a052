/**
 * Meter certificates: what a provisioning key (the manufacturer or installer,
 * as in smart-meter key infrastructures) signs when it installs a meter or
 * gives it a new key. A certificate binds the meter id, its BIP340 key, the key
 * epoch, the time from which that key signs readings, the meter's class and the
 * feeder it hangs on. The privacy authority registers meters only from
 * certificates by a provisioning key it trusts, so the control center cannot
 * invent meters (sybils) or move one to another feeder (docs/notes-privacy.md).
 *
 * Binary, version 1, all integers big-endian:
 *
 * | field | bytes |
 * |---|---|
 * | magic `ZKMC` | 4 |
 * | version (1) | 1 |
 * | issuer: the provisioning key, x-only | 32 |
 * | meter id length, meter id (1–64 printable ASCII) | 1 + L |
 * | meter key, x-only | 32 |
 * | key epoch | 4 |
 * | valid from (Unix seconds, < 2^40) | 8 |
 * | feeder length, feeder (1–64 printable ASCII) | 1 + F |
 * | class name length, class name (1–64 printable ASCII) | 1 + N |
 * | class: bits, interval seconds | 1 + 4 |
 * | class: normal min, max; plausible min, max | 4 × 8 |
 * | signature: BIP340 by the issuer over tagged_hash("zkmeter/meter-certificate v1", everything before it) | 64 |
 *
 * Decoding is strict (magic, version, lengths, printable strings, a class whose
 * bounds fit its bits, points on the curve, no trailing bytes).
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { concatBytes, equalBytes } from '../backend/bytes.js';
import { RANGE_BITS, type RangeBits } from '../crypto/bulletproofs/range.js';
import { bytesToHex } from '../crypto/codec.js';
import { cryptoRandom, type RandomSource } from '../crypto/random.js';
import { schnorrPublicKey, signSchnorr, taggedHash, verifySchnorr } from '../crypto/schnorr.js';
import type { MeterClass } from './meter.js';
import { validateMeterKey } from './verify.js';

const MAGIC = new Uint8Array([0x5a, 0x4b, 0x4d, 0x43]); // "ZKMC"
export const CERTIFICATE_VERSION = 1;
/** BIP340 tag of the certificate signature's message. */
export const CERTIFICATE_TAG = 'zkmeter/meter-certificate v1';
const PRINTABLE = /^[\x21-\x7e]{1,64}$/;

/** What a certificate states. */
export interface CertificateFields {
  readonly meterId: string;
  /** The meter's 32-byte x-only BIP340 key for this epoch. */
  readonly publicKey: Uint8Array;
  readonly keyEpoch: number;
  /** Unix seconds from which this key signs readings; the next epoch's `validFrom` ends it. */
  readonly validFrom: number;
  readonly feeder: string;
  readonly meterClass: MeterClass;
}

/** A decoded certificate. */
export interface MeterCertificate extends CertificateFields {
  /** The provisioning key that signed it (32-byte x-only). */
  readonly issuer: Uint8Array;
  readonly signature: Uint8Array;
  /** Its canonical bytes. */
  readonly bytes: Uint8Array;
}

function bad(message: string): never {
  throw new ZkmeterError('INVALID_ARGUMENT', `certificate: ${message}`);
}

/** Checks a meter class's fields; returns it. */
export function validateMeterClass(c: MeterClass): MeterClass {
  if (typeof c !== 'object' || c === null) bad('"meterClass" expected an object');
  if (typeof c.name !== 'string' || !PRINTABLE.test(c.name)) bad('class "name" expected 1 to 64 printable ASCII characters');
  if (!RANGE_BITS.includes(c.bits)) bad(`class "bits" expected one of ${RANGE_BITS.join(', ')}`);
  if (!Number.isSafeInteger(c.intervalSeconds) || c.intervalSeconds < 60 || c.intervalSeconds > 86_400 || 86_400 % c.intervalSeconds !== 0) {
    bad('class "intervalSeconds" expected a divisor of 86,400 of at least 60');
  }
  const range = (b: { min: bigint; max: bigint } | undefined, what: string) => {
    if (typeof b?.min !== 'bigint' || typeof b.max !== 'bigint' || b.min < 0n || b.max < b.min || b.max - b.min >= 1n << BigInt(c.bits) || b.max >= 1n << 64n) {
      bad(`class "${what}" expected 0 <= min <= max < 2^64 with max − min < 2^${c.bits}`);
    }
  };
  range(c.normal, 'normal');
  range(c.plausible, 'plausible');
  if (c.normal.min < c.plausible.min || c.normal.max > c.plausible.max) bad('class "normal" bounds must lie inside its "plausible" bounds');
  return c;
}

function validateFields(f: CertificateFields): void {
  if (typeof f !== 'object' || f === null) bad('expected an object');
  if (typeof f.meterId !== 'string' || !PRINTABLE.test(f.meterId)) bad('"meterId" expected 1 to 64 printable ASCII characters');
  validateMeterKey(f.meterId, f.publicKey);
  if (!Number.isSafeInteger(f.keyEpoch) || f.keyEpoch < 0 || f.keyEpoch >= 2 ** 32) bad('"keyEpoch" expected an integer 0 to 2^32 − 1');
  if (!Number.isSafeInteger(f.validFrom) || f.validFrom < 0 || f.validFrom >= 2 ** 40) bad('"validFrom" expected Unix seconds 0 to 2^40 − 1');
  if (typeof f.feeder !== 'string' || !PRINTABLE.test(f.feeder)) bad('"feeder" expected 1 to 64 printable ASCII characters');
  validateMeterClass(f.meterClass);
}

function encodeUnsignedCertificate(issuer: Uint8Array, f: CertificateFields): Uint8Array {
  validateFields(f);
  const text = (s: string) => {
    const b = new TextEncoder().encode(s);
    return concatBytes(new Uint8Array([b.length]), b);
  };
  const fixed = new Uint8Array(4 + 8);
  new DataView(fixed.buffer).setUint32(0, f.keyEpoch);
  new DataView(fixed.buffer).setBigUint64(4, BigInt(f.validFrom));
  const c = f.meterClass;
  const cls = new Uint8Array(1 + 4 + 32);
  const v = new DataView(cls.buffer);
  cls[0] = c.bits;
  v.setUint32(1, c.intervalSeconds);
  [c.normal.min, c.normal.max, c.plausible.min, c.plausible.max].forEach((x, i) => v.setBigUint64(5 + 8 * i, x));
  return concatBytes(MAGIC, new Uint8Array([CERTIFICATE_VERSION]), issuer, text(f.meterId), f.publicKey, fixed, text(f.feeder), text(c.name), cls);
}

/** Signs a certificate with a provisioning key (a BIP340 secret key). */
export function certifyMeter(fields: CertificateFields, provisioningKey: bigint, rng: RandomSource = cryptoRandom): Uint8Array {
  const unsigned = encodeUnsignedCertificate(schnorrPublicKey(provisioningKey), fields);
  return concatBytes(unsigned, signSchnorr([taggedHash(CERTIFICATE_TAG, unsigned)], provisioningKey, rng));
}

/** Decodes a certificate, strictly. Does not check who signed it: `checkCertificate` does. */
export function decodeCertificate(bytes: Uint8Array): MeterCertificate {
  if (!(bytes instanceof Uint8Array)) bad('expected bytes');
  let at = 0;
  const take = (n: number, what: string) => {
    if (at + n > bytes.length) throw new ZkmeterError('INVALID_LENGTH', `certificate: truncated in ${what}`);
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  const text = (what: string) => {
    const s = new TextDecoder().decode(take(take(1, what)[0]!, what));
    if (!PRINTABLE.test(s)) bad(`"${what}" expected 1 to 64 printable ASCII characters`);
    return s;
  };
  if (!take(4, 'magic').every((b, i) => b === MAGIC[i])) bad('not a meter certificate (magic)');
  const version = take(1, 'version')[0]!;
  if (version !== CERTIFICATE_VERSION) throw new ZkmeterError('UNSUPPORTED_VERSION', `certificate: version ${version} is not supported (this build reads version ${CERTIFICATE_VERSION})`);
  const issuer = validateMeterKey('certificate issuer', take(32, 'issuer'));
  const meterId = text('meterId');
  const publicKey = validateMeterKey(meterId, take(32, 'publicKey'));
  const fixed = new DataView(take(12, 'keyEpoch').slice().buffer);
  const validFromBig = fixed.getBigUint64(4);
  if (validFromBig >= 2n ** 40n) bad('"validFrom" expected Unix seconds below 2^40');
  const feeder = text('feeder');
  const name = text('class name');
  const cls = take(37, 'class');
  const v = new DataView(cls.slice().buffer);
  const bits = cls[0]! as RangeBits;
  const [nMin, nMax, pMin, pMax] = [0, 1, 2, 3].map((i) => v.getBigUint64(5 + 8 * i));
  const meterClass: MeterClass = Object.freeze({
    name,
    bits,
    intervalSeconds: v.getUint32(1),
    normal: Object.freeze({ min: nMin!, max: nMax! }),
    plausible: Object.freeze({ min: pMin!, max: pMax! }),
  });
  validateMeterClass(meterClass);
  const signature = take(64, 'signature').slice();
  if (at !== bytes.length) throw new ZkmeterError('INVALID_LENGTH', `certificate: ${bytes.length - at} trailing bytes`);
  return { issuer, meterId, publicKey, keyEpoch: fixed.getUint32(0), validFrom: Number(validFromBig), feeder, meterClass, signature, bytes: bytes.slice() };
}

/**
 * Decodes a certificate and checks that a trusted provisioning key signed it.
 * Throws INVALID_ARGUMENT (or the decoder's code) for a malformed one, and
 * POLICY_REFUSED for one whose issuer is not trusted or whose signature fails.
 */
export function checkCertificate(bytes: Uint8Array, trustedIssuers: readonly Uint8Array[]): MeterCertificate {
  const c = decodeCertificate(bytes);
  if (!trustedIssuers.some((k) => equalBytes(k, c.issuer))) {
    throw new ZkmeterError('POLICY_REFUSED', `refused by rule 'registry': meter ${c.meterId}'s certificate is signed by ${bytesToHex(c.issuer)}, not a trusted provisioning key`);
  }
  if (!verifySchnorr(c.issuer, taggedHash(CERTIFICATE_TAG, c.bytes.subarray(0, c.bytes.length - 64)), c.signature)) {
    throw new ZkmeterError('POLICY_REFUSED', `refused by rule 'registry': meter ${c.meterId}'s certificate signature does not verify`);
  }
  return c;
}

/** What a registration changed. */
export interface RegistrationChange {
  readonly meterId: string;
  readonly change: 'registered' | 're-keyed' | 'unchanged';
  readonly keyEpoch: number;
  readonly feeder: string;
  readonly meterClass: string;
  /** The epoch it followed, for a re-key. */
  readonly previous?: { readonly keyEpoch: number; readonly feeder: string; readonly meterClass: string };
}

/**
 * What registering `cert` does to a meter whose certified epochs are `epochs` (oldest
 * first): `unchanged` if it holds this very certificate, `registered` for a first one,
 * `re-keyed` for a later epoch that starts after the current one. Anything else is
 * refused (POLICY_REFUSED, rule 'registry'): a re-key must raise the epoch, and an
 * epoch's key is never swapped.
 */
export function certificateChange(epochs: readonly MeterCertificate[], cert: MeterCertificate): RegistrationChange {
  const last = epochs.at(-1);
  const base = { meterId: cert.meterId, keyEpoch: cert.keyEpoch, feeder: cert.feeder, meterClass: cert.meterClass.name };
  if (epochs.some((e) => equalBytes(e.bytes, cert.bytes))) return { ...base, change: 'unchanged' };
  if (last === undefined) return { ...base, change: 'registered' };
  const refuse = (m: string): never => {
    throw new ZkmeterError('POLICY_REFUSED', `refused by rule 'registry': ${m}`);
  };
  if (cert.keyEpoch <= last.keyEpoch) refuse(`meter ${cert.meterId} is at key epoch ${last.keyEpoch}: a re-key must raise the epoch, this certificate has ${cert.keyEpoch}`);
  if (cert.validFrom <= last.validFrom) refuse(`meter ${cert.meterId}'s key epoch ${cert.keyEpoch} must start after epoch ${last.keyEpoch} (${last.validFrom}), not at ${cert.validFrom}`);
  return { ...base, change: 're-keyed', previous: { keyEpoch: last.keyEpoch, feeder: last.feeder, meterClass: last.meterClass.name } };
}
