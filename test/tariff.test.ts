/**
 * Tariffs: validation (time zone, minor units), the calendar of the tariff's
 * time zone (local midnights, days of 23 and 25 hours, bands by local hour),
 * the standing charge per covered day, the digest that makes versions
 * immutable, and the price-spread bound of docs/notes-privacy.md.
 */
import { describe, expect, it } from 'vitest';
import { HOUSEHOLD } from '../lib/protocol/meter.js';
import { tariffFromJson, tariffToJson } from '../lib/protocol/json.js';
import {
  DEFAULT_TARIFF,
  coveredDays,
  isLocalMidnight,
  localDay,
  priceAt,
  priceSpreadProblem,
  standingCharge,
  tariffDigest,
  validateTariff,
  type Tariff,
} from '../lib/protocol/tariff.js';
import { errorCode } from './support/errors.js';

const LONDON: Tariff = { ...DEFAULT_TARIFF, version: 2, timeZone: 'Europe/London' };
const utc = (iso: string) => Date.parse(iso) / 1000;

describe('tariffs', () => {
  it('validation refuses an unknown time zone and minor units that are not a power of ten', () => {
    expect(validateTariff(LONDON)).toBe(LONDON);
    expect(errorCode(() => validateTariff({ ...LONDON, timeZone: 'Mars/Olympus_Mons' }))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => validateTariff({ ...LONDON, minorPerMajor: 120n }))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => validateTariff({ ...LONDON, bands: [{ name: 'free', fromHour: 0, pricePerWh: 0n }] }))).toBe('INVALID_ARGUMENT');
    // The JSON form carries the zone; without it, UTC.
    expect(tariffFromJson(tariffToJson(LONDON))).toEqual(LONDON);
    const { timeZone: _, ...plain } = tariffToJson(LONDON) as Record<string, unknown>;
    expect(tariffFromJson(plain).timeZone).toBeUndefined();
  });

  it('days and hours are the zone\'s: midnights, a 23-hour and a 25-hour day, bands by local hour', () => {
    // British Summer Time: local midnight is 23:00 UTC the day before.
    expect(isLocalMidnight(LONDON, utc('2026-07-01T23:00:00Z'))).toBe(true);
    expect(isLocalMidnight(LONDON, utc('2026-07-02T00:00:00Z'))).toBe(false);
    expect(isLocalMidnight(DEFAULT_TARIFF, utc('2026-07-02T00:00:00Z'))).toBe(true);
    // 29 March 2026 has 23 hours in London, 25 October 2026 has 25.
    const spring = [utc('2026-03-29T00:00:00Z'), utc('2026-03-29T23:00:00Z')];
    const autumn = [utc('2026-10-24T23:00:00Z'), utc('2026-10-26T00:00:00Z')];
    expect((spring[1]! - spring[0]!) / 3600).toBe(23);
    expect((autumn[1]! - autumn[0]!) / 3600).toBe(25);
    for (const t of [...spring, ...autumn]) expect(isLocalMidnight(LONDON, t)).toBe(true);
    expect(localDay(LONDON, spring[1]! - 1) - localDay(LONDON, spring[0]!)).toBe(0);
    expect(localDay(LONDON, spring[1]!) - localDay(LONDON, spring[0]!)).toBe(1);
    // 16:00 local is peak (40), which is 15:00 UTC in summer and 16:00 UTC in winter.
    expect(priceAt(LONDON, utc('2026-07-01T15:00:00Z'))).toBe(40n);
    expect(priceAt(DEFAULT_TARIFF, utc('2026-07-01T15:00:00Z'))).toBe(28n);
    expect(priceAt(LONDON, utc('2026-12-01T16:00:00Z'))).toBe(40n);
    // Beyond JavaScript's dates: counted in UTC, no throw (no record can name such a time).
    expect(priceAt(LONDON, 1e15)).toBe(priceAt(DEFAULT_TARIFF, 1e15));
  });

  it('the standing charge counts the local days the billed readings cover', () => {
    const day = utc('2026-07-01T23:00:00Z'); // 2 July, London
    const readings = [day, day + 3600, day + 2 * 86_400 + 900]; // 2 July (twice) and 4 July
    expect(coveredDays(LONDON, readings)).toHaveLength(2);
    expect(standingCharge(LONDON, readings)).toBe(2n * LONDON.standingChargePerDay);
    // In UTC the first reading (23:00 on 1 July) is on another day.
    expect(standingCharge(DEFAULT_TARIFF, readings)).toBe(3n * DEFAULT_TARIFF.standingChargePerDay);
    expect(standingCharge(LONDON, [])).toBe(0n);
  });

  it('the digest changes with every field: one version, one set of prices', () => {
    const base = tariffDigest(LONDON);
    const variants: Tariff[] = [
      { ...LONDON, version: 3 },
      { ...LONDON, currency: 'EUR' },
      { ...LONDON, minorPerMajor: 100n },
      { ...LONDON, standingChargePerDay: 60_001n },
      { ...LONDON, timeZone: 'UTC' },
      { ...LONDON, bands: LONDON.bands.map((b, i) => (i === 2 ? { ...b, pricePerWh: 41n } : b)) },
      { ...LONDON, bands: LONDON.bands.map((b, i) => (i === 1 ? { ...b, fromHour: 8 } : b)) },
      { ...LONDON, bands: LONDON.bands.map((b, i) => (i === 0 ? { ...b, name: 'night' } : b)) },
    ];
    for (const v of variants) expect(tariffDigest(v)).not.toBe(base);
    expect(tariffDigest({ ...LONDON })).toBe(base);
  });

  it('the price-spread bound: flat always passes, the default passes at 48, a packing tariff never', () => {
    const flat: Tariff = { ...DEFAULT_TARIFF, bands: [{ name: 'flat', fromHour: 0, pricePerWh: 20n }] };
    expect(priceSpreadProblem(flat, HOUSEHOLD, 3)).toBeUndefined();
    expect(priceSpreadProblem(DEFAULT_TARIFF, HOUSEHOLD, 48)).toBeUndefined();
    // (40 − 15)·65535 = 1,638,375 against 15·(m − 1)·4000: m = 28 is too small, 29 enough.
    expect(priceSpreadProblem(DEFAULT_TARIFF, HOUSEHOLD, 28)).toMatch(/spread too far/);
    expect(priceSpreadProblem(DEFAULT_TARIFF, HOUSEHOLD, 29)).toBeUndefined();
    const packing: Tariff = { ...DEFAULT_TARIFF, bands: [{ name: 'flat', fromHour: 0, pricePerWh: 1n }, { name: 'packed', fromHour: 5, pricePerWh: 2n ** 18n }, { name: 'flat', fromHour: 6, pricePerWh: 1n }] };
    for (const m of [48, 1000, 100_000]) expect(priceSpreadProblem(packing, HOUSEHOLD, m)).toMatch(/spread too far/);
    // The second condition alone: p_max ≤ p_min·W_n, with a class whose normal width is 2.
    const narrow = { ...HOUSEHOLD, normal: { min: 0n, max: 2n }, plausible: { min: 0n, max: 2n } };
    const triple: Tariff = { ...DEFAULT_TARIFF, bands: [{ name: 'a', fromHour: 0, pricePerWh: 1n }, { name: 'b', fromHour: 12, pricePerWh: 3n }] };
    expect(priceSpreadProblem(triple, narrow, 1000)).toMatch(/spread too far/);
  });
});
