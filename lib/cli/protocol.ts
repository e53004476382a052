/**
 * CLI commands that run the protocol across processes with files:
 *   keys dkg · keys provisioning · meter keygen · meter certify · meter seal ·
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
import { bytesToHex, encodePoints, hexToBytes } from '../crypto/codec.js';
import { randomScalar } from '../crypto/random.js';
import { schnorrPublicKey } from '../crypto/schnorr.js';
import { distributedKeyGeneration } from '../crypto/threshold.js';
import { PrivacyAuthority } from '../protocol/authority.js';
import { issueBill, type Bill } from '../protocol/billing.js';
import { certifyMeter, checkCertificate, type MeterCertificate } from '../protocol/certificate.js';
import { ControlCenter } from '../protocol/center.js';
import { checkBill } from '../protocol/customer.js';
import {
  billFromJson,
  billToJson,
  keyShareFromJson,
  meterExportToJson,
  openingFromJson,
  openingToJson,
  registrationFromJson,
  sharedKeyFromJson,
  tariffFromJson,
} from '../protocol/json.js';
import { HOUSEHOLD, Meter } from '../protocol/meter.js';
import { recordFromJson, recordToJson } from '../protocol/records.js';
import { DEFAULT_TARIFF, formatAmount, type Tariff } from '../protocol/tariff.js';
import { readProvisioningKey, writeKeyFiles, writeProvisioningKey, writeSecretFile, type ProvisioningKey } from '../server/keys.js';
import { decodeHexPoint } from '../server/wire.js';
import { parseHex, parseInteger, parseSmallInt, UsageError } from './parse.js';

type Options = Record<string, string | boolean | undefined>;

function need(o: Options, name: string, flag: string): string {
  const v = o[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`${flag} is required`);
  return v;
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function readJson(file: string, flag: string): unknown {
  try {
    return JSON.parse(readText(file, flag));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${flag}: ${file} is not valid JSON`);
  }
}

/** JSON lines: one value per non-empty line; errors name the line. */
function readJsonLines<T>(file: string, flag: string, parse: (v: unknown, line: number) => T): T[] {
  return readText(file, flag)
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
  return typeof o.tariff === 'string' ? tariffFromJson(readJson(o.tariff, '--tariff')) : DEFAULT_TARIFF;
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
    return readProvisioningKey(file);
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

export function keysDkgCommand(o: Options): Record<string, unknown> {
  const dir = need(o, 'out', '--out');
  const parties = (typeof o.parties === 'string' ? o.parties : 'control-center,privacy-authority').split(',').map((p) => p.trim());
  const threshold = parseSmallInt(typeof o.threshold === 'string' ? o.threshold : '2', '--threshold', 2, 255);
  const { key, shares } = distributedKeyGeneration(parties, threshold);
  const files = writeKeyFiles(dir, key, shares, { replace: o.force === true });
  return { publicKey: bytesToHex(encodePoints(key.publicKey)), threshold, parties, files };
}

/** A provisioning key pair (BIP340), written to a new file {"secretKey","publicKey"} of mode 0600; prints its public key. */
export function keysProvisioningCommand(o: Options): Record<string, unknown> {
  const out = need(o, 'out', '--out');
  // Never overwrites a key file: that would orphan every certificate the old key made.
  const { publicKey } = writeProvisioningKey(out, randomScalar());
  return { publicKey: bytesToHex(publicKey), out };
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
  appendFileSync(out, records.map((r) => JSON.stringify(recordToJson(r)) + '\n').join(''));
  if (typeof o.export === 'string') appendFileSync(o.export, meter.export().map((x) => JSON.stringify(openingToJson(x)) + '\n').join(''), { mode: 0o600 });
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
  const bundle = { meterId, meterPublicKey: parseHex(need(o, 'meterKey', '--meter-key'), '--meter-key', 32), openings, records: records.map((r) => r.bytes) };
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

export async function centerBillCommand(o: Options): Promise<Record<string, unknown>> {
  const key = sharedKeyFromJson(readJson(need(o, 'key', '--key'), '--key'));
  const centerShare = keyShareFromJson(readJson(need(o, 'centerShare', '--center-share'), '--center-share'));
  const authorityShare = keyShareFromJson(readJson(need(o, 'authorityShare', '--authority-share'), '--authority-share'));
  const tariff = readTariff(o);
  // Both sides' registries come from the same certificates; the authority checks them itself.
  const provisioningKeys = trustedProvisioningKeys(o);
  const certs = readCertificates(need(o, 'certificates', '--certificates'), provisioningKeys);
  const center = new ControlCenter({ utilityKey: key.publicKey, provisioningKeys });
  await center.registerCertificates(certs.map((c) => c.bytes));
  // The authority's side runs here from its own share file; in a deployment it is a separate service.
  const minIntervals = typeof o.minIntervals === 'string' ? parseSmallInt(o.minIntervals, '--min-intervals', 3, 1_000_000) : undefined;
  const authority = new PrivacyAuthority({
    key,
    share: authorityShare,
    provisioningKeys,
    tariffs: [tariff],
    ...(minIntervals ? { policy: { minIntervals } } : {}),
  });
  for (const c of certs) authority.register(c.bytes);
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
  return { ...json, display: `${formatAmount(tariff, bill.total)} ${tariff.currency}`, recordsRejected: rejected };
}

export function customerCheckCommand(o: Options): { result: Record<string, unknown>; ok: boolean } {
  const bill = billFromFile(readJson(need(o, 'bill', '--bill'), '--bill'));
  const key = sharedKeyFromJson(readJson(need(o, 'key', '--key'), '--key'));
  const tariff = readTariff(o);
  const records = readRecords(need(o, 'records', '--records'));
  const openings = readJsonLines(need(o, 'export', '--export'), '--export', (v, n) => openingFromJson(v, `opening on line ${n}`));
  const c = checkBill({
    bill,
    records: records.map((r) => r.bytes),
    openings,
    tariff,
    key,
    meterPublicKey: parseHex(need(o, 'meterKey', '--meter-key'), '--meter-key', 32),
    ...(typeof o.earlierBills === 'string' ? { earlierBills: readJsonLines(o.earlierBills, '--earlier-bills', (v) => billFromFile(v)) } : {}),
  });
  return {
    ok: c.ok,
    result: {
      ok: c.ok,
      billedTotal: c.billedTotal.toString(),
      expectedTotal: c.expectedTotal.toString(),
      display: `${formatAmount(tariff, c.billedTotal)} ${tariff.currency} billed, ${formatAmount(tariff, c.expectedTotal)} ${tariff.currency} expected`,
      problems: c.problems,
      disagreements: c.disagreements.map((d) => ({ ...d, ...(d.reading !== undefined ? { reading: d.reading.toString() } : {}) })),
    },
  };
}
