/**
 * The browser builds (web/build.mjs, run by npm test's pretest step): esbuild's
 * metafiles show that neither bundle takes in a Node built-in or the native backend,
 * and the library bundle runs, on its own, the pure-TypeScript backend. The page's
 * bundle runs here too, without a DOM: its checks and the text it renders from them
 * (`report`), for bills a page must still give a verdict on. The page trusts only the
 * meter export (v2: the shared key and the privacy authority's identity key the meter was
 * provisioned with): a bill's prices must be its tariff signed by that authority, so a bill
 * without the signature, signed by another key, or whose tariff was altered after signing
 * fails, however consistent it is otherwise; an export whose shared key has forged verifying
 * shares is refused by the decoder the page reads it with.
 *
 * The standalone page (dist/web/check.html): one file, nothing external, a CSP meta whose
 * hashes are those of its inline script and style and which allows no connection, no bill
 * address field nor fetch code, its shipped SHA-256 right, and the same bytes when rebuilt.
 * `zkmeter check-page` writes those bytes and prints their SHA-256, refuses an existing file
 * without --force, a missing page (pointing at `npm run build:web`) and a page that does not
 * match its shipped SHA-256; the center offers the same file at /check.html as a download.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCheckPage } from '../dist/lib/server/check-page.js';
import { getGroup } from '../lib/backend/index.js';
import { scalarToBytes } from '../lib/backend/bytes.js';
import { schnorrPublicKey } from '../lib/crypto/schnorr.js';
import { dangerouslyGenerateAllShares, partialDecrypt, type KeyShare, type SharedKey } from '../lib/crypto/threshold.js';
import { billContext, billId, encryptedEnergyCharge, type Bill } from '../lib/protocol/billing.js';
import type { BillCheck } from '../lib/protocol/customer.js';
import { billFromJson, billToJson, meterExportFromJson, meterExportToJson, sharedKeyFromJson, sharedKeyToJson, type MeterExport } from '../lib/protocol/json.js';
import { Meter } from '../lib/protocol/meter.js';
import { DEFAULT_TARIFF, priceAt, signTariff, standingCharge, type Tariff } from '../lib/protocol/tariff.js';
import { verifyRecords } from '../lib/protocol/verify.js';

const root = join(import.meta.dirname, '..');
const meta = JSON.parse(readFileSync(join(root, 'build', 'web', 'meta.json'), 'utf8')) as Record<'library' | 'page' | 'standalone', { inputs: Record<string, { imports: { path: string; external?: boolean }[] }> }>;

describe('browser bundles', () => {
  for (const name of ['library', 'page', 'standalone'] as const) {
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
interface Outcome {
  check: BillCheck;
  tariff: Tariff | undefined;
  invalidRecords: unknown[];
  ok: boolean;
}
interface Page {
  formatTime(t: number, timeZone?: string, dayOnly?: boolean): string;
  formatMoney(minor: bigint, currency: string, minorPerMajor: bigint): string;
  runCheck(meter: MeterExport, bill: Bill): Promise<Outcome>;
  shownTariff(outcome: Outcome, bill: Bill): Tariff;
  report(
    outcome: Outcome,
    bill: Bill,
    tariff: Tariff,
    records: number,
  ): { ok: boolean; verdict: string; summary: string; problems: string[]; disagreements: { intervalStart: number; cells: string[] }[]; days: { label: string; intervals: number; costText: string }[]; timeZone: string };
}

const NO_SIGNATURE = 'the bill carries no tariff signed by the privacy authority: its prices cannot be checked';
const NOT_THE_AUTHORITY = "the bill's tariff is not signed by the privacy authority your meter trusts";

describe('the bill-check page, without a browser', () => {
  const DAY = Date.parse('2026-11-25T00:00:00Z') / 1000;
  const tariff = DEFAULT_TARIFF;
  /** The privacy authority's identity key (the meter export names its public key), and another. */
  const AUTHORITY = 11n ** 60n;
  const STRANGER = 13n ** 55n;
  let page: Page;
  let key: SharedKey;
  let shares: Map<string, KeyShare>;
  let meter: MeterExport;
  /**
   * A bill as a utility could send it: any intervals, its charge computed with any tariff and
   * really decrypted (two decryption shares under `under`, by default the real key and shares),
   * carrying any signed tariff (by default `tariff` itself signed by the authority).
   */
  let billFor: (o: {
    intervals: number[];
    from?: number;
    to?: number;
    currency?: string;
    tariff?: Tariff;
    signedTariff?: Bill['signedTariff'] | null;
    under?: { key: SharedKey; shares: KeyShare[] };
  }) => Bill;

  beforeAll(async () => {
    page = (await import(join(root, 'dist', 'web', 'check.js'))) as Page;
    const generated = dangerouslyGenerateAllShares(['control-center', 'privacy-authority'], 2);
    key = generated.key;
    shares = generated.shares;
    const m = new Meter({ meterId: 'MTR-page', signingKey: 7n ** 40n, utilityKey: key.publicKey });
    const record = m.reading(DAY + 3600, 250n);
    meter = { meterId: m.meterId, meterPublicKey: m.publicKey, openings: m.export(), records: [record.bytes], sharedKey: key, authorityKey: schnorrPublicKey(AUTHORITY) };
    const recordId = verifyRecords([{ record, meterKey: m.publicKey }], key.publicKey)[0]!.recordId;
    billFor = ({ intervals, from = DAY, to = DAY + 86_400, currency, tariff: t = tariff, signedTariff, under = { key, shares: [...shares.values()] } }) => {
      const encrypted = encryptedEnergyCharge([{ intervalStart: DAY + 3600, ciphertext: record.ciphertexts[0]! }], t);
      const energyCharge = priceAt(t, DAY + 3600) * 250n;
      const context = billContext(m.meterId, from, to, t.version);
      const standing = standingCharge(t, intervals);
      const signed = signedTariff === undefined ? { tariff: t, signature: signTariff(t, AUTHORITY) } : signedTariff;
      return {
        meterId: m.meterId,
        from,
        to,
        tariffVersion: t.version,
        currency: currency ?? t.currency,
        minorPerMajor: t.minorPerMajor,
        intervals,
        recordIds: intervals.map(() => recordId),
        encryptedEnergyCharge: encrypted,
        energyCharge,
        standingCharge: standing,
        total: energyCharge + standing,
        decryptionShares: under.shares.map((s) => partialDecrypt(under.key, s, encrypted, context)),
        ...(signed !== null ? { signedTariff: signed } : {}),
      };
    };
  });

  /** The page's check on its own (pure-TypeScript) backend, as in a browser. */
  async function run(bill: Bill, m: MeterExport = meter): Promise<Outcome> {
    const requested = process.env.ZKMETER_BACKEND;
    delete process.env.ZKMETER_BACKEND;
    try {
      return await page.runCheck(m, bill);
    } finally {
      if (requested !== undefined) process.env.ZKMETER_BACKEND = requested;
    }
  }

  /** The page's check and report, in the tariff the page shows it in. */
  async function check(bill: Bill) {
    const outcome = await run(bill);
    return page.report(outcome, bill, page.shownTariff(outcome, bill), meter.records.length);
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

  it('says a right bill is right, per day of the tariff, under the tariff the authority signed', async () => {
    const bill = billFor({ intervals: [DAY + 3600] });
    const outcome = await run(bill);
    expect(outcome.ok).toBe(true);
    expect(outcome.tariff).toEqual(tariff);
    expect(page.shownTariff(outcome, bill)).toEqual(tariff);
    const r = page.report(outcome, bill, page.shownTariff(outcome, bill), meter.records.length);
    expect(r.verdict).toBe(`Your bill is right: ${page.formatMoney(15n * 250n + 60_000n, 'GBP', 100_000n)}`);
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([]);
    expect(r.days.map((d) => [d.label, d.intervals])).toEqual([['2026-11-25', 1]]);
    expect(r.summary).toMatch(/^Period 2026-11-25 00:00 to 2026-11-26 00:00 \(UTC\): 1 billed intervals, 0 disagreeing/);
    // As the service sends it (JSON, with its id): the page's decoder gives back the same bill, and it passes.
    const json = { id: billId(bill.meterId, bill.from, bill.to, bill.tariffVersion), ...billToJson(bill) };
    const decoded = billFromJson(json);
    expect(billToJson(decoded)).toEqual(billToJson(bill));
    expect((await run(decoded)).ok).toBe(true);
    expect(() => billFromJson({ ...json, id: billId(bill.meterId, bill.from, bill.to + 86_400, bill.tariffVersion) })).toThrow('bill "id" is not the id of its meter, period and tariff version');
  }, 120_000);

  it('fails a bill that carries no signed tariff, and still gives a verdict in its own currency', async () => {
    const bill = billFor({ intervals: [DAY + 3600], signedTariff: null });
    const outcome = await run(bill);
    expect(outcome.ok).toBe(false);
    expect(outcome.tariff).toBeUndefined();
    expect(outcome.check.problems).toEqual([NO_SIGNATURE]);
    const shown = page.shownTariff(outcome, bill);
    expect([shown.currency, shown.minorPerMajor, shown.version]).toEqual([bill.currency, bill.minorPerMajor, bill.tariffVersion]);
    const r = page.report(outcome, bill, shown, meter.records.length);
    expect(r.ok).toBe(false);
    // No amount "your readings give": without a signed tariff there are no prices to check against.
    expect(r.verdict).toBe(`Your bill is wrong: billed 0.63750 GBP, and ${NO_SIGNATURE}`);
    expect(r.problems).toEqual([NO_SIGNATURE]);
  }, 120_000);

  it('fails a bill whose tariff is signed by another key than the authority the export names', async () => {
    const r = await check(billFor({ intervals: [DAY + 3600], signedTariff: { tariff, signature: signTariff(tariff, STRANGER) } }));
    expect(r.ok).toBe(false);
    // Everything else about the bill is right: the signature alone fails it.
    expect(r.problems).toEqual([NOT_THE_AUTHORITY]);
    expect(r.verdict).toBe('Your bill is wrong: it bills 0.63750 GBP, what your readings give, but fails the checks below');
  }, 120_000);

  it('fails a bill whose tariff was altered after the authority signed it, though its charge is consistent with the altered prices', async () => {
    const dearer: Tariff = { ...tariff, bands: tariff.bands.map((b) => ({ ...b, pricePerWh: b.pricePerWh + 5n })) };
    // The utility computes and decrypts the charge with its dearer prices, and sends them with the signature of the real ones.
    const bill = billFor({ intervals: [DAY + 3600], tariff: dearer, signedTariff: { tariff: dearer, signature: signTariff(tariff, AUTHORITY) } });
    expect(bill.energyCharge).toBe(20n * 250n);
    const outcome = await run(bill);
    expect(outcome.ok).toBe(false);
    // Under the dearer prices the bill adds up: only the signature says they are not the authority's.
    expect(outcome.check.problems).toEqual([NOT_THE_AUTHORITY]);
    expect(outcome.check.disagreements).toEqual([]);
    expect(outcome.check.expectedTotal).toBe(bill.total);
    // The same bill with the dearer tariff signed by the authority would pass: the signature is what catches it.
    expect((await run({ ...bill, signedTariff: { tariff: dearer, signature: signTariff(dearer, AUTHORITY) } })).ok).toBe(true);
  }, 120_000);

  it("refuses a meter export whose shared key has a forged verifying share, and fails the forged bill under the meter's real key", async () => {
    // A center that makes the customer's export substitutes the authority's verifying share
    // with one of a secret it knows, so that it can make both decryption shares itself.
    const forgedSecret = 17n ** 50n;
    const authority = key.parties.get('privacy-authority')!;
    const forged: SharedKey = {
      ...key,
      parties: new Map([...key.parties].map(([p, v]) => [p, p === 'privacy-authority' ? { ...v, verifyingShare: getGroup().mulGen(scalarToBytes(forgedSecret)) } : v])),
    };
    const forgedShares = [shares.get('control-center')!, { party: 'privacy-authority', id: authority.id, secret: forgedSecret }];
    // The decoders the page reads the export with refuse such a key, naming why.
    const inconsistent = 'the shared key is inconsistent: its verifying shares do not interpolate to its public key';
    expect(() => sharedKeyFromJson(sharedKeyToJson(forged))).toThrow(inconsistent);
    expect(() => meterExportFromJson(meterExportToJson({ ...meter, sharedKey: forged }))).toThrow(inconsistent);
    expect(meterExportFromJson(meterExportToJson(meter))).toEqual(meter);
    // A bill whose shares were made under the forged key, without the authority: its decryption fails under the meter's key.
    const outcome = await run(billFor({ intervals: [DAY + 3600], under: { key: forged, shares: forgedShares } }));
    expect(outcome.ok).toBe(false);
    expect(outcome.check.problems).toEqual([expect.stringMatching(/^the bill's decryption is not valid: .*privacy-authority/)]);
  }, 120_000);

  it('the page decodes only v2 meter exports: a v1 export is refused, saying what it lacks', () => {
    const { sharedKey: _k, authorityKey: _a, ...rest } = meterExportToJson(meter);
    const v1 = { ...rest, format: 'zkmeter/meter-export v1' };
    expect(() => meterExportFromJson(v1)).toThrow(
      'meter export v1 carries neither the utility key nor the authority key the meter was provisioned with, which the bill check trusts: make a v2 export (zkmeter meter export --key … --authority-key …)',
    );
    // A v2 export must hold both.
    const { authorityKey: _b, ...noAuthority } = meterExportToJson(meter);
    expect(() => meterExportFromJson(noAuthority)).toThrow(/authorityKey/);
  });

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

const sha256Hex = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

describe('the standalone bill-check page (dist/web/check.html)', () => {
  const file = join(root, 'dist', 'web', 'check.html');
  const html = readFileSync(file, 'utf8');
  /** Every inline <script> and <style>: their attributes and exact text. */
  const elements = (tag: 'script' | 'style') => [...html.matchAll(new RegExp(`<${tag}([^>]*)>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => ({ attributes: m[1]!, text: m[2]! }));
  /** The HTML around them: what the browser loads resources from. */
  const markup = html.replace(/<(script|style)([^>]*)>[\s\S]*?<\/\1>/g, '<$1$2></$1>');
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  const directives = new Map((csp?.[1] ?? '').split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));

  it('is one file: one inline script and one inline style, and nothing loaded from elsewhere', () => {
    const scripts = elements('script');
    const styles = elements('style');
    expect(scripts.map((s) => s.attributes)).toEqual([' type="module"']);
    expect(styles.map((s) => s.attributes)).toEqual(['']);
    expect(scripts[0]!.text.length).toBeGreaterThan(100_000);
    expect(styles[0]!.text).toMatch(/\.verdict-ok\{/);
    // No element outside them names a source: the only link is the empty data: favicon.
    expect(markup.match(/<[^>]*\s(src|srcset|href|action|data|poster)=[^>]*>/g)).toEqual(['<link rel="icon" href="data:,">']);
    expect(markup.match(/<(script|style|link|iframe|object|embed|img|base)\b[^>]*>/g)).toEqual(['<link rel="icon" href="data:,">', '<style>', '<script type="module">']);
    expect(styles[0]!.text).not.toMatch(/url\(|@import/);
    // No bill address: the page reads local files only, and the fetch code is left out of its bundle.
    expect(html).not.toMatch(/bill-url|fetch\(/);
    // The served page keeps both (its address field and the fetch), so the absence above is the build's doing.
    expect(readFileSync(join(root, 'dist', 'web', 'index.html'), 'utf8')).toMatch(/id="bill-url"/);
    expect(readFileSync(join(root, 'dist', 'web', 'check.js'), 'utf8')).toMatch(/fetch\(/);
  });

  it('allows exactly its inline script and style, by their SHA-256, and no connection', () => {
    expect(csp).not.toBeNull();
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
    expect(directives.get('script-src')).toEqual([hash(elements('script')[0]!.text)]);
    expect(directives.get('style-src')).toEqual([hash(elements('style')[0]!.text)]);
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('connect-src')).toEqual(["'none'"]);
    expect(directives.get('img-src')).toEqual(['data:']);
    expect([...directives.keys()].sort()).toEqual(['base-uri', 'connect-src', 'default-src', 'form-action', 'img-src', 'script-src', 'style-src']);
    expect(csp![1]).not.toMatch(/unsafe|https?:|\*/);
    // A meta CSP governs only what follows it: it comes right after the charset, before the style and the script.
    expect(html.indexOf('<meta charset="utf-8">')).toBeLessThan(csp!.index);
    expect(csp!.index).toBeLessThan(html.indexOf('<style>'));
    expect(html.indexOf('<style>')).toBeLessThan(html.indexOf('<script'));
  });

  it('ships its SHA-256 beside it, and the build gives the same bytes again', () => {
    const digest = sha256Hex(readFileSync(file));
    expect(readFileSync(`${file}.sha256`, 'utf8')).toBe(`${digest}  check.html\n`);
    const again = mkdtempSync(join(tmpdir(), 'zkmeter-page-'));
    try {
      const built = spawnSync(process.execPath, [join(root, 'web', 'build.mjs'), '--standalone-to', again], { encoding: 'utf8' });
      expect(built.status, built.stderr).toBe(0);
      expect(built.stderr).toContain(`sha256 ${digest}`);
      expect(sha256Hex(readFileSync(join(again, 'check.html')))).toBe(digest);
      expect(readFileSync(join(again, 'check.html.sha256'), 'utf8')).toBe(`${digest}  check.html\n`);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });

  it('the center offers the same file at /check.html as a download, and its /check page says how far to trust it', async () => {
    const app = Fastify();
    registerCheckPage(app);
    try {
      const standalone = await app.inject('/check.html');
      expect(standalone.statusCode).toBe(200);
      expect(standalone.headers['content-disposition']).toBe('attachment; filename="check.html"');
      expect(sha256Hex(standalone.rawPayload)).toBe(sha256Hex(readFileSync(file)));
      const served = await app.inject('/check');
      expect(served.statusCode).toBe(200);
      expect(served.headers['content-disposition']).toBeUndefined();
      expect(served.body.replace(/\s+/g, ' ')).toMatch(/only as trustworthy as your utility/);
      expect(served.body).toMatch(/href="\/check.html" download="check.html"/);
      expect(served.body).not.toMatch(/<!-- (if|end if)|standalone page: it reads only/);
    } finally {
      await app.close();
    }
  });
});

describe('zkmeter check-page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zkmeter-check-page-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const page = readFileSync(join(root, 'dist', 'web', 'check.html'));

  /** The CLI of the package at `pkg` (default: this one). */
  function zkmeter(args: string[], pkg = root) {
    const res = spawnSync(process.execPath, [join(pkg, 'dist', 'lib', 'cli', 'main.js'), ...args], { cwd: dir, encoding: 'utf8' });
    return { code: res.status, stdout: res.stdout, stderr: res.stderr };
  }

  it('writes the standalone page byte for byte and prints its SHA-256; an existing file only with --force', () => {
    const out = join(dir, 'check.html');
    const r = zkmeter(['check-page', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ file: out, sha256: sha256Hex(page) });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(out).equals(page)).toBe(true);
    // The printed hash is the shipped one.
    expect(readFileSync(join(root, 'dist', 'web', 'check.html.sha256'), 'utf8').slice(0, 64)).toBe(JSON.parse(r.stdout).sha256);

    const existing = join(dir, 'mine.html');
    writeFileSync(existing, 'not to be lost');
    const refused = zkmeter(['check-page', '--out', existing]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(`error: --out ${existing} exists: never overwritten (--force replaces it)\n`);
    expect(readFileSync(existing, 'utf8')).toBe('not to be lost');
    const forced = zkmeter(['check-page', '--out', existing, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(existing).equals(page)).toBe(true);
  });

  it('says to run `npm run build:web` without a built page, and refuses a page that does not match its shipped SHA-256', () => {
    // A package with its CLI but no dist/web.
    const pkg = join(dir, 'package');
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true, filter: (src) => !src.startsWith(join(root, 'dist', 'web')) });
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    const out = join(dir, 'unbuilt.html');
    const missing = zkmeter(['check-page', '--out', out], pkg);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: the standalone bill-check page is not built \(no .*check\.html\): run `npm run build:web`\n$/);
    expect(existsSync(out)).toBe(false);
    // Its page altered after the build: not handed out.
    cpSync(join(root, 'dist', 'web'), join(pkg, 'dist', 'web'), { recursive: true });
    writeFileSync(join(pkg, 'dist', 'web', 'check.html'), Buffer.concat([page, Buffer.from('<!-- -->')]));
    const altered = zkmeter(['check-page', '--out', out], pkg);
    expect(altered.code).toBe(2);
    expect(altered.stderr).toMatch(/^error: .*check\.html does not match its SHA-256 in .*check\.html\.sha256: rebuild it with `npm run build:web`\n$/);
    expect(existsSync(out)).toBe(false);
    // The same copy, unaltered, works: the refusals above are the missing and the altered page's.
    writeFileSync(join(pkg, 'dist', 'web', 'check.html'), page);
    expect(zkmeter(['check-page', '--out', out], pkg).code).toBe(0);
  });
});
