/**
 * The browser builds (web/build.mjs, run by npm test's pretest step): esbuild's
 * metafiles show that neither bundle takes in a Node built-in or the native backend,
 * and the library bundle runs, on its own, the pure-TypeScript backend. The page's
 * bundle runs here too, without a DOM: its checks and the text it renders from them
 * (`report`), for bills a page must still give a verdict on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { distributedKeyGeneration, partialDecrypt, type SharedKey } from '../lib/crypto/threshold.js';
import { billContext, encryptedEnergyCharge, type Bill } from '../lib/protocol/billing.js';
import type { BillCheck } from '../lib/protocol/customer.js';
import type { MeterExport } from '../lib/protocol/json.js';
import { Meter } from '../lib/protocol/meter.js';
import { DEFAULT_TARIFF, priceAt, standingCharge, type Tariff } from '../lib/protocol/tariff.js';
import { verifyRecords } from '../lib/protocol/verify.js';

const root = join(import.meta.dirname, '..');
const meta = JSON.parse(readFileSync(join(root, 'build', 'web', 'meta.json'), 'utf8')) as Record<'library' | 'page', { inputs: Record<string, { imports: { path: string; external?: boolean }[] }> }>;

describe('browser bundles', () => {
  for (const name of ['library', 'page'] as const) {
    it(`the ${name} bundle has no Node built-in, no native backend, and the browser stub in its place`, () => {
      const inputs = Object.keys(meta[name].inputs);
      expect(inputs.some((i) => i.endsWith('lib/crypto/bulletproofs/range.ts'))).toBe(true);
      expect(inputs.filter((i) => i.startsWith('node:') || /(^|\/)node_modules\/(node-gyp-build|better-sqlite3|pg|fastify)\//.test(i))).toEqual([]);
      expect(inputs.filter((i) => i.endsWith('lib/backend/native.ts'))).toEqual([]);
      expect(inputs.some((i) => i.endsWith('web/src/native-browser.ts'))).toBe(true);
      const external = Object.values(meta[name].inputs).flatMap((x) => x.imports.filter((imp) => imp.external).map((imp) => imp.path));
      expect(external).toEqual([]);
    });
  }

  it('the library bundle, loaded as an ES module, proves and verifies on the pure-TypeScript backend', async () => {
    const z = (await import(join(root, 'dist', 'browser', 'zkmeter.js'))) as {
      backendName(): string;
      crypto: { commit(v: bigint, s: bigint): Uint8Array; proveRange(st: unknown, w: unknown, ctx: Uint8Array): Uint8Array; verifyRange(st: unknown, p: Uint8Array, ctx: Uint8Array): boolean };
    };
    // As in a browser: no ZKMETER_BACKEND (the native project sets it to 'native', which the
    // bundle would honour by failing loudly, having no addon).
    const requested = process.env.ZKMETER_BACKEND;
    delete process.env.ZKMETER_BACKEND;
    try {
      expect(z.backendName()).toBe('js');
    } finally {
      if (requested !== undefined) process.env.ZKMETER_BACKEND = requested;
    }
    const ctx = new TextEncoder().encode('web test');
    const st = { commitments: [z.crypto.commit(1234n, 99n)], bits: 16 };
    const proof = z.crypto.proveRange(st, { values: [1234n], blindings: [99n] }, ctx);
    expect(z.crypto.verifyRange(st, proof, ctx)).toBe(true);
    expect(z.crypto.verifyRange({ ...st, commitments: [z.crypto.commit(1235n, 99n)] }, proof, ctx)).toBe(false);
  });
});

/** What web/src/check.ts exports, as its bundle (dist/web/check.js) does. */
interface Page {
  formatTime(t: number, timeZone?: string, dayOnly?: boolean): string;
  formatMoney(minor: bigint, currency: string, minorPerMajor: bigint): string;
  runCheck(meter: MeterExport, bill: Bill, config: { key: SharedKey; tariff: Tariff }): Promise<{ check: BillCheck; invalidRecords: unknown[]; ok: boolean }>;
  report(
    outcome: Awaited<ReturnType<Page['runCheck']>>,
    bill: Bill,
    tariff: Tariff,
    records: number,
  ): { ok: boolean; verdict: string; summary: string; problems: string[]; disagreements: { intervalStart: number; cells: string[] }[]; days: { label: string; intervals: number; costText: string }[]; timeZone: string };
}

describe('the bill-check page, without a browser', () => {
  const DAY = Date.parse('2026-11-25T00:00:00Z') / 1000;
  const tariff = DEFAULT_TARIFF;
  let page: Page;
  let key: SharedKey;
  let meter: MeterExport;
  /** A bill as a utility could send it: any intervals, with real decryption shares of the charge of the one real record. */
  let billFor: (o: { intervals: number[]; from?: number; to?: number; currency?: string }) => Bill;

  beforeAll(async () => {
    page = (await import(join(root, 'dist', 'web', 'check.js'))) as Page;
    const { key: k, shares } = distributedKeyGeneration(['control-center', 'privacy-authority'], 2);
    key = k;
    const m = new Meter({ meterId: 'MTR-page', signingKey: 7n ** 40n, utilityKey: key.publicKey });
    const record = m.reading(DAY + 3600, 250n);
    meter = { meterId: m.meterId, meterPublicKey: m.publicKey, openings: m.export(), records: [record.bytes] };
    const recordId = verifyRecords([{ record, meterKey: m.publicKey }], key.publicKey)[0]!.recordId;
    const encrypted = encryptedEnergyCharge([{ intervalStart: DAY + 3600, ciphertext: record.ciphertexts[0]! }], tariff);
    const energyCharge = priceAt(tariff, DAY + 3600) * 250n;
    billFor = ({ intervals, from = DAY, to = DAY + 86_400, currency = tariff.currency }) => {
      const context = billContext(m.meterId, from, to, tariff.version);
      const standing = standingCharge(tariff, intervals);
      return {
        meterId: m.meterId,
        from,
        to,
        tariffVersion: tariff.version,
        currency,
        minorPerMajor: tariff.minorPerMajor,
        intervals,
        recordIds: intervals.map(() => recordId),
        encryptedEnergyCharge: encrypted,
        energyCharge,
        standingCharge: standing,
        total: energyCharge + standing,
        decryptionShares: [...shares.values()].map((s) => partialDecrypt(key, s, encrypted, context)),
      };
    };
  });

  /** The page's check and report, on its own (pure-TypeScript) backend as in a browser. */
  async function check(bill: Bill) {
    const requested = process.env.ZKMETER_BACKEND;
    delete process.env.ZKMETER_BACKEND;
    try {
      return page.report(await page.runCheck(meter, bill, { key, tariff }), bill, tariff, meter.records.length);
    } finally {
      if (requested !== undefined) process.env.ZKMETER_BACKEND = requested;
    }
  }

  it('formats times in the tariff zone, and falls back to Unix seconds past what a Date holds', () => {
    expect(page.formatTime(DAY + 3600)).toBe('2026-11-25 01:00');
    expect(page.formatTime(DAY + 3600, 'Europe/Berlin')).toBe('2026-11-25 02:00');
    expect(page.formatTime(DAY - 1, 'UTC', true)).toBe('2026-11-24');
    // What the page did before: a RangeError, shown as "something went wrong".
    expect(() => new Date(1e15 * 1000).toISOString()).toThrow(RangeError);
    expect(page.formatTime(1e15)).toBe('1000000000000000 (Unix seconds)');
    expect(page.formatTime(-1e15, 'Europe/Berlin', true)).toBe('-1000000000000000 (Unix seconds)');
  });

  it('formats amounts in the given currency and unit', () => {
    expect(page.formatMoney(123_456n, 'GBP', 100_000n)).toBe('1.23456 GBP');
    expect(page.formatMoney(5n, 'JPY', 1n)).toBe('5 JPY');
    expect(page.formatMoney(7n, 'XTS', 3n)).toBe('7/3 XTS');
  });

  it('says a right bill is right, per day of the tariff', async () => {
    const r = await check(billFor({ intervals: [DAY + 3600] }));
    expect(r.verdict).toBe(`Your bill is right: ${page.formatMoney(15n * 250n + 60_000n, 'GBP', 100_000n)}`);
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([]);
    expect(r.days.map((d) => [d.label, d.intervals])).toEqual([['2026-11-25', 1]]);
    expect(r.summary).toMatch(/^Period 2026-11-25 00:00 to 2026-11-26 00:00 \(UTC\): 1 billed intervals, 0 disagreeing/);
  }, 120_000);

  it('gives a verdict on a bill with an interval of 10^15 seconds, naming it in Unix seconds', async () => {
    const r = await check(billFor({ intervals: [DAY + 3600, 1e15], to: 1e15 + 900 }));
    expect(r.ok).toBe(false);
    expect(r.verdict).toMatch(/^Your bill is wrong: /);
    expect(r.disagreements).toEqual([{ intervalStart: 1e15, cells: ['1000000000000000 (Unix seconds)', '—', 'billed, but your meter has no reading for it'] }]);
    expect(r.summary).toMatch(/^Period 2026-11-25 00:00 to 1000000000000900 \(Unix seconds\) \(UTC\): 2 billed intervals, 1 disagreeing/);
    expect(r.problems).toContain(`the period [${DAY}, ${1e15 + 900}) is not a run of whole days in UTC`);
    expect(r.days.map((d) => d.label)).toEqual(['2026-11-25', '1000000000000000 (Unix seconds)']);
  }, 120_000);

  it("shows checkBill's period problems, and the bill's own currency", async () => {
    const long = await check(billFor({ intervals: [DAY + 3600], to: DAY + 2 * 86_400 }));
    expect(long.problems).toEqual([`the period [${DAY}, ${DAY + 2 * 86_400}) runs beyond the days of its billed readings`]);
    // The amount is right; the period is not: the verdict says both.
    expect(long.verdict).toMatch(/^Your bill is wrong: it bills 0\.63750 GBP, what your readings give, but fails the checks below$/);
    const euros = await check(billFor({ intervals: [DAY + 3600], currency: 'EUR' }));
    expect(euros.verdict).toBe('Your bill is wrong: billed 0.63750 EUR, your readings give 0.63750 GBP');
    expect(euros.problems).toEqual(['the bill is in EUR (1/100000), the tariff in GBP (1/100000)']);
  }, 120_000);
});
