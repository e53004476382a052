/**
 * Time-of-use tariffs: a price per Wh for each interval, by the UTC hour it
 * starts in, plus a standing charge per day. All amounts are integers in the
 * tariff's minor unit (for the default, 1/1000 penny: 1 GBP = 100,000), so
 * bills are exact and a bill is Σ price_t · m_t, a weighted homomorphic sum.
 * @module
 */
import { ZkmeterError } from '../errors.js';

export interface TariffBand {
  readonly name: string;
  /** First UTC hour (0–23) of the band; it lasts until the next band's hour. */
  readonly fromHour: number;
  /** Price per Wh in minor units (a positive integer). */
  readonly pricePerWh: bigint;
}

export interface Tariff {
  readonly version: number;
  readonly currency: string;
  /** Minor units per major unit of `currency`. */
  readonly minorPerMajor: bigint;
  /** Standing charge per started day, in minor units. */
  readonly standingChargePerDay: bigint;
  /** Bands sorted by `fromHour`, the first starting at hour 0. */
  readonly bands: readonly TariffBand[];
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
  if (typeof t.minorPerMajor !== 'bigint' || t.minorPerMajor < 1n) bad('"minorPerMajor" expected a positive bigint');
  if (typeof t.standingChargePerDay !== 'bigint' || t.standingChargePerDay < 0n) bad('"standingChargePerDay" expected a bigint >= 0');
  if (!Array.isArray(t.bands) || t.bands.length === 0 || t.bands[0]!.fromHour !== 0) bad('"bands" expected a list starting at hour 0');
  t.bands.forEach((b, i) => {
    if (!Number.isInteger(b.fromHour) || b.fromHour < 0 || b.fromHour > 23 || (i > 0 && b.fromHour <= t.bands[i - 1]!.fromHour)) {
      bad(`"bands[${i}].fromHour" expected increasing hours 0 to 23`);
    }
    if (typeof b.pricePerWh !== 'bigint' || b.pricePerWh < 1n || b.pricePerWh >= 2n ** 32n) bad(`"bands[${i}].pricePerWh" expected a bigint 1 to 2^32 − 1`);
  });
  return t;
}

/** The band of the interval starting at Unix time `t` (seconds). */
export function bandAt(tariff: Tariff, t: number): TariffBand {
  const hour = Math.floor((((t % 86_400) + 86_400) % 86_400) / 3600);
  let band = tariff.bands[0]!;
  for (const b of tariff.bands) if (b.fromHour <= hour) band = b;
  return band;
}

/** Price per Wh of the interval starting at `t`. */
export function priceAt(tariff: Tariff, t: number): bigint {
  return bandAt(tariff, t).pricePerWh;
}

/** Standing charge for [from, to): one per started UTC day. */
export function standingCharge(tariff: Tariff, from: number, to: number): bigint {
  if (to <= from) return 0n;
  const days = Math.floor((to - 1) / 86_400) - Math.floor(from / 86_400) + 1;
  return BigInt(days) * tariff.standingChargePerDay;
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
