/**
 * The customer's bill-check page in a real browser: Debian's Chromium, driven by
 * playwright-core, headless, against `zkmeter serve` (native) on loopback.
 *  - a correct bill verifies (signatures, range proofs, ZKPe and DLEQ, all in the page);
 *  - a bill with one altered interval is flagged at exactly that interval;
 *  - a day the meter sealed twice (reading records, then a daily record the center refused
 *    as a duplicate) verifies; a record whose range proof is broken (re-signed by its meter)
 *    is named, and its intervals flagged;
 *  - a bill naming an interval past JavaScript's date range (10^15 s) gets a verdict, the
 *    interval shown in Unix seconds, not "something went wrong";
 *  - a record made in the browser (pure-TS backend) is accepted by the native server,
 *    and a record made natively verifies in the browser;
 *  - the form works from the keyboard, its inputs have labels, and the page raises no
 *    errors (nor Content-Security-Policy violations).
 * Screenshots go to test-results/browser/. Runs in the native project only. Without
 * /usr/bin/chromium (.ci/run installs Debian's chromium) it skips and says why.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { decodePoint, hexToBytes, bytesToHex } from '../lib/crypto/codec.js';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey, signSchnorr } from '../lib/crypto/schnorr.js';
import { meterExportToJson, openingToJson } from '../lib/protocol/json.js';
import { Meter, type ReadingOpening } from '../lib/protocol/meter.js';
import { decodeRecord, signedMessage } from '../lib/protocol/records.js';
import { householdDay, seededUniform } from '../lib/protocol/simulation.js';
import { ServiceClient } from '../dist/lib/server/client.js';
import { loadProvisioningKey } from '../lib/server/keys.js';
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
let files: { export: string; bill: string; altered: string; resealed: string; resealedBill: string; broken: string; farBill: string };
let alteredInterval: number;
const errors: string[] = [];

/** A fresh page at /check; `errors` collects what this page raises. */
async function openPage(): Promise<Page> {
  errors.length = 0;
  const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(`${svc.url}/check`);
  return page;
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
    // A meter, two days of daily records (96 readings each), submitted and billed.
    const signingKey = randomScalar();
    const meter = new Meter({ meterId: 'MTR-check-1', signingKey, utilityKey });
    await admin.registerMeters(provisioning, [{ meterId: meter.meterId, publicKey: meter.publicKey, feeder: 'F-check', validFrom: DAY }]);
    const random = seededUniform(42);
    const records = [0, 1].map((d) => meter.daily(DAY + d * 86_400, householdDay(random).readings).bytes);
    const submitted = await admin.submit(records);
    expect(submitted.results.map((r) => r.status).every((s) => s === 'accepted' || s === 'abnormal')).toBe(true);
    const bill = await admin.bill(meter.meterId, DAY, DAY + 2 * 86_400);
    const openings = meter.export();
    const exported = (o: readonly ReadingOpening[]) => JSON.stringify(meterExportToJson({ meterId: meter.meterId, meterPublicKey: meter.publicKey, openings: o, records }));
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
    };
    writeFileSync(files.export, exported(openings));
    writeFileSync(files.altered, exported(altered));
    writeFileSync(files.bill, JSON.stringify(bill));
    // The same bill with one more interval, at 10^15 s (beyond what a Date can hold), and a period to match.
    const far = bill as unknown as { intervals: number[]; recordIds: string[]; to: number };
    writeFileSync(files.farBill, JSON.stringify({ ...far, intervals: [...far.intervals, 1e15], recordIds: [...far.recordIds, far.recordIds[0]], to: 1e15 + 900 }));
    // The second day's record with its range proof broken and re-signed by the meter (a lying meter).
    const second = decodeRecord(records[1]!);
    const broken = records[1]!.slice();
    broken[second.rangeProof.byteOffset - second.bytes.byteOffset + second.rangeProof.length - 1]! ^= 1;
    broken.set(signSchnorr([signedMessage(broken.subarray(0, broken.length - 64))], signingKey), broken.length - 64);
    writeFileSync(files.broken, JSON.stringify(meterExportToJson({ meterId: meter.meterId, meterPublicKey: meter.publicKey, openings, records: [records[0]!, broken] })));
    // Another meter seals a day as 96 reading records, then again as one daily record: the
    // center bills the reading records and refuses the daily one; the export has both.
    const resealer = new Meter({ meterId: 'MTR-check-3', signingKey: randomScalar(), utilityKey });
    await admin.registerMeters(provisioning, [{ meterId: resealer.meterId, publicKey: resealer.publicKey, feeder: 'F-check', validFrom: DAY }]);
    const day = householdDay(random).readings;
    const resealed = [...day.map((wh, i) => resealer.reading(DAY + 900 * i, wh).bytes), resealer.daily(DAY, day).bytes];
    const status = (r: { status: string; reason?: string }) => (r.status === 'invalid' ? r.reason : 'ok');
    expect((await admin.submit(resealed.slice(0, 96))).results.map(status)).toEqual(day.map(() => 'ok'));
    expect((await admin.submit(resealed.slice(96))).results.map(status)).toEqual(['duplicate']);
    writeFileSync(files.resealed, JSON.stringify(meterExportToJson({ meterId: resealer.meterId, meterPublicKey: resealer.publicKey, openings: resealer.export(), records: resealed })));
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
    await page.screenshot({ path: join(shots, 'bill-right.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
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

  it('says plainly what is missing or malformed', async () => {
    const page = await openPage();
    await page.click('#check-button');
    await expect.poll(() => page.textContent('#status')).toMatch(/choose your meter export file first/);
    await page.getByLabel('Meter export file').setInputFiles(files.bill); // the wrong file
    await page.click('#check-button');
    await expect.poll(() => page.textContent('#status')).toMatch(/^meter export: /);
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

