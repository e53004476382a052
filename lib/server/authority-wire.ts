/**
 * The JSON forms of the privacy authority's answers, as its service sends them
 * (authority-app.ts) and the center's client reads them (authority-client.ts).
 * Strict on input: the client treats the authority as a separate party whose
 * answers it checks (billing.ts checks the sums and every share's DLEQ proof),
 * so a malformed answer is a fault of the authority, never trusted.
 * Encodings as SPEC.md: lowercase hex, ciphertexts 66 bytes (c1 ‖ c2
 * compressed). No decryption bound travels: the center derives its own from its records.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { bytesToHex, hexToBytes } from '../crypto/codec.js';
import { decodeCiphertext, encodeCiphertext } from '../crypto/elgamal.js';
import type { BillRelease, GridRelease } from '../protocol/authority.js';
import type { RegistrationChange } from '../protocol/certificate.js';
import { decryptionShareFromJson, decryptionShareToJson, type Json } from '../protocol/json.js';

export function billReleaseToJson(r: BillRelease): Json {
  return {
    encryptedCharge: bytesToHex(encodeCiphertext(r.encryptedCharge)),
    intervals: r.intervals,
    share: decryptionShareToJson(r.share),
    ...(r.tariffSignature !== undefined ? { tariffSignature: bytesToHex(r.tariffSignature) } : {}),
  };
}

export function billReleaseFromJson(v: unknown): BillRelease {
  const o = object(v, 'bill release', ['encryptedCharge', 'intervals', 'share'], ['tariffSignature']);
  return {
    encryptedCharge: ciphertext(o.encryptedCharge, 'encryptedCharge'),
    intervals: ints(o.intervals, 'intervals'),
    share: decryptionShareFromJson(o.share, 'share'),
    ...(o.tariffSignature !== undefined ? { tariffSignature: hexToBytes(text(o.tariffSignature, 'tariffSignature'), 'tariffSignature', 64) } : {}),
  };
}

export function gridReleaseToJson(r: GridRelease): Json {
  return {
    feeder: r.feeder,
    from: r.from,
    to: r.to,
    tariffVersion: r.tariffVersion,
    members: r.members,
    excluded: r.excluded,
    totals: r.totals.map((t) => ({ intervalStart: t.intervalStart, encryptedTotal: bytesToHex(encodeCiphertext(t.encryptedTotal)), share: decryptionShareToJson(t.share) })),
  };
}

export function gridReleaseFromJson(v: unknown): GridRelease {
  const o = object(v, 'grid release', ['feeder', 'from', 'to', 'tariffVersion', 'members', 'excluded', 'totals']);
  if (!Array.isArray(o.totals)) throw bad('"totals" expected an array');
  if (!Array.isArray(o.excluded)) throw bad('"excluded" expected an array');
  return {
    feeder: text(o.feeder, 'feeder'),
    from: ints([o.from], 'from')[0]!,
    to: ints([o.to], 'to')[0]!,
    tariffVersion: ints([o.tariffVersion], 'tariffVersion')[0]!,
    members: texts(o.members, 'members'),
    excluded: o.excluded.map((x, i) => {
      const e = object(x, `excluded[${i}]`, ['meterId', 'why']);
      return { meterId: text(e.meterId, `excluded[${i}].meterId`), why: text(e.why, `excluded[${i}].why`) };
    }),
    totals: o.totals.map((x, i) => {
      const t = object(x, `totals[${i}]`, ['intervalStart', 'encryptedTotal', 'share']);
      return {
        intervalStart: ints([t.intervalStart], `totals[${i}].intervalStart`)[0]!,
        encryptedTotal: ciphertext(t.encryptedTotal, `totals[${i}].encryptedTotal`),
        share: decryptionShareFromJson(t.share, `totals[${i}].share`),
      };
    }),
  };
}

export function registrationChangesFromJson(v: unknown): RegistrationChange[] {
  const o = object(v, 'registration', ['changes'], ['registered']);
  if (!Array.isArray(o.changes)) throw bad('"changes" expected an array');
  return o.changes.map((x, i) => {
    const c = object(x, `changes[${i}]`, ['meterId', 'change', 'keyEpoch', 'feeder', 'meterClass'], ['previous']);
    if (c.change !== 'registered' && c.change !== 're-keyed' && c.change !== 'unchanged') throw bad(`changes[${i}].change is not a registration change`);
    const base = { meterId: text(c.meterId, 'meterId'), change: c.change as RegistrationChange['change'], keyEpoch: ints([c.keyEpoch], 'keyEpoch')[0]!, feeder: text(c.feeder, 'feeder'), meterClass: text(c.meterClass, 'meterClass') };
    if (c.previous === undefined) return base;
    const p = object(c.previous, `changes[${i}].previous`, ['keyEpoch', 'feeder', 'meterClass']);
    return { ...base, previous: { keyEpoch: ints([p.keyEpoch], 'keyEpoch')[0]!, feeder: text(p.feeder, 'feeder'), meterClass: text(p.meterClass, 'meterClass') } };
  });
}

function bad(message: string): ZkmeterError {
  return new ZkmeterError('INVALID_ARGUMENT', `the authority's answer: ${message}`);
}

function object(v: unknown, what: string, fields: readonly string[], optional: readonly string[] = []): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${what} expected a JSON object`);
  const o = v as Json;
  for (const f of fields) if (!(f in o)) throw bad(`${what} is missing "${f}"`);
  for (const k of Object.keys(o)) if (!fields.includes(k) && !optional.includes(k)) throw bad(`${what} has an unknown field "${k}"`);
  return o;
}

function text(v: unknown, what: string): string {
  if (typeof v !== 'string') throw bad(`${what} expected a string`);
  return v;
}

function texts(v: unknown, what: string): string[] {
  if (!Array.isArray(v)) throw bad(`${what} expected an array`);
  return v.map((x, i) => text(x, `${what}[${i}]`));
}

function ints(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) throw bad(`${what} expected non-negative integers`);
  return v as number[];
}

function ciphertext(v: unknown, what: string): BillRelease['encryptedCharge'] {
  return decodeCiphertext(hexToBytes(text(v, what), what, 66));
}
