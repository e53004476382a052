/**
 * CLI commands that run the protocol across processes with files:
 *   meter keygen · meter certify · meter seal ·  (the keys commands: keys.ts)
 *   center verify · center bill · customer check
 * Files are JSON (keys, bills, tariffs) or JSON lines (records, registries,
 * certificates, exports, earlier bills). Each command prints one JSON object;
 * exit 1 when a record or bill does not verify, 2 for bad usage or input
 * (including a refusal by the privacy authority's policy).
 * @module
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { ZkmeterError } from '../errors.js';
import { scalarToBytes } from '../backend/bytes.js';
import { bytesToHex, hexToBytes } from '../crypto/codec.js';
import { randomScalar } from '../crypto/random.js';
import { schnorrPublicKey } from '../crypto/schnorr.js';
import { issueBill, type Bill } from '../protocol/billing.js';
import { certifyMeter, checkCertificate, type MeterCertificate } from '../protocol/certificate.js';
import { ControlCenter } from '../protocol/center.js';
import { checkBillWithExport } from '../protocol/customer.js';
import {
  billFromJson,
  billToJson,
  keyShareFromJson,
  meterExportFromJson,
  meterExportToJson,
  openingFromJson,
  openingToJson,
  registrationFromJson,
  sharedKeyFromJson,
} from '../protocol/json.js';
import { HOUSEHOLD, Meter } from '../protocol/meter.js';
import { recordFromJson, recordToJson } from '../protocol/records.js';
import { DEFAULT_TARIFF, formatAmount, type Tariff } from '../protocol/tariff.js';
import { decodeHexPoint } from '../server/wire.js';
import { AuthorityClient } from '../server/authority-client.js';
import { appendSecretFile, dangerouslyLoadSingleOperatorKeys, readSigningKeyFile, writeSecretFile, type ProvisioningKey, type SingleOperatorKeys } from '../server/keys.js';
import { SINGLE_OPERATOR_WARNING, startInProcessAuthority, type InProcessAuthority } from '../server/single-operator.js';
import { centerAuthorityClient } from './keys.js';
import { parseHex, parseInteger, parseSmallInt, parseXOnlyKeys, readTariffFile, readTextFile, UsageError } from './parse.js';

type Options = Record<string, string | boolean | undefined>;

function need(o: Options, name: string, flag: string): string {
  const v = o[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`${flag} is required`);
  return v;
}

/** A decoder's error about a file, naming the flag and the file. */
function named<T>(flag: string, file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ZkmeterError) throw new UsageError(`${flag}: ${file}: ${e.message}`);
    throw e;
  }
}

function readJson(file: string, flag: string): unknown {
  try {
    return JSON.parse(readTextFile(file, flag));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${flag}: ${file} is not valid JSON`);
  }
}

/** JSON lines: one value per non-empty line; errors name the line. */
function readJsonLines<T>(file: string, flag: string, parse: (v: unknown, line: number) => T): T[] {
  return readTextFile(file, flag)
    .split('\n')
    .map((l, i) => [l.trim(), i + 1] as const)
    .filter(([l]) => l !== '')
    .map(([l, n]) => {
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        throw new UsageError(`${flag}: ${file} line ${n} is not valid JSON`);
      }
      try {
        return parse(v, n);
      } catch (e) {
        if (e instanceof ZkmeterError) throw new UsageError(`${flag}: ${file} line ${n}: ${e.message}`);
        throw e;
      }
    });
}

/** Unix seconds, or an ISO 8601 UTC time such as 2026-11-26T00:00:00Z. */
function parseTime(text: string | undefined, flag: string): number {
  if (typeof text === 'string' && /^[0-9]+$/.test(text)) return Number(parseInteger(text, flag));
  if (typeof text === 'string' && /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?Z)?$/.test(text)) return Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text) / 1000;
  throw new UsageError(`${flag} expected Unix seconds or an ISO 8601 UTC time like 2026-11-26T00:00:00Z, got '${text ?? ''}'`);
}

/** --tariff FILE, or the built-in tariff. */
export function readTariff(o: Options): Tariff {
  return typeof o.tariff === 'string' ? readTariffFile(o.tariff, '--tariff') : DEFAULT_TARIFF;
}

function readRecords(file: string) {
  return readJsonLines(file, '--records', (v) => recordFromJson(v));
}

function readRegistry(file: string) {
  return readJsonLines(file, '--registry', (v, n) => registrationFromJson(v, `meter on line ${n}`));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A provisioning key file (`keys provisioning`, or `provisioning.key.json` in a `serve` key directory). */
function provisioningKeyFile(file: string, flag: string): ProvisioningKey {
  try {
    return readSigningKeyFile(file);
  } catch (e) {
    if (e instanceof ZkmeterError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
}

/** The provisioning keys whose certificates are trusted: --provisioning-key-public HEX[,HEX…] and/or --provisioning-key FILE. */
function trustedProvisioningKeys(o: Options): Uint8Array[] {
  const keys: Uint8Array[] = [];
  if (typeof o.provisioningKeyPublic === 'string') {
    for (const [i, h] of o.provisioningKeyPublic.split(',').entries()) keys.push(parseHex(h.trim(), `--provisioning-key-public item ${i + 1}`, 32));
  }
  if (typeof o.provisioningKey === 'string') keys.push(provisioningKeyFile(o.provisioningKey, '--provisioning-key').publicKey);
  if (keys.length === 0) throw new UsageError('--provisioning-key-public or --provisioning-key is required with --certificates');
  return keys;
}

/** The JSON line `meter certify` writes for a certificate. */
function certificateLine(c: MeterCertificate): { certificate: string; meterId: string; keyEpoch: number; feeder: string } {
  return { certificate: bytesToHex(c.bytes), meterId: c.meterId, keyEpoch: c.keyEpoch, feeder: c.feeder };
}

/**
 * Certificates (JSON lines of {"certificate", …}), each checked against the trusted
 * provisioning keys; the other fields of a line, when present, must say what the
 * certificate says. Oldest key epoch first, the order they must be registered in.
 */
function readCertificates(file: string, trusted: readonly Uint8Array[]): MeterCertificate[] {
  const certs = readJsonLines(file, '--certificates', (v) => {
    if (!isObject(v) || typeof v.certificate !== 'string') throw new ZkmeterError('INVALID_ARGUMENT', 'expected {"certificate": hex} (from zkmeter meter certify)');
    const c = checkCertificate(hexToBytes(v.certificate, 'certificate'), trusted);
    const line: Record<string, unknown> = certificateLine(c);
    for (const k of Object.keys(v)) {
      if (!(k in line)) throw new ZkmeterError('INVALID_ARGUMENT', `unknown field "${k}"`);
      if (v[k] !== line[k]) throw new ZkmeterError('INVALID_ARGUMENT', `"${k}" is ${JSON.stringify(v[k])}, but the certificate says ${JSON.stringify(line[k])}`);
    }
    return c;
  });
  return certs.sort((a, b) => a.keyEpoch - b.keyEpoch);
}

/** A bill file: a bill's JSON, or what `center bill` prints (its extra fields are not part of the bill). */
function billFromFile(v: unknown): Bill {
  if (isObject(v)) {
    const { display: _display, recordsRejected: _rejected, ...bill } = v;
    return billFromJson(bill);
  }
  return billFromJson(v);
}

function optionalInt(o: Options, name: string, flag: string, fallback: number, max = 2 ** 32 - 1): number {
  const v = o[name];
  return typeof v === 'string' ? parseSmallInt(v, flag, 0, max) : fallback;
}

export function meterKeygenCommand(o: Options): Record<string, unknown> {
  const d = randomScalar();
  return {
    ...(typeof o.meterId === 'string' ? { meterId: o.meterId } : {}),
    signingKey: bytesToHex(scalarToBytes(d)),
    publicKey: bytesToHex(schnorrPublicKey(d)),
  };
}

export function meterSealCommand(o: Options): Record<string, unknown> {
  const readingsText = need(o, 'readings', '--readings');
  const readings = readingsText.split(',').map((r, i) => parseInteger(r.trim(), `--readings item ${i + 1}`));
  const signingKey = BigInt('0x' + bytesToHex(parseHex(need(o, 'signingKey', '--signing-key'), '--signing-key', 32)));
  const meter = new Meter({
    meterId: need(o, 'meterId', '--meter-id'),
    signingKey,
    utilityKey: decodeHexPoint(need(o, 'utilityKey', '--utility-key'), '--utility-key'),
    sequence: typeof o.sequence === 'string' ? parseSmallInt(o.sequence, '--sequence', 0, Number.MAX_SAFE_INTEGER) : 0,
    keyEpoch: optionalInt(o, 'keyEpoch', '--key-epoch', 0),
    tariffVersion: optionalInt(o, 'tariffVersion', '--tariff-version', DEFAULT_TARIFF.version),
  });
  const start = parseTime(need(o, 'start', '--start'), '--start');
  const records = o.daily === true ? [meter.daily(start, readings)] : readings.map((wh, i) => meter.reading(start + i * meter.meterClass.intervalSeconds, wh));
  const out = need(o, 'out', '--out');
  // The openings first: a refused export file must not leave records whose blindings nobody kept.
  if (typeof o.export === 'string') appendSecretFile(o.export, meter.export().map((x) => JSON.stringify(openingToJson(x)) + '\n').join(''));
  appendFileSync(out, records.map((r) => JSON.stringify(recordToJson(r)) + '\n').join(''));
  return { meterId: meter.meterId, records: records.length, readings: readings.length, abnormal: records.filter((r) => r.header.abnormal).length, out };
}

/** A household meter's certificate, signed with a provisioning key: printed, and appended as a JSON line to --out. */
export function meterCertifyCommand(o: Options): Record<string, unknown> {
  const { secretKey } = provisioningKeyFile(need(o, 'provisioningKey', '--provisioning-key'), '--provisioning-key');
  const bytes = certifyMeter(
    {
      meterId: need(o, 'meterId', '--meter-id'),
      publicKey: parseHex(need(o, 'meterKey', '--meter-key'), '--meter-key', 32),
      keyEpoch: optionalInt(o, 'keyEpoch', '--key-epoch', 0),
      // The key signs readings from when it was certified, unless told otherwise.
      validFrom: typeof o.validFrom === 'string' ? parseTime(o.validFrom, '--valid-from') : Math.floor(Date.now() / 1000),
      feeder: need(o, 'feeder', '--feeder'),
      meterClass: HOUSEHOLD,
    },
    secretKey,
  );
  const line = certificateLine(checkCertificate(bytes, [schnorrPublicKey(secretKey)]));
  if (typeof o.out === 'string') {
    appendFileSync(o.out, JSON.stringify(line) + '\n');
    return { ...line, out: o.out };
  }
  return line;
}

export function meterExportCommand(o: Options): Record<string, unknown> {
  const meterId = need(o, 'meterId', '--meter-id');
  const records = readRecords(need(o, 'records', '--records')).filter((r) => r.header.meterId === meterId);
  const openings = readJsonLines(need(o, 'export', '--export'), '--export', (v, n) => openingFromJson(v, `opening on line ${n}`));
  const out = need(o, 'out', '--out');
  // What the meter was provisioned with, and the customer's check trusts: the utility's shared key and the authority's identity key.
  const keyFile = need(o, 'key', '--key');
  const sharedKey = named('--key', keyFile, () => sharedKeyFromJson(readJson(keyFile, '--key')));
  const authorityKey = parseXOnlyKeys(need(o, 'authorityKey', '--authority-key'), '--authority-key')[0]!;
  const bundle = { meterId, meterPublicKey: parseHex(need(o, 'meterKey', '--meter-key'), '--meter-key', 32), openings, records: records.map((r) => r.bytes), sharedKey, authorityKey };
  writeSecretFile(out, JSON.stringify(meterExportToJson(bundle)) + '\n'); // a customer's readings and blindings
  return { meterId, records: records.length, readings: openings.length, out };
}

async function centerFrom(o: Options): Promise<ControlCenter> {
  const keyFile = typeof o.key === 'string' ? o.key : undefined;
  const utilityKey =
    typeof o.utilityKey === 'string'
      ? decodeHexPoint(o.utilityKey, '--utility-key')
      : keyFile !== undefined
        ? sharedKeyFromJson(readJson(keyFile, '--key')).publicKey
        : (() => {
            throw new UsageError('--utility-key or --key is required');
          })();
  if (typeof o.certificates === 'string' && typeof o.registry === 'string') throw new UsageError('give --certificates or --registry, not both');
  if (typeof o.certificates === 'string') {
    const provisioningKeys = trustedProvisioningKeys(o);
    const center = new ControlCenter({ utilityKey, provisioningKeys });
    await center.registerCertificates(readCertificates(o.certificates, provisioningKeys).map((c) => c.bytes));
    return center;
  }
  if (typeof o.registry !== 'string') throw new UsageError('--certificates or --registry is required');
  const center = new ControlCenter({ utilityKey });
  for (const m of readRegistry(o.registry)) await center.register(m);
  return center;
}

export async function centerVerifyCommand(o: Options): Promise<{ result: Record<string, unknown>; allValid: boolean }> {
  const center = await centerFrom(o);
  const records = readRecords(need(o, 'records', '--records'));
  const outcomes = await center.submit(records.map((r) => r.bytes));
  const reasons: Record<string, number> = {};
  let accepted = 0;
  let abnormal = 0;
  for (const x of outcomes) {
    if (x.status === 'invalid') reasons[x.reason] = (reasons[x.reason] ?? 0) + 1;
    else if (x.status === 'accepted') accepted++;
    else abnormal++;
  }
  const invalid = outcomes.length - accepted - abnormal;
  return {
    result: { records: outcomes.length, accepted, abnormal, invalid, reasons, outcomes },
    allValid: invalid === 0,
  };
}

/**
 * `center bill`: the center's side of a bill from files, its decryption share, with
 * the privacy authority's share from its service (`--authority URL --keys DIR`: the
 * center's key directory, whose identity key signs the requests), or, on one machine
 * only, from a second share in this process (`--single-operator`, said so on stderr with the bill).
 */
export async function centerBillCommand(o: Options): Promise<Record<string, unknown>> {
  const single = o.singleOperator === true;
  const url = typeof o.authority === 'string' ? o.authority : undefined;
  if (single && url !== undefined) throw new UsageError('give --authority URL or --single-operator, not both');
  if (!single && url === undefined) {
    throw new UsageError("center bill needs the privacy authority: --authority URL --keys DIR (its service, zkmeter authority serve; DIR the center's key directory), or --single-operator with both shares on one machine");
  }
  const tariff = readTariff(o);
  const minIntervals = typeof o.minIntervals === 'string' ? parseSmallInt(o.minIntervals, '--min-intervals', 3, 1_000_000) : undefined;
  let key: ReturnType<typeof sharedKeyFromJson>;
  let centerShare: ReturnType<typeof keyShareFromJson>;
  let client: AuthorityClient | undefined;
  let single_: SingleOperatorKeys | undefined;
  const dir = need(o, 'keys', '--keys');
  if (single) {
    // One machine: both shares here, from a single-operator key directory (serve --single-operator --init),
    // whose authority store remembers every release, as a separate authority would.
    single_ = dangerouslyLoadSingleOperatorKeys(dir);
    ({ key, centerShare } = single_);
  } else {
    // The authority's share never comes here: only the center's, and the identity key its requests are signed with.
    if (o.minIntervals !== undefined) throw new UsageError("--min-intervals does not go with --authority: the policy is the authority's own");
    const ca = typeof o.authorityCa === 'string' ? readTextFile(o.authorityCa, '--authority-ca') : undefined;
    ({ key, centerShare, client } = centerAuthorityClient(dir, url!, ca));
  }
  let inProcess: InProcessAuthority | undefined;
  try {
    // Both sides' registries come from the same certificates; the authority checks them itself.
    const provisioningKeys = trustedProvisioningKeys(o);
    const certs = readCertificates(need(o, 'certificates', '--certificates'), provisioningKeys);
    const center = new ControlCenter({ utilityKey: key.publicKey, provisioningKeys });
    await center.registerCertificates(certs.map((c) => c.bytes));
    if (single_ !== undefined) {
      inProcess = await startInProcessAuthority(dir, single_, { provisioningKeys, tariffs: [tariff], ...(minIntervals ? { policy: { minIntervals } } : {}) });
      client = inProcess.client;
    }
    const authority = client!;
    // All or nothing, and a certificate the authority already holds changes nothing there.
    await authority.registerCertificates(certs.map((c) => c.bytes));
    const records = readRecords(need(o, 'records', '--records'));
    const rejected = (await center.submit(records.map((r) => r.bytes))).filter((x) => x.status === 'invalid').length;
    const bill = await issueBill({
      center,
      centerShare,
      key,
      authority,
      tariff,
      meterId: need(o, 'meter', '--meter'),
      from: parseTime(need(o, 'from', '--from'), '--from'),
      to: parseTime(need(o, 'to', '--to'), '--to'),
    });
    const json = billToJson(bill);
    if (typeof o.out === 'string') writeFileSync(o.out, JSON.stringify(json, null, 2) + '\n');
    // Said with the bill it decrypted (stdout stays the bill, which check-bill reads back; a refusal stays one error line).
    if (single) process.stderr.write(`zkmeter center bill: WARNING: ${SINGLE_OPERATOR_WARNING}\n`);
    return { ...json, display: `${formatAmount(tariff, bill.total)} ${tariff.currency}`, recordsRejected: rejected };
  } finally {
    if (inProcess !== undefined) await inProcess.close();
    else client?.close();
  }
}

export function customerCheckCommand(o: Options): { result: Record<string, unknown>; ok: boolean } {
  const bill = billFromFile(readJson(need(o, 'bill', '--bill'), '--bill'));
  const exportFile = need(o, 'export', '--export');
  const meterExport = named('--export', exportFile, () => meterExportFromJson(readJson(exportFile, '--export')));
  const c = checkBillWithExport({
    bill,
    meterExport,
    ...(typeof o.earlierBills === 'string' ? { earlierBills: readJsonLines(o.earlierBills, '--earlier-bills', (v) => billFromFile(v)) } : {}),
  });
  const amount = (v: bigint) => (c.tariff !== undefined ? `${formatAmount(c.tariff, v)} ${c.tariff.currency}` : `${v} minor units`);
  const display = c.tariff !== undefined ? `${amount(c.billedTotal)} billed, ${amount(c.expectedTotal)} expected` : `${amount(c.billedTotal)} billed, not checkable: ${c.problems[0]}`;
  return {
    ok: c.ok,
    result: {
      ok: c.ok,
      billedTotal: c.billedTotal.toString(),
      expectedTotal: c.expectedTotal.toString(),
      display,
      problems: c.problems,
      disagreements: c.disagreements.map((d) => ({ ...d, ...(d.reading !== undefined ? { reading: d.reading.toString() } : {}) })),
    },
  };
}
