/**
 * The privacy authority against a curious control center (issue 15), on each
 * backend: the five attacks of the review, each refused with POLICY_REFUSED
 * naming the rule (or, for re-keyed meters, no longer losing readings), honest
 * bills and grids that still work, and a randomized search: long random
 * sequences of bill and grid requests, with staggered periods, missing
 * readings, new meters, re-keys and withheld records, after which the whole
 * released system is solved exactly and no single reading, nor any combination
 * of two, may be determined (docs/notes-privacy.md).
 */
import { describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { randomScalar } from '../lib/crypto/random.js';
import { partialDecrypt, thresholdDecrypt } from '../lib/crypto/threshold.js';
import { MemoryLedger, PrivacyAuthority } from '../lib/protocol/authority.js';
import { schnorrPublicKey } from '../lib/crypto/schnorr.js';
import { billContext, encryptedEnergyCharge, type Bill } from '../lib/protocol/billing.js';
import { checkBill } from '../lib/protocol/customer.js';
import { recordIntervals, signedMessage, type MeterRecord } from '../lib/protocol/records.js';
import { bytesToHex } from '../lib/crypto/codec.js';
import { priceAt, type Tariff } from '../lib/protocol/tariff.js';
import { ZkmeterError } from '../lib/errors.js';
import { TestRng, testSeed } from './support/rng.js';
import { ReleasedSystem } from './support/span.js';
import { DAY, DAY0, SIX_HOURLY, TWO_RATE, World } from './support/world.js';

const seed = testSeed();
const g = getGroup();
console.log(`privacy.test.ts on ${g.name}: seed ${seed}`);
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);

/** The rule a POLICY_REFUSED names, or the error itself if it is anything else. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ZkmeterError && e.code === 'POLICY_REFUSED') return /^refused by rule '([a-z-]+)'/.exec(e.message)?.[1] ?? `unnamed: ${e.message}`;
    throw e;
  }
  throw new Error('not refused');
}

/** Four readings a day: bills of one day are allowed (minIntervals 3), grids need five meters. */
const P = { minIntervals: 3, minMeters: 5 };

const bytesOf = (rs: readonly MeterRecord[]) => rs.map((r) => r.bytes);

/** The records among `rs` with a reading in [from, to). */
function overlapping(rs: readonly MeterRecord[], from: number, to: number): MeterRecord[] {
  return rs.filter((r) => r.header.intervalStart < to && r.header.intervalStart + r.header.count * r.header.intervalSeconds > from);
}

/** Five meters on feeder F, three days each: daily records, except A4's day 0, sealed one reading a record. */
function feederOfFive() {
  const w = new World(rand, SIX_HOURLY, TWO_RATE);
  const records = new Map<string, MeterRecord[]>();
  for (let i = 0; i < 5; i++) {
    const id = `A${i}`;
    w.addMeter(id, 'F');
    records.set(id, [0, 1, 2].map((d) => w.sealDay(id, d)));
  }
  const a4 = w.meters.get('A4')!;
  const day0 = [...Array(4).keys()].map((i) => a4.meter.reading(DAY0 + i * SIX_HOURLY.intervalSeconds, a4.readings.get(DAY0 + i * SIX_HOURLY.intervalSeconds)!));
  records.set('A4', [...day0, ...records.get('A4')!.slice(1)]);
  const days = (id: string, d0: number, d1: number) => bytesOf(overlapping(records.get(id)!, DAY0 + d0 * DAY, DAY0 + d1 * DAY));
  const feeder = (d0: number, d1: number) => [...records.keys()].flatMap((id) => days(id, d0, d1));
  return { w, records, days, feeder };
}

describe(`the five attacks of the review are refused (${g.name})`, () => {
  const f = feederOfFive();
  const { w } = f;
  const bill = (a: PrivacyAuthority, id: string, d0: number, d1: number, records = f.days(id, d0, d1)) =>
    a.billShare({ meterId: id, from: DAY0 + d0 * DAY, to: DAY0 + d1 * DAY, tariffVersion: TWO_RATE.version, records });
  const grid = (a: PrivacyAuthority, d0: number, d1: number, records = f.feeder(d0, d1)) =>
    a.gridShares({ feeder: 'F', from: DAY0 + d0 * DAY, to: DAY0 + d1 * DAY, tariffVersion: TWO_RATE.version, intervalSeconds: SIX_HOURLY.intervalSeconds, records });

  it('1. bills minus feeder totals: staggered bills and the grid of their days exclude each other', () => {
    // The review's attack: A0 billed one day longer than its four neighbours, then the
    // feeder totals of the shorter period; Σ bills − Σ price·totals would be A0's extra day.
    let a = w.authority({ policy: P });
    bill(a, 'A0', 0, 2);
    for (const id of ['A1', 'A2', 'A3', 'A4']) bill(a, id, 0, 1);
    expect(refusal(() => grid(a, 0, 1))).toBe('min-meters'); // A0 cannot be a member: billed for other days
    expect(() => grid(a, 0, 1)).toThrow(/A0: billed for \[\d+, \d+\) under tariff 7, not exactly the grid's days/);
    // The other order: the grid first; then a member's bill that is not exactly its days is refused.
    a = w.authority({ policy: P });
    const g0 = grid(a, 0, 1);
    expect(g0.members).toEqual(['A0', 'A1', 'A2', 'A3', 'A4']);
    expect(refusal(() => bill(a, 'A0', 0, 2))).toBe('grid-bill');
    // …and so is one that leaves out one of the member's readings of the grid's days (which would make
    // Σ totals − Σ bills that one reading).
    expect(refusal(() => bill(a, 'A4', 0, 1, f.days('A4', 0, 1).slice(1)))).toBe('grid-bill');
    // …and so is one under another tariff, whose relative prices would split the member's band sums out.
    const other: Tariff = { ...TWO_RATE, version: 10, bands: [{ name: 'flat', fromHour: 0, pricePerWh: 12n }] };
    const a2 = w.authority({ policy: P, tariffs: [TWO_RATE, other] });
    grid(a2, 0, 1);
    const resealed = w.meterAs('A1', 10).daily(DAY0, [...Array(4).keys()].map((i) => w.meters.get('A1')!.readings.get(DAY0 + i * SIX_HOURLY.intervalSeconds)!));
    expect(refusal(() => a2.billShare({ meterId: 'A1', from: DAY0, to: DAY0 + DAY, tariffVersion: 10, records: [resealed.bytes] }))).toBe('grid-bill');
    // The grid's own bills, exactly its days with all their readings, are what it allows.
    for (const id of ['A0', 'A1', 'A2', 'A3', 'A4']) bill(a, id, 0, 1);
    // Day 0's totals are right.
    const truth = g0.totals.map((t) => [...w.meters.values()].reduce((s, m) => s + m.readings.get(t.intervalStart)!, 0n));
    expect(w.openGrid(g0)).toEqual(truth);
  });

  it('a grid refused for a bad record names it by its place in the request', () => {
    const a = w.authority({ policy: P });
    const records = f.feeder(1, 2);
    const bad = records[3]!.slice();
    bad[bad.length - 1]! ^= 1; // its signature
    const sent = [...records.slice(0, 3), bad, ...records.slice(4)];
    expect(() => grid(a, 1, 2, sent)).toThrow(/^refused by rule 'record': record 3 \(meter A3, /);
  });

  it('a grid leaves out a meter the authority has no certificate for, instead of refusing the feeder', () => {
    const a = w.authority({ policy: P });
    const stranger = new World(rand, SIX_HOURLY, TWO_RATE);
    stranger.addMeter('X9', 'F');
    const g2 = grid(a, 2, 3, [...f.feeder(2, 3), stranger.sealDay('X9', 2).bytes]);
    expect(g2.members).toEqual(['A0', 'A1', 'A2', 'A3', 'A4']);
    expect(g2.excluded).toEqual([{ meterId: 'X9', why: expect.stringMatching(/no certificate from a trusted provisioning key \(rule 'registry'\)$/) }]);
  });

  it('2. sybil meters: the center cannot certify meters, and freshly certified ones count once', () => {
    const a = w.authority({ policy: P });
    const centersOwnKey = randomScalar(rand);
    const sybil = w.meters.get('A1')!.meter;
    // A certificate the center signs itself is not from a trusted provisioning key.
    expect(refusal(() => a.register(w.certify('S1', sybil, 0, 'F', DAY0 - 400 * DAY, centersOwnKey)))).toBe('registry');
    // Four meters installed on the victim's feeder days before the period (a utility that is also the
    // installer could do this): only maxNewMeters = 1 of them counts toward minMeters.
    const w2 = new World(rand, SIX_HOURLY, TWO_RATE);
    const recs: Uint8Array[] = [];
    w2.addMeter('VICTIM', 'F');
    recs.push(w2.sealDay('VICTIM', 0).bytes);
    for (let i = 1; i <= 4; i++) {
      w2.addMeter(`NEW${i}`, 'F', DAY0 - 3 * DAY);
      recs.push(w2.sealDay(`NEW${i}`, 0, [0n, 0n, 0n, 0n]).bytes);
    }
    // A provisioning key the authority stops trusting: its certificates no longer count after a restart.
    const ledger = new MemoryLedger();
    w.authority({ policy: P, ledger });
    const distrusting = new PrivacyAuthority({ key: w.key, share: w.authorityShare, provisioningKeys: [schnorrPublicKey(randomScalar(rand))], tariffs: [TWO_RATE], policy: P, meterClasses: [SIX_HOURLY], ledger });
    expect(distrusting.certificates('A1')).toEqual([]);
    expect(refusal(() => distrusting.billShare({ meterId: 'A1', from: DAY0, to: DAY0 + DAY, tariffVersion: 7, records: f.days('A1', 0, 1) }))).toBe('registry');
    const a2 = w2.authority({ policy: P });
    expect(refusal(() => a2.gridShares({ feeder: 'F', from: DAY0, to: DAY0 + DAY, tariffVersion: TWO_RATE.version, intervalSeconds: SIX_HOURLY.intervalSeconds, records: recs }))).toBe('new-meters');
  });

  it('3. tariff packing: a tariff that separates a band, an invalid one, and records of another version', () => {
    const packing: Tariff = { ...TWO_RATE, version: 8, bands: [{ name: 'flat', fromHour: 0, pricePerWh: 1n }, { name: 'packed', fromHour: 5, pricePerWh: 2n ** 18n }, { name: 'flat', fromHour: 6, pricePerWh: 1n }] };
    expect(refusal(() => w.authority({ policy: P, tariffs: [packing] }))).toBe('tariff');
    const zero: Tariff = { ...TWO_RATE, version: 9, bands: [{ name: 'free', fromHour: 0, pricePerWh: 0n }, { name: 'one hour', fromHour: 5, pricePerWh: 10n }, { name: 'free', fromHour: 6, pricePerWh: 0n }] };
    expect(refusal(() => w.authority({ policy: P, tariffs: [zero] }))).toBe('tariff');
    // A version is immutable: the same version with other prices is refused, even after a restart.
    const ledger = new MemoryLedger();
    w.authority({ policy: P, ledger });
    const repriced: Tariff = { ...TWO_RATE, standingChargePerDay: TWO_RATE.standingChargePerDay + 1n };
    expect(refusal(() => w.authority({ policy: P, ledger, tariffs: [repriced] }))).toBe('tariff');
    // A bill under a tariff whose version its records do not carry.
    const other: Tariff = { ...TWO_RATE, version: 10 };
    const a = w.authority({ policy: P, tariffs: [TWO_RATE, other] });
    expect(refusal(() => a.billShare({ meterId: 'A2', from: DAY0, to: DAY0 + DAY, tariffVersion: 10, records: f.days('A2', 0, 1) }))).toBe('tariff');
    expect(refusal(() => a.billShare({ meterId: 'A2', from: DAY0, to: DAY0 + DAY, tariffVersion: 11, records: f.days('A2', 0, 1) }))).toBe('tariff');
  });

  it('4. bill periods: whole days only, no days without readings, no overlap; the customer flags a hand-built one', () => {
    const a = w.authority({ policy: P });
    // [day 1 − 1 s, day 2): day 1's readings with two standing charges.
    expect(refusal(() => a.billShare({ meterId: 'A3', from: DAY0 + DAY - 1, to: DAY0 + 2 * DAY, tariffVersion: 7, records: f.days('A3', 1, 2) }))).toBe('whole-days');
    // Reaching 30 days back over days without readings.
    expect(refusal(() => a.billShare({ meterId: 'A3', from: DAY0 - 30 * DAY, to: DAY0 + 2 * DAY, tariffVersion: 7, records: f.days('A3', 1, 2) }))).toBe('whole-days');
    bill(a, 'A3', 1, 2);
    expect(refusal(() => bill(a, 'A3', 0, 2))).toBe('overlap');
    expect(refusal(() => bill(a, 'A3', 1, 3))).toBe('overlap');
    expect(bill(a, 'A3', 1, 2).intervals).toHaveLength(4); // the identical request again: the same charge, nothing new
    // A utility holding both shares can still build such a bill; the customer's check names what is wrong.
    const m = w.meters.get('A3')!;
    const records = f.records.get('A3')!.slice(1, 2);
    const readings = records.flatMap((r) => recordIntervals(r.header).map((t, j) => ({ intervalStart: t, ciphertext: r.ciphertexts[j]! })));
    const from = DAY0 - 30 * DAY;
    const to = DAY0 + 2 * DAY;
    const ct = encryptedEnergyCharge(readings, TWO_RATE);
    const ctx = billContext('A3', from, to, 7);
    const energy = readings.reduce((s, r) => s + m.readings.get(r.intervalStart)! * priceAt(TWO_RATE, r.intervalStart), 0n);
    const forged: Bill = {
      meterId: 'A3',
      from,
      to,
      tariffVersion: 7,
      currency: 'GBP',
      minorPerMajor: TWO_RATE.minorPerMajor,
      intervals: readings.map((r) => r.intervalStart),
      recordIds: records.flatMap((r) => recordIntervals(r.header).map(() => recordIdOf(r))),
      encryptedEnergyCharge: ct,
      energyCharge: energy,
      standingCharge: 32n * TWO_RATE.standingChargePerDay,
      total: energy + 32n * TWO_RATE.standingChargePerDay,
      decryptionShares: [partialDecrypt(w.key, w.centerShare, ct, ctx, rand), partialDecrypt(w.key, w.authorityShare, ct, ctx, rand)],
    };
    const check = checkBill({ bill: forged, records: bytesOf(records), openings: m.meter.export(), tariff: TWO_RATE, key: w.key, meterPublicKey: m.meter.publicKey });
    expect(check.ok).toBe(false);
    expect(check.problems.join('\n')).toMatch(/runs beyond the days of its billed readings/);
    expect(check.problems.join('\n')).toMatch(/standing charge 160000, the tariff gives 5000/);
    // The right bill for that day passes, and is flagged once an earlier bill covers its days.
    const right: Bill = { ...forged, from: DAY0 + DAY, to: DAY0 + 2 * DAY, standingCharge: 5000n, total: energy + 5000n, decryptionShares: sharesFor(w, ct, billContext('A3', DAY0 + DAY, DAY0 + 2 * DAY, 7)) };
    expect(checkBill({ bill: right, records: bytesOf(records), openings: m.meter.export(), tariff: TWO_RATE, key: w.key, meterPublicKey: m.meter.publicKey }).ok).toBe(true);
    const earlier: Bill = { ...right, from: DAY0, to: DAY0 + 2 * DAY, encryptedEnergyCharge: encryptedEnergyCharge(readings.slice(1), TWO_RATE) };
    const overlapped = checkBill({ bill: right, records: bytesOf(records), openings: m.meter.export(), tariff: TWO_RATE, key: w.key, meterPublicKey: m.meter.publicKey, earlierBills: [earlier] });
    expect(overlapped.problems.join('\n')).toMatch(/overlaps the earlier bill/);
  });

  it('5. re-keyed meters: readings of the old epoch stay billable; a stale key after the re-key is refused', () => {
    const w5 = new World(rand, SIX_HOURLY, TWO_RATE);
    w5.addMeter('R', 'F');
    const old = [w5.sealDay('R', 0), w5.sealDay('R', 1)];
    const a = w5.authority({ policy: P });
    const stale = w5.meters.get('R')!.meter; // still epoch 0
    const change = a.register(w5.rekey('R', DAY0 + 2 * DAY));
    expect(change).toMatchObject({ meterId: 'R', change: 're-keyed', keyEpoch: 1, previous: { keyEpoch: 0 } });
    const fresh = w5.sealDay('R', 2);
    const release = a.billShare({ meterId: 'R', from: DAY0, to: DAY0 + 3 * DAY, tariffVersion: 7, records: bytesOf([...old, fresh]) });
    expect(release.intervals).toHaveLength(12);
    const m = w5.meters.get('R')!;
    expect(w5.openBill('R', DAY0, DAY0 + 3 * DAY, release)).toBe([...m.readings].reduce((s, [t, v]) => s + v * priceAt(TWO_RATE, t), 0n));
    // Epoch 0's key signing a day after the re-key: refused, whoever holds it.
    const a2 = w5.authority({ policy: P });
    expect(refusal(() => a2.billShare({ meterId: 'R', from: DAY0 + 3 * DAY, to: DAY0 + 4 * DAY, tariffVersion: 7, records: [stale.daily(DAY0 + 3 * DAY, [1n, 2n, 3n, 4n]).bytes] }))).toBe('registry');
    // A re-key must raise the epoch: the same epoch with another key, or a lower one, is refused.
    const again = w5.meters.get('R')!;
    expect(refusal(() => a.register(w5.certify('R', stale, 1, 'F', DAY0 + 5 * DAY)))).toBe('registry');
    expect(refusal(() => a.register(w5.certify('R', again.meter, 0, 'F', DAY0 + 5 * DAY)))).toBe('registry');
    expect(a.register(again.certificates[1]!).change).toBe('unchanged');
  });
});

describe(`a second record of an interval, and the arithmetic of prices (${g.name})`, () => {
  it('a grid member billed, or the grid asked again, over another record of one interval is refused', () => {
    const f = feederOfFive();
    const { w } = f;
    const a = w.authority({ policy: P });
    const grid = (records: Uint8Array[]) => a.gridShares({ feeder: 'F', from: DAY0, to: DAY0 + DAY, tariffVersion: 7, records });
    grid(f.feeder(0, 1));
    // A4 sealed its 12:00 interval again, with another value (a second device, a lying meter):
    // billing or re-asking the grid over that record would release the difference of the two.
    const a4 = w.meters.get('A4')!;
    const noon = DAY0 + 2 * SIX_HOURLY.intervalSeconds;
    const again = a4.meter.reading(noon, a4.readings.get(noon)! + 7n).bytes;
    const swapped = f.days('A4', 0, 1).map((b, i) => (i === 2 ? again : b));
    expect(refusal(() => a.billShare({ meterId: 'A4', from: DAY0, to: DAY0 + DAY, tariffVersion: 7, records: swapped }))).toBe('grid-bill');
    const others = ['A0', 'A1', 'A2', 'A3'].flatMap((id) => f.days(id, 0, 1));
    expect(refusal(() => grid([...others, ...swapped]))).toBe('grid');
    // Over the very records the grid summed, the bill and the repeat are allowed.
    expect(a.billShare({ meterId: 'A4', from: DAY0, to: DAY0 + DAY, tariffVersion: 7, records: f.days('A4', 0, 1) }).intervals).toHaveLength(4);
    expect(grid(f.feeder(0, 1)).members).toHaveLength(5);
  });

  it('every price a bill or a grid charges covers minIntervalsPerPrice intervals, so a split total is still a sum of that many', () => {
    const w = new World(rand, SIX_HOURLY, TWO_RATE);
    w.addMeter('Q', 'F');
    const days = [0, 1, 2].map((d) => w.sealDay('Q', d).bytes);
    // Three readings a day at 10 per Wh and one (12:00) at 20: a day holds one afternoon reading.
    const a = w.authority({ policy: { minIntervals: 3, minIntervalsPerPrice: 3 } });
    const bill = (d1: number) => a.billShare({ meterId: 'Q', from: DAY0, to: DAY0 + d1 * DAY, tariffVersion: 7, records: days.slice(0, d1) });
    expect(refusal(() => bill(1))).toBe('min-intervals');
    expect(() => bill(2)).toThrow(/at least 3 intervals at each price it charges, this one covers 2 at 20 per Wh/);
    expect(bill(3).intervals).toHaveLength(12);
    expect(refusal(() => a.gridShares({ feeder: 'F', from: DAY0 + 3 * DAY, to: DAY0 + 4 * DAY, tariffVersion: 7, intervalSeconds: SIX_HOURLY.intervalSeconds, records: [] }))).toBe('grid');
    // The default follows a small minIntervals down, and may not exceed it.
    expect(new PrivacyAuthority({ key: w.key, share: w.authorityShare, provisioningKeys: [w.provisioningKey], tariffs: [TWO_RATE], meterClasses: [SIX_HOURLY], policy: { minIntervals: 5 } }).policy.minIntervalsPerPrice).toBe(5);
    expect(() => w.authority({ policy: { minIntervals: 3, minIntervalsPerPrice: 4 } })).toThrow(/"minIntervalsPerPrice" expected at most "minIntervals"/);
  });
});

describe(`bills in the tariff's time zone (${g.name})`, () => {
  it('whole days are local days: a London bill runs from 23:00 UTC in summer, and bands follow local hours', () => {
    const london: Tariff = { ...TWO_RATE, timeZone: 'Europe/London' };
    const w = new World(rand, SIX_HOURLY, london);
    w.addMeter('L', 'F');
    const start = Date.parse('2026-07-02T00:00:00Z') / 1000; // readings at 01:00, 07:00, 13:00 and 19:00 London time
    const record = w.meters.get('L')!.meter.daily(start, [10n, 20n, 30n, 40n]);
    const a = w.authority({ policy: P });
    const utcDay = { meterId: 'L', from: start, to: start + DAY, tariffVersion: 7, records: [record.bytes] };
    expect(refusal(() => a.billShare(utcDay))).toBe('whole-days');
    const localDay = { ...utcDay, from: start - 3600, to: start + DAY - 3600 };
    const release = a.billShare(localDay);
    // 13:00 local is in the afternoon band (20 per Wh); the others at 10.
    const ctx = billContext('L', localDay.from, localDay.to, 7);
    const own = partialDecrypt(w.key, w.centerShare, release.encryptedCharge, ctx, rand);
    expect(thresholdDecrypt(w.key, release.encryptedCharge, [own, release.share], ctx, { max: 100_000n })).toBe(10n * 10n + 20n * 10n + 30n * 20n + 40n * 10n);
  });
});

function recordIdOf(r: MeterRecord): string {
  return bytesToHex(signedMessage(r.bytes.subarray(0, r.bytes.length - 64)));
}
function sharesFor(w: World, ct: Bill['encryptedEnergyCharge'], ctx: Uint8Array) {
  return [partialDecrypt(w.key, w.centerShare, ct, ctx, rand), partialDecrypt(w.key, w.authorityShare, ct, ctx, rand)];
}

describe(`randomized: no sequence of allowed releases determines a reading or a pair (${g.name})`, () => {
  it('long random request sequences, solved exactly', { timeout: 600_000 }, () => {
    const local = new TestRng(seed ^ 0x5eed);
    const pick = <T>(xs: readonly T[]): T => xs[local.int(xs.length)]!;
    const chance = (p: number) => local.int(1_000_000) < p * 1_000_000;
    const w = new World(rand, SIX_HOURLY, TWO_RATE);
    const DAYS = 5;
    const feeders = { F1: [] as string[], F2: [] as string[] };
    let n = 0;
    for (const [feeder, list] of Object.entries(feeders)) {
      const size = 4 + local.int(2);
      for (let i = 0; i < size; i++) {
        const id = `M${++n}`;
        // On F2 one in three freshly certified: counts toward minMeters at most maxNewMeters at a time.
        // F1's meters are established, so the honest cycle below always has a grid to release.
        w.addMeter(id, feeder, feeder === 'F2' && chance(1 / 3) ? DAY0 - 2 * DAY : DAY0 - 400 * DAY);
        list.push(id);
      }
    }
    const authority = w.authority({ policy: { minIntervals: 3, minMeters: 3, maxNewMeters: 1, maxGridDays: 3 } });
    // Records per meter and day; some days missing or partial (per-reading records), some meters re-keyed.
    const records = new Map<string, MeterRecord[]>();
    const perDay = DAY / SIX_HOURLY.intervalSeconds;
    for (const id of w.meters.keys()) {
      const list: MeterRecord[] = [];
      const rekeyDay = chance(0.25) ? 1 + local.int(DAYS - 1) : -1;
      for (let d = 0; d < DAYS; d++) {
        if (d === rekeyDay) authority.register(w.rekey(id, DAY0 + d * DAY));
        const roll = local.int(100);
        if (d === 0 || roll < 75) list.push(w.sealDay(id, d));
        else if (roll < 92) {
          // A partial day: one to three readings, each in its own record.
          const m = w.meters.get(id)!;
          for (let i = 0; i < perDay; i++) {
            if (!chance(0.5)) continue;
            const t = DAY0 + d * DAY + i * SIX_HOURLY.intervalSeconds;
            const v = BigInt(local.int(201));
            m.readings.set(t, v);
            list.push(m.meter.reading(t, v));
          }
        }
      }
      records.set(id, list);
    }
    const all = [...w.meters.values()].flatMap((m) => [...m.readings.keys()].map((t) => `${m.id}@${t}`));
    const system = new ReleasedSystem(all);
    const refused: Record<string, number> = {};
    let bills = 0;
    let grids = 0;
    const within = (id: string, from: number, to: number) => overlapping(records.get(id)!, from, to);
    const withhold = (rs: MeterRecord[]) => (rs.length > 1 && chance(0.1) ? rs.filter((_, i) => i !== local.int(rs.length)) : rs);
    const attempt = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        if (!(e instanceof ZkmeterError) || e.code !== 'POLICY_REFUSED') throw e;
        const rule = /^refused by rule '([a-z-]+)'/.exec(e.message)?.[1] ?? 'unnamed';
        refused[rule] = (refused[rule] ?? 0) + 1;
      }
    };
    // First an honest cycle on F1 for day 0 (a grid, then its bills), so the sequence is never all refusals.
    const requests: (() => void)[] = [];
    const gridRequest = (feeder: 'F1' | 'F2', d0: number, days: number, misalign = 0) => () => {
      const from = DAY0 + d0 * DAY + misalign;
      const to = from + days * DAY;
      const rel = authority.gridShares({ feeder, from, to, tariffVersion: 7, intervalSeconds: SIX_HOURLY.intervalSeconds, records: bytesOf(feeders[feeder].flatMap((id) => withhold(within(id, from, to)))) });
      rel.totals.forEach((t) => system.add(new Map(rel.members.map((id) => [`${id}@${t.intervalStart}`, 1n]))));
      grids++;
    };
    const billRequest = (id: string, d0: number, days: number, misalign = 0) => () => {
      const from = DAY0 + d0 * DAY + misalign;
      const to = from + days * DAY;
      const rel = authority.billShare({ meterId: id, from, to, tariffVersion: 7, records: bytesOf(withhold(within(id, from, to))) });
      system.add(new Map(rel.intervals.map((t) => [`${id}@${t}`, priceAt(TWO_RATE, t)])));
      bills++;
    };
    requests.push(gridRequest('F1', 0, 1));
    for (const id of feeders.F1) requests.push(billRequest(id, 0, 1));
    for (let k = 0; k < 70; k++) {
      const d0 = local.int(DAYS);
      const days = 1 + local.int(Math.min(3, DAYS - d0));
      const misalign = chance(0.1) ? SIX_HOURLY.intervalSeconds : 0;
      if (chance(0.35)) requests.push(gridRequest(pick(['F1', 'F2'] as const), d0, days, misalign));
      else requests.push(billRequest(pick([...w.meters.keys()]), d0, days, misalign));
    }
    for (const r of requests) attempt(r);
    const { singles, pairs } = system.determined();
    console.log(
      `privacy.test.ts randomized (seed ${seed}): ${w.meters.size} meters, ${all.length} readings, ${bills} bills and ${grids} grids released ` +
        `(${system.releases} forms, rank ${system.rank()}), refusals ${JSON.stringify(refused)}`,
    );
    expect(bills).toBeGreaterThan(0);
    expect(grids).toBeGreaterThan(0);
    expect(singles, `readings determined (seed ${seed})`).toEqual([]);
    expect(pairs, `pairs of readings determined (seed ${seed})`).toEqual([]);
  });

  it('the solver finds what a leaky policy would release: the review\'s attack 1, fed in directly', () => {
    // Five meters × 3 intervals priced 3, 5, 7: A0 billed over all three, A1..A4 over the first two,
    // and the feeder totals of the first two: Σ bills − 3·total0 − 5·total1 = 7·A0@2.
    const meters = ['A0', 'A1', 'A2', 'A3', 'A4'];
    const price = [3n, 5n, 7n];
    const s = new ReleasedSystem(meters.flatMap((m) => [0, 1, 2].map((t) => `${m}@${t}`)));
    s.add(new Map([0, 1, 2].map((t) => [`A0@${t}`, price[t]!])));
    for (const m of meters.slice(1)) s.add(new Map([0, 1].map((t) => [`${m}@${t}`, price[t]!])));
    for (const t of [0, 1]) s.add(new Map(meters.map((m) => [`${m}@${t}`, 1n])));
    expect(s.determined().singles).toEqual(['A0@2']);
    // A difference: totals of two intervals over the same meters, and a bill of one meter over both.
    const t = new ReleasedSystem(['X@0', 'X@1', 'Y@0', 'Y@1']);
    t.add(new Map([['X@0', 1n], ['Y@0', 1n]]));
    t.add(new Map([['X@1', 1n], ['Y@1', 1n]]));
    t.add(new Map([['X@0', 1n], ['X@1', 1n]]));
    expect(t.determined().singles).toEqual([]);
    expect(t.determined().pairs.length).toBeGreaterThan(0); // e.g. X@0 − Y@1 = total0 − bill… is determined
  });
});
