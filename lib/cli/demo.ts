/**
 * `zkmeter demo` (what `npm start` runs): a complete billing cycle with no
 * setup. Distributed key generation between the control center and the
 * privacy authority; N meters with realistic household load over D days,
 * including abnormal spikes; meters sealing signed records in worker threads;
 * forged, tampered and duplicate records mixed in; batch verification on all
 * cores and classification; threshold billing under the tariff; every
 * customer checking their bill; feeder aggregates. It ends with a summary and
 * exits non-zero if any bill differs from the plaintext truth, any tampered
 * record was accepted, or any honest record was rejected.
 * @module
 */
import os from 'node:os';
import { bytesToHex, encodePoints } from '../crypto/codec.js';
import { cryptoRandom, randomScalar } from '../crypto/random.js';
import { signSchnorr } from '../crypto/schnorr.js';
import { distributedKeyGeneration } from '../crypto/threshold.js';
import { backendName } from '../backend/index.js';
import { PrivacyAuthority } from '../protocol/authority.js';
import { issueBill, releaseFeederAggregate, type Bill } from '../protocol/billing.js';
import { ControlCenter, type RecordOutcome } from '../protocol/center.js';
import { checkBill } from '../protocol/customer.js';
import { HOUSEHOLD, type MeterClass } from '../protocol/meter.js';
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
  const center = new ControlCenter({ utilityKey: key.publicKey, tariffVersions: [o.tariff.version] });
  const authority = new PrivacyAuthority({ key, share: shares.get('privacy-authority')!, tariffs: [o.tariff], policy: { minIntervals: Math.min(48, perDay), minMeters: 5 } });
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
    await center.register({ meterId: m.meterId, publicKey: m.publicKey, feeder: m.feeder, meterClass });
    authority.register(m.meterId, m.publicKey, m.feeder, meterClass);
    meters.push(m);
  }
  phases.keys = { seconds: t() - t0 };
  log(`keys: utility key ${utilityKeyHex.slice(0, 16)}… shared 2-of-2 (control center, privacy authority); ${o.meters} meter keys`);

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

    // 7. Feeder aggregates at 18:00 on the first day, released only for feeders of >= 5 meters.
    const at = o.start + 18 * 3600;
    const feeders = [...new Set(meters.map((m) => m.feeder))];
    let released = 0;
    let refused = 0;
    for (const f of feeders) {
      try {
        const agg = await releaseFeederAggregate({ center, centerShare: shares.get('control-center')!, key, authority, feeder: f, intervalStart: at });
        const truth = meters.filter((m) => m.feeder === f).reduce((s, m) => s + (m.readings.get(at) ?? 0n), 0n);
        if (agg.totalWh !== truth) failures.push(`feeder ${f}: ${agg.totalWh} Wh, expected ${truth}`);
        released++;
      } catch (e) {
        if ((e as { code?: string }).code !== 'POLICY_REFUSED') throw e;
        refused++;
      }
    }
    log(`feeders: ${released} aggregates released at 18:00, ${refused} refused (fewer than 5 meters)`);

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
      feeders: { released, refused },
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
