/**
 * The customer's bill-check page (web/index.html), built twice by web/build.mjs: served by
 * `zkmeter serve` at /check, and as the standalone dist/web/check.html (`zkmeter
 * check-page`), opened from the customer's own disk, which reads local files only.
 *
 * The customer loads their meter's export (readings, blindings, signed records, and the
 * utility's shared key and the privacy authority's identity key the meter was provisioned
 * with) and their bill. Its checks trust no input from the billing utility but the bill: the
 * prices are the bill's tariff, which must carry the authority's signature by the export's
 * authority key, and the decryption is checked against the export's shared key. The code
 * doing them is another matter: served at /check, it is only as trustworthy as the utility
 * serving it; the standalone file is as trustworthy as its SHA-256 checks out. It verifies, in
 * the browser, on the pure-TypeScript backend, with checkBillWithExport:
 *  1. every record: its meter signature, range proof and proof of equivalence
 *     (verifyRecords, as the control center and the privacy authority do);
 *  2. the bill: the billed records' commitments open to the customer's readings, the
 *     encrypted charge is the tariff-weighted sum of exactly those records, and the
 *     decryption shares' DLEQ proofs hold and decrypt it to the billed charge.
 * It then says whether the bill is right, names any interval that disagrees, and charts
 * consumption and cost per day of the tariff's time zone. Whatever the bill holds (times
 * past what a Date can show, another currency), the customer gets a verdict: `report`
 * turns a check into the page's text without touching the DOM, and node tests run it.
 * @module
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from 'chart.js';
import { ZkmeterError } from '../../lib/errors.js';
import { checkBillWithExport, type BillCheck } from '../../lib/protocol/customer.js';
import { billFromJson, meterExportFromJson, type MeterExport } from '../../lib/protocol/json.js';
import { formatAmount, tariffTimeZone, type Tariff } from '../../lib/protocol/tariff.js';
import type { Bill } from '../../lib/protocol/billing.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

/**
 * Set by web/build.mjs (esbuild `define`): true in the standalone check.html, whose page has
 * no bill address field and whose CSP allows no connection, so the fetch code is left out.
 * Undefined when node tests import this file unbundled.
 */
declare const ZKMETER_STANDALONE: boolean | undefined;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const REASONS: Record<string, string> = {
  'reading-differs': 'the billed record does not open to your reading',
  'no-record': 'billed, but no record of your meter covers it',
  'not-on-meter': 'billed, but your meter has no reading for it',
  'bad-record': 'the record failed verification',
};

/** A user-facing failure: shown as one line, never as a stack trace. */
class CheckError extends Error {}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * Unix time `t` as "YYYY-MM-DD HH:MM" in `timeZone` (or "YYYY-MM-DD" with `dayOnly`). A time
 * a Date cannot hold (beyond ±8.64e12 s) comes back as its raw Unix seconds: a bill naming
 * such an interval is wrong, and the page must still say so.
 */
export function formatTime(t: number, timeZone = 'UTC', dayOnly = false): string {
  try {
    let f = timeFormats.get(timeZone);
    if (f === undefined) {
      f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
      timeFormats.set(timeZone, f);
    }
    const p: Record<string, string> = {};
    for (const part of f.formatToParts(new Date(t * 1000))) p[part.type] = part.value;
    const day = `${p.year}-${p.month}-${p.day}`;
    return dayOnly ? day : `${day} ${p.hour}:${p.minute}`;
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return `${t} (Unix seconds)`;
  }
}

/**
 * Amounts in minor units as a currency shows them: the bill's own amounts in the bill's
 * currency, those the page computes in the tariff's. A unit that is not a power of ten
 * (which formatAmount assumes) is shown as a fraction rather than misplaced.
 */
export function formatMoney(minor: bigint, currency: string, minorPerMajor: bigint): string {
  if (minorPerMajor >= 1n && /^10*$/.test(minorPerMajor.toString())) return `${formatAmount({ minorPerMajor } as Tariff, minor)} ${currency}`;
  return `${minor}/${minorPerMajor} ${currency}`;
}

async function readJsonFile(input: HTMLInputElement, what: string): Promise<unknown | undefined> {
  const file = input.files?.[0];
  if (file === undefined) return undefined;
  try {
    return JSON.parse(await file.text());
  } catch {
    throw new CheckError(`${what} (${file.name}) is not a JSON file`);
  }
}

async function fetchJson(url: string, what: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' } });
  } catch {
    throw new CheckError(`could not fetch ${what} from ${url}`);
  }
  if (!res.ok) throw new CheckError(`fetching ${what} from ${url} failed: HTTP ${res.status}`);
  try {
    return await res.json();
  } catch {
    throw new CheckError(`${what} from ${url} is not JSON`);
  }
}

/** The bill at the address the customer typed, if any (the served page only). */
async function fetchBillFromAddress(): Promise<unknown | undefined> {
  const url = $<HTMLInputElement>('bill-url').value.trim();
  return url === '' ? undefined : fetchJson(url, 'the bill');
}

/**
 * How the page gets a bill besides the file input: none in the standalone page. Decided
 * here, by a condition esbuild folds, so that its bundle leaves out the fetch code.
 */
const billFromAddress = typeof ZKMETER_STANDALONE !== 'undefined' && ZKMETER_STANDALONE ? undefined : fetchBillFromAddress;

/** Parses with the library's strict decoders; their errors name the bad field. */
function parse<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ZkmeterError) throw new CheckError(`${what}: ${e.message}`);
    throw e;
  }
}

/** Lets the browser paint the status line before a long synchronous step. */
const paint = () => new Promise<void>((resolve) => setTimeout(resolve, 30));

function setStatus(text: string, error = false): void {
  if (typeof document === 'undefined') return; // node tests run the checks without a page
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

export interface CheckOutcome {
  readonly check: BillCheck;
  /** The tariff the bill is checked under: the bill's own, signed by the authority (undefined if it carries none). */
  readonly tariff: Tariff | undefined;
  readonly invalidRecords: { index: number; reason: string; detail: string; intervals: number[] }[];
  readonly ok: boolean;
}

/** Runs every verification; exported for the browser tests, which also drive the form. */
export async function runCheck(meter: MeterExport, bill: Bill): Promise<CheckOutcome> {
  if (bill.meterId !== meter.meterId) throw new CheckError(`the bill is for meter ${bill.meterId}, but the export is from meter ${meter.meterId}`);
  setStatus(`Verifying ${meter.records.length} signed records (signatures, range proofs and proofs of equivalence), then the bill against your readings, its tariff's signature and its decryption proofs…`);
  await paint();
  // The customer trusts their own meter's key, whatever key epoch its records carry, and what it was provisioned with.
  const check = checkBillWithExport({ bill, meterExport: meter });
  // A record that fails verification is worth saying even when it was not billed: the meter made it.
  return { check, tariff: check.tariff, invalidRecords: check.invalidRecords, ok: check.ok && check.invalidRecords.length === 0 };
}

/** The tariff a report is shown in: the checked one, else the bill's own currency in UTC (the check has failed). */
export function shownTariff(outcome: CheckOutcome, bill: Bill): Tariff {
  return outcome.tariff ?? { version: bill.tariffVersion, currency: bill.currency, minorPerMajor: bill.minorPerMajor, standingChargePerDay: 0n, bands: [{ name: 'unknown', fromHour: 0, pricePerWh: 0n }] };
}

/** What the page shows for a check: every string and figure, computed without the DOM. */
export interface Report {
  readonly ok: boolean;
  readonly verdict: string;
  readonly summary: string;
  /** Problems with the bill as a whole (its period, currency, decryption, totals) and invalid records. */
  readonly problems: string[];
  readonly disagreements: { intervalStart: number; cells: [string, string, string] }[];
  /** The tariff's time zone, in which intervals and days are shown. */
  readonly timeZone: string;
  /** Per day of the tariff's zone, from the customer's own readings. */
  readonly days: { label: string; wh: bigint; cost: bigint; costText: string; intervals: number; bad: number }[];
  /** The tariff's currency, for the chart's cost axis. */
  readonly currency: string;
  readonly minorPerMajor: bigint;
  readonly verified: string[];
}

/** The page's text for a check of `bill` under `tariff`; never throws on what the bill holds. */
export function report(outcome: CheckOutcome, bill: Bill, tariff: Tariff, records: number): Report {
  const { check } = outcome;
  const zone = tariffTimeZone(tariff);
  const billed = formatMoney(check.billedTotal, bill.currency, bill.minorPerMajor);
  const expected = formatMoney(check.expectedTotal, tariff.currency, tariff.minorPerMajor);
  const verdict = outcome.ok
    ? `Your bill is right: ${billed}`
    : outcome.tariff === undefined
      ? `Your bill is wrong: billed ${billed}, and ${check.problems[0] ?? 'the bill carries no tariff signed by the privacy authority'}`
      : billed === expected
      ? `Your bill is wrong: it bills ${billed}, what your readings give, but fails the checks below`
      : `Your bill is wrong: billed ${billed}, your readings give ${expected}`;
  const period = `${formatTime(bill.from, zone)} to ${formatTime(bill.to, zone)} (${zone})`;
  const summary =
    `Period ${period}: ${check.lines.length} billed intervals, ${check.disagreements.length} disagreeing; ` +
    `energy ${formatMoney(check.expectedEnergyCharge, tariff.currency, tariff.minorPerMajor)} from your readings.`;
  const problems = [...check.problems, ...outcome.invalidRecords.map((r) => `record ${r.index + 1} is invalid (${r.reason}): ${r.detail}`)];
  const disagreements = check.disagreements.map((d) => ({
    intervalStart: d.intervalStart,
    cells: [formatTime(d.intervalStart, zone), d.reading === undefined ? '—' : `${d.reading} Wh`, REASONS[d.reason] ?? d.reason] as [string, string, string],
  }));
  const bad = new Set([...check.disagreements.map((d) => d.intervalStart), ...outcome.invalidRecords.flatMap((r) => r.intervals)]);
  const days = new Map<string, { wh: bigint; cost: bigint; intervals: number; bad: number }>();
  for (const line of check.lines) {
    const day = formatTime(line.intervalStart, zone, true);
    const d = days.get(day) ?? { wh: 0n, cost: 0n, intervals: 0, bad: 0 };
    d.wh += line.reading ?? 0n;
    d.cost += line.cost ?? 0n;
    d.intervals++;
    if (bad.has(line.intervalStart)) d.bad++;
    days.set(day, d);
  }
  const verified = [
    `${check.verifiedRecords} of ${records} records: meter signature, range proofs and proofs of equivalence`,
    `${check.lines.length - check.disagreements.length} of ${check.lines.length} billed intervals open to your readings`,
    check.problems.length === 0 ? 'the encrypted charge is the tariff-weighted sum of your records, and its decryption shares (DLEQ proofs) decrypt it to the billed charge' : 'the bill as a whole: see the problems above',
  ];
  return {
    ok: outcome.ok,
    verdict,
    summary,
    problems,
    disagreements,
    timeZone: zone,
    days: [...days].map(([label, d]) => ({ label, ...d, costText: formatMoney(d.cost, tariff.currency, tariff.minorPerMajor) })),
    currency: tariff.currency,
    minorPerMajor: tariff.minorPerMajor,
    verified,
  };
}

let chart: Chart | undefined;

/** An element holding `text` (as text, never as HTML), with an optional class. */
function element(tag: 'li' | 'td', text: string, className?: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  if (className !== undefined) e.className = className;
  return e;
}

function render(r: Report): void {
  const verdict = $('verdict');
  verdict.textContent = r.verdict;
  verdict.className = r.ok ? 'verdict-ok' : 'verdict-bad';
  $('summary').textContent = r.summary;
  $('problems').replaceChildren(...r.problems.map((p) => element('li', p)));
  for (const z of document.querySelectorAll('.time-zone')) z.textContent = r.timeZone;

  $('disagreements').querySelector('tbody')!.replaceChildren(
    ...r.disagreements.map((d) => {
      const tr = document.createElement('tr');
      tr.dataset.interval = String(d.intervalStart);
      tr.append(...d.cells.map((text) => element('td', text)));
      return tr;
    }),
  );
  $('disagreements-box').hidden = r.disagreements.length === 0;

  $('days').querySelector('tbody')!.replaceChildren(
    ...r.days.map((d) => {
      const tr = document.createElement('tr');
      if (d.bad > 0) tr.className = 'bad';
      const cells: [string, boolean][] = [
        [d.label, false],
        [(Number(d.wh) / 1000).toFixed(3), true],
        [d.costText, true],
        [String(d.intervals), true],
        [d.bad > 0 ? `${d.bad} disagree` : 'matches', false],
      ];
      tr.append(...cells.map(([text, num]) => element('td', text, num ? 'num' : undefined)));
      return tr;
    }),
  );

  // Unhide first: Chart.js sizes the canvas from its (visible) container.
  $('result').hidden = false;
  const kwh = (d: { wh: bigint }) => Number(d.wh) / 1000;
  chart?.destroy();
  chart = new Chart($<HTMLCanvasElement>('chart'), {
    data: {
      labels: r.days.map((d) => d.label),
      datasets: [
        { type: 'line', label: `Cost (${r.currency})`, data: r.days.map((d) => Number(d.cost) / Number(r.minorPerMajor)), borderColor: '#f58518', backgroundColor: '#f58518', yAxisID: 'cost', order: 0 },
        { type: 'bar', label: 'Energy (kWh)', data: r.days.map((d) => (d.bad > 0 ? null : kwh(d))), backgroundColor: '#4c78a8', yAxisID: 'energy', grouped: false, order: 1 },
        { type: 'bar', label: 'Energy (kWh), a day with a disagreeing interval', data: r.days.map((d) => (d.bad > 0 ? kwh(d) : null)), backgroundColor: '#d1495b', yAxisID: 'energy', grouped: false, order: 1 },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        energy: { type: 'linear', position: 'left', title: { display: true, text: 'kWh' }, beginAtZero: true },
        cost: { type: 'linear', position: 'right', title: { display: true, text: r.currency }, beginAtZero: true, grid: { drawOnChartArea: false } },
      },
    },
  });

  $('verified').replaceChildren(...r.verified.map((t) => element('li', t)));
  verdict.focus();
}

async function onSubmit(event: Event): Promise<void> {
  event.preventDefault();
  const button = $<HTMLButtonElement>('check-button');
  button.disabled = true;
  try {
    const exportJson = await readJsonFile($<HTMLInputElement>('export-file'), 'the meter export');
    if (exportJson === undefined) throw new CheckError('choose your meter export file first');
    const meter = parse('meter export', () => meterExportFromJson(exportJson));
    const billJson = (await readJsonFile($<HTMLInputElement>('bill-file'), 'the bill')) ?? (await billFromAddress?.());
    if (billJson === undefined) throw new CheckError(billFromAddress === undefined ? 'choose your bill file' : 'choose your bill file, or give its address');
    // The service's bill response also carries a human-readable "display" line: not part of the bill.
    const { display: _display, ...billFields } = billJson as Record<string, unknown>;
    const bill = parse('bill', () => billFromJson(billFields));
    const outcome = await runCheck(meter, bill);
    setStatus(outcome.ok ? 'Done: every check passed.' : 'Done: the bill does not pass the checks.');
    render(report(outcome, bill, shownTariff(outcome, bill), meter.records.length));
  } catch (e) {
    $('result').hidden = true;
    if (e instanceof CheckError || e instanceof ZkmeterError) setStatus(e.message, true);
    else {
      setStatus('Something went wrong while checking; see the browser console.', true);
      console.error(e);
    }
  } finally {
    button.disabled = false;
  }
}

// Outside a page (node tests import `report` and `formatTime`) there is no form to wire.
if (typeof document !== 'undefined') $('check-form').addEventListener('submit', (e) => void onSubmit(e));
