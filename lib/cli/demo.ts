/**
 * `zkmeter demo` (what `npm start` runs): a complete billing cycle with no
 * setup. Distributed key generation between the control center and the
 * privacy authority; N meters with realistic household load over D days,
 * including abnormal spikes; meters sealing signed records in worker threads;
 * forged, tampered and duplicate records mixed in; batch verification on all
 * cores and classification; threshold billing under the tariff; every
 * customer checking their bill; feeder grids (every interval's total of each
 * feeder); then a curious control center trying the review's attacks on the
 * privacy authority (issue 15), each refused by a named rule. It ends with a
 * summary (releases and refusals by rule among it) and exits non-zero if any
 * bill or feeder total differs from the plaintext truth, any tampered record
 * was accepted, any honest record was rejected, or any attack was released.
 * @module
 */
import os from 'node:os';
import { bytesToHex, encodePoints } from '../crypto/codec.js';
import { cryptoRandom, randomScalar } from '../crypto/random.js';
import { signSchnorr } from '../crypto/schnorr.js';
import { distributedKeyGeneration } from '../crypto/threshold.js';
import { backendName } from '../backend/index.js';
import { ZkmeterError } from '../errors.js';
import { PrivacyAuthority } from '../protocol/authority.js';
import { issueBill, releaseFeederGrid, type Bill } from '../protocol/billing.js';
import { certifyMeter } from '../protocol/certificate.js';
import { ControlCenter, type RecordOutcome } from '../protocol/center.js';
import { checkBill } from '../protocol/customer.js';
import { HOUSEHOLD, Meter, type MeterClass } from '../protocol/meter.js';
import { schnorrPublicKey } from '../crypto/schnorr.js';
import { signedMessage } from '../protocol/records.js';
import { householdDay, seededUniform } from '../protocol/simulation.js';
import { formatAmount, priceAt, type Tariff } from '../protocol/tariff.js';
import { WorkerPool } from '../server/pool.js';
import type { WorkerResult, WorkerTask } from '../server/worker.js';
import { unpackVerdicts } from '../server/wire.js';
import { progress } from './progress.js';

export interface DemoOptions {
  meters: number;
  days: number;
  intervalSeconds: number;
  bits: 16 | 32;
  mode: 'daily' | 'reading';
  abnormalShare: number;
  tamperedShare: number;
  workers: number;
  seed: number;
  /** First day, Unix seconds at 00:00 UTC. */
  start: number;
  tariff: Tariff;
}

interface SimMeter {
  meterId: string;
  feeder: string;
  signingKey: bigint;
  publicKey: Uint8Array;
  readings: Map<number, bigint>;
  openings: { intervalStart: number; reading: bigint; blinding: bigint }[];
  records: Uint8Array[];
}

const FEEDER_SIZE = 20;

export async function runDemo(o: DemoOptions, log: (line: string) => void): Promise<{ ok: boolean; summary: Record<string, unknown> }> {
  const meterClass: MeterClass = { ...HOUSEHOLD, bits: o.bits, intervalSeconds: o.intervalSeconds };
  const perDay = Math.round(86_400 / o.intervalSeconds);
  const phases: Record<string, { seconds: number; readingsPerSec?: number; perSec?: number }> = {};
  const failures: string[] = [];
  const t = () => performance.now() / 1000;
  log(`zkmeter demo: ${o.meters} meters × ${o.days} day(s) of ${o.intervalSeconds / 60}-minute readings, ${o.mode} records, backend ${backendName()}, ${o.workers} worker(s)`);

  // 1. Keys: a 2-of-2 distributed key generation; meters' signing keys.
  let t0 = t();
  const { key, shares } = distributedKeyGeneration(['control-center', 'privacy-authority'], 2);
  const utilityKeyHex = bytesToHex(encodePoints(key.publicKey));
  // The installer's provisioning key certifies every meter (a year before the simulated days): the
  // authority trusts its certificates, never the center's word, for who is on which feeder.
  const provisioningSecret = randomScalar(cryptoRandom);
  const provisioningKeys = [schnorrPublicKey(provisioningSecret)];
  const installed = o.start - 365 * 86_400;
  const center = new ControlCenter({ utilityKey: key.publicKey, tariffVersions: [o.tariff.version], provisioningKeys });
  // Bills of one day: every price band must hold three hours of readings (the default tariff's peak).
  const policy = { minIntervals: Math.min(48, perDay), minIntervalsPerPrice: (3 * 3600) / o.intervalSeconds, minMeters: 5 };
  const authority = new PrivacyAuthority({ key, share: shares.get('privacy-authority')!, provisioningKeys, tariffs: [o.tariff], policy, meterClasses: [meterClass] });
  const random = seededUniform(o.seed);
  const meters: SimMeter[] = [];
  let abnormalReadings = 0;
  let abnormalRecords = 0;
  for (let i = 0; i < o.meters; i++) {
    const signingKey = randomScalar(cryptoRandom);
    const m: SimMeter = {
      meterId: `MTR-${String(i + 1).padStart(5, '0')}`,
      feeder: `FDR-${Math.floor(i / FEEDER_SIZE) + 1}`,
      signingKey,
      publicKey: schnorrPublicKey(signingKey),
      readings: new Map(),
      openings: [],
      records: [],
    };
    const certificate = certifyMeter({ meterId: m.meterId, publicKey: m.publicKey, keyEpoch: 0, validFrom: installed, feeder: m.feeder, meterClass }, provisioningSecret);
    await center.registerCertificate(certificate);
    authority.register(certificate);
    meters.push(m);
  }
  phases.keys = { seconds: t() - t0 };
  log(`keys: utility key ${utilityKeyHex.slice(0, 16)}… shared 2-of-2 (control center, privacy authority); ${o.meters} meter keys, certified by the installer's provisioning key`);

  const pool = new WorkerPool<WorkerTask, WorkerResult>(new URL('../server/worker.js', import.meta.url), o.workers);
  try {
    // 2. Meters seal their readings (in worker threads, as many meters do at once).
    t0 = t();
    const tasks: Promise<void>[] = [];
    const totalReadings = o.meters * o.days * perDay;
    const sealing = progress('meters sealing', totalReadings, 'readings');
    for (const m of meters) {
      for (let d = 0; d < o.days; d++) {
        const dayStart = o.start + d * 86_400;
        const { readings, abnormal } = householdDay(random, { abnormalShare: o.abnormalShare, meterClass });
        readings.forEach((wh, i) => m.readings.set(dayStart + i * o.intervalSeconds, wh));
        const spikes = abnormal.filter(Boolean).length;
        abnormalReadings += spikes;
        abnormalRecords += o.mode === 'daily' ? (spikes > 0 ? 1 : 0) : spikes;
        const task: WorkerTask = {
          type: 'seal',
          mode: o.mode,
          meterId: m.meterId,
          signingKey: m.signingKey,
          utilityKey: utilityKeyHex,
          meterClass,
          tariffVersion: o.tariff.version,
          sequence: d * (o.mode === 'daily' ? 1 : perDay),
          dayStart,
          readings,
        };
        tasks.push(
          pool.run(task).then((r) => {
            if (r.type !== 'seal') throw new Error('unexpected worker result');
            m.records.push(...r.records);
            m.openings.push(...r.openings);
            sealing.tick(readings.length);
          }),
        );
      }
    }
    await Promise.all(tasks);
    sealing.done();
    phases.sealing = { seconds: t() - t0, readingsPerSec: totalReadings / (t() - t0) };

    // 3. Attacks mixed in: tampered proofs, moved intervals, forged signers, duplicates.
    const honest = meters.flatMap((m) => m.records);
    const attacks: { bytes: Uint8Array; kind: string }[] = [];
    const nAttacks = Math.max(4, Math.round(o.tamperedShare * honest.length));
    const kinds = ['proof bit flipped', 'interval moved', 'signed by another key', 'lying meter (proof altered, re-signed by the meter)'];
    for (let i = 0; i < nAttacks; i++) {
      const m = meters[Math.floor(random() * meters.length)]!;
      const b = m.records[Math.floor(random() * m.records.length)]!.slice();
      const kind = kinds[i % kinds.length]!;
      const idLen = b[8]!;
      const unsigned = b.subarray(0, b.length - 64);
      const resign = (key: bigint) => b.set(signSchnorr([signedMessage(unsigned)], key), b.length - 64);
      if (kind === 'interval moved') new DataView(b.buffer).setBigUint64(9 + idLen, BigInt(o.start + 86_400 * o.days + o.intervalSeconds * i));
      else if (kind === 'signed by another key') resign(randomScalar(cryptoRandom));
      else {
        // A bit inside the range proof's final scalars, or the proof of equivalence.
        b[b.length - 64 - 1 - Math.floor(random() * 190)]! ^= 1 << Math.floor(random() * 8);
        if (kind.startsWith('lying meter')) resign(m.signingKey);
      }
      attacks.push({ bytes: b, kind });
    }

    // 4. The control center verifies in batches of about 1000 readings, on every worker.
    t0 = t();
    const submissions = [...honest.map((bytes) => ({ bytes, honest: true })), ...attacks.map((a) => ({ bytes: a.bytes, honest: false })), ...honest.slice(0, 3).map((bytes) => ({ bytes, honest: true }))];
    const perRecord = o.mode === 'daily' ? perDay : 1;
    const batchSize = Math.max(1, Math.round(1000 / perRecord));
    const verifying = progress('center verifying', submissions.length * perRecord, 'readings');
    const batches: (typeof submissions)[] = [];
    for (let i = 0; i < submissions.length; i += batchSize) batches.push(submissions.slice(i, i + batchSize));
    const registry = meters.map((m) => ({ meterId: m.meterId, publicKey: m.publicKey, meterClass, keyEpoch: 0 }));
    const pending = batches.map((batch) =>
      pool.run({ type: 'verify', records: batch.map((s) => s.bytes), registry, utilityKey: utilityKeyHex, tariffVersions: [o.tariff.version] }),
    );
    const outcomes: { honest: boolean; outcome: RecordOutcome }[] = [];
    for (let b = 0; b < batches.length; b++) {
      const r = await pending[b]!;
      if (r.type !== 'verify') throw new Error('unexpected worker result');
      // Stored in submission order, so the first record for an interval wins.
      (await center.accept(unpackVerdicts(r.verdicts))).forEach((outcome, i) => outcomes.push({ honest: batches[b]![i]!.honest, outcome }));
      verifying.tick(batches[b]!.length * perRecord);
    }
    verifying.done();
    const verifySecs = t() - t0;
    phases.verification = { seconds: verifySecs, readingsPerSec: (submissions.length * perRecord) / verifySecs };
    const count = (f: (x: (typeof outcomes)[number]) => boolean) => outcomes.filter(f).length;
    const fresh = (status: string) => (x: (typeof outcomes)[number]) => x.outcome.status === status && !(x.outcome.status !== 'invalid' && x.outcome.repeated);
    const accepted = count(fresh('accepted'));
    const abnormal = count(fresh('abnormal'));
    const repeated = count((x) => x.outcome.status !== 'invalid' && x.outcome.repeated);
    const honestRejected = count((x) => x.honest && x.outcome.status === 'invalid');
    const tamperedAccepted = count((x) => !x.honest && x.outcome.status !== 'invalid');
    const invalid = count((x) => x.outcome.status === 'invalid');
    const reasons: Record<string, number> = {};
    for (const x of outcomes) if (x.outcome.status === 'invalid') reasons[x.outcome.reason] = (reasons[x.outcome.reason] ?? 0) + 1;
    if (honestRejected > 0) failures.push(`${honestRejected} honest records were rejected`);
    if (tamperedAccepted > 0) failures.push(`${tamperedAccepted} tampered records were accepted`);
    if (abnormal !== abnormalRecords) failures.push(`${abnormal} abnormal records, expected ${abnormalRecords}`);
    if (invalid !== attacks.length) failures.push(`${invalid} invalid records, expected ${attacks.length}`);
    let gaps = 0;
    for (const m of meters) gaps += (await center.gaps(m.meterId, o.start, o.start + o.days * 86_400)).length;
    if (gaps > 0) failures.push(`${gaps} intervals have no accepted reading`);
    log(
      `classified: ${accepted} accepted, ${abnormal} abnormal (${abnormalReadings} abnormal readings, in the inspection queue and billed), ` +
        `${invalid} invalid (${Object.entries(reasons).map(([r, n]) => `${n} ${r}`).join(', ')}; ${attacks.length} attacks), ${repeated} resubmissions recognised, ${gaps} gaps`,
    );

    // 5. Bills: threshold decryption with the authority, checked against the plaintext.
    t0 = t();
    const from = o.start;
    const to = o.start + o.days * 86_400;
    const billing = progress('billing', meters.length, 'bills');
    const bills = new Map<string, Bill>();
    let wrongBills = 0;
    let energyTotal = 0n;
    for (const m of meters) {
      const bill = await issueBill({ center, centerShare: shares.get('control-center')!, key, authority, tariff: o.tariff, meterId: m.meterId, from, to });
      let truth = 0n;
      for (const [ts, wh] of m.readings) truth += wh * priceAt(o.tariff, ts);
      if (bill.energyCharge !== truth) wrongBills++;
      energyTotal += bill.energyCharge;
      bills.set(m.meterId, bill);
      billing.tick();
    }
    billing.done();
    phases.billing = { seconds: t() - t0, perSec: meters.length / (t() - t0) };
    if (wrongBills > 0) failures.push(`${wrongBills} bills differ from the plaintext truth`);

    // 6. Every customer checks their bill; one inflated bill must be caught.
    t0 = t();
    const checking = progress('customers checking', meters.length, 'bills');
    let failedChecks = 0;
    for (const m of meters) {
      const bill = bills.get(m.meterId)!;
      const records = await center.evidenceFor(await center.readingsOf(m.meterId, from, to));
      const c = checkBill({ bill, records, openings: m.openings, tariff: o.tariff, key, meterPublicKey: m.publicKey });
      if (!c.ok) failedChecks++;
      checking.tick();
    }
    checking.done();
    phases.customerChecks = { seconds: t() - t0, perSec: meters.length / (t() - t0) };
    if (failedChecks > 0) failures.push(`${failedChecks} customers found their correct bill wrong`);
    const victim = meters[0]!;
    const inflated = { ...bills.get(victim.meterId)!, energyCharge: bills.get(victim.meterId)!.energyCharge + 1000n, total: bills.get(victim.meterId)!.total + 1000n };
    const caught = !checkBill({ bill: inflated, records: await center.evidenceFor(await center.readingsOf(victim.meterId, from, to)), openings: victim.openings, tariff: o.tariff, key, meterPublicKey: victim.publicKey }).ok;
    if (!caught) failures.push('an inflated bill passed the customer check');
    log(`bills: ${meters.length} issued, ${meters.length - wrongBills} equal to the plaintext truth; ${meters.length - failedChecks} verified by their customers; an inflated bill was ${caught ? 'caught' : 'NOT caught'}`);

    // 7. Feeder grids: every interval's total of each feeder over the billed days, released by the
    //    authority only over meters that reported all of them and were billed for exactly those days.
    const policyOutcomes = { released: { bills: meters.length, grids: 0, feederTotals: 0 }, refused: {} as Record<string, number> };
    const refusedBy = (e: unknown): string => {
      if (!(e instanceof ZkmeterError) || e.code !== 'POLICY_REFUSED') throw e;
      const rule = /^refused by rule '([a-z-]+)'/.exec(e.message)?.[1] ?? 'unnamed';
      policyOutcomes.refused[rule] = (policyOutcomes.refused[rule] ?? 0) + 1;
      return rule;
    };
    const feeders = [...new Set(meters.map((m) => m.feeder))];
    t0 = t();
    for (const f of feeders) {
      try {
        const grid = await releaseFeederGrid({ center, centerShare: shares.get('control-center')!, key, authority, tariff: o.tariff, feeder: f, from, to, meterClass });
        for (const t of grid.totals) {
          const truth = meters.filter((m) => grid.members.includes(m.meterId)).reduce((s, m) => s + (m.readings.get(t.intervalStart) ?? 0n), 0n);
          if (t.totalWh !== truth) failures.push(`feeder ${f} at ${t.intervalStart}: ${t.totalWh} Wh, expected ${truth}`);
        }
        policyOutcomes.released.grids++;
        policyOutcomes.released.feederTotals += grid.totals.length;
      } catch (e) {
        refusedBy(e); // a feeder of fewer than 5 meters
      }
    }
    phases.feederGrids = { seconds: t() - t0, perSec: feeders.length / (t() - t0) };
    log(`feeders: ${policyOutcomes.released.grids} grids released (${policyOutcomes.released.feederTotals} interval totals), ${feeders.length - policyOutcomes.released.grids} refused`);

    // 8. A curious control center tries the review's attacks (issue 15); the authority must refuse each.
    const first = meters[0]!;
    const evidence = async (id: string, a: number, b: number) => center.evidenceFor(await center.readingsOf(id, a, b));
    const attempts: [string, () => Promise<unknown>][] = [
      // Its own certificate for a meter it controls on a victim's feeder.
      ['sybil meter', async () => authority.register(certifyMeter({ meterId: 'SYBIL-1', publicKey: first.publicKey, keyEpoch: 0, validFrom: installed, feeder: first.feeder, meterClass }, randomScalar(cryptoRandom)))],
      // A period that starts a second before the first day: a standing charge for a day with no reading.
      ['free bill period', async () => authority.billShare({ meterId: first.meterId, from: from - 1, to, tariffVersion: o.tariff.version, records: await evidence(first.meterId, from, to) })],
      // A key the installer never certified for this meter (an epoch it made up): its record is not the meter's.
      [
        'uncertified key epoch',
        async () => {
          const impostor = new Meter({ meterId: first.meterId, signingKey: randomScalar(cryptoRandom), utilityKey: key.publicKey, meterClass, keyEpoch: 1, tariffVersion: o.tariff.version });
          return authority.billShare({ meterId: first.meterId, from, to, tariffVersion: o.tariff.version, records: [impostor.reading(from, 100n).bytes] });
        },
      ],
      // The meter's later days billed again: its readings in two bills (with more than one day).
      ...(o.days > 1
        ? ([['overlapping bill', async () => authority.billShare({ meterId: first.meterId, from: from + 86_400, to, tariffVersion: o.tariff.version, records: await evidence(first.meterId, from + 86_400, to) })]] as [string, () => Promise<unknown>][])
        : []),
      // Feeder totals that do not line up with the bills (a shorter period; with one day, the same grid
      // with one meter's readings held back): Σ bills − Σ price·totals would isolate readings.
      [
        'bills minus feeder totals',
        async () => {
          const feederRecords = await center.evidenceFor(await center.feederReadingsIn(first.feeder, from, to));
          const mine = new Set(await evidence(first.meterId, from, to));
          const grid = o.days > 1 ? { to: from + 86_400, records: feederRecords } : { to, records: feederRecords.filter((r) => !mine.has(r)) };
          return authority.gridShares({ feeder: first.feeder, from, tariffVersion: o.tariff.version, intervalSeconds: meterClass.intervalSeconds, ...grid });
        },
      ],
      // A tariff that packs one hour far above the rest.
      ['tariff packing', async () => new PrivacyAuthority({ key, share: shares.get('privacy-authority')!, provisioningKeys, tariffs: [{ ...o.tariff, version: o.tariff.version + 1, bands: [{ name: 'flat', fromHour: 0, pricePerWh: 1n }, { name: 'packed', fromHour: 5, pricePerWh: 2n ** 18n }, { name: 'flat', fromHour: 6, pricePerWh: 1n }] }], policy, meterClasses: [meterClass] })],
    ];
    const attackRules: Record<string, string> = {};
    for (const [name, run] of attempts) {
      try {
        await run();
        failures.push(`the authority released "${name}"`);
        attackRules[name] = 'RELEASED';
      } catch (e) {
        attackRules[name] = refusedBy(e);
      }
    }
    log(`curious center: ${Object.entries(attackRules).map(([n, r]) => `${n} → ${r === 'RELEASED' ? 'RELEASED' : `refused (${r})`}`).join('; ')}`);

    const summary = {
      ok: failures.length === 0,
      backend: backendName(),
      meters: o.meters,
      days: o.days,
      mode: o.mode,
      readings: totalReadings,
      records: { honest: honest.length, accepted, abnormal, invalid, rejectedBy: reasons, attacks: attacks.length, resubmissions: repeated, gaps },
      abnormalReadings,
      bills: { issued: meters.length, matchingTruth: meters.length - wrongBills, customerVerified: meters.length - failedChecks, inflatedBillCaught: caught },
      energyCharges: formatAmount(o.tariff, energyTotal) + ' ' + o.tariff.currency,
      policy: { ...policyOutcomes, attacks: attackRules },
      phases,
      failures,
    };
    log('');
    for (const [name, p] of Object.entries(phases)) {
      const rate = p.readingsPerSec !== undefined ? `${p.readingsPerSec.toFixed(0)} readings/s` : p.perSec !== undefined ? `${p.perSec.toFixed(1)}/s` : '';
      log(`  ${name.padEnd(16)} ${p.seconds.toFixed(2).padStart(8)} s  ${rate}`);
    }
    log(failures.length === 0 ? 'demo: every check passed' : `demo FAILED: ${failures.join('; ')}`);
    return { ok: failures.length === 0, summary };
  } finally {
    await pool.close();
  }
}

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism());
}
