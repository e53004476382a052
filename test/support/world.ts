/**
 * A small utility for the privacy authority's tests: a 2-of-2 utility key, a
 * provisioning key, certified meters of a compact class (hourly 8-bit readings,
 * so that sealing many meter-days stays quick in pure TypeScript), and the
 * center's side of a decryption, done by hand so a test sees exactly what the
 * center learns.
 */
import { randomScalar, type RandomSource } from '../../lib/crypto/random.js';
import { schnorrPublicKey } from '../../lib/crypto/schnorr.js';
import { dangerouslyGenerateAllShares, partialDecrypt, thresholdDecrypt, type KeyShare, type SharedKey } from '../../lib/crypto/threshold.js';
import { PrivacyAuthority, type AuthorityLedger, type AuthorityPolicy, type BillRelease, type GridRelease } from '../../lib/protocol/authority.js';
import { billContext, gridContext } from '../../lib/protocol/billing.js';
import { certifyMeter } from '../../lib/protocol/certificate.js';
import { Meter, type MeterClass } from '../../lib/protocol/meter.js';
import type { MeterRecord } from '../../lib/protocol/records.js';
import { priceAt, type Tariff } from '../../lib/protocol/tariff.js';

/** 2025-11-26T00:00Z. */
export const DAY0 = 1_764_115_200;
export const DAY = 86_400;

/** Hourly readings proved in 8 bits: 24 a day, cheap to seal and verify. */
export const HOURLY: MeterClass = Object.freeze({
  name: 'test-hourly',
  bits: 8,
  intervalSeconds: 3600,
  normal: Object.freeze({ min: 0n, max: 200n }),
  plausible: Object.freeze({ min: 0n, max: 255n }),
});

/** Readings every six hours proved in 8 bits: 4 a day, the cheapest class that still has a time-of-use shape. */
export const SIX_HOURLY: MeterClass = Object.freeze({ ...HOURLY, name: 'test-six-hourly', intervalSeconds: 21_600 });

/** A two-rate tariff in the spread bound for HOURLY at minIntervals ≥ 3: 10 per Wh, 20 from 12:00 to 18:00. */
export const TWO_RATE: Tariff = Object.freeze({
  version: 7,
  currency: 'GBP',
  minorPerMajor: 100_000n,
  standingChargePerDay: 5_000n,
  bands: Object.freeze([
    Object.freeze({ name: 'standard', fromHour: 0, pricePerWh: 10n }),
    Object.freeze({ name: 'afternoon', fromHour: 12, pricePerWh: 20n }),
    Object.freeze({ name: 'standard', fromHour: 18, pricePerWh: 10n }),
  ]),
});

/** Tests of the other rules lift the per-price minimum (SIX_HOURLY has one afternoon reading a day); privacy.test.ts tests it. */
export const TEST_POLICY: Partial<AuthorityPolicy> = { minIntervals: 12, minIntervalsPerPrice: 1, minMeters: 5, maxNewMeters: 1, newMeterWindowDays: 30 };

export interface WorldMeter {
  readonly id: string;
  readonly feeder: string;
  meter: Meter;
  /** The meter's current signing key (tests re-seal with it under other settings). */
  signingKey: bigint;
  keyEpoch: number;
  readonly certificates: Uint8Array[];
  /** Readings sealed so far, by interval start. */
  readonly readings: Map<number, bigint>;
}

export class World {
  readonly key: SharedKey;
  readonly centerShare: KeyShare;
  readonly authorityShare: KeyShare;
  readonly provisioningSecret: bigint;
  readonly provisioningKey: Uint8Array;
  readonly meters = new Map<string, WorldMeter>();

  constructor(
    readonly rng: RandomSource,
    readonly meterClass: MeterClass = HOURLY,
    readonly tariff: Tariff = TWO_RATE,
  ) {
    const { key, shares } = dangerouslyGenerateAllShares(['control-center', 'privacy-authority'], 2);
    this.key = key;
    this.centerShare = shares.get('control-center')!;
    this.authorityShare = shares.get('privacy-authority')!;
    this.provisioningSecret = randomScalar(rng);
    this.provisioningKey = schnorrPublicKey(this.provisioningSecret);
  }

  authority(o: { policy?: Partial<AuthorityPolicy>; tariffs?: readonly Tariff[]; ledger?: AuthorityLedger; register?: boolean } = {}): PrivacyAuthority {
    const a = new PrivacyAuthority({
      key: this.key,
      share: this.authorityShare,
      provisioningKeys: [this.provisioningKey],
      tariffs: o.tariffs ?? [this.tariff],
      policy: { ...TEST_POLICY, ...o.policy },
      meterClasses: [this.meterClass],
      ...(o.ledger ? { ledger: o.ledger } : {}),
    });
    if (o.register !== false) for (const m of this.meters.values()) for (const c of m.certificates) a.register(c);
    return a;
  }

  /** A meter certified (by default) 400 days before DAY0, so it is not new. */
  addMeter(id: string, feeder: string, validFrom = DAY0 - 400 * DAY): WorldMeter {
    const signingKey = randomScalar(this.rng);
    const meter = this.makeMeter(id, 0, signingKey);
    const m: WorldMeter = { id, feeder, meter, signingKey, keyEpoch: 0, certificates: [this.certify(id, meter, 0, feeder, validFrom)], readings: new Map() };
    this.meters.set(id, m);
    return m;
  }

  /** A new key epoch for a meter, valid from `validFrom`: the meter seals with the new key from then on. */
  rekey(id: string, validFrom: number, feeder?: string): Uint8Array {
    const m = this.meters.get(id)!;
    m.keyEpoch += 1;
    m.signingKey = randomScalar(this.rng);
    m.meter = this.makeMeter(id, m.keyEpoch, m.signingKey);
    const cert = this.certify(id, m.meter, m.keyEpoch, feeder ?? m.feeder, validFrom);
    m.certificates.push(cert);
    return cert;
  }

  certify(id: string, meter: Meter, keyEpoch: number, feeder: string, validFrom: number, provisioningSecret = this.provisioningSecret): Uint8Array {
    return certifyMeter({ meterId: id, publicKey: meter.publicKey, keyEpoch, validFrom, feeder, meterClass: this.meterClass }, provisioningSecret, this.rng);
  }

  /** One daily record of meter `id` for day `d` (from DAY0), with `values` (default: random normal readings). */
  sealDay(id: string, d: number, values?: readonly bigint[]): MeterRecord {
    const m = this.meters.get(id)!;
    const per = DAY / this.meterClass.intervalSeconds;
    const wh = values ?? Array.from({ length: per }, () => BigInt(this.rng(1)[0]! % 201));
    const start = DAY0 + d * DAY;
    wh.forEach((v, i) => m.readings.set(start + i * this.meterClass.intervalSeconds, v));
    return m.meter.daily(start, wh);
  }

  /** The center's half of a bill's decryption: the amount it learns. */
  openBill(meterId: string, from: number, to: number, r: BillRelease): bigint {
    const ctx = billContext(meterId, from, to, this.tariff.version);
    const own = partialDecrypt(this.key, this.centerShare, r.encryptedCharge, ctx, this.rng);
    // The bound the center derives: every interval at its class's plausible maximum.
    const max = r.intervals.reduce((acc, t) => acc + priceAt(this.tariff, t) * this.meterClass.plausible.max, 0n);
    return thresholdDecrypt(this.key, r.encryptedCharge, [own, r.share], ctx, { max });
  }

  /** The center's half of a grid's decryption: every interval total it learns. */
  openGrid(g: GridRelease): bigint[] {
    return g.totals.map((t) => {
      const ctx = gridContext(g.feeder, g.from, g.to, t.intervalStart);
      const own = partialDecrypt(this.key, this.centerShare, t.encryptedTotal, ctx, this.rng);
      return thresholdDecrypt(this.key, t.encryptedTotal, [own, t.share], ctx, { max: BigInt(g.members.length) * this.meterClass.plausible.max });
    });
  }

  /** Meter `id` with its current key and epoch, sealing under `tariffVersion` (default the world's tariff). */
  meterAs(id: string, tariffVersion = this.tariff.version): Meter {
    const m = this.meters.get(id)!;
    return this.makeMeter(id, m.keyEpoch, m.signingKey, tariffVersion);
  }

  private makeMeter(id: string, keyEpoch: number, signingKey: bigint, tariffVersion = this.tariff.version): Meter {
    return new Meter({ meterId: id, signingKey, utilityKey: this.key.publicKey, meterClass: this.meterClass, keyEpoch, tariffVersion, rng: this.rng });
  }
}
