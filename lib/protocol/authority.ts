/**
 * The privacy authority: the second holder of the utility's decryption key
 * (threshold.ts). It co-decrypts two kinds of aggregate, each recomputed by
 * itself from signed meter records, and only when its release policy allows
 * (docs/notes-privacy.md states the rules and proves that no sequence of
 * releases they allow determines anything finer than a bill or a feeder total):
 *  - a meter's **bill** over whole days of the tariff's time zone, at least
 *    `minIntervals` readings, never overlapping an earlier bill of the meter;
 *  - a feeder's **grid**: the totals of every interval of whole days, all at
 *    once, over the meters of the feeder that reported every interval of them
 *    (at least `minMeters`, of which at most `maxNewMeters` newly certified),
 *    whose bills for those days, if any, cover exactly those days.
 * Meters come only from certificates signed by a provisioning key it trusts
 * (certificate.ts), with every key epoch kept, so a record is verified under
 * the key of its own epoch. Tariffs come only from its own configuration,
 * validated, with a bounded spread of prices, one set of prices per version.
 * Every decision depends only on which readings a request covers, never on
 * their values; a refusal is a `POLICY_REFUSED` naming its rule. Nothing is
 * co-decrypted until every record of the request passes `verifyRecords`.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ZkmeterError } from '../errors.js';
import { encodeCiphertext, weightedSum, type Ciphertext } from '../crypto/elgamal.js';
import { bytesToHex, hexToBytes } from '../crypto/codec.js';
import { partialDecrypt, type DecryptionShare, type KeyShare, type SharedKey } from '../crypto/threshold.js';
import { decryptionShareFromJson, decryptionShareToJson } from './json.js';
import type { RandomSource } from '../crypto/random.js';
import { schnorrPublicKey } from '../crypto/schnorr.js';
import { billContext, encryptedEnergyCharge, gridContext } from './billing.js';
import { certificateChange, checkCertificate, decodeCertificate, type MeterCertificate, type RegistrationChange } from './certificate.js';
import { equalBytes } from '../backend/bytes.js';
import { HOUSEHOLD, type MeterClass } from './meter.js';
import { decodeRecord, recordIntervals, type MeterRecord } from './records.js';
import { isLocalMidnight, localDay, priceAt, priceSpreadProblem, signTariff, tariffDigest, validateTariff, type Tariff } from './tariff.js';
import { verifyRecords, type RecordToVerify } from './verify.js';

export interface AuthorityPolicy {
  /** Fewest readings in a bill (default 48: half a day of 15-minute readings). At least 3. */
  readonly minIntervals: number;
  /**
   * Fewest readings at each price a bill charges, and intervals at each price a grid spans
   * (default 12, three hours of 15-minute readings, the default tariff's peak in one day, or
   * `minIntervals` if that is smaller).
   * A total can be split into its band sums by the arithmetic of its prices
   * (docs/notes-privacy.md, "The arithmetic of prices"): each is then still a sum over this many.
   */
  readonly minIntervalsPerPrice: number;
  /** Fewest meters counted in a grid (default 5). At least 3. */
  readonly minMeters: number;
  /** Most meters certified within `newMeterWindowDays` before a grid's period that count toward `minMeters` (default 1). */
  readonly maxNewMeters: number;
  /** How long a newly certified or re-keyed meter counts as new (default 30 days). */
  readonly newMeterWindowDays: number;
  /** Longest grid, in days (default 31): a grid releases every interval total at once. */
  readonly maxGridDays: number;
  /** Longest bill, in days (default 400). */
  readonly maxBillDays: number;
}

export const DEFAULT_POLICY: AuthorityPolicy = Object.freeze({
  minIntervals: 48,
  minIntervalsPerPrice: 12,
  minMeters: 5,
  maxNewMeters: 1,
  newMeterWindowDays: 30,
  maxGridDays: 31,
  maxBillDays: 400,
});

/** The rules a refusal names (docs/notes-privacy.md, "The rules"). */
export type PolicyRule =
  | 'registry'
  | 'tariff'
  | 'whole-days'
  | 'min-intervals'
  | 'overlap'
  | 'grid'
  | 'min-meters'
  | 'new-meters'
  | 'grid-bill'
  | 'class-bounds'
  | 'record';

/** A bill the authority released. */
export interface BillEntry {
  readonly meterId: string;
  readonly from: number;
  readonly to: number;
  readonly tariffVersion: number;
  readonly intervals: readonly number[];
  /** Hex of the encrypted charge (c1 ‖ c2). */
  readonly charge: string;
  /** `readingsDigest` of the billed readings: an identical request is recognised by it. */
  readonly readings: string;
  /** The decryption share released (`decryptionShareToJson`): the identical request gets this same share back. */
  readonly share: ShareJson;
}

/** A decryption share in its JSON form (json.ts, `decryptionShareToJson`). */
export interface ShareJson {
  readonly party: string;
  readonly share: string;
  readonly proof: string;
}

/** A grid the authority released: every interval total of [from, to) over `members`. */
export interface GridEntry {
  readonly feeder: string;
  readonly from: number;
  readonly to: number;
  readonly tariffVersion: number;
  readonly intervalSeconds: number;
  readonly members: readonly string[];
  /**
   * `readingsDigest` of each member's readings, in the order of `members`: a member's bill of
   * the grid's days, and the grid asked again, must hold exactly these ciphertexts (a second,
   * different record of one interval would otherwise make Σ totals − Σ bills its difference).
   */
  readonly readings: readonly string[];
  /** The decryption share released for each interval of the period, in order: the grid asked again gets these same shares. */
  readonly shares: readonly ShareJson[];
}

/** One entry of the authority's ledger: what it registered, configured and released. */
export type LedgerEntry =
  | { readonly kind: 'certificate'; readonly certificate: string }
  | { readonly kind: 'tariff'; readonly version: number; readonly digest: string }
  | ({ readonly kind: 'bill' } & BillEntry)
  | ({ readonly kind: 'grid' } & GridEntry);

/**
 * Where the authority keeps its registry, its tariff versions and every release, so
 * that all of it survives a restart. `append` must be durable when it returns: the
 * authority appends a release before its share leaves. (A store that commits
 * asynchronously uses `prepareBill`/`prepareGrid`, commits the entry, then `commit`.)
 */
export interface AuthorityLedger {
  readonly entries: Iterable<LedgerEntry>;
  append(entry: LedgerEntry): void;
}

/** What the center sends for a bill: the period, the tariff version and every signed record of the meter in it. */
export interface BillShareRequest {
  readonly meterId: string;
  readonly from: number;
  readonly to: number;
  readonly tariffVersion: number;
  readonly records: readonly Uint8Array[];
}

/** What the center sends for a grid: the period, the tariff version and the signed records of the feeder's meters in it. */
export interface GridShareRequest {
  readonly feeder: string;
  readonly from: number;
  readonly to: number;
  readonly tariffVersion: number;
  /** The grid's interval (default: the one the records share). */
  readonly intervalSeconds?: number;
  readonly records: readonly Uint8Array[];
}

/** The answer to a bill request. */
export interface BillRelease {
  readonly encryptedCharge: Ciphertext;
  readonly intervals: number[];
  readonly share: DecryptionShare;
  /**
   * The authority's signature of the bill's tariff (`signTariff`, by its identity key), when it
   * has one: what lets the customer trust the prices without trusting the utility that bills.
   */
  readonly tariffSignature?: Uint8Array;
}

/** The answer to a grid request: one total per interval of the period, over `members`. */
export interface GridRelease {
  readonly feeder: string;
  readonly from: number;
  readonly to: number;
  readonly tariffVersion: number;
  readonly members: string[];
  /** Meters whose records were sent but that are not members, with why. */
  readonly excluded: { meterId: string; why: string }[];
  readonly totals: { intervalStart: number; encryptedTotal: Ciphertext; share: DecryptionShare }[];
}

/** A certified key epoch of a meter: valid from its `validFrom` until the next epoch's. */
interface Epoch {
  readonly cert: MeterCertificate;
  validUntil: number;
}

/** A reading of a decoded record (verified before anything containing it is co-decrypted). */
interface Reading {
  readonly meterId: string;
  readonly intervalStart: number;
  readonly ciphertext: Ciphertext;
  /** The upper bound its record proves: what the aggregate's decryption is searched up to. */
  readonly max: bigint;
  /** Index of its record among the decoded records of the request. */
  readonly record: number;
}

const DAY = 86_400;
const FAR_FUTURE = 2 ** 40;

/** A release decided but not yet recorded: record `entry` (if any: a repeat has none) durably, `commit` it, then hand out `release`. */
export interface PreparedRelease<R> {
  readonly release: R;
  readonly entry: LedgerEntry | undefined;
}

/** In-memory ledger: for tests and embedding (lost with the process), or a store's entries read back at start. */
export class MemoryLedger implements AuthorityLedger {
  readonly entries: LedgerEntry[];
  constructor(entries: readonly LedgerEntry[] = []) {
    this.entries = [...entries];
  }
  append(entry: LedgerEntry): void {
    this.entries.push(entry);
  }
}

export class PrivacyAuthority {
  readonly policy: AuthorityPolicy;
  private readonly key: SharedKey;
  private readonly share: KeyShare;
  private readonly trustedIssuers: readonly Uint8Array[];
  private readonly tariffs = new Map<number, Tariff>();
  private readonly tariffSignatures = new Map<number, Uint8Array>();
  /** Its identity key (x-only), when it was given one: what its tariff signatures verify under. */
  readonly identityKey: Uint8Array | undefined;
  private readonly meters = new Map<string, Epoch[]>();
  private readonly bills = new Map<string, BillEntry[]>();
  /** Grids by member meter. */
  private readonly grids = new Map<string, GridEntry[]>();
  private readonly ledger: AuthorityLedger;

  /**
   * `provisioningKeys` are the 32-byte x-only keys whose certificates it trusts;
   * `tariffs` its own configuration (refused, rule 'tariff', unless each is valid,
   * within the price-spread bound for every class in `meterClasses` (default HOUSEHOLD),
   * and the same as any earlier use of its version in the ledger).
   */
  constructor(o: {
    key: SharedKey;
    share: KeyShare;
    provisioningKeys: readonly Uint8Array[];
    tariffs: readonly Tariff[];
    policy?: Partial<AuthorityPolicy>;
    meterClasses?: readonly MeterClass[];
    ledger?: AuthorityLedger;
    /** Its identity secret key (BIP340): signs the tariff of every bill it releases. */
    identityKey?: bigint;
  }) {
    this.key = o.key;
    this.share = o.share;
    this.identityKey = o.identityKey !== undefined ? schnorrPublicKey(o.identityKey) : undefined;
    // Unless given, the per-price minimum follows a smaller minIntervals down.
    const minIntervals = o.policy?.minIntervals ?? DEFAULT_POLICY.minIntervals;
    const given = Object.fromEntries(Object.entries(o.policy ?? {}).filter(([, v]) => v !== undefined));
    this.policy = { ...DEFAULT_POLICY, minIntervalsPerPrice: Math.min(DEFAULT_POLICY.minIntervalsPerPrice, minIntervals), ...given };
    validatePolicy(this.policy);
    if (!Array.isArray(o.provisioningKeys) || !o.provisioningKeys.every((k) => k instanceof Uint8Array && k.length === 32)) {
      throw new ZkmeterError('INVALID_ARGUMENT', '"provisioningKeys" expected a list of 32-byte x-only keys');
    }
    this.trustedIssuers = o.provisioningKeys.map((k) => k.slice());
    this.ledger = o.ledger ?? new MemoryLedger();
    const digests = new Map<number, string>();
    for (const e of this.ledger.entries) {
      if (e.kind === 'certificate') {
        // A provisioning key no longer trusted: its certificates no longer count (which only refuses more).
        const bytes = hexToBytes(e.certificate, 'ledger certificate');
        if (this.trustedIssuers.some((k) => equalBytes(k, decodeCertificate(bytes).issuer))) this.admit(checkCertificate(bytes, this.trustedIssuers));
      }
      else if (e.kind === 'tariff') digests.set(e.version, e.digest);
      else if (e.kind === 'bill') this.noteBill(e);
      else this.noteGrid(e);
    }
    if (!Array.isArray(o.tariffs) || o.tariffs.length === 0) throw new ZkmeterError('INVALID_ARGUMENT', '"tariffs" expected at least one tariff');
    for (const t of o.tariffs) {
      try {
        validateTariff(t);
      } catch (e) {
        if (!(e instanceof ZkmeterError)) throw e;
        refuse('tariff', e.message);
      }
      for (const c of o.meterClasses ?? [HOUSEHOLD]) {
        const problem = priceSpreadProblem(t, c, this.policy.minIntervals);
        if (problem !== undefined) refuse('tariff', problem);
      }
      const digest = tariffDigest(t);
      const prior = digests.get(t.version) ?? (this.tariffs.has(t.version) ? tariffDigest(this.tariffs.get(t.version)!) : undefined);
      if (prior !== undefined && prior !== digest) {
        refuse('tariff', `tariff version ${t.version} was used with other prices: a version is immutable, give the new prices a new version`);
      }
      this.tariffs.set(t.version, t);
      if (o.identityKey !== undefined) this.tariffSignatures.set(t.version, signTariff(t, o.identityKey));
      if (!digests.has(t.version)) {
        this.ledger.append({ kind: 'tariff', version: t.version, digest });
        digests.set(t.version, digest);
      }
    }
  }

  /**
   * Registers a meter, or a new key epoch of it, from a certificate signed by a
   * trusted provisioning key, and says what changed. A re-key must raise the key
   * epoch and start after the current epoch; a certificate already registered
   * changes nothing. Earlier epochs are kept: their records stay billable.
   */
  register(certificate: Uint8Array): RegistrationChange {
    const change = this.admit(checkCertificate(certificate, this.trustedIssuers));
    if (change.change !== 'unchanged') this.ledger.append({ kind: 'certificate', certificate: bytesToHex(certificate) });
    return change;
  }

  /**
   * What registering `certificates` in order would change, without changing anything:
   * refused (as `register` would, the error's `index` naming the certificate) if any is.
   */
  checkRegistrations(certificates: readonly Uint8Array[]): RegistrationChange[] {
    const pending = new Map<string, MeterCertificate[]>();
    return certificates.map((bytes, index) => {
      try {
        const cert = checkCertificate(bytes, this.trustedIssuers);
        const held = pending.get(cert.meterId) ?? this.certificates(cert.meterId);
        const change = certificateChange(held, cert);
        if (change.change !== 'unchanged') pending.set(cert.meterId, [...held, cert]);
        return change;
      } catch (e) {
        if (!(e instanceof ZkmeterError)) throw e;
        throw new ZkmeterError(e.code, e.message, { index, cause: e });
      }
    });
  }

  /**
   * Registers `certificates` in order, all or nothing: refused (as `checkRegistrations`,
   * naming the certificate) unless every one is acceptable; otherwise what each changed.
   */
  registerCertificates(certificates: readonly Uint8Array[]): RegistrationChange[] {
    this.checkRegistrations(certificates);
    return certificates.map((b) => this.register(b));
  }

  /** The certificates it holds for a meter, oldest epoch first (empty if unknown). */
  certificates(meterId: string): MeterCertificate[] {
    return (this.meters.get(meterId) ?? []).map((e) => e.cert);
  }

  /**
   * Its decryption share of a meter's bill for [from, to) (whole days of the
   * tariff's zone): recomputes the encrypted energy charge Σ price_t·C_t from the
   * signed records and refuses (POLICY_REFUSED, naming the rule) anything its
   * policy does not allow. The same request again (same meter, period, tariff and
   * records) gets the same share back: it releases nothing new, and a share lost
   * in transit costs nothing. Recorded in the ledger before it is returned.
   */
  billShare(req: BillShareRequest, rng?: RandomSource): BillRelease {
    return this.record(this.prepareBill(req, rng));
  }

  /**
   * `billShare`'s decision without recording it: the release, and the ledger entry
   * to make durable and then `commit` before the share leaves (undefined for a repeat).
   * Changes nothing; decisions must be prepared and committed one at a time.
   */
  prepareBill(req: BillShareRequest, rng?: RandomSource): PreparedRelease<BillRelease> {
    const tariff = this.tariff(req.tariffVersion);
    this.checkPeriod(tariff, req.from, req.to, this.policy.maxBillDays);
    const { records, readings: all } = this.readingsOf(req.records, tariff);
    const readings = all.filter((r) => {
      if (r.meterId !== req.meterId) refuse('record', `a record of meter ${r.meterId} is not part of meter ${req.meterId}'s bill`);
      return r.intervalStart >= req.from && r.intervalStart < req.to;
    });
    readings.sort((a, b) => a.intervalStart - b.intervalStart);
    if (readings.length < this.policy.minIntervals) {
      refuse('min-intervals', `a bill must cover at least ${this.policy.minIntervals} readings, this one covers ${readings.length}`);
    }
    this.checkPerPrice(tariff, readings.map((r) => r.intervalStart), 'min-intervals', 'a bill');
    this.checkTight(tariff, req.from, req.to, readings);
    const intervals = readings.map((r) => r.intervalStart);
    const encryptedCharge = encryptedEnergyCharge(readings, tariff);
    const charge = bytesToHex(encodeCiphertext(encryptedCharge));
    const digest = readingsDigest(readings);
    const earlier = (this.bills.get(req.meterId) ?? []).filter((b) => b.from < req.to && req.from < b.to);
    const repeat = earlier.length === 1 && earlier[0]!.from === req.from && earlier[0]!.to === req.to && earlier[0]!.tariffVersion === req.tariffVersion && earlier[0]!.readings === digest;
    if (!repeat && earlier.length > 0) {
      const b = earlier[0]!;
      refuse('overlap', `meter ${req.meterId} was already billed for [${b.from}, ${b.to}), which overlaps [${req.from}, ${req.to})`);
    }
    for (const g of (this.grids.get(req.meterId) ?? []).filter((g) => g.from < req.to && req.from < g.to)) {
      // Under the grid's prices too: a member billed at other relative prices could split its band sums out.
      // And over the very records the grid summed: a second record of an interval would leave their difference.
      if (g.from !== req.from || g.to !== req.to || g.tariffVersion !== req.tariffVersion || g.readings[g.members.indexOf(req.meterId)] !== digest) {
        refuse('grid-bill', `meter ${req.meterId} is a member of feeder ${g.feeder}'s grid [${g.from}, ${g.to}) under tariff ${g.tariffVersion}: its bill for those days must cover exactly them, under that tariff, with the ${gridIntervals(g).length} readings the grid summed`);
      }
    }
    this.verify(records);
    const signature = this.tariffSignatures.get(req.tariffVersion);
    const base = { encryptedCharge, intervals, ...(signature !== undefined ? { tariffSignature: signature.slice() } : {}) };
    if (repeat) return { release: { ...base, share: decryptionShareFromJson(earlier[0]!.share) }, entry: undefined };
    const share = partialDecrypt(this.key, this.share, encryptedCharge, billContext(req.meterId, req.from, req.to, req.tariffVersion), rng);
    const entry = { kind: 'bill' as const, meterId: req.meterId, from: req.from, to: req.to, tariffVersion: req.tariffVersion, intervals, charge, readings: digest, share: shareJson(share) };
    return { release: { ...base, share }, entry };
  }

  /**
   * Takes a prepared release's entry into the authority's memory (after the caller made
   * it durable): later decisions count it. The entry of a release must be committed before
   * the next release is prepared.
   */
  commit(entry: LedgerEntry | undefined): void {
    if (entry === undefined) return;
    if (entry.kind === 'bill') this.noteBill(entry);
    else if (entry.kind === 'grid') this.noteGrid(entry);
    else throw new ZkmeterError('INVALID_ARGUMENT', `commit takes release entries, not a ${entry.kind}`);
  }

  /** Records a prepared release in the ledger (durable when `append` returns), commits it, returns the release. */
  private record<R>(p: PreparedRelease<R>): R {
    if (p.entry !== undefined) {
      this.ledger.append(p.entry); // durable before the share leaves
      this.commit(p.entry);
    }
    return p.release;
  }

  /**
   * Its decryption shares of a feeder's grid over [from, to) (whole days of the
   * tariff's zone): the total of every interval of the period, over the feeder's
   * meters whose records the request holds and that qualify (docs/notes-privacy.md,
   * rule 6); the others are listed in `excluded`. Refused unless at least
   * `minMeters` qualify, counting at most `maxNewMeters` newly certified ones. The
   * same grid asked again is answered over its original members.
   */
  gridShares(req: GridShareRequest, rng?: RandomSource): GridRelease {
    return this.record(this.prepareGrid(req, rng));
  }

  /** `gridShares`'s decision without recording it, as `prepareBill`. */
  prepareGrid(req: GridShareRequest, rng?: RandomSource): PreparedRelease<GridRelease> {
    const tariff = this.checkGridRequest(req);
    const { records, readings: all, skipped } = this.readingsOf(req.records, tariff, true);
    // The grid's interval: as asked, else the one the request's records share.
    const steps = new Set(records.map((r) => r.record.header.intervalSeconds));
    const step = req.intervalSeconds ?? (steps.size === 1 ? [...steps][0]! : NaN);
    if (!Number.isSafeInteger(step) || step < 60 || DAY % step !== 0) {
      throw new ZkmeterError('INVALID_ARGUMENT', '"intervalSeconds" expected a divisor of 86,400 of at least 60 (needed when the records do not share one interval)');
    }
    const grid: Omit<GridEntry, 'shares'> = { feeder: req.feeder, from: req.from, to: req.to, tariffVersion: req.tariffVersion, intervalSeconds: step, members: [], readings: [] };
    const intervals = gridIntervals(grid);
    if (intervals.length < this.policy.minIntervals) refuse('grid', `a grid must span at least ${this.policy.minIntervals} intervals`);
    this.checkPerPrice(tariff, intervals, 'grid', 'a grid');
    const byMeter = new Map<string, Map<number, Reading>>();
    for (const r of all) {
      if (r.intervalStart < req.from || r.intervalStart >= req.to) continue;
      let m = byMeter.get(r.meterId);
      if (m === undefined) byMeter.set(r.meterId, (m = new Map()));
      m.set(r.intervalStart, r);
    }
    const same = [...new Set([...byMeter.keys()].flatMap((id) => this.grids.get(id) ?? []))].find(
      (g) => g.feeder === req.feeder && g.from === req.from && g.to === req.to && g.tariffVersion === req.tariffVersion && g.intervalSeconds === step,
    );
    const excluded: { meterId: string; why: string }[] = [...skipped].filter(([id]) => !byMeter.has(id)).map(([meterId, why]) => ({ meterId, why }));
    let members: string[];
    const digestOf = (id: string) => readingsDigest(intervals.map((t) => byMeter.get(id)!.get(t)!));
    if (same !== undefined) {
      members = [...same.members];
      const missing = members.find((id, k) => intervals.some((t) => !byMeter.get(id)?.has(t)) || digestOf(id) !== same.readings[k]);
      if (missing !== undefined) refuse('grid', `feeder ${req.feeder}'s grid [${req.from}, ${req.to}) was released over other records of its members than this request holds (${missing})`);
    } else {
      members = [];
      for (const [meterId, readings] of [...byMeter].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const why = skipped.get(meterId) ?? this.gridIneligibility(meterId, readings, grid, intervals);
        if (why === undefined) members.push(meterId);
        else excluded.push({ meterId, why });
      }
      const windowStart = req.from - this.policy.newMeterWindowDays * DAY;
      const isNew = (id: string) => this.meters.get(id)!.some((e) => e.cert.validFrom > windowStart);
      const newcomers = members.filter(isNew).length;
      const counted = members.length - newcomers + Math.min(newcomers, this.policy.maxNewMeters);
      if (counted < this.policy.minMeters) {
        if (members.length >= this.policy.minMeters) {
          refuse('new-meters', `feeder ${req.feeder}'s grid has ${members.length} qualifying meters, but ${newcomers} were certified within ${this.policy.newMeterWindowDays} days before it and at most ${this.policy.maxNewMeters} of those count: ${counted} < ${this.policy.minMeters}`);
        }
        refuse('min-meters', `a grid needs at least ${this.policy.minMeters} meters that reported every interval of it, feeder ${req.feeder} has ${members.length}` + (excluded.length ? ` (${excluded.map((x) => `${x.meterId}: ${x.why}`).slice(0, 3).join('; ')})` : ''));
      }
    }
    const memberSet = new Set(members);
    const memberRecords = new Set(all.filter((r) => memberSet.has(r.meterId)).map((r) => r.record));
    this.verify(records.filter((_, k) => memberRecords.has(k)));
    const totals = intervals.map((t, k) => {
      const at = members.map((id) => byMeter.get(id)!.get(t)!);
      const encryptedTotal = weightedSum(at.map((r) => r.ciphertext));
      // The grid asked again gets the shares it was given the first time.
      const share = same !== undefined ? decryptionShareFromJson(same.shares[k]) : partialDecrypt(this.key, this.share, encryptedTotal, gridContext(req.feeder, req.from, req.to, t), rng);
      return { intervalStart: t, encryptedTotal, share };
    });
    const release = { feeder: req.feeder, from: req.from, to: req.to, tariffVersion: req.tariffVersion, members, excluded, totals };
    if (same !== undefined) return { release, entry: undefined };
    const entry = { kind: 'grid' as const, ...grid, members, readings: members.map(digestOf), shares: totals.map((t) => shareJson(t.share)) };
    return { release, entry };
  }

  /**
   * The checks of a grid request that need no records (its tariff, and a period of whole
   * days no longer than `maxGridDays`), so a center can be refused before it loads them.
   */
  checkGridRequest(req: { feeder: string; from: number; to: number; tariffVersion: number }): Tariff {
    const tariff = this.tariff(req.tariffVersion);
    if (typeof req.feeder !== 'string' || req.feeder.length === 0) throw new ZkmeterError('INVALID_ARGUMENT', '"feeder" expected a feeder id');
    this.checkPeriod(tariff, req.from, req.to, this.policy.maxGridDays);
    return tariff;
  }

  /** Why a meter whose readings of the grid's period are `readings` cannot be a member, or undefined. */
  private gridIneligibility(meterId: string, readings: Map<number, Reading>, g: Omit<GridEntry, 'shares'>, intervals: readonly number[]): string | undefined {
    const epochs = (this.meters.get(meterId) ?? []).filter((e) => e.cert.validFrom < g.to && g.from < e.validUntil);
    if (epochs.length === 0 || epochs[0]!.cert.validFrom > g.from) return 'not certified for the whole period';
    const elsewhere = epochs.find((e) => e.cert.feeder !== g.feeder);
    if (elsewhere !== undefined) return `certified on feeder ${elsewhere.cert.feeder} for part of the period`;
    if (epochs.some((e) => e.cert.meterClass.intervalSeconds !== g.intervalSeconds)) return `its class's interval is not ${g.intervalSeconds} s`;
    const missing = intervals.filter((t) => !readings.has(t)).length;
    if (missing > 0) return `${missing} of its ${intervals.length} readings are missing`;
    if ((this.grids.get(meterId) ?? []).some((o) => o.from < g.to && g.from < o.to)) return 'already a member of another grid on these days';
    const bill = (this.bills.get(meterId) ?? []).find((b) => b.from < g.to && g.from < b.to);
    if (bill !== undefined && (bill.from !== g.from || bill.to !== g.to || bill.tariffVersion !== g.tariffVersion)) {
      return `billed for [${bill.from}, ${bill.to}) under tariff ${bill.tariffVersion}, not exactly the grid's days under its tariff`;
    }
    if (bill !== undefined && bill.readings !== readingsDigest(intervals.map((t) => readings.get(t)!))) return 'billed for these days over other records than this request holds';
    return undefined;
  }

  private tariff(version: number): Tariff {
    const tariff = this.tariffs.get(version);
    if (tariff === undefined) refuse('tariff', `tariff version ${version} is not one of the authority's (${[...this.tariffs.keys()].join(', ')})`);
    return tariff;
  }

  /** A period of whole days of the tariff's zone, at most `maxDays` long. */
  private checkPeriod(tariff: Tariff, from: number, to: number, maxDays: number): void {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to > FAR_FUTURE) throw new ZkmeterError('INVALID_ARGUMENT', '"from" and "to" expected Unix seconds');
    if (!(from < to)) refuse('whole-days', `the period [${from}, ${to}) is empty`);
    if (!isLocalMidnight(tariff, from) || !isLocalMidnight(tariff, to)) {
      refuse('whole-days', `the period [${from}, ${to}) does not start and end at midnight in ${tariff.timeZone ?? 'UTC'}: bills and grids cover whole days`);
    }
    const days = localDay(tariff, to - 1) - localDay(tariff, from) + 1;
    if (days > maxDays) refuse('whole-days', `the period spans ${days} days, at most ${maxDays}`);
  }

  /** At least `minIntervalsPerPrice` of `intervals` at each price of the tariff that any of them has. */
  private checkPerPrice(tariff: Tariff, intervals: readonly number[], rule: PolicyRule, what: string): void {
    const count = new Map<bigint, number>();
    for (const t of intervals) {
      const p = priceAt(tariff, t);
      count.set(p, (count.get(p) ?? 0) + 1);
    }
    for (const [price, n] of count) {
      if (n < this.policy.minIntervalsPerPrice) {
        refuse(rule, `${what} must cover at least ${this.policy.minIntervalsPerPrice} intervals at each price it charges, this one covers ${n} at ${price} per Wh`);
      }
    }
  }

  /** The period's first and last day hold a reading: it is the tightest run of whole days around them. */
  private checkTight(tariff: Tariff, from: number, to: number, readings: readonly Reading[]): void {
    if (localDay(tariff, readings[0]!.intervalStart) !== localDay(tariff, from) || localDay(tariff, readings.at(-1)!.intervalStart) !== localDay(tariff, to - 1)) {
      refuse('whole-days', `the period [${from}, ${to}) has days before its first or after its last reading: a bill covers the days of its readings`);
    }
  }

  /**
   * Decodes records and lists their readings, refusing (naming the record) one of a
   * meter it holds no certificate for, one outside its key epoch's validity, one that
   * proves bounds other than its class's, one under another tariff version, and two
   * records that claim one interval. For a grid (`lenient`), a record that fails one
   * of these rules (other than two records for one interval) only keeps its meter out. The cheap checks: the records'
   * cryptography is `verify`'s, once the request has passed the policy.
   */
  private readingsOf(bytes: readonly Uint8Array[], tariff: Tariff, lenient = false): { records: (RecordToVerify & { index: number })[]; readings: Reading[]; skipped: Map<string, string> } {
    if (!Array.isArray(bytes)) throw new ZkmeterError('INVALID_ARGUMENT', '"records" expected an array');
    const skipped = new Map<string, string>();
    const readings: Reading[] = [];
    const seen = new Set<string>();
    const records: (RecordToVerify & { index: number })[] = [];
    bytes.forEach((b, i) => {
      let r: MeterRecord;
      try {
        r = decodeRecord(b);
      } catch (e) {
        if (!(e instanceof ZkmeterError)) throw e;
        throw new ZkmeterError(e.code, `record ${i}: ${e.message}`, { index: i, cause: e });
      }
      const h = r.header;
      // For a grid, a record that fails a rule only keeps its meter out; for a bill it refuses the bill.
      const fail = (rule: PolicyRule, message: string): void => {
        if (!lenient) refuse(rule, message);
        if (!skipped.has(h.meterId)) skipped.set(h.meterId, `${message} (rule '${rule}')`);
      };
      const epochs = this.meters.get(h.meterId);
      const epoch = epochs?.find((e) => e.cert.keyEpoch === h.keyEpoch);
      const intervals = recordIntervals(h);
      const c = epoch?.cert.meterClass;
      const expected = h.abnormal ? c?.plausible : c?.normal;
      if (epochs === undefined) return fail('registry', `${recordName(i, r)}: meter ${h.meterId} has no certificate from a trusted provisioning key`);
      if (epoch === undefined || c === undefined || expected === undefined) return fail('registry', `${recordName(i, r)}: meter ${h.meterId} has no certificate for key epoch ${h.keyEpoch}`);
      if (intervals[0]! < epoch.cert.validFrom || intervals.at(-1)! >= epoch.validUntil) {
        return fail('registry', `${recordName(i, r)}: key epoch ${h.keyEpoch} of meter ${h.meterId} signs intervals in [${epoch.cert.validFrom}, ${epoch.validUntil})`);
      }
      if (h.bits !== c.bits || h.intervalSeconds !== c.intervalSeconds || h.bounds.min !== expected.min || h.bounds.max !== expected.max) {
        return fail('class-bounds', `${recordName(i, r)} proves bounds [${h.bounds.min}, ${h.bounds.max}] in ${h.bits} bits, not its class ${c.name}'s ${h.abnormal ? 'plausible' : 'normal'} bounds`);
      }
      // As the center requires: intervals on the class's grid of time, so that every party counts the same intervals.
      if (h.intervalStart % h.intervalSeconds !== 0) return fail('class-bounds', `${recordName(i, r)} starts at ${h.intervalStart}, not a multiple of its ${h.intervalSeconds} s interval`);
      if (h.tariffVersion !== tariff.version) return fail('tariff', `${recordName(i, r)} was sealed under tariff version ${h.tariffVersion}, not ${tariff.version}`);
      const problem = priceSpreadProblem(tariff, c, this.policy.minIntervals);
      if (problem !== undefined) return fail('tariff', problem);
      intervals.forEach((t, j) => {
        const k = `${h.meterId}@${t}`;
        if (seen.has(k)) refuse('record', `two records claim interval ${k}`);
        seen.add(k);
        readings.push({ meterId: h.meterId, intervalStart: t, ciphertext: r.ciphertexts[j]!, max: h.bounds.max, record: records.length });
      });
      records.push({ record: r, meterKey: epoch.cert.publicKey, index: i });
    });
    return { records, readings, skipped };
  }

  /**
   * Refuses the request, naming the first bad record, unless every record's
   * signature, range proof and proof of equivalence verify: a ciphertext that
   * does not hold its proved reading would make the aggregate undecryptable.
   */
  private verify(records: readonly (RecordToVerify & { index?: number })[]): void {
    verifyRecords(records, this.key.publicKey).forEach((v, k) => {
      const r = records[k]!;
      if (!v.ok) refuse('record', `${recordName(r.index ?? k, r.record)} is refused (${v.reason}): ${v.detail}`);
    });
  }

  /** Adds a checked certificate to the registry: a new meter, or a later epoch of a known one. */
  private admit(cert: MeterCertificate): RegistrationChange {
    const epochs = this.meters.get(cert.meterId) ?? [];
    const change = certificateChange(epochs.map((e) => e.cert), cert);
    if (change.change === 'unchanged') return change;
    const last = epochs.at(-1);
    if (last !== undefined) last.validUntil = cert.validFrom;
    epochs.push({ cert, validUntil: FAR_FUTURE });
    this.meters.set(cert.meterId, epochs);
    return change;
  }

  private noteBill(b: BillEntry): void {
    let list = this.bills.get(b.meterId);
    if (list === undefined) this.bills.set(b.meterId, (list = []));
    list.push({ meterId: b.meterId, from: b.from, to: b.to, tariffVersion: b.tariffVersion, intervals: [...b.intervals], charge: b.charge, readings: b.readings, share: { ...b.share } });
  }

  private noteGrid(g: GridEntry): void {
    const entry: GridEntry = { feeder: g.feeder, from: g.from, to: g.to, tariffVersion: g.tariffVersion, intervalSeconds: g.intervalSeconds, members: [...g.members], readings: [...g.readings], shares: g.shares.map((x) => ({ ...x })) };
    for (const id of entry.members) {
      let list = this.grids.get(id);
      if (list === undefined) this.grids.set(id, (list = []));
      list.push(entry);
    }
  }
}

function shareJson(s: DecryptionShare): ShareJson {
  return decryptionShareToJson(s) as unknown as ShareJson;
}

const isInt = (v: unknown) => Number.isSafeInteger(v);
const isText = (v: unknown) => typeof v === 'string';
const isShare = (v: unknown) => {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return Object.keys(o).length === 3 && isText(o.party) && isText(o.share) && isText(o.proof);
};

/**
 * Whether a parsed JSON value has the shape of a ledger entry (what a store reads back;
 * the authority checks the content: certificates' signatures, shares' encodings).
 */
export function isLedgerEntry(v: unknown): v is LedgerEntry {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const e = v as Record<string, unknown>;
  switch (e.kind) {
    case 'certificate':
      return isText(e.certificate);
    case 'tariff':
      return isInt(e.version) && isText(e.digest);
    case 'bill':
      return isText(e.meterId) && isInt(e.from) && isInt(e.to) && isInt(e.tariffVersion) && Array.isArray(e.intervals) && e.intervals.every(isInt) && isText(e.charge) && isText(e.readings) && isShare(e.share);
    case 'grid':
      return (
        isText(e.feeder) && isInt(e.from) && isInt(e.to) && isInt(e.tariffVersion) && isInt(e.intervalSeconds) &&
        Array.isArray(e.members) && e.members.every(isText) && Array.isArray(e.readings) && e.readings.length === e.members.length && e.readings.every(isText) &&
        Array.isArray(e.shares) && e.shares.every(isShare)
      );
    default:
      return false;
  }
}

function validatePolicy(p: AuthorityPolicy): void {
  const int = (v: number, name: string, min: number) => {
    if (!Number.isSafeInteger(v) || v < min) throw new ZkmeterError('INVALID_ARGUMENT', `policy "${name}" expected an integer of at least ${min}`);
  };
  int(p.minIntervals, 'minIntervals', 3);
  int(p.minMeters, 'minMeters', 3);
  int(p.minIntervalsPerPrice, 'minIntervalsPerPrice', 1);
  if (p.minIntervalsPerPrice > p.minIntervals) throw new ZkmeterError('INVALID_ARGUMENT', 'policy "minIntervalsPerPrice" expected at most "minIntervals"');
  int(p.maxNewMeters, 'maxNewMeters', 0);
  int(p.newMeterWindowDays, 'newMeterWindowDays', 0);
  int(p.maxGridDays, 'maxGridDays', 1);
  int(p.maxBillDays, 'maxBillDays', 1);
}

/** Hex SHA-256 of readings (ascending): each interval start and its ciphertext. What pins a release to its records. */
function readingsDigest(readings: readonly { intervalStart: number; ciphertext: Ciphertext }[]): string {
  const h = sha256.create();
  const at = new Uint8Array(8);
  for (const r of readings) {
    new DataView(at.buffer).setBigUint64(0, BigInt(r.intervalStart));
    h.update(at).update(encodeCiphertext(r.ciphertext));
  }
  return bytesToHex(h.digest());
}

/** Every interval start of a grid's period. */
function gridIntervals(g: { from: number; to: number; intervalSeconds: number }): number[] {
  const out: number[] = [];
  for (let t = g.from; t < g.to; t += g.intervalSeconds) out.push(t);
  return out;
}

function recordName(i: number, r: MeterRecord): string {
  return `record ${i} (meter ${r.header.meterId}, interval ${r.header.intervalStart})`;
}

function refuse(rule: PolicyRule, message: string): never {
  throw new ZkmeterError('POLICY_REFUSED', `refused by rule '${rule}': ${message}`);
}
