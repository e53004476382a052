/**
 * The customer's bill-check page in a real browser: Debian's Chromium, driven by
 * playwright-core, headless, against `zkmeter serve --single-operator` (native) on loopback.
 *  - a correct bill verifies (signatures, range proofs, ZKPe and DLEQ, all in the page),
 *    under the tariff the bill carries signed by the privacy authority whose key the meter
 *    export (v2) names, and with the export's shared key: the page fetches nothing from the
 *    service;
 *  - a bill without the signed tariff, signed by another key, or whose tariff was altered
 *    after signing (a dearer price) fails, and so does a bill whose decryption shares were
 *    made under a shared key with a forged verifying share; an export holding such a key,
 *    and a v1 export, are refused with a clear status line;
 *  - a bill with one altered interval is flagged at exactly that interval;
 *  - a day the meter sealed twice (reading records, then a daily record the center refused
 *    as a duplicate) verifies; a record whose range proof is broken (re-signed by its meter)
 *    is named, and its intervals flagged;
 *  - a bill naming an interval past JavaScript's date range (10^15 s) gets a verdict, the
 *    interval shown in Unix seconds, not "something went wrong";
 *  - a record made in the browser (pure-TS backend) is accepted by the native server,
 *    and a record made natively verifies in the browser;
 *  - the form works from the keyboard, its inputs have labels, and the page raises no
 *    errors (nor Content-Security-Policy violations);
 *  - the standalone dist/web/check.html, opened from disk (file://), verifies a correct bill
 *    and flags a tampered one with no CSP violation and no request but for the file itself,
 *    and its CSP refuses a connection the page's code attempts.
 * Screenshots go to test-results/browser/. Runs in the native project only. Without
 * /usr/bin/chromium (.ci/run installs Debian's chromium) it skips and says why.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { getGroup } from '../lib/backend/index.js';
import { scalarToBytes } from '../lib/backend/bytes.js';
import { decodePoint, hexToBytes, bytesToHex } from '../lib/crypto/codec.js';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey, signSchnorr } from '../lib/crypto/schnorr.js';
import { partialDecrypt, type SharedKey } from '../lib/crypto/threshold.js';
import { billContext } from '../lib/protocol/billing.js';
import { billFromJson, billToJson, meterExportToJson, openingToJson, sharedKeyToJson, tariffFromJson } from '../lib/protocol/json.js';
import { Meter, type ReadingOpening } from '../lib/protocol/meter.js';
import { decodeRecord, signedMessage } from '../lib/protocol/records.js';
import { householdDay, seededUniform } from '../lib/protocol/simulation.js';
import { signTariff, verifyTariffSignature } from '../lib/protocol/tariff.js';
import { ServiceClient } from '../dist/lib/server/client.js';
import { AUTHORITY_PARTY, loadProvisioningKey, dangerouslyLoadSingleOperatorKeys } from '../lib/server/keys.js';
import { startService, type Service } from './support/service.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-test-token';
const DAY = 1_764_115_200; // 2025-11-26T00:00Z
const root = join(import.meta.dirname, '..');
const shots = join(root, 'test-results', 'browser');
const have = existsSync(CHROMIUM);
if (!have) console.log(`native-browser.test.ts: skipped, ${CHROMIUM} not found (install Debian's chromium; .ci/run does)`);

let dir: string;
let svc: Service;
let browser: Browser;
let admin: ServiceClient;
let utilityKey: Uint8Array;
/** The utility key as /v1/config gives it: 33-byte compressed, hex. */
let utilityHex: string;
/** The provisioning key `zkmeter serve` made in its key directory on first start, which it trusts. */
let provisioning: bigint;
let files: {
  export: string;
  bill: string;
  altered: string;
  resealed: string;
  resealedBill: string;
  broken: string;
  farBill: string;
  unsignedBill: string;
  strangerBill: string;
  dearerBill: string;
  forgedSharesBill: string;
  forgedExport: string;
  v1Export: string;
};
let alteredInterval: number;
const errors: string[] = [];
/** The paths the page requested of the service. */
const requests: string[] = [];
/** Those besides the page itself and its assets (/check…): the listener saw the page's own, and no other. */
function serviceRequests(): string[] {
  expect(requests).toContain('/check');
  return requests.filter((p) => !p.startsWith('/check') && p !== '/favicon.ico');
}

const NO_SIGNATURE = 'the bill carries no tariff signed by the privacy authority: its prices cannot be checked';
const NOT_THE_AUTHORITY = "the bill's tariff is not signed by the privacy authority your meter trusts";

/** A fresh page at /check; `errors` collects what this page raises, `requests` what it asks the service for. */
async function openPage(): Promise<Page> {
  errors.length = 0;
  requests.length = 0;
  const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => void requests.push(new URL(r.url()).pathname));
  await page.goto(`${svc.url}/check`);
  return page;
}

/**
 * The standalone page, opened from disk: `errors` collects what it raises, and the result
 * every URL it requests and every CSP violation it reports (recorded before its own script runs).
 */
async function openStandalone(): Promise<{ page: Page; url: string; requested: string[]; violations: () => Promise<string[]> }> {
  errors.length = 0;
  const url = pathToFileURL(join(root, 'dist', 'web', 'check.html')).href;
  const requested: string[] = [];
  const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => void requested.push(r.url()));
  await page.addInitScript(`globalThis.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => globalThis.__violations.push(e.effectiveDirective + ' ' + e.blockedURI));`);
  await page.goto(url);
  const violations = () => page.evaluate('globalThis.__violations') as Promise<string[]>;
  return { page, url, requested, violations };
}

/** Loads an export and a bill, runs the check, and waits for a verdict matching `verdict`. */
async function checkFiles(page: Page, exportFile: string, billFile: string, verdict: RegExp): Promise<void> {
  await page.getByLabel('Meter export file').setInputFiles(exportFile);
  await page.getByLabel('Bill file').setInputFiles(billFile);
  // An earlier check's verdict must not pass for this one's.
  await page.locator('#verdict').evaluate((e) => {
    e.textContent = '';
  });
  await page.click('#check-button');
  await expect.poll(() => page.textContent('#verdict'), { timeout: 150_000, interval: 500 }).toMatch(verdict);
}

/** The page's list of problems, one string per item. */
async function problems(page: Page): Promise<string[]> {
  return page.locator('#problems li').allTextContents();
}

describe.skipIf(!have)('bill-check page in Chromium', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zkmeter-browser-'));
    mkdirSync(shots, { recursive: true });
    svc = await startService(['--db', join(dir, 'center.db'), '--keys', join(dir, 'keys'), '--workers', '1'], { ZKMETER_ADMIN_TOKEN: TOKEN, ZKMETER_BACKEND: 'native' });
    admin = new ServiceClient(svc.url, { token: TOKEN });
    utilityHex = (await admin.config()).utilityKey;
    utilityKey = decodePoint(hexToBytes(utilityHex, 'utilityKey', 33));
    provisioning = loadProvisioningKey(join(dir, 'keys'), false).secretKey;
    // What the meter was provisioned with, and its customer's export carries: the shared key and the authority's identity key.
    const keys = dangerouslyLoadSingleOperatorKeys(join(dir, 'keys'));
    expect(bytesToHex(keys.key.publicKey)).toBe(bytesToHex(utilityKey));
    const provisioned = { sharedKey: keys.key, authorityKey: keys.authorityIdentity.publicKey };
    // A meter, two days of daily records (96 readings each), submitted and billed.
    const signingKey = randomScalar();
    const meter = new Meter({ meterId: 'MTR-check-1', signingKey, utilityKey });
    await admin.registerMeters(provisioning, [{ meterId: meter.meterId, publicKey: meter.publicKey, feeder: 'F-check', validFrom: DAY }]);
    const random = seededUniform(42);
    const records = [0, 1].map((d) => meter.daily(DAY + d * 86_400, householdDay(random).readings).bytes);
    const submitted = await admin.submit(records);
    expect(submitted.results.map((r) => r.status).every((s) => s === 'accepted' || s === 'abnormal')).toBe(true);
    const bill = await admin.bill(meter.meterId, DAY, DAY + 2 * 86_400);
    // The service's bill carries its tariff, signed by the authority's identity key.
    expect(verifyTariffSignature(tariffFromJson(bill.tariff), hexToBytes(bill.tariffSignature as string, 'tariffSignature', 64), keys.authorityIdentity.publicKey)).toBe(true);
    const openings = meter.export();
    const exported = (o: readonly ReadingOpening[], sharedKey: SharedKey = keys.key) =>
      JSON.stringify(meterExportToJson({ meterId: meter.meterId, meterPublicKey: meter.publicKey, openings: o, records, ...provisioned, sharedKey }));
    // The altered case: the customer's meter showed something else for one interval than
    // the record the bill was computed from.
    const k = 37;
    alteredInterval = openings[k]!.intervalStart;
    const altered = openings.map((o, i) => (i === k ? { ...o, reading: o.reading + 25n } : o));
    files = {
      export: join(dir, 'export.json'),
      bill: join(dir, 'bill.json'),
      altered: join(dir, 'altered.json'),
      resealed: join(dir, 'resealed.json'),
      resealedBill: join(dir, 'resealed-bill.json'),
      broken: join(dir, 'broken.json'),
      farBill: join(dir, 'far-bill.json'),
      unsignedBill: join(dir, 'unsigned-bill.json'),
      strangerBill: join(dir, 'stranger-bill.json'),
      dearerBill: join(dir, 'dearer-bill.json'),
      forgedSharesBill: join(dir, 'forged-shares-bill.json'),
      forgedExport: join(dir, 'forged-export.json'),
      v1Export: join(dir, 'v1-export.json'),
    };
    writeFileSync(files.export, exported(openings));
    writeFileSync(files.altered, exported(altered));
    writeFileSync(files.bill, JSON.stringify(bill));
    // The same bill with one more interval, at 10^15 s (beyond what a Date can hold), and a period to match
    // (without the service's id, which names the period).
    const { id: _id, ...far } = bill as unknown as { id: string; intervals: number[]; recordIds: string[]; to: number };
    writeFileSync(files.farBill, JSON.stringify({ ...far, intervals: [...far.intervals, 1e15], recordIds: [...far.recordIds, far.recordIds[0]], to: 1e15 + 900 }));
    // The bill without its signed tariff; signed by another key; with a dearer price than the authority signed.
    const { tariff: _t, tariffSignature: _s, ...unsigned } = bill;
    writeFileSync(files.unsignedBill, JSON.stringify(unsigned));
    const tariff = tariffFromJson(bill.tariff);
    writeFileSync(files.strangerBill, JSON.stringify({ ...bill, tariffSignature: bytesToHex(signTariff(tariff, randomScalar())) }));
    const json = bill.tariff as { bands: { pricePerWh: string }[] };
    writeFileSync(files.dearerBill, JSON.stringify({ ...bill, tariff: { ...json, bands: json.bands.map((b, i) => (i === 0 ? { ...b, pricePerWh: String(BigInt(b.pricePerWh) + 1n) } : b)) } }));
    // A center substitutes the authority's verifying share with one of a secret it knows, and makes both
    // decryption shares itself: the export it writes with that key is refused; the bill fails under the real one.
    const forgedSecret = randomScalar();
    const forged: SharedKey = {
      ...keys.key,
      parties: new Map([...keys.key.parties].map(([p, v]) => [p, p === AUTHORITY_PARTY ? { ...v, verifyingShare: getGroup().mulGen(scalarToBytes(forgedSecret)) } : v])),
    };
    writeFileSync(files.forgedExport, exported(openings, forged));
    const { id, display: _d, ...fields } = bill;
    const parsed = billFromJson(fields);
    const context = billContext(parsed.meterId, parsed.from, parsed.to, parsed.tariffVersion);
    const forgedShares = [keys.centerShare, { party: AUTHORITY_PARTY, id: keys.authorityShare.id, secret: forgedSecret }].map((s) => partialDecrypt(forged, s, parsed.encryptedEnergyCharge, context));
    writeFileSync(files.forgedSharesBill, JSON.stringify({ id, ...billToJson({ ...parsed, decryptionShares: forgedShares }) }));
    expect(JSON.parse(readFileSync(files.forgedExport, 'utf8')).sharedKey).toEqual(sharedKeyToJson(forged));
    // A v1 export: no shared key, no authority key.
    const { sharedKey: _k, authorityKey: _a, ...v1 } = JSON.parse(exported(openings)) as Record<string, unknown>;
    writeFileSync(files.v1Export, JSON.stringify({ ...v1, format: 'zkmeter/meter-export v1' }));
    // The second day's record with its range proof broken and re-signed by the meter (a lying meter).
    const second = decodeRecord(records[1]!);
    const broken = records[1]!.slice();
    broken[second.rangeProof.byteOffset - second.bytes.byteOffset + second.rangeProof.length - 1]! ^= 1;
    broken.set(signSchnorr([signedMessage(broken.subarray(0, broken.length - 64))], signingKey), broken.length - 64);
    writeFileSync(files.broken, JSON.stringify(meterExportToJson({ meterId: meter.meterId, meterPublicKey: meter.publicKey, openings, records: [records[0]!, broken], ...provisioned })));
    // Another meter seals a day as 96 reading records, then again as one daily record: the
    // center bills the reading records and refuses the daily one; the export has both.
    const resealer = new Meter({ meterId: 'MTR-check-3', signingKey: randomScalar(), utilityKey });
    await admin.registerMeters(provisioning, [{ meterId: resealer.meterId, publicKey: resealer.publicKey, feeder: 'F-check', validFrom: DAY }]);
    const day = householdDay(random).readings;
    const resealed = [...day.map((wh, i) => resealer.reading(DAY + 900 * i, wh).bytes), resealer.daily(DAY, day).bytes];
    const status = (r: { status: string; reason?: string }) => (r.status === 'invalid' ? r.reason : 'ok');
    expect((await admin.submit(resealed.slice(0, 96))).results.map(status)).toEqual(day.map(() => 'ok'));
    expect((await admin.submit(resealed.slice(96))).results.map(status)).toEqual(['duplicate']);
    writeFileSync(files.resealed, JSON.stringify(meterExportToJson({ meterId: resealer.meterId, meterPublicKey: resealer.publicKey, openings: resealer.export(), records: resealed, ...provisioned })));
    writeFileSync(files.resealedBill, JSON.stringify(await admin.bill(resealer.meterId, DAY, DAY + 86_400)));
    expect(openingToJson(altered[k]!).reading).not.toBe(openingToJson(openings[k]!).reading);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('verifies a correct bill, from the keyboard, and charts it per day', async () => {
    const page = await openPage();
    await page.getByLabel("Meter export file").setInputFiles(files.export);
    await page.getByLabel('Bill file').setInputFiles(files.bill);
    await page.focus('#check-button');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#verdict'), { timeout: 150_000, interval: 500 }).toMatch(/^Your bill is right/);
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('verdict');
    expect(await page.locator('#days tbody tr').count()).toBe(2);
    expect(await page.locator('#days tbody tr.bad').count()).toBe(0);
    expect(await page.locator('#disagreements-box').isHidden()).toBe(true);
    expect(await page.textContent('#verified')).toMatch(/2 of 2 records/);
    expect(await page.locator('#chart').evaluate((c) => (c as unknown as { width: number }).width > 0 && (c as unknown as { height: number }).height > 0)).toBe(true);
    expect(await page.textContent('#status')).toBe('Done: every check passed.');
    await page.screenshot({ path: join(shots, 'bill-right.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
    // The key and the tariff came from the export and the bill: the page asked the service for nothing (no /v1/config).
    expect(serviceRequests()).toEqual([]);
  }, 180_000);

  it('flags a bill with one altered interval at exactly that interval', async () => {
    const page = await openPage();
    await page.getByLabel('Meter export file').setInputFiles(files.altered);
    await page.getByLabel('Bill file').setInputFiles(files.bill);
    await page.click('#check-button');
    await expect.poll(() => page.textContent('#verdict'), { timeout: 150_000, interval: 500 }).toMatch(/^Your bill is wrong/);
    const rows = page.locator('#disagreements tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-interval')).toBe(String(alteredInterval));
    expect(await rows.first().textContent()).toMatch(/does not open to your reading/);
    expect(await page.locator('#days tbody tr.bad').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'bill-wrong.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
  }, 180_000);

  it('the standalone check.html from disk verifies a correct bill and flags a tampered one, with no request and no CSP violation', async () => {
    const { page, url, requested, violations } = await openStandalone();
    // Local files only: no bill address to fetch from.
    expect(await page.locator('#bill-url').count()).toBe(0);
    expect(await page.textContent('#provenance')).toMatch(/standalone page/);
    await checkFiles(page, files.export, files.bill, /^Your bill is right/);
    expect(await page.textContent('#status')).toBe('Done: every check passed.');
    expect(await page.textContent('#verified')).toMatch(/2 of 2 records/);
    await page.screenshot({ path: join(shots, 'standalone-bill-right.png'), fullPage: true });
    await checkFiles(page, files.altered, files.bill, /^Your bill is wrong/);
    const rows = page.locator('#disagreements tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-interval')).toBe(String(alteredInterval));
    // The page's own inline script and style ran under its CSP, unrefused, and asked for nothing but the file.
    expect(await violations()).toEqual([]);
    expect(errors).toEqual([]);
    expect(requested).toEqual([url]);
    // And its CSP is in force: a connection the page's code attempts is refused before any request is made.
    const attempt = (await page.evaluate(`fetch('http://127.0.0.1:9/bill.json').then(() => 'fetched', (e) => 'refused: ' + e.name)`)) as string;
    expect(attempt).toBe('refused: TypeError');
    await expect.poll(violations).toEqual(['connect-src http://127.0.0.1:9/bill.json']);
    expect(requested).toEqual([url]);
    await page.close();
  }, 300_000);

  it('verifies a day the meter sealed twice, and names a record whose range proof is broken', async () => {
    const page = await openPage();
    await page.getByLabel('Meter export file').setInputFiles(files.resealed);
    await page.getByLabel('Bill file').setInputFiles(files.resealedBill);
    await page.click('#check-button');
    await expect.poll(() => page.textContent('#verdict'), { timeout: 150_000, interval: 500 }).toMatch(/^Your bill is right/);
    expect(await page.textContent('#verified')).toMatch(/97 of 97 records/);
    expect(await page.locator('#disagreements-box').isHidden()).toBe(true);
    await page.getByLabel('Meter export file').setInputFiles(files.broken);
    await page.getByLabel('Bill file').setInputFiles(files.bill);
    await page.click('#check-button');
    await expect.poll(() => page.textContent('#verdict'), { timeout: 150_000, interval: 500 }).toMatch(/^Your bill is wrong/);
    expect(await page.textContent('#problems')).toMatch(/record 2 is invalid \(range-proof\)/);
    expect(await page.locator('#disagreements tbody tr').count()).toBe(96);
    expect(await page.locator('#days tbody tr.bad').count()).toBe(1);
    expect(await page.textContent('#verified')).toMatch(/1 of 2 records/);
    await page.close();
    expect(errors).toEqual([]);
  }, 300_000);

  it('gives a verdict on a bill with an interval of 10^15 seconds, not "something went wrong"', async () => {
    const page = await openPage();
    await page.getByLabel('Meter export file').setInputFiles(files.export);
    await page.getByLabel('Bill file').setInputFiles(files.farBill);
    await page.click('#check-button');
    await expect.poll(() => page.textContent('#verdict'), { timeout: 150_000, interval: 500 }).toMatch(/^Your bill is wrong/);
    expect(await page.textContent('#status')).not.toMatch(/Something went wrong/);
    const rows = page.locator('#disagreements tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-interval')).toBe('1000000000000000');
    expect(await rows.first().textContent()).toMatch(/^1000000000000000 \(Unix seconds\)—billed, but your meter has no reading for it$/);
    expect(await page.textContent('#problems')).toMatch(/is not a run of whole days in UTC/);
    await page.screenshot({ path: join(shots, 'bill-far-interval.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
  }, 180_000);

  it('fails a bill without the signed tariff, signed by another key, with a dearer price than signed, or decrypted under a forged key', async () => {
    const page = await openPage();
    // No signed tariff: refused before any record is checked, and the page still gives a verdict.
    await checkFiles(page, files.export, files.unsignedBill, /^Your bill is wrong/);
    expect(await problems(page)).toEqual([NO_SIGNATURE]);
    expect(await page.textContent('#status')).toBe('Done: the bill does not pass the checks.');
    // Signed, but not by the authority the export names: everything else is right.
    await checkFiles(page, files.export, files.strangerBill, /^Your bill is wrong: it bills .*, what your readings give, but fails the checks below$/);
    expect(await problems(page)).toEqual([NOT_THE_AUTHORITY]);
    expect(await page.locator('#disagreements-box').isHidden()).toBe(true);
    await page.screenshot({ path: join(shots, 'bill-tariff-not-signed.png'), fullPage: true });
    // A price altered after signing: the signature no longer holds (and the charge is not the tariff's).
    await checkFiles(page, files.export, files.dearerBill, /^Your bill is wrong/);
    const dearer = await problems(page);
    expect(dearer[0]).toBe(NOT_THE_AUTHORITY);
    expect(dearer).toContain('the encrypted charge is not the tariff-weighted sum of the billed records');
    // Decryption shares made under a key whose authority verifying share was substituted: they do not verify under the export's key.
    await checkFiles(page, files.export, files.forgedSharesBill, /^Your bill is wrong: it bills .*, what your readings give, but fails the checks below$/);
    expect(await problems(page)).toEqual([expect.stringMatching(/^the bill's decryption is not valid: .*privacy-authority/)]);
    await page.close();
    expect(errors).toEqual([]);
    expect(serviceRequests()).toEqual([]);
  }, 600_000);

  it('says plainly what is missing or malformed', async () => {
    const page = await openPage();
    await page.click('#check-button');
    await expect.poll(() => page.textContent('#status')).toMatch(/choose your meter export file first/);
    await page.getByLabel('Meter export file').setInputFiles(files.bill); // the wrong file
    await page.click('#check-button');
    await expect.poll(() => page.textContent('#status')).toMatch(/^meter export: /);
    // A v1 export, and an export whose shared key has a forged verifying share: refused, saying why, with no verdict.
    await page.getByLabel('Meter export file').setInputFiles(files.v1Export);
    await page.getByLabel('Bill file').setInputFiles(files.bill);
    await page.click('#check-button');
    await expect.poll(() => page.textContent('#status')).toBe(
      'meter export: meter export v1 carries neither the utility key nor the authority key the meter was provisioned with, which the bill check trusts: make a v2 export (zkmeter meter export --key … --authority-key …)',
    );
    expect(await page.locator('#result').isHidden()).toBe(true);
    await page.getByLabel('Meter export file').setInputFiles(files.forgedExport);
    await page.click('#check-button');
    await expect.poll(() => page.textContent('#status')).toBe('meter export: the shared key is inconsistent: its verifying shares do not interpolate to its public key');
    expect(await page.locator('#result').isHidden()).toBe(true);
    await page.close();
    expect(errors).toEqual([]);
  }, 60_000);

  it('a record made in the browser is accepted by the native server, and a native record verifies in the browser', async () => {
    const page = await openPage();
    const signingKey = randomScalar();
    const publicKey = schnorrPublicKey(signingKey);
    await admin.registerMeters(provisioning, [{ meterId: 'MTR-browser-2', publicKey, feeder: 'F-check', validFrom: DAY }]);
    const native = new Meter({ meterId: 'MTR-browser-2', signingKey, utilityKey, sequence: 1000 }).reading(DAY + 900 * 5, 321n).bytes;
    // Page code as a string: vitest would otherwise rewrite its import() for Node.
    const args = { key: signingKey.toString(16).padStart(64, '0'), utility: utilityHex, nativeRecord: bytesToHex(native), meterKey: bytesToHex(publicKey), t: DAY + 900 * 4 };
    const out = (await page.evaluate(`(async (a) => {
      const z = await import('/check/zkmeter.js'); // the library bundle, from the page's own origin
      const utilityKey = z.crypto.decodePoint(z.crypto.hexToBytes(a.utility, 'utilityKey', 33));
      const meter = new z.Meter({ meterId: 'MTR-browser-2', signingKey: BigInt('0x' + a.key), utilityKey });
      const made = meter.reading(a.t, 123n).bytes;
      const reg = { publicKey: z.crypto.hexToBytes(a.meterKey, 'meterKey', 32), meterClass: z.HOUSEHOLD, keyEpoch: 0 };
      const [verdict] = z.verifyRecordBatch([z.crypto.hexToBytes(a.nativeRecord, 'record')], () => reg, utilityKey);
      return { backend: z.backendName(), record: z.crypto.bytesToHex(made), nativeOk: verdict.ok };
    })(${JSON.stringify(args)})`)) as { backend: string; record: string; nativeOk: boolean };
    expect(out.backend).toBe('js');
    expect(out.nativeOk).toBe(true);
    const r = await admin.submit([hexToBytes(out.record, 'record')]);
    expect(r.results[0]).toMatchObject({ status: 'accepted' });
    await page.close();
    expect(errors).toEqual([]);
  }, 120_000);
});

