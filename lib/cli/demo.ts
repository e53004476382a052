/**
 * `zkmeter demo` (what `npm start` runs): a complete billing cycle with no
 * setup, deployed as it would be, on loopback. The privacy authority and the
 * control center are two processes with two key directories and two stores:
 * they make their identity keys, run the key ceremony between them over HTTP
 * (neither ever holds the other's share), and start their services
 * (`zkmeter authority serve`, `zkmeter serve --authority`). Then N meters with
 * realistic household load over D days, including abnormal spikes, certified
 * by the installer's provisioning key, seal signed records (in worker threads)
 * and submit them over HTTP, with forged, tampered and duplicate records mixed
 * in; the center verifies in batches on its workers. Bills go through the
 * authority, which re-verifies the records and applies its policy; every
 * customer checks their bill from their meter's export alone (the tariff
 * signed by the authority); feeder grids are released; a curious control
 * center, with its own identity key, asks the authority directly for what
 * the review's attacks need, and each is refused by a named rule. The summary
 * shows the authority's public log of releases and the refusals; the demo
 * exits non-zero if any bill or feeder total differs from the plaintext truth,
 * any tampered record was accepted, any honest record was rejected, or any
 * attack was released.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backendName } from '../backend/index.js';
import { bytesToHex, encodePoints } from '../crypto/codec.js';
import { cryptoRandom, randomScalar } from '../crypto/random.js';
import { schnorrPublicKey, signSchnorr } from '../crypto/schnorr.js';
import { ZkmeterError } from '../errors.js';
import { certifyMeter } from '../protocol/certificate.js';
import { checkBillWithExport } from '../protocol/customer.js';
import { billFromJson, sharedKeyFromJson, tariffToJson } from '../protocol/json.js';
import { HOUSEHOLD, Meter, type MeterClass } from '../protocol/meter.js';
import { signedMessage } from '../protocol/records.js';
import { householdDay, seededUniform } from '../protocol/simulation.js';
import { formatAmount, priceAt, type Tariff } from '../protocol/tariff.js';
import { AuthorityClient } from '../server/authority-client.js';
import { ServiceClient } from '../server/client.js';
import { AUTHORITY_PARTY, CENTER_PARTY, loadPartyKeys, writeSigningKeyFile } from '../server/keys.js';
import { WorkerPool } from '../server/pool.js';
import { spawnCli, type ServeProcess } from '../server/spawn.js';
import type { WorkerResult, WorkerTask } from '../server/worker.js';
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
const TOKEN = 'demo-admin-token';

export async function runDemo(o: DemoOptions, log: (line: string) => void): Promise<{ ok: boolean; summary: Record<string, unknown> }> {
  const meterClass: MeterClass = { ...HOUSEHOLD, bits: o.bits, intervalSeconds: o.intervalSeconds };
  const perDay = Math.round(86_400 / o.intervalSeconds);
  const phases: Record<string, { seconds: number; readingsPerSec?: number; perSec?: number }> = {};
  const failures: string[] = [];
  const t = () => performance.now() / 1000;
  log(`zkmeter demo: ${o.meters} meters × ${o.days} day(s) of ${o.intervalSeconds / 60}-minute readings, ${o.mode} records, backend ${backendName()}, ${o.workers} worker(s)`);

  const work = mkdtempSync(path.join(os.tmpdir(), 'zkmeter-demo-'));
  const dir = { authority: path.join(work, 'authority'), center: path.join(work, 'center'), installer: path.join(work, 'installer') };
  const services: ServeProcess[] = [];
  const pool = new WorkerPool<WorkerTask, WorkerResult>(new URL('../server/worker.js', import.meta.url), o.workers);
  const env = { ZKMETER_BACKEND: backendName() };
  try {
    // 1. Two parties, two processes: identity keys, then the key ceremony between them over HTTP.
    let t0 = t();
    const identity = async (d: string) => String((await runCli(['keys', 'identity', '--out', d], env)).publicKey);
    const authorityId = await identity(dir.authority);
    const centerId = await identity(dir.center);
    const listener = await spawnCli(['keys', 'dkg', '--party', AUTHORITY_PARTY, '--out', dir.authority, '--peer-key', centerId, '--listen', '127.0.0.1:0', '--timeout', '120'], env);
    const ceremony = await runCli(['keys', 'dkg', '--party', CENTER_PARTY, '--out', dir.center, '--peer-key', authorityId, '--peer', listener.url], env);
    if ((await listener.exited) !== 0) throw new ZkmeterError('INTERNAL', `the authority's side of the key ceremony failed: ${listener.stderr()}`);
    const key = sharedKeyFromJson(JSON.parse(readFileSync(path.join(dir.center, 'shared-key.json'), 'utf8')));
    const centerKeys = loadPartyKeys(dir.center, CENTER_PARTY);
    const utilityKeyHex = bytesToHex(encodePoints(key.publicKey));
    // The installer's provisioning key certifies every meter (a year before the simulated days):
    // the authority trusts its certificates, never the center's word, for who is on which feeder.
    const provisioning = writeSigningKeyFile(path.join(dir.installer, 'provisioning.key.json'), randomScalar(cryptoRandom));
    const installed = o.start - 365 * 86_400;
    const tariffFile = path.join(work, 'tariff.json');
    writeFileSync(tariffFile, JSON.stringify(tariffToJson(o.tariff)));
    phases.keyCeremony = { seconds: t() - t0 };
    log(`key ceremony over HTTP: utility key ${utilityKeyHex.slice(0, 16)}… (ceremony ${String(ceremony.ceremony).slice(0, 8)}); each party's directory holds only its own share`);

    // 2. The two services, each with its own store; bills of one day need every price band to hold
    //    three hours of readings (the default tariff's peak).
    t0 = t();
    const provisioningHex = bytesToHex(provisioning.publicKey);
    const authority = await spawnCli(
      [
        'authority', 'serve', '--init', '--keys', dir.authority, '--db', path.join(dir.authority, 'authority.db'), '--provisioning-keys', provisioningHex, '--tariff', tariffFile,
        '--min-intervals', String(Math.min(48, perDay)), '--min-intervals-per-price', String((3 * 3600) / o.intervalSeconds), '--min-meters', '5', '--port', '0',
      ],
      env,
    );
    services.push(authority);
    const center = await spawnCli(
      ['serve', '--authority', authority.url, '--keys', dir.center, '--db', path.join(dir.center, 'center.db'), '--provisioning-keys', provisioningHex, '--tariff', tariffFile, '--workers', String(o.workers), '--port', '0'],
      { ...env, ZKMETER_ADMIN_TOKEN: TOKEN },
    );
    services.push(center);
    phases.services = { seconds: t() - t0 };
    log(`services: privacy authority at ${authority.url} (its own share and store), control center at ${center.url} (its own share and store)`);
    const service = new ServiceClient(center.url, { token: TOKEN });

    // 3. Meters: keys, certificates (registered at the center, which forwards them to the authority).
    const random = seededUniform(o.seed);
    const meters: SimMeter[] = [];
    const certificates: Uint8Array[] = [];
    for (let i = 0; i < o.meters; i++) {
      const signingKey = randomScalar(cryptoRandom);
      const m: SimMeter = { meterId: `MTR-${String(i + 1).padStart(5, '0')}`, feeder: `FDR-${Math.floor(i / FEEDER_SIZE) + 1}`, signingKey, publicKey: schnorrPublicKey(signingKey), readings: new Map(), openings: [], records: [] };
      certificates.push(certifyMeter({ meterId: m.meterId, publicKey: m.publicKey, keyEpoch: 0, validFrom: installed, feeder: m.feeder, meterClass }, provisioning.secretKey));
      meters.push(m);
    }
    for (let i = 0; i < certificates.length; i += 1000) await service.registerCertificates(certificates.slice(i, i + 1000));

    // 4. Meters seal their readings (in worker threads, as many meters do at once).
    t0 = t();
    let abnormalReadings = 0;
    let abnormalRecords = 0;
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
        const task: WorkerTask = { type: 'seal', mode: o.mode, meterId: m.meterId, signingKey: m.signingKey, utilityKey: utilityKeyHex, meterClass, tariffVersion: o.tariff.version, sequence: d * (o.mode === 'daily' ? 1 : perDay), dayStart, readings };
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

    // 5. Attacks mixed in: tampered proofs, moved intervals, forged signers, duplicates.
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
      const resign = (k: bigint) => b.set(signSchnorr([signedMessage(unsigned)], k), b.length - 64);
      if (kind === 'interval moved') new DataView(b.buffer).setBigUint64(9 + idLen, BigInt(o.start + 86_400 * o.days + o.intervalSeconds * i));
      else if (kind === 'signed by another key') resign(randomScalar(cryptoRandom));
      else {
        // A bit inside the range proof's final scalars, or the proof of equivalence.
        b[b.length - 64 - 1 - Math.floor(random() * 190)]! ^= 1 << Math.floor(random() * 8);
        if (kind.startsWith('lying meter')) resign(m.signingKey);
      }
      attacks.push({ bytes: b, kind });
    }

    // 6. Meters submit over HTTP; the center verifies in micro-batches on its workers.
    t0 = t();
    const submissions = [...honest.map((bytes) => ({ bytes, honest: true })), ...attacks.map((a) => ({ bytes: a.bytes, honest: false })), ...honest.slice(0, 3).map((bytes) => ({ bytes, honest: true }))];
    const perRecord = o.mode === 'daily' ? perDay : 1;
    const batchSize = Math.max(1, Math.round(1000 / perRecord));
    const verifying = progress('meters submitting, center verifying', submissions.length * perRecord, 'readings');
    const outcomes: { honest: boolean; status: string; repeated: boolean; reason?: string }[] = [];
    // In order, a batch at a time, so the first record of an interval is the one stored.
    for (let i = 0; i < submissions.length; i += batchSize) {
      const batch = submissions.slice(i, i + batchSize);
      const r = await service.submit(batch.map((s) => s.bytes));
      r.results.forEach((x, k) => outcomes.push({ honest: batch[k]!.honest, status: x.status, repeated: x.repeated === true, ...(x.reason !== undefined ? { reason: x.reason } : {}) }));
      verifying.tick(batch.length * perRecord);
    }
    verifying.done();
    const verifySecs = t() - t0;
    phases.submitAndVerify = { seconds: verifySecs, readingsPerSec: (submissions.length * perRecord) / verifySecs };
    const count = (f: (x: (typeof outcomes)[number]) => boolean) => outcomes.filter(f).length;
    const accepted = count((x) => x.status === 'accepted' && !x.repeated);
    const abnormal = count((x) => x.status === 'abnormal' && !x.repeated);
    const repeated = count((x) => x.status !== 'invalid' && x.repeated);
    const honestRejected = count((x) => x.honest && x.status === 'invalid');
    const tamperedAccepted = count((x) => !x.honest && x.status !== 'invalid');
    const invalid = count((x) => x.status === 'invalid');
    const reasons: Record<string, number> = {};
    for (const x of outcomes) if (x.status === 'invalid') reasons[x.reason!] = (reasons[x.reason!] ?? 0) + 1;
    if (honestRejected > 0) failures.push(`${honestRejected} honest records were rejected`);
    if (tamperedAccepted > 0) failures.push(`${tamperedAccepted} tampered records were accepted`);
    if (abnormal !== abnormalRecords) failures.push(`${abnormal} abnormal records, expected ${abnormalRecords}`);
    if (invalid !== attacks.length) failures.push(`${invalid} invalid records, expected ${attacks.length}`);
    log(
      `classified: ${accepted} accepted, ${abnormal} abnormal (${abnormalReadings} abnormal readings, in the inspection queue and billed), ` +
        `${invalid} invalid (${Object.entries(reasons).map(([r, n]) => `${n} ${r}`).join(', ')}; ${attacks.length} attacks), ${repeated} resubmissions recognised`,
    );

    // 7. Bills, through the authority; checked against the plaintext, and by every customer from their meter's export.
    t0 = t();
    const from = o.start;
    const to = o.start + o.days * 86_400;
    const billing = progress('billing through the authority', meters.length, 'bills');
    let wrongBills = 0;
    let failedChecks = 0;
    let energyTotal = 0n;
    let inflatedCaught = false;
    const authorityKey = centerKeys.peers.get(AUTHORITY_PARTY)!;
    const exportOf = (m: SimMeter) => ({ meterId: m.meterId, meterPublicKey: m.publicKey, openings: m.openings, records: m.records, sharedKey: key, authorityKey });
    for (const m of meters) {
      const { display: _display, ...json } = await service.bill(m.meterId, from, to);
      const bill = billFromJson(json);
      let truth = 0n;
      for (const [ts, wh] of m.readings) truth += wh * priceAt(o.tariff, ts);
      if (bill.energyCharge !== truth) wrongBills++;
      energyTotal += bill.energyCharge;
      if (!checkBillWithExport({ bill, meterExport: exportOf(m) }).ok) failedChecks++;
      if (m === meters[0]) {
        const inflated = { ...bill, energyCharge: bill.energyCharge + 1000n, total: bill.total + 1000n };
        inflatedCaught = !checkBillWithExport({ bill: inflated, meterExport: exportOf(m) }).ok;
      }
      billing.tick();
    }
    billing.done();
    phases.billingAndChecks = { seconds: t() - t0, perSec: meters.length / (t() - t0) };
    if (wrongBills > 0) failures.push(`${wrongBills} bills differ from the plaintext truth`);
    if (failedChecks > 0) failures.push(`${failedChecks} customers found their correct bill wrong`);
    if (!inflatedCaught) failures.push('an inflated bill passed the customer check');
    log(`bills: ${meters.length} issued through the authority, ${meters.length - wrongBills} equal to the plaintext truth; ${meters.length - failedChecks} verified by their customers from their meter's export; an inflated bill was ${inflatedCaught ? 'caught' : 'NOT caught'}`);

    // 8. Feeder grids: every interval's total of each feeder over the billed days.
    const refused: Record<string, number> = {};
    const ruleOf = (e: unknown): string => {
      const m = /refused by rule '([a-z-]+)'/.exec((e as Error).message);
      if (m !== null) return m[1]!;
      if (e instanceof ZkmeterError && e.code === 'AUTHORITY_UNAVAILABLE' && /signed request/.test(e.message)) return 'signature';
      throw e;
    };
    const feeders = [...new Set(meters.map((m) => m.feeder))];
    t0 = t();
    let grids = 0;
    let feederTotals = 0;
    for (const f of feeders) {
      try {
        const grid = await service.grid(f, from, to);
        for (const tot of grid.totals) {
          const truth = meters.filter((m) => grid.members.includes(m.meterId)).reduce((s, m) => s + (m.readings.get(tot.intervalStart) ?? 0n), 0n);
          if (BigInt(tot.totalWh) !== truth) failures.push(`feeder ${f} at ${tot.intervalStart}: ${tot.totalWh} Wh, expected ${truth}`);
        }
        grids++;
        feederTotals += grid.totals.length;
      } catch (e) {
        const rule = ruleOf(e); // a feeder of fewer than 5 meters
        refused[rule] = (refused[rule] ?? 0) + 1;
      }
    }
    phases.feederGrids = { seconds: t() - t0, perSec: feeders.length / (t() - t0) };
    log(`feeders: ${grids} grids released (${feederTotals} interval totals), ${feeders.length - grids} refused`);

    // 9. A curious control center asks the authority directly, with its own identity key, for what the
    //    review's attacks need (issue 15); the authority must refuse each. And a stranger's key.
    const curious = new AuthorityClient({ url: authority.url, key, identity: centerKeys.identity!, authorityKey });
    const first = meters[0]!;
    const recordsIn = (m: SimMeter, a: number, b: number) => m.records.filter((_, k) => {
      const day = o.mode === 'daily' ? o.start + k * 86_400 : o.start + k * o.intervalSeconds;
      return day >= a && day < b;
    });
    const attempts: [string, () => Promise<unknown>][] = [
      // Its own certificate for a meter it controls on a victim's feeder.
      ['sybil meter', () => curious.registerCertificates([certifyMeter({ meterId: 'SYBIL-1', publicKey: first.publicKey, keyEpoch: 0, validFrom: installed, feeder: first.feeder, meterClass }, randomScalar(cryptoRandom))])],
      // A period that starts a second before the first day: a standing charge for a day with no reading.
      ['free bill period', () => curious.billShare({ meterId: first.meterId, from: from - 1, to, tariffVersion: o.tariff.version, records: first.records })],
      // A key the installer never certified for this meter (an epoch it made up): its record is not the meter's.
      [
        'uncertified key epoch',
        () => {
          const impostor = new Meter({ meterId: first.meterId, signingKey: randomScalar(cryptoRandom), utilityKey: key.publicKey, meterClass, keyEpoch: 1, tariffVersion: o.tariff.version });
          return curious.billShare({ meterId: first.meterId, from, to, tariffVersion: o.tariff.version, records: [impostor.reading(from, 100n).bytes] });
        },
      ],
      // The meter's days billed again over a shifted, overlapping period.
      ['overlapping bill', () => curious.billShare({ meterId: first.meterId, from, to: to + 86_400, tariffVersion: o.tariff.version, records: first.records })],
      // Feeder totals that do not line up with the bills (the same grid with one meter's readings held
      // back): Σ bills − Σ price·totals would isolate readings.
      [
        'bills minus feeder totals',
        () => {
          const others = meters.filter((m) => m.feeder === first.feeder && m !== first).flatMap((m) => recordsIn(m, from, to));
          return curious.gridShares({ feeder: first.feeder, from, to, tariffVersion: o.tariff.version, intervalSeconds: meterClass.intervalSeconds, records: others });
        },
      ],
      // A tariff of its own making: the authority bills only under its own tariffs.
      ['tariff of its own', () => curious.billShare({ meterId: first.meterId, from, to, tariffVersion: o.tariff.version + 1, records: first.records })],
      // Someone else's key, or the center's key stolen by nobody: a request signed by any other key.
      [
        'request signed by another key',
        () => {
          const secretKey = randomScalar(cryptoRandom);
          return new AuthorityClient({ url: authority.url, key, identity: { secretKey, publicKey: schnorrPublicKey(secretKey) }, authorityKey }).billShare({ meterId: first.meterId, from, to, tariffVersion: o.tariff.version, records: first.records });
        },
      ],
    ];
    const attackRules: Record<string, string> = {};
    for (const [name, run] of attempts) {
      try {
        await run();
        failures.push(`the authority released "${name}"`);
        attackRules[name] = 'RELEASED';
      } catch (e) {
        attackRules[name] = ruleOf(e);
        refused[attackRules[name]] = (refused[attackRules[name]] ?? 0) + 1;
      }
    }
    curious.close();
    log(`curious center: ${Object.entries(attackRules).map(([n, r]) => `${n} → ${r === 'RELEASED' ? 'RELEASED' : `refused (${r})`}`).join('; ')}`);

    // 10. The authority's public log: what it released, for whom and when.
    const log0 = (await (await fetch(`${authority.url}/v1/releases?limit=1000`)).json()) as { entries: { entry: { kind: string } }[]; head: { seq: number; chain: string } };
    const byKind: Record<string, number> = {};
    for (const e of log0.entries) byKind[e.entry.kind] = (byKind[e.entry.kind] ?? 0) + 1;
    if ((byKind.bill ?? 0) !== meters.length) failures.push(`the authority's log holds ${byKind.bill ?? 0} bills, ${meters.length} were issued`);
    log(`authority's public log: ${Object.entries(byKind).map(([k, n]) => `${n} ${k}`).join(', ')}; head ${log0.head.chain.slice(0, 16)}… at ${log0.head.seq}`);

    const summary = {
      ok: failures.length === 0,
      backend: backendName(),
      meters: o.meters,
      days: o.days,
      mode: o.mode,
      readings: totalReadings,
      deployment: { authority: authority.url, center: center.url, keyCeremony: 'over HTTP, each party holding only its own share' },
      records: { honest: honest.length, accepted, abnormal, invalid, rejectedBy: reasons, attacks: attacks.length, resubmissions: repeated },
      abnormalReadings,
      bills: { issued: meters.length, matchingTruth: meters.length - wrongBills, customerVerified: meters.length - failedChecks, inflatedBillCaught: inflatedCaught },
      energyCharges: formatAmount(o.tariff, energyTotal) + ' ' + o.tariff.currency,
      policy: { released: { bills: byKind.bill ?? 0, grids: byKind.grid ?? 0, feederTotals }, refused, attacks: attackRules, log: { entries: log0.head.seq, head: log0.head.chain } },
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
    for (const s of services.reverse()) await s.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs a one-shot `zkmeter ARGS…`: its JSON output, or a ZkmeterError with its error line. */
async function runCli(args: readonly string[], env: Record<string, string>): Promise<Record<string, unknown>> {
  const p = await spawnCli(args, env, 60_000, { waitForLine: false });
  const code = await p.exited;
  if (code !== 0) throw new ZkmeterError('INTERNAL', `zkmeter ${args.slice(0, 2).join(' ')} failed (${code}): ${p.stderr().trim()}`);
  return JSON.parse(p.stdout().trim().split('\n').at(-1)!) as Record<string, unknown>;
}

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism());
}
