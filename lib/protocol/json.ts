/**
 * JSON forms of the protocol's objects, for files, the CLI and the HTTP API
 * (SPEC.md: hex lowercase without 0x, integers that may exceed 2^53 as decimal
 * strings, points 33-byte compressed). Every parser is strict: unknown or
 * missing fields, bad hex, points off the curve and non-canonical numbers are
 * rejected with a ZkmeterError naming the field.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { bytesToBigint, scalarToBytes } from '../backend/bytes.js';
import { bytesToHex, decodePoint, encodePoints, hexToBytes } from '../crypto/codec.js';
import { decodeCiphertext, encodeCiphertext } from '../crypto/elgamal.js';
import { validateSharedKey, type DecryptionShare, type KeyShare, type SharedKey } from '../crypto/threshold.js';
import { billId, type Bill } from './billing.js';
import type { MeterRegistration } from './center.js';
import type { ReadingOpening } from './meter.js';
import { validateTariff, type Tariff } from './tariff.js';

/** A JSON object, as the JSON forms of this module produce and read it. */
export type Json = Record<string, unknown>;

function obj(v: unknown, what: string, fields: readonly string[], optional: readonly string[] = []): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ZkmeterError('INVALID_ARGUMENT', `${what} expected a JSON object`);
  const o = v as Json;
  for (const f of fields) if (!(f in o)) throw new ZkmeterError('INVALID_ARGUMENT', `${what} is missing "${f}"`);
  for (const k of Object.keys(o)) if (!fields.includes(k) && !optional.includes(k)) throw new ZkmeterError('INVALID_ARGUMENT', `${what} has an unknown field "${k}"`);
  return o;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ZkmeterError('INVALID_ARGUMENT', `${what} expected a string`);
  return v;
}

/** A decimal string (no sign, no leading zeros) as a bigint. */
export function decimal(v: unknown, what: string): bigint {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]*)$/.test(v)) throw new ZkmeterError('INVALID_ARGUMENT', `${what} expected a decimal string`);
  return BigInt(v);
}

function int(v: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) throw new ZkmeterError('INVALID_ARGUMENT', `${what} expected an integer ${min} to ${max}`);
  return v as number;
}

const point = (p: Uint8Array) => bytesToHex(encodePoints(p));
const readPoint = (v: unknown, what: string) => decodePoint(hexToBytes(str(v, what), what, 33), what);

export function sharedKeyToJson(k: SharedKey): Json {
  return {
    publicKey: point(k.publicKey),
    threshold: k.threshold,
    parties: [...k.parties].map(([party, p]) => ({ party, id: bytesToHex(scalarToBytes(p.id)), verifyingShare: point(p.verifyingShare) })),
  };
}

export function sharedKeyFromJson(v: unknown): SharedKey {
  const o = obj(v, 'shared key', ['publicKey', 'threshold', 'parties']);
  if (!Array.isArray(o.parties) || o.parties.length < 2) throw new ZkmeterError('INVALID_ARGUMENT', 'shared key "parties" expected at least 2 entries');
  const parties = new Map<string, { id: bigint; verifyingShare: Uint8Array }>();
  o.parties.forEach((p, i) => {
    const e = obj(p, `shared key parties[${i}]`, ['party', 'id', 'verifyingShare']);
    const name = str(e.party, 'party');
    if (parties.has(name)) throw new ZkmeterError('INVALID_ARGUMENT', `shared key names party ${JSON.stringify(name)} twice`);
    parties.set(name, {
      id: bytesToBigint(hexToBytes(str(e.id, 'id'), 'id', 32), 0, 32),
      verifyingShare: readPoint(e.verifyingShare, `parties[${i}].verifyingShare`),
    });
  });
  return validateSharedKey({ publicKey: readPoint(o.publicKey, 'publicKey'), threshold: int(o.threshold, 'threshold', 2, parties.size), parties });
}

export function keyShareToJson(s: KeyShare): Json {
  return { party: s.party, id: bytesToHex(scalarToBytes(s.id)), secret: bytesToHex(scalarToBytes(s.secret)) };
}

export function keyShareFromJson(v: unknown): KeyShare {
  const o = obj(v, 'key share', ['party', 'id', 'secret']);
  return {
    party: str(o.party, 'party'),
    id: bytesToBigint(hexToBytes(str(o.id, 'id'), 'id', 32), 0, 32),
    secret: bytesToBigint(hexToBytes(str(o.secret, 'secret'), 'secret', 32), 0, 32),
  };
}

export function decryptionShareToJson(d: DecryptionShare): Json {
  return { party: d.party, share: point(d.share), proof: bytesToHex(d.proof) };
}

export function decryptionShareFromJson(v: unknown, what = 'decryption share'): DecryptionShare {
  const o = obj(v, what, ['party', 'share', 'proof']);
  return { party: str(o.party, `${what}.party`), share: readPoint(o.share, `${what}.share`), proof: hexToBytes(str(o.proof, `${what}.proof`), `${what}.proof`, 64) };
}

export function billToJson(b: Bill): Json {
  return {
    meterId: b.meterId,
    from: b.from,
    to: b.to,
    tariffVersion: b.tariffVersion,
    currency: b.currency,
    minorPerMajor: b.minorPerMajor.toString(),
    intervals: b.intervals,
    recordIds: b.recordIds,
    encryptedEnergyCharge: bytesToHex(encodeCiphertext(b.encryptedEnergyCharge)),
    energyCharge: b.energyCharge.toString(),
    standingCharge: b.standingCharge.toString(),
    total: b.total.toString(),
    decryptionShares: b.decryptionShares.map(decryptionShareToJson),
    ...(b.signedTariff !== undefined ? { tariff: tariffToJson(b.signedTariff.tariff), tariffSignature: bytesToHex(b.signedTariff.signature) } : {}),
  };
}

export function billFromJson(v: unknown): Bill {
  const o = obj(v, 'bill', ['meterId', 'from', 'to', 'tariffVersion', 'currency', 'minorPerMajor', 'intervals', 'recordIds', 'encryptedEnergyCharge', 'energyCharge', 'standingCharge', 'total', 'decryptionShares'], ['tariff', 'tariffSignature', 'id']);
  if ((o.tariff === undefined) !== (o.tariffSignature === undefined)) throw new ZkmeterError('INVALID_ARGUMENT', 'bill "tariff" and "tariffSignature" go together');
  if (!Array.isArray(o.intervals)) throw new ZkmeterError('INVALID_ARGUMENT', 'bill "intervals" expected an array');
  if (!Array.isArray(o.recordIds) || o.recordIds.length !== o.intervals.length) {
    throw new ZkmeterError('INVALID_ARGUMENT', 'bill "recordIds" expected an array with one record id per interval');
  }
  if (!Array.isArray(o.decryptionShares)) throw new ZkmeterError('INVALID_ARGUMENT', 'bill "decryptionShares" expected an array');
  const bill: Bill = {
    meterId: str(o.meterId, 'meterId'),
    from: int(o.from, 'from'),
    to: int(o.to, 'to'),
    tariffVersion: int(o.tariffVersion, 'tariffVersion', 0, 2 ** 32 - 1),
    currency: str(o.currency, 'currency'),
    minorPerMajor: decimal(o.minorPerMajor, 'minorPerMajor'),
    intervals: o.intervals.map((t, i) => int(t, `intervals[${i}]`)),
    recordIds: o.recordIds.map((id, i) => bytesToHex(hexToBytes(str(id, `recordIds[${i}]`), `recordIds[${i}]`, 32))),
    encryptedEnergyCharge: decodeCiphertext(hexToBytes(str(o.encryptedEnergyCharge, 'encryptedEnergyCharge'), 'encryptedEnergyCharge', 66)),
    energyCharge: decimal(o.energyCharge, 'energyCharge'),
    standingCharge: decimal(o.standingCharge, 'standingCharge'),
    total: decimal(o.total, 'total'),
    decryptionShares: o.decryptionShares.map((s, i) => decryptionShareFromJson(s, `decryptionShares[${i}]`)),
    ...(o.tariff !== undefined ? { signedTariff: { tariff: tariffFromJson(o.tariff), signature: hexToBytes(str(o.tariffSignature, 'tariffSignature'), 'tariffSignature', 64) } } : {}),
  };

  // The service's bills carry their id: it must be this bill's.
  if (o.id !== undefined && o.id !== billId(bill.meterId, bill.from, bill.to, bill.tariffVersion)) throw new ZkmeterError('INVALID_ARGUMENT', 'bill "id" is not the id of its meter, period and tariff version');
  return bill;}

export function openingToJson(x: ReadingOpening): Json {
  return { intervalStart: x.intervalStart, reading: x.reading.toString(), blinding: bytesToHex(scalarToBytes(x.blinding)) };
}

export function openingFromJson(v: unknown, what = 'opening'): ReadingOpening {
  const o = obj(v, what, ['intervalStart', 'reading', 'blinding']);
  return {
    intervalStart: int(o.intervalStart, `${what}.intervalStart`),
    reading: decimal(o.reading, `${what}.reading`),
    blinding: bytesToBigint(hexToBytes(str(o.blinding, `${what}.blinding`), `${what}.blinding`, 32), 0, 32),
  };
}

export function registrationFromJson(v: unknown, what = 'meter'): MeterRegistration {
  const o = obj(v, what, ['meterId', 'publicKey'], ['feeder', 'keyEpoch']);
  return {
    meterId: str(o.meterId, `${what}.meterId`),
    publicKey: hexToBytes(str(o.publicKey, `${what}.publicKey`), `${what}.publicKey`, 32),
    ...(o.feeder !== undefined ? { feeder: str(o.feeder, `${what}.feeder`) } : {}),
    ...(o.keyEpoch !== undefined ? { keyEpoch: int(o.keyEpoch, `${what}.keyEpoch`, 0, 2 ** 32 - 1) } : {}),
  };
}

export function tariffToJson(t: Tariff): Json {
  return {
    version: t.version,
    currency: t.currency,
    minorPerMajor: t.minorPerMajor.toString(),
    standingChargePerDay: t.standingChargePerDay.toString(),
    bands: t.bands.map((b) => ({ name: b.name, fromHour: b.fromHour, pricePerWh: b.pricePerWh.toString() })),
    timeZone: t.timeZone ?? 'UTC',
  };
}

export function tariffFromJson(v: unknown): Tariff {
  const o = obj(v, 'tariff', ['version', 'currency', 'minorPerMajor', 'standingChargePerDay', 'bands'], ['timeZone']);
  if (!Array.isArray(o.bands)) throw new ZkmeterError('INVALID_ARGUMENT', 'tariff "bands" expected an array');
  return validateTariff({
    version: int(o.version, 'version', 0, 2 ** 32 - 1),
    currency: str(o.currency, 'currency'),
    minorPerMajor: decimal(o.minorPerMajor, 'minorPerMajor'),
    standingChargePerDay: decimal(o.standingChargePerDay, 'standingChargePerDay'),
    bands: o.bands.map((b, i) => {
      const e = obj(b, `bands[${i}]`, ['name', 'fromHour', 'pricePerWh']);
      return { name: str(e.name, 'name'), fromHour: int(e.fromHour, 'fromHour', 0, 23), pricePerWh: decimal(e.pricePerWh, 'pricePerWh') };
    }),
    ...(o.timeZone !== undefined ? { timeZone: str(o.timeZone, 'timeZone') } : {}),
  });
}

/** The format tag of a meter's export for its customer. */
export const METER_EXPORT_FORMAT = 'zkmeter/meter-export v2';

/**
 * What a meter gives its customer (its display, or a file from it): its id and 32-byte
 * x-only public key, its readings with their commitment blindings, and its signed records.
 * The customer checks a bill against it (`checkBill`, the /check page).
 *
 * `openings` holds one opening per reading the meter sealed, oldest first, so an interval
 * sealed twice (a reading record, then a daily record) has two, one for each record. An
 * opening names no record: it belongs to the record whose commitment for its interval it
 * opens (V = reading·G + blinding·H), which is how `checkBill` matches them.
 */
export interface MeterExport {
  readonly meterId: string;
  readonly meterPublicKey: Uint8Array;
  readonly openings: readonly ReadingOpening[];
  readonly records: readonly Uint8Array[];
  /** The utility's shared key the meter encrypts under, as it was provisioned: its decryption shares are checked against it. */
  readonly sharedKey: SharedKey;
  /** The privacy authority's identity key (32-byte x-only), as provisioned: a bill's tariff must carry its signature. */
  readonly authorityKey: Uint8Array;
}

/**
 * `{format, meterId, meterPublicKey (hex), readings: [opening…], records: [hex…], sharedKey, authorityKey (hex)}`, where an
 * opening is `{intervalStart, reading (decimal), blinding (32-byte hex)}` and an interval may
 * have several (`MeterExport`); `meterExportFromJson` refuses unknown and missing fields.
 */
export function meterExportToJson(x: MeterExport): Json {
  return {
    format: METER_EXPORT_FORMAT,
    meterId: x.meterId,
    meterPublicKey: bytesToHex(x.meterPublicKey),
    readings: x.openings.map(openingToJson),
    records: x.records.map(bytesToHex),
    sharedKey: sharedKeyToJson(x.sharedKey),
    authorityKey: bytesToHex(x.authorityKey),
  };
}

export function meterExportFromJson(v: unknown): MeterExport {
  // The format first, so that an export of another version is named as such.
  const format = typeof v === 'object' && v !== null ? (v as Json).format : undefined;
  if (format !== METER_EXPORT_FORMAT) {
    throw new ZkmeterError(
      'INVALID_ARGUMENT',
      format === 'zkmeter/meter-export v1'
        ? 'meter export v1 carries neither the utility key nor the authority key the meter was provisioned with, which the bill check trusts: make a v2 export (zkmeter meter export --key … --authority-key …)'
        : `meter export "format" expected "${METER_EXPORT_FORMAT}", got ${JSON.stringify(format)}`,
    );
  }
  const o = obj(v, 'meter export', ['format', 'meterId', 'meterPublicKey', 'readings', 'records', 'sharedKey', 'authorityKey']);
  if (!Array.isArray(o.readings)) throw new ZkmeterError('INVALID_ARGUMENT', 'meter export "readings" expected an array');
  if (!Array.isArray(o.records)) throw new ZkmeterError('INVALID_ARGUMENT', 'meter export "records" expected an array');
  return {
    meterId: str(o.meterId, 'meterId'),
    meterPublicKey: hexToBytes(str(o.meterPublicKey, 'meterPublicKey'), 'meterPublicKey', 32),
    openings: o.readings.map((r, i) => openingFromJson(r, `readings[${i}]`)),
    records: o.records.map((r, i) => hexToBytes(str(r, `records[${i}]`), `records[${i}]`)),
    sharedKey: sharedKeyFromJson(o.sharedKey),
    authorityKey: hexToBytes(str(o.authorityKey, 'authorityKey'), 'authorityKey', 32),
  };
}
