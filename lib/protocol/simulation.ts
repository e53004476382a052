/**
 * Simulated household load: the data the demo, the benchmarks and the meter
 * simulator feed to meters. A daily shape (night base load, a morning and an
 * evening peak), per-household scale and noise, and occasional abnormal spikes
 * above the class's normal bounds. Deterministic from a seed (xorshift128+), so
 * a run can be replayed; it is test data, not secret material.
 * @module
 */
import { HOUSEHOLD, type MeterClass } from './meter.js';

/** A seeded uniform generator on [0, 1). */
export function seededUniform(seed: number): () => number {
  let s0 = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 1n);
  let s1 = BigInt.asUintN(64, s0 * 0xbf58476d1ce4e5b9n + 7n);
  return () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x = BigInt.asUintN(64, x ^ (x << 23n));
    s1 = BigInt.asUintN(64, x ^ y ^ (x >> 17n) ^ (y >> 26n));
    return Number(BigInt.asUintN(53, s1 + y)) / 2 ** 53;
  };
}

/**
 * One day of readings (Wh per interval) for a household. `abnormalShare` is the
 * chance of each interval being an abnormal spike (above the normal maximum,
 * within the plausible one). Returns the readings and which are abnormal.
 */
export function householdDay(
  random: () => number,
  options: { abnormalShare?: number; meterClass?: MeterClass } = {},
): { readings: bigint[]; abnormal: boolean[] } {
  const c = options.meterClass ?? HOUSEHOLD;
  const per = Math.round(86_400 / c.intervalSeconds);
  const hours = c.intervalSeconds / 3600;
  const scale = 0.6 + 0.9 * random(); // small flat to large house
  const readings: bigint[] = [];
  const abnormal: boolean[] = [];
  for (let i = 0; i < per; i++) {
    const h = (i + 0.5) * (24 / per);
    // Mean power in W: base load, morning peak around 07:30, evening peak around 19:00.
    const watts =
      250 + 900 * Math.exp(-(((h - 7.5) / 1.2) ** 2)) + 1800 * Math.exp(-(((h - 19) / 1.8) ** 2)) + 300 * Math.exp(-(((h - 13) / 2.5) ** 2));
    let wh = Math.round(watts * scale * hours * (0.75 + 0.5 * random()));
    const spike = random() < (options.abnormalShare ?? 0);
    if (spike) wh = Number(c.normal.max) + 1 + Math.floor(random() * Math.min(20_000, Number(c.plausible.max - c.normal.max) - 1));
    wh = Math.max(Number(c.plausible.min), Math.min(Number(spike ? c.plausible.max : c.normal.max), wh));
    readings.push(BigInt(wh));
    abnormal.push(BigInt(wh) > c.normal.max || BigInt(wh) < c.normal.min);
  }
  return { readings, abnormal };
}
