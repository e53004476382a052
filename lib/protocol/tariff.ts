/**
 * Time-of-use tariffs: a price per Wh for each interval, by the hour it starts
 * in (in the tariff's time zone, UTC by default), plus a standing charge per
 * day that the bill's readings cover. All amounts are integers in the tariff's
 * minor unit (for the default, 1/1000 penny: 1 GBP = 100,000), so bills are
 * exact and a bill is Σ price_t · m_t, a weighted homomorphic sum.
 *
 * Days are calendar days of the tariff's time zone: a bill period runs from one
 * local midnight to another (23 or 25 hours across a daylight-saving change).
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { ZkmeterError } from '../errors.js';
import { signSchnorr, taggedHash, verifySchnorr } from '../crypto/schnorr.js';
import type { MeterClass } from './meter.js';

export interface TariffBand {
  readonly name: string;
  /** First UTC hour (0–23) of the band; it lasts until the next band's hour. */
  readonly fromHour: number;
  /** Price per Wh in minor units (a positive integer). */
  readonly pricePerWh: bigint;
}

export interface Tariff {
  /** Immutable: one version has one set of prices, for ever (the privacy authority refuses a reused version). */
  readonly version: number;
  /** ISO 4217 code of the currency the amounts are in. */
  readonly currency: string;
  /** Minor units per major unit of `currency`. */
  readonly minorPerMajor: bigint;
  /** Standing charge per started day, in minor units. */
  readonly standingChargePerDay: bigint;
  /** Bands sorted by `fromHour`, the first starting at hour 0. */
  readonly bands: readonly TariffBand[];
  /** IANA time zone of the bands' hours and of the days bills cover (default UTC). */
  readonly timeZone?: string;
}

/** A three-rate household tariff: off-peak 15p/kWh, day 28p/kWh, peak (16:00–19:00) 40p/kWh, 60p a day. */
export const DEFAULT_TARIFF: Tariff = validateTariff({
  version: 1,
  currency: 'GBP',
  minorPerMajor: 100_000n,
  standingChargePerDay: 60_000n,
  bands: [
    { name: 'off-peak', fromHour: 0, pricePerWh: 15n },
    { name: 'day', fromHour: 7, pricePerWh: 28n },
    { name: 'peak', fromHour: 16, pricePerWh: 40n },
    { name: 'day', fromHour: 19, pricePerWh: 28n },
    { name: 'off-peak', fromHour: 23, pricePerWh: 15n },
  ],
});

/** Checks a tariff's fields; returns it. */
export function validateTariff(t: Tariff): Tariff {
  const bad = (m: string): never => {
    throw new ZkmeterError('INVALID_ARGUMENT', `tariff: ${m}`);
  };
  if (typeof t !== 'object' || t === null) bad('expected an object');
  if (!Number.isSafeInteger(t.version) || t.version < 0 || t.version >= 2 ** 32) bad('"version" expected an integer 0 to 2^32 − 1');
  if (typeof t.currency !== 'string' || !/^[A-Z]{3}$/.test(t.currency)) bad('"currency" expected an ISO 4217 code');
  if (typeof t.minorPerMajor !== 'bigint' || t.minorPerMajor < 1n || !/^10*$/.test(t.minorPerMajor.toString())) bad('"minorPerMajor" expected a power of ten (1, 10, 100, …)');
  if (typeof t.standingChargePerDay !== 'bigint' || t.standingChargePerDay < 0n) bad('"standingChargePerDay" expected a bigint >= 0');
  if (!Array.isArray(t.bands) || t.bands.length === 0 || t.bands[0]!.fromHour !== 0) bad('"bands" expected a list starting at hour 0');
  t.bands.forEach((b, i) => {
    if (!Number.isInteger(b.fromHour) || b.fromHour < 0 || b.fromHour > 23 || (i > 0 && b.fromHour <= t.bands[i - 1]!.fromHour)) {
      bad(`"bands[${i}].fromHour" expected increasing hours 0 to 23`);
    }
    if (typeof b.pricePerWh !== 'bigint' || b.pricePerWh < 1n || b.pricePerWh >= 2n ** 32n) bad(`"bands[${i}].pricePerWh" expected a bigint 1 to 2^32 − 1`);
    // The digest joins fields with ':', ',' and '|': a name holding one could make two tariffs one digest.
    if (typeof b.name !== 'string' || !/^[A-Za-z0-9 ._-]{1,32}$/.test(b.name)) bad(`"bands[${i}].name" expected 1 to 32 letters, digits, spaces, '.', '_' or '-'`);
  });
  if (t.timeZone !== undefined) {
    if (typeof t.timeZone !== 'string' || t.timeZone.length > 64) bad('"timeZone" expected an IANA time zone name');
    try {
      zoneFormat(t.timeZone);
    } catch {
      bad(`"timeZone" '${t.timeZone}' is not a time zone this runtime knows`);
    }
  }
  return t;
}

/**
 * Hex SHA-256 of everything a tariff states: what "one version, one set of prices" is
 * checked by (a version seen again with another digest is refused).
 */
export function tariffDigest(t: Tariff): string {
  const bands = t.bands.map((b) => `${b.fromHour}:${b.pricePerWh}:${b.name}`).join(',');
  const text = `zkmeter/tariff v1|${t.version}|${t.currency}|${t.minorPerMajor}|${t.standingChargePerDay}|${tariffTimeZone(t)}|${bands}`;
  return bytesToHex(sha256(new TextEncoder().encode(text)));
}

/** The 32-byte message an authority's tariff signature signs: BIP340's tagged hash of the tariff's digest. */
function tariffMessage(t: Tariff): Uint8Array {
  return taggedHash('zkmeter/signed-tariff v1', hexToBytes(tariffDigest(t)));
}

/**
 * The privacy authority's signature of a tariff (BIP340, by its identity key): what lets a
 * customer trust the prices of a bill without trusting the utility that bills it.
 */
export function signTariff(t: Tariff, secretKey: bigint): Uint8Array {
  // Deterministic (BIP340 with zero auxiliary randomness, which BIP340 allows): one tariff, one signature, across restarts.
  return signSchnorr([tariffMessage(t)], secretKey, (n) => new Uint8Array(n));
}

/** Whether `signature` is `publicKey`'s signature of exactly this tariff (false for a malformed one). */
export function verifyTariffSignature(t: Tariff, signature: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return verifySchnorr(publicKey, tariffMessage(t), signature);
  } catch (e) {
    if (e instanceof ZkmeterError) return false;
    throw e;
  }
}

/** The tariff's time zone. */
export function tariffTimeZone(tariff: Tariff): string {
  return tariff.timeZone ?? 'UTC';
}

/**
 * Whether a tariff's prices are close enough together that no price band can be separated out
 * of a bill's total by its size (docs/notes-privacy.md, "The arithmetic of prices"; separation by
 * divisibility is what the authority's per-price minimum answers): with W_n and W_p the
 * widths of the class's normal and plausible bounds,
 *   (p_max − p_min)·W_p ≤ p_min·(minIntervals − 1)·W_n   and   p_max ≤ p_min·W_n.
 * Returns undefined when it is, else why not.
 */
export function priceSpreadProblem(tariff: Tariff, meterClass: MeterClass, minIntervals: number): string | undefined {
  const prices = tariff.bands.map((b) => b.pricePerWh);
  const pMax = prices.reduce((a, b) => (b > a ? b : a));
  const pMin = prices.reduce((a, b) => (b < a ? b : a));
  const wNormal = meterClass.normal.max - meterClass.normal.min;
  const wPlausible = meterClass.plausible.max - meterClass.plausible.min;
  if (pMax === pMin) return undefined; // a flat tariff: a bill is a plain sum
  if ((pMax - pMin) * wPlausible > pMin * BigInt(minIntervals - 1) * wNormal || pMax > pMin * wNormal) {
    return (
      `tariff ${tariff.version}'s prices ${pMin} to ${pMax} per Wh spread too far for class ${meterClass.name} and bills of ${minIntervals} intervals: ` +
      `(p_max − p_min)·${wPlausible} must be at most p_min·${minIntervals - 1}·${wNormal}`
    );
  }
  return undefined;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function zoneFormat(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formats.set(zone, f);
  }
  return f;
}

// Offsets by zone and quarter hour: every zone's offset changes at most on quarter hours.
const offsets = new Map<string, Map<number, number>>();
const MAX_CACHED_OFFSETS = 1 << 16;

/** Seconds to add to Unix time `t` to get local time in the tariff's zone (0 for UTC). */
function utcOffset(tariff: Tariff, t: number): number {
  const zone = tariffTimeZone(tariff);
  if (zone === 'UTC') return 0;
  const quarter = Math.floor(t / 900);
  let byQuarter = offsets.get(zone);
  if (byQuarter === undefined) offsets.set(zone, (byQuarter = new Map()));
  let off = byQuarter.get(quarter);
  if (off === undefined) {
    const at = quarter * 900;
    // Beyond JavaScript's dates (no record can name such a time: headers stop at 2^40 s), count in UTC.
    if (!Number.isFinite(at) || Math.abs(at) > 8.64e12) return 0;
    const p: Record<string, number> = {};
    for (const part of zoneFormat(zone).formatToParts(new Date(at * 1000))) if (part.type !== 'literal') p[part.type] = Number(part.value);
    off = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) / 1000 - at;
    if (byQuarter.size >= MAX_CACHED_OFFSETS) byQuarter.clear();
    byQuarter.set(quarter, off);
  }
  return off;
}

/** The local calendar day (days since 1970-01-01 in the tariff's zone) of Unix time `t`. */
export function localDay(tariff: Tariff, t: number): number {
  return Math.floor((t + utcOffset(tariff, t)) / 86_400);
}

/** Whether Unix time `t` is a midnight of the tariff's time zone. */
export function isLocalMidnight(tariff: Tariff, t: number): boolean {
  return Number.isSafeInteger(t) && (t + utcOffset(tariff, t)) % 86_400 === 0;
}

/** The band of the interval starting at Unix time `t` (seconds). */
export function bandAt(tariff: Tariff, t: number): TariffBand {
  const local = t + utcOffset(tariff, t);
  const hour = Math.floor((((local % 86_400) + 86_400) % 86_400) / 3600);
  let band = tariff.bands[0]!;
  for (const b of tariff.bands) if (b.fromHour <= hour) band = b;
  return band;
}

/** Price per Wh of the interval starting at `t`. */
export function priceAt(tariff: Tariff, t: number): bigint {
  return bandAt(tariff, t).pricePerWh;
}

/** The local days (ascending) that the intervals starting at `intervals` fall on. */
export function coveredDays(tariff: Tariff, intervals: readonly number[]): number[] {
  return [...new Set(intervals.map((t) => localDay(tariff, t)))].sort((a, b) => a - b);
}

/** Standing charge of a bill: one per local day that its billed readings cover. */
export function standingCharge(tariff: Tariff, intervals: readonly number[]): bigint {
  return BigInt(coveredDays(tariff, intervals).length) * tariff.standingChargePerDay;
}

/** An amount in minor units as a decimal string in major units, e.g. 123456n → "1.23456". */
export function formatAmount(tariff: Tariff, minor: bigint): string {
  const digits = tariff.minorPerMajor.toString().length - 1;
  const sign = minor < 0n ? '-' : '';
  const abs = minor < 0n ? -minor : minor;
  const major = abs / tariff.minorPerMajor;
  const frac = (abs % tariff.minorPerMajor).toString().padStart(digits, '0');
  return `${sign}${major}${digits > 0 ? '.' + frac : ''}`;
}
