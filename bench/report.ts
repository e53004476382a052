/**
 * The benchmark report: one run's {@link BenchResults} rendered into a directory as
 * `results.json`, SVG plots (vega-lite compiled to vega, rendered by vega's headless SVG
 * renderer) and a Markdown summary `README.md`; optionally a PNG beside each SVG
 * (@resvg/resvg-js).
 *
 * vega, vega-lite and @resvg/resvg-js are devDependencies of the benchmark only: they are
 * loaded with dynamic `import()` when a report is written, never when this module is loaded.
 *
 * Units: times are milliseconds (ms), sizes bytes, rates readings per second, as in
 * bench/results.ts.
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Legend as VgLegend, LoggerInterface, Spec as VgSpec } from 'vega';
import type { Config, TopLevelSpec } from 'vega-lite';
import {
  FORGERY_CLASSES,
  IMPLEMENTATIONS,
  type BenchResults,
  type ForgeryClass,
  type ImplementationId,
  type Operation,
  type ResultRow,
  type SoundnessRow,
} from './results.js';

// ---------------------------------------------------------------------------------------------
// Number formatting

const SIG3 = new Intl.NumberFormat('en-US', { minimumSignificantDigits: 3, maximumSignificantDigits: 3 });
const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A time in ms to 3 significant figures (0.0123, 1.23, 12.3, 123), whole ms with separators from 1,000 up. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  return Math.abs(ms) >= 1000 ? INT.format(ms) : SIG3.format(ms);
}

/** A size in bytes as an integer with thousands separators. */
export function formatBytes(bytes: number): string {
  return INT.format(bytes);
}

/** A count or rate (e.g. readings per second): 3 significant figures below 1,000, else an integer with separators. */
export function formatCount(x: number): string {
  return formatMs(x);
}

/** Any figure: integers with thousands separators, other numbers to 3 significant figures (as {@link formatMs}). */
export function formatNumber(x: number): string {
  return Number.isInteger(x) ? INT.format(x) : formatMs(x);
}

/** A ratio to 3 significant figures with a trailing ×. */
export function formatRatio(x: number): string {
  return `${formatMs(x)}×`;
}

/** A duration in seconds as "42.0 s", "12 min 3 s" or "1 h 2 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${SIG3.format(seconds)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${min} min` : `${min} min ${s % 60} s`;
}

// ---------------------------------------------------------------------------------------------
// Rows

/** Appended to the name of an implementation whose figures were not measured in this run (plots). */
const REFERENCE_SUFFIX = ' (reference, not measured in this run)';

/** Order of implementations in tables and legends: bench/results.ts's. */
const IMPL_ORDER = Object.keys(IMPLEMENTATIONS) as ImplementationId[];

/** One colour per implementation, the same in every plot (Tableau 10). */
const IMPL_COLOR: Record<ImplementationId, string> = {
  native: '#4c78a8',
  js: '#f58518',
  bulletproofjs: '#e45756',
  borromean: '#54a24b',
  naive: '#b279a2',
  secp256k1zkpC: '#72b7b2',
  dalek: '#9d755d',
  poc: '#b8860b',
};

/** An implementation as measured in this run, or as a reference. */
interface Column {
  impl: ImplementationId;
  reference: boolean;
}

const isReference = (r: { reference?: boolean }): boolean => r.reference === true;

/** The values aggregated in a range proof row (1 when not given). */
const mOf = (r: ResultRow): number => r.m ?? 1;

/** The bit length of a range proof row (64 when not given). */
const bitsOf = (r: ResultRow): number => r.bits ?? 64;

/** Stable key of a column. */
const columnKey = (c: Column): string => `${c.impl}${c.reference ? ':ref' : ''}`;

/** Compare columns: measured before reference, then in IMPLEMENTATIONS order. */
function compareColumns(a: Column, b: Column): number {
  return Number(a.reference) - Number(b.reference) || IMPL_ORDER.indexOf(a.impl) - IMPL_ORDER.indexOf(b.impl);
}

/** The distinct columns of some rows, in report order. */
function columnsOf(rows: readonly ResultRow[]): Column[] {
  const seen = new Map<string, Column>();
  for (const r of rows) {
    const c = { impl: r.impl, reference: isReference(r) };
    seen.set(columnKey(c), c);
  }
  return [...seen.values()].sort(compareColumns);
}

/** An implementation's display name, with "(reference)" for figures not measured here. */
function columnName(c: Column): string {
  return IMPLEMENTATIONS[c.impl] + (c.reference ? ' (reference)' : '');
}

/** The first row of `rows` for a column that matches `pred`. */
function findRow(rows: readonly ResultRow[], c: Column, pred: (r: ResultRow) => boolean): ResultRow | undefined {
  return rows.find((r) => r.impl === c.impl && isReference(r) === c.reference && pred(r));
}

/** Rows of one operation. */
const rowsOf = (results: BenchResults, op: Operation): ResultRow[] => results.rows.filter((r) => r.op === op);

const isFinitePositive = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x) && x > 0;

// ---------------------------------------------------------------------------------------------
// Markdown

/** A Markdown table cell: pipes escaped, newlines flattened. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown table; `align` per column, 'r' right-aligned (numbers), 'l' left. */
function mdTable(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `|${headers.map((_, i) => (align?.[i] === 'r' ? '---:' : '---')).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** Distinct notes of some rows, joined. */
function notesOf(rows: readonly (ResultRow | undefined)[]): string {
  const notes = rows.map((r) => r?.note).filter((n): n is string => n !== undefined && n !== '');
  return [...new Set(notes)].join('; ');
}

const DASH = '—';
const msCell = (r: ResultRow | undefined): string => (r?.ms === undefined ? DASH : formatMs(r.ms));
const bytesCell = (r: ResultRow | undefined): string => (r?.bytes === undefined ? DASH : formatBytes(r.bytes));

// ---------------------------------------------------------------------------------------------
// The headline table

/** Per column: the batch-verification row with the largest batch (ms per proof). */
function largestBatchRow(results: BenchResults, c: Column): ResultRow | undefined {
  let best: ResultRow | undefined;
  for (const r of rowsOf(results, 'rangeBatchVerify')) {
    if (r.impl !== c.impl || isReference(r) !== c.reference || bitsOf(r) !== 64 || mOf(r) !== 1 || r.ms === undefined) continue;
    if (!best || (r.batch ?? 1) > (best.batch ?? 1)) best = r;
  }
  return best;
}

/** 64-bit, m = 1 rows of an operation, for a column. */
function headlineRow(results: BenchResults, c: Column, op: Operation): ResultRow | undefined {
  return findRow(rowsOf(results, op), c, (r) => bitsOf(r) === 64 && mOf(r) === 1);
}

/** Verify ms, 64-bit, m = 1, measured in this run. */
function measuredVerifyMs(results: BenchResults, impl: ImplementationId): number | undefined {
  const ms = headlineRow(results, { impl, reference: false }, 'rangeVerify')?.ms;
  return isFinitePositive(ms) ? ms : undefined;
}

/** The sentence of ratios under the headline table: native verification against the others, measured rows only. */
function ratioLine(results: BenchResults): string | undefined {
  const native = measuredVerifyMs(results, 'native');
  if (native === undefined) return undefined;
  const parts: string[] = [];
  // Against C: the head-to-head line below (alternating rounds), not these separate processes.
  for (const other of ['js', 'bulletproofjs', 'borromean'] as const) {
    const ms = measuredVerifyMs(results, other);
    if (ms === undefined) continue;
    const ratio = ms / native;
    parts.push(ratio >= 1 ? `**${formatRatio(ratio)}** faster than ${IMPLEMENTATIONS[other]}` : `**${formatRatio(1 / ratio)}** slower than ${IMPLEMENTATIONS[other]}`);
  }
  if (parts.length === 0) return undefined;
  const lines = [`Verification of one 64-bit proof, ${IMPLEMENTATIONS.native}: ${parts.join(', ')} (both figures of each ratio measured in this run).`];
  const c = results.metrics;
  const against = [
    ['prove', 'prove'],
    ['verify', 'verify'],
    ['batch', `batch verification of ${formatCount(c['h2h.batch.size'] ?? 0)} proofs, per proof`],
  ] as const;
  const cParts = against
    .filter(([op]) => isFinitePositive(c[`native.rp64.${op}.overSecp256k1zkpC`]))
    .map(([op, what]) => {
      const r = (k: string) => formatRatio(c[`native.rp64.${op}.overSecp256k1zkpC${k}`]!);
      return `${what} **${r('')}** its time (${r('.min')}–${r('.max')})`;
    });
  if (cParts.length > 0) {
    lines.push(
      `Head to head with the ${IMPLEMENTATIONS.secp256k1zkpC}, in ${c['h2h.rounds']} alternating rounds in this run (median of the per-round ratios, their range in brackets; below 1× is faster), ${IMPLEMENTATIONS.native}: ${cParts.join(', ')}.`,
    );
  }
  return lines.join('\n\n');
}

/**
 * The headline table in Markdown: 64-bit, m = 1 prove (ms), verify (ms), batch verification
 * per proof at the largest batch present (ms) and proof size (bytes), one column per
 * implementation with any of these rows (references in their own columns, marked), "—" where
 * missing; then a sentence of native verification speed-ups whose two figures were both
 * measured in this run.
 */
export function headlineTable(results: BenchResults): string {
  const ops: Operation[] = ['rangeProve', 'rangeVerify', 'rangeBatchVerify', 'rangeProofSize'];
  const candidates = results.rows.filter((r) => ops.includes(r.op) && bitsOf(r) === 64 && mOf(r) === 1);
  const columns = columnsOf(candidates);
  if (columns.length === 0) return '_No 64-bit range proof figures in this run._';
  const batches = columns.map((c) => largestBatchRow(results, c));
  const sizes = new Set(batches.filter((r) => r !== undefined).map((r) => r.batch ?? 1));
  const commonBatch = sizes.size === 1 ? [...sizes][0] : undefined;
  const batchLabel = commonBatch !== undefined ? `batch verify, per proof, batch of ${formatBytes(commonBatch)} (ms)` : 'batch verify, per proof, largest batch (ms)';
  const batchCell = (r: ResultRow | undefined) => (r === undefined ? DASH : commonBatch !== undefined ? msCell(r) : `${msCell(r)} (batch ${formatBytes(r.batch ?? 1)})`);
  const body = [
    ['prove (ms)', ...columns.map((c) => msCell(headlineRow(results, c, 'rangeProve')))],
    ['verify (ms)', ...columns.map((c) => msCell(headlineRow(results, c, 'rangeVerify')))],
    [batchLabel, ...batches.map(batchCell)],
    ['proof size (bytes)', ...columns.map((c) => bytesCell(headlineRow(results, c, 'rangeProofSize')))],
  ].filter((row) => row.slice(1).some((x) => x !== DASH));
  const table = mdTable(['64-bit, m = 1', ...columns.map(columnName)], body, ['l', ...columns.map(() => 'r' as const)]);
  const ratios = ratioLine(results);
  return ratios ? `${table}\n\n${ratios}` : table;
}

// ---------------------------------------------------------------------------------------------
// Soundness

/** Short column titles of the forgery classes (their descriptions go under the table). */
const FORGERY_TITLES: Record<ForgeryClass, string> = {
  wrongCommitment: 'wrong commitment',
  knownLogH: 'known log_G(H)',
  replayedChallenges: 'replayed challenges',
};

const FORGERIES = Object.keys(FORGERY_CLASSES) as ForgeryClass[];

/** A soundness outcome as a table cell. */
function outcomeCell(row: SoundnessRow | undefined): string {
  if (!row) return DASH;
  return row.outcome === 'accepted' ? 'accepted ⚠️' : row.outcome === 'rejected' ? 'rejected' : 'n/a';
}

/** The soundness section's body: table, column explanations, and how each forgery was built. */
function soundnessSection(soundness: readonly SoundnessRow[]): string {
  if (soundness.length === 0) return '_No soundness checks in this run._';
  const impls = IMPL_ORDER.filter((i) => soundness.some((s) => s.impl === i));
  const table = mdTable(
    ['implementation', ...FORGERIES.map((f) => FORGERY_TITLES[f])],
    impls.map((i) => [IMPLEMENTATIONS[i], ...FORGERIES.map((f) => outcomeCell(soundness.find((s) => s.impl === i && s.forgery === f)))]),
  );
  const legend = FORGERIES.map((f) => `- **${FORGERY_TITLES[f]}**: ${FORGERY_CLASSES[f]}.`).join('\n');
  const how = impls
    .flatMap((i) => FORGERIES.flatMap((f) => soundness.filter((s) => s.impl === i && s.forgery === f)))
    .map((s) => `- ${IMPLEMENTATIONS[s.impl]}, ${FORGERY_TITLES[s.forgery]} (${outcomeCell(s)}): ${s.how}`)
    .join('\n');
  return `${table}\n\nColumns, the forgery classes:\n\n${legend}\n\nHow each forgery was built:\n\n${how}`;
}

// ---------------------------------------------------------------------------------------------
// Detailed tables

/** Rows grouped by a key, in first-seen order. */
function groupBy<T>(items: readonly T[], key: (x: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const g = groups.get(k);
    if (g) g.push(x);
    else groups.set(k, [x]);
  }
  return [...groups.values()];
}

/** Sort rows: measured first, in IMPLEMENTATIONS order, then by the given numeric fields. */
function sortRows(rows: readonly ResultRow[], ...fields: ((r: ResultRow) => number)[]): ResultRow[] {
  return [...rows].sort((a, b) => {
    const c = compareColumns({ impl: a.impl, reference: isReference(a) }, { impl: b.impl, reference: isReference(b) });
    if (c !== 0) return c;
    for (const f of fields) {
      const d = f(a) - f(b);
      if (d !== 0) return d;
    }
    return 0;
  });
}

const implCell = (r: ResultRow): string => columnName({ impl: r.impl, reference: isReference(r) });
const colKeyOf = (r: ResultRow): string => columnKey({ impl: r.impl, reference: isReference(r) });

/** Range proofs, prove and verify, per bits × m. */
function rangeTable(results: BenchResults): string | undefined {
  const rows = sortRows([...rowsOf(results, 'rangeProve'), ...rowsOf(results, 'rangeVerify')], bitsOf, mOf);
  if (rows.length === 0) return undefined;
  const groups = groupBy(rows, (r) => `${colKeyOf(r)}|${bitsOf(r)}|${mOf(r)}`);
  return mdTable(
    ['implementation', 'bits', 'm', 'prove (ms)', 'verify (ms)', 'notes'],
    groups.map((g) => {
      const first = g[0]!;
      const prove = g.find((r) => r.op === 'rangeProve');
      const verify = g.find((r) => r.op === 'rangeVerify');
      return [implCell(first), String(bitsOf(first)), formatBytes(mOf(first)), msCell(prove), msCell(verify), notesOf([prove, verify])];
    }),
    ['l', 'r', 'r', 'r', 'r', 'l'],
  );
}

/** Batch verification, per proof, per batch size. */
function batchTable(results: BenchResults): string | undefined {
  const rows = sortRows(rowsOf(results, 'rangeBatchVerify'), bitsOf, (r) => r.batch ?? 1);
  if (rows.length === 0) return undefined;
  return mdTable(
    ['implementation', 'bits', 'batch', 'per proof (ms)', 'whole batch (ms)', 'notes'],
    rows.map((r) => [implCell(r), String(bitsOf(r)), formatBytes(r.batch ?? 1), msCell(r), r.ms === undefined ? DASH : formatMs(r.ms * (r.batch ?? 1)), notesOf([r])]),
    ['l', 'r', 'r', 'r', 'r', 'l'],
  );
}

/** Proof sizes per bits × m. */
function sizeTable(results: BenchResults): string | undefined {
  const rows = sortRows(rowsOf(results, 'rangeProofSize'), bitsOf, mOf);
  if (rows.length === 0) return undefined;
  return mdTable(
    ['implementation', 'bits', 'm', 'bytes', 'bytes per value', 'notes'],
    rows.map((r) => [implCell(r), String(bitsOf(r)), formatBytes(mOf(r)), bytesCell(r), r.bytes === undefined ? DASH : formatBytes(r.bytes / mOf(r)), notesOf([r])]),
    ['l', 'r', 'r', 'r', 'r', 'l'],
  );
}

/** ElGamal encryption and decryption per magnitude. */
function elgamalTable(results: BenchResults): string | undefined {
  const rows = sortRows([...rowsOf(results, 'elgamalEncrypt'), ...rowsOf(results, 'elgamalDecrypt')], (r) => r.magnitude ?? 0);
  if (rows.length === 0) return undefined;
  const groups = groupBy(rows, (r) => `${colKeyOf(r)}|${r.magnitude ?? ''}`);
  return mdTable(
    ['implementation', 'magnitude', 'encrypt (ms)', 'decrypt (ms)', 'notes'],
    groups.map((g) => {
      const first = g[0]!;
      const enc = g.find((r) => r.op === 'elgamalEncrypt');
      const dec = g.find((r) => r.op === 'elgamalDecrypt');
      return [implCell(first), first.magnitude === undefined ? DASH : formatBytes(first.magnitude), msCell(enc), msCell(dec), notesOf([enc, dec])];
    }),
    ['l', 'r', 'r', 'r', 'l'],
  );
}

const ZKPE_OPS: Partial<Record<Operation, string>> = { zkpeProve: 'prove', zkpeVerify: 'verify', zkpeBatchVerify: 'batch verify, per proof' };

/** Proofs of equivalence: prove, verify, batch verification per proof. */
function zkpeTable(results: BenchResults): string | undefined {
  const order = Object.keys(ZKPE_OPS);
  const rows = sortRows(results.rows.filter((r) => r.op in ZKPE_OPS), (r) => order.indexOf(r.op), (r) => (r.m ?? 1) * 1e6 + (r.batch ?? 1));
  if (rows.length === 0) return undefined;
  const count = (x: number | undefined) => (x === undefined ? DASH : formatBytes(x));
  return mdTable(
    ['implementation', 'operation', 'pairs per proof', 'batch', 'proof bytes', 'ms (per proof)', 'notes'],
    rows.map((r) => [implCell(r), ZKPE_OPS[r.op] ?? r.op, count(r.m), count(r.batch), count(r.bytes), msCell(r), notesOf([r])]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'l'],
  );
}

/** End-to-end verified readings per second, per record mode. */
function e2eTable(results: BenchResults): string | undefined {
  const rows = sortRows(rowsOf(results, 'e2eReadings'));
  if (rows.length === 0) return undefined;
  return mdTable(
    ['implementation', 'record mode', 'readings per second', 'notes'],
    rows.map((r) => [implCell(r), r.mode ?? DASH, r.perSec === undefined ? DASH : formatCount(r.perSec), notesOf([r])]),
    ['l', 'l', 'r', 'l'],
  );
}

/** The detailed tables, each under its heading; operations without rows are left out. */
function detailedSection(results: BenchResults): string {
  const parts: [string, string | undefined][] = [
    ['Range proofs: prove and verify', rangeTable(results)],
    ['Range proofs: batch verification', batchTable(results)],
    ['Range proofs: sizes', sizeTable(results)],
    ['EC ElGamal: encryption and decryption', elgamalTable(results)],
    ['Proofs of equivalence (ZKPe)', zkpeTable(results)],
    ['End to end: verified readings per second', e2eTable(results)],
  ];
  const present = parts.filter((p): p is [string, string] => p[1] !== undefined);
  if (present.length === 0) return '_No rows in this run._';
  return present.map(([h, t]) => `### ${h}\n\n${t}`).join('\n\n');
}

// ---------------------------------------------------------------------------------------------
// Reference figures and the rest of the summary

const OP_NAMES: Record<Operation, string> = {
  rangeProve: 'range proof, prove',
  rangeVerify: 'range proof, verify',
  rangeBatchVerify: 'range proof, batch verification per proof',
  rangeProofSize: 'range proof size',
  elgamalEncrypt: 'ElGamal encryption',
  elgamalDecrypt: 'ElGamal decryption',
  zkpeProve: 'ZKPe prove',
  zkpeVerify: 'ZKPe verify',
  zkpeBatchVerify: 'ZKPe batch verification per proof',
  e2eReadings: 'end-to-end verified readings',
};

/** One row in words: "range proof, verify, 64-bit, m = 1: 1.23 ms". */
function describeRow(r: ResultRow): string {
  const params = [
    r.bits !== undefined ? `${r.bits}-bit` : undefined,
    r.m !== undefined ? `m = ${formatBytes(r.m)}` : undefined,
    r.batch !== undefined ? `batch ${formatBytes(r.batch)}` : undefined,
    r.magnitude !== undefined ? `magnitude ${formatBytes(r.magnitude)}` : undefined,
    r.mode !== undefined ? `${r.mode} mode` : undefined,
  ].filter((p) => p !== undefined);
  const values = [
    r.ms !== undefined ? `${formatMs(r.ms)} ms` : undefined,
    r.bytes !== undefined ? `${formatBytes(r.bytes)} bytes` : undefined,
    r.perSec !== undefined ? `${formatCount(r.perSec)} per second` : undefined,
  ].filter((v) => v !== undefined);
  return `${[OP_NAMES[r.op], ...params].join(', ')}: ${values.join(', ') || DASH}`;
}

/** Every reference row and every entry of `results.reference`, with their sources. */
function referenceSection(results: BenchResults): string {
  const rows = sortRows(results.rows.filter(isReference), (r) => IMPL_ORDER.indexOf(r.impl), (r) => Object.keys(OP_NAMES).indexOf(r.op), bitsOf, mOf, (r) => r.batch ?? 0, (r) => r.magnitude ?? 0);
  const lines = rows.map((r) => `- ${IMPLEMENTATIONS[r.impl]}: ${describeRow(r)}${r.note ? ` (${r.note})` : ''}. Source: ${r.source ?? 'not given'}.`);
  const entries = Object.entries(results.reference);
  const out: string[] = [];
  if (lines.length > 0) out.push('Reference rows (hollow points in the plots):', '', ...lines);
  if (entries.length > 0) {
    if (out.length > 0) out.push('');
    out.push('Other reference figures of the run (`reference` in results.json):', '', ...entries.map(([k, v]) => `- \`${k}\`: ${typeof v === 'number' ? formatNumber(v) : v}`));
  }
  return out.length > 0 ? out.join('\n') : '_None._';
}

/** The machine and run, as a two-column table. */
function machineSection(results: BenchResults): string {
  const m = results.machine;
  return mdTable(
    ['', ''],
    [
      ['CPU', m.cpu],
      ['cores', String(m.cores)],
      ['memory', `${SIG3.format(m.memoryGiB)} GiB`],
      ['Node.js', m.node],
      ['platform', m.platform],
      ['zkmeter', m.zkmeter],
      ['mode', m.mode],
      ['end-to-end record mode', m.e2eRecordMode],
      ['started', results.startedAt],
      ['duration', formatDuration(results.durationSeconds)],
    ],
  );
}

/** Every flat metric of the run, folded. */
function metricsSection(results: BenchResults): string | undefined {
  const entries = Object.entries(results.metrics).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return undefined;
  return `<details><summary>All ${entries.length} flat metrics of this run (SPEC.md's names)</summary>\n\n${mdTable(
    ['metric', 'value'],
    entries.map(([k, v]) => [`\`${k}\``, formatNumber(v)]),
    ['l', 'r'],
  )}\n\n</details>`;
}

/** A plot as written: its file, title and what it shows. */
interface WrittenPlot {
  file: string;
  title: string;
  caption: string;
}

/** The Markdown summary of a run, with the plots that were written. */
/** The method, as the bench implements it (lib/cli/bench.ts and the bench/ workers). */
const METHOD = [
  '- **One process per backend and per peer**, run one after the other on an otherwise idle machine: zkmeter native, zkmeter pure-TS, the JavaScript and WASM peers, and the C harness each get both cores to themselves.',
  "- **Medians.** Each time is the median of repeated runs after one warm-up run (JIT, lazily built tables), at least three runs or a time budget, whichever is longer; the slowest operations (pure-TS and bulletproof-js proving, brute-force decryption of large values) run once or twice after the warm-up. Single and batch verification, and verification and the bare MSM, are timed in alternating rounds so that drift in machine load hits both sides of a ratio alike.",
  '- **Same statements.** Range proofs prove random values of the stated bit length, from 0 (one-sided), with random blindings; a batch cycles through distinct proofs. ElGamal decrypts exactly the stated value, with the baby-step table (2^18 entries) built once beforehand.',
  '- **Peers as shipped.** bulletproof-js 1.0.7 and @vulpemventures/secp256k1-zkp 3.2.1 are called through their public APIs (bench/peers/). The C secp256k1-zkp Bulletproofs (the Grin fork, from the npm package secp256k1-zkp@1.0.2, integrity-checked) are compiled at bench time with the flags of zkmeter\'s own addon (-O3, no -march=native) and timed by zkmeter\'s harness (bench/peers/secp256k1-zkp-c/harness.c). The naive ElGamal is written here, after the earlier proof of concept.',
  '- **Head to head with C.** Columns measured in separate processes minutes apart drift with the load of a shared VM, so the ratios against the C secp256k1-zkp Bulletproofs come from bench/headtohead.ts instead: five alternating rounds in one worker (the C harness, then zkmeter, then the other way round), each ratio the median of the per-round ratios, with their range.',
  '- **Sizes** are the bytes of the proof as each implementation serializes it; bulletproof-js has only a JSON form, so its proof elements are counted at 33 bytes per point and 32 per scalar. Without aggregation, m values take m proofs.',
  '- **Soundness** forgeries are built and checked by bench/soundness.ts against each verifier as shipped; test/soundness.test.ts asserts the same outcomes in CI.',
].join('\n');

export function summaryMarkdown(results: BenchResults, plots: readonly WrittenPlot[]): string {
  const m = results.machine;
  const sections = [
    `# zkmeter benchmark report`,
    `One run of \`zkmeter bench\` (${m.mode} mode) on ${m.cpu}, ${m.cores} cores, started ${results.startedAt}, ${formatDuration(results.durationSeconds)}. Every figure was measured in this run unless marked as a reference.`,
    `## Machine\n\n${machineSection(results)}`,
    `## Headline: 64-bit range proofs, m = 1\n\n${headlineTable(results)}`,
    `## Soundness: forged proofs against each verifier\n\n${soundnessSection(results.soundness)}`,
  ];
  if (plots.length > 0) sections.push(`## Plots\n\n${plots.map((p) => `![${p.title}](${p.file})\n\n${p.caption}`).join('\n\n')}`);
  sections.push(`## How it was measured\n\n${METHOD}`);
  sections.push(`## Detailed results\n\n${detailedSection(results)}`);
  sections.push(`## Reference figures (not measured in this run)\n\n${referenceSection(results)}`);
  if (results.skipped.length > 0) sections.push(`## Skipped\n\n${results.skipped.map((s) => `- ${s}`).join('\n')}`);
  const metrics = metricsSection(results);
  if (metrics) sections.push(`## Metrics\n\n${metrics}`);
  return sections.join('\n\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Plots: vega-lite specifications

/** One plotted point. `x`, `y` in the plot's units; `series` the legend label. */
interface Point {
  x: number;
  y: number;
  impl: ImplementationId;
  reference: boolean;
  series: string;
  /** A second grouping (the operation, in the prove/verify plot). */
  group?: string;
}

/** The legend label of an implementation: its display name, plus the reference suffix. */
function seriesLabel(impl: ImplementationId, reference: boolean): string {
  return IMPLEMENTATIONS[impl] + (reference ? REFERENCE_SUFFIX : '');
}

/** A point of a row, when both coordinates are positive (log scales). */
function toPoint(r: ResultRow, x: number | undefined, y: number | undefined, group?: string): Point | undefined {
  if (!isFinitePositive(x) || !isFinitePositive(y)) return undefined;
  const reference = isReference(r);
  return { x, y, impl: r.impl, reference, series: seriesLabel(r.impl, reference), ...(group !== undefined ? { group } : {}) };
}

/** A legend entry: its label, implementation and whether it is a reference. */
interface Series extends Column {
  label: string;
}

/** Distinct series of some points, measured first then references, in IMPLEMENTATIONS order. */
function seriesOf(points: readonly Point[]): Series[] {
  const seen = new Map<string, Series>();
  for (const p of points) if (!seen.has(p.series)) seen.set(p.series, { label: p.series, impl: p.impl, reference: p.reference });
  return [...seen.values()].sort(compareColumns);
}

/**
 * Series with identical points (same x, y and group throughout) drawn as one, labelled with
 * all their names: otherwise the line drawn last would hide the others entirely (e.g. the
 * native and pure-TS backends make the same proof bytes).
 */
function mergeIdenticalSeries(points: readonly Point[]): Point[] {
  const bySeries = groupBy(points, (p) => p.series).sort((a, b) => compareColumns(a[0]!, b[0]!));
  const signature = (ps: Point[]) => `${ps[0]!.reference}|${ps.map((p) => `${p.group ?? ''}:${p.x}:${p.y}`).sort().join(',')}`;
  return groupBy(bySeries, signature).flatMap((same) => {
    const first = same[0]!;
    if (same.length === 1) return first;
    const names = same.map((ps) => IMPLEMENTATIONS[ps[0]!.impl]).join(', ');
    const label = `${names} (identical figures)${first[0]!.reference ? REFERENCE_SUFFIX : ''}`;
    return first.map((p) => ({ ...p, series: label }));
  });
}

/** The largest of 1, 2, 5 × 10^k at or below `x` (`up` false), or the smallest at or above it (`up` true). */
function nice125(x: number, up: boolean): number {
  const e = Math.floor(Math.log10(x));
  const steps = [1, 2, 5, 10].map((k) => Number((k * 10 ** e).toPrecision(12)));
  const fit = up ? steps.find((t) => t >= x * (1 - 1e-9)) : [...steps].reverse().find((t) => t <= x * (1 + 1e-9));
  return fit ?? x;
}

/**
 * Tick values of a base-10 log axis inside [lo, hi]: the powers of 10, with 2 and 5 times them
 * when the range spans at most two decades or holds fewer than two powers.
 */
export function log10Ticks(lo: number, hi: number): number[] {
  const inside = (t: number) => t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9);
  const candidates = (mults: number[]) => {
    const ticks: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const k of mults) ticks.push(Number((k * 10 ** e).toPrecision(12)));
    return ticks.filter(inside);
  };
  const powers = candidates([1]);
  return Math.log10(hi / lo) <= 2 || powers.length < 2 ? candidates([1, 2, 5]) : powers;
}

/**
 * A base-10 log axis. The y axis (`pad` false) spans the data with a little headroom, rounded
 * out to 1, 2 or 5 × 10^k, and labels its two ends; the x axis (`pad` true) spans the data
 * widened by a seventh of a decade on each side, so that end points are off the frame.
 */
function log10Axis(values: readonly number[], pad: boolean): { domain: [number, number]; values: number[] } {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const k = 10 ** (1 / 7);
  let domain: [number, number] = pad ? [min / k, max * k] : [nice125(min / 1.15, false), nice125(max * 1.15, true)];
  if (!pad && domain[1] / domain[0] < 10) {
    // At least a decade, around the data's geometric centre.
    const centre = Math.sqrt(min * max);
    domain = [nice125(centre / Math.sqrt(10), false), nice125(centre * Math.sqrt(10), true)];
  }
  const ticks = log10Ticks(domain[0], domain[1]);
  if (!pad) {
    // Label the ends too, unless a tick is already within half a decade of them (the labels would touch).
    const near = (a: number, b: number) => Math.abs(Math.log10(a / b)) < 0.45;
    if (!ticks.some((t) => near(t, domain[0]))) ticks.unshift(domain[0]);
    if (!ticks.some((t) => near(t, domain[1]))) ticks.push(domain[1]);
  }
  return { domain, values: ticks.length >= 2 ? ticks : [...new Set(values)].sort((x, y) => x - y) };
}

/** Tick values of a base-2 log axis over [min, max]: powers of 2, every second or fourth one on long ranges (at most 11). */
export function log2Ticks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log2(min) + 1e-9);
  const hi = Math.ceil(Math.log2(max) - 1e-9);
  const step = Math.max(1, Math.ceil((hi - lo + 1) / 11));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e += step) ticks.push(2 ** e);
  return ticks;
}

/** A base-2 log axis: ticks at powers of 2, the domain the data's padded by a quarter octave. */
function log2Axis(values: readonly number[]): { domain: [number, number]; values: number[] } {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const pad = 2 ** 0.25;
  const domain: [number, number] = [min / pad, max * pad];
  const ticks = log2Ticks(min, max).filter((t) => t >= domain[0] && t <= domain[1]);
  return { domain, values: ticks.length >= 2 ? ticks : [...new Set(values)].sort((a, b) => a - b) };
}

/** vega-lite's layered top-level spec, one layer of it, and a layer's encoding (derived from the exported TopLevelSpec). */
type LayeredSpec = Extract<TopLevelSpec, { layer: unknown }>;
type Layer = Extract<LayeredSpec['layer'][number], { mark: unknown }>;
type LayerEncoding = NonNullable<Layer['encoding']>;
type PositionEncoding = NonNullable<LayerEncoding['x']>;
type ColorEncoding = NonNullable<LayerEncoding['color']>;

/** How an axis is scaled and labelled. */
interface AxisDef {
  title: string;
  /** 'log2': ticks at powers of 2; 'log10': ticks at powers of 10 (and 2, 5 times them on short ranges). */
  scale: 'log2' | 'log10';
  /** d3-format of the labels, or a vega expression of `datum.value` (labelExpr). */
  format?: string;
  labelExpr?: string;
}

/** The vega-lite encoding of one axis. */
function axisEncoding(field: 'x' | 'y', def: AxisDef, values: readonly number[]): PositionEncoding {
  const a = def.scale === 'log2' ? log2Axis(values) : log10Axis(values, field === 'x');
  return {
    field,
    type: 'quantitative',
    title: def.title,
    scale: { type: 'log', base: def.scale === 'log2' ? 2 : 10, domain: a.domain, nice: false },
    axis: {
      values: a.values,
      format: def.format ?? ',~g',
      ...(def.labelExpr ? { labelExpr: def.labelExpr } : {}),
      grid: true,
      labelOverlap: true,
    },
  };
}

/**
 * Fonts of the plots: common sans-serif families, then the generic one. resvg maps the generic
 * "sans-serif" to Arial and, where Arial is missing (most Linux systems), falls back to a serif
 * font; the list lets it find DejaVu or Liberation Sans there, and Helvetica or Arial elsewhere.
 */
const FONT = 'Helvetica, Arial, DejaVu Sans, Liberation Sans, sans-serif';

/** The plot's shared configuration: fonts, sizes, and the legend below the plot. */
const CONFIG: Config = {
  font: FONT,
  title: { fontSize: 15, subtitleFontSize: 12, anchor: 'start', offset: 10, subtitleColor: '#555' },
  axis: { labelFontSize: 11, titleFontSize: 12, titlePadding: 8, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 1000, orient: 'bottom', direction: 'vertical', columns: 1, symbolSize: 80 },
  view: { stroke: '#ccc' },
  point: { opacity: 1 },
};

const WIDTH = 620;
const HEIGHT = 340;

/**
 * Point layers: reference points first, hollow and larger, so that a measured point at the
 * same place shows inside the ring; measured points filled, on top.
 */
function pointLayers(encoding: LayerEncoding = {}): Layer[] {
  return [
    { transform: [{ filter: 'datum.reference' }], mark: { type: 'point', filled: false, fill: 'white', size: 130, strokeWidth: 2 }, encoding },
    { transform: [{ filter: '!datum.reference' }], mark: { type: 'point', filled: true, size: 55 }, encoding },
  ];
}

/** A vega legend with the series scale "color" (fill or stroke). */
function isColorLegend(l: VgLegend): boolean {
  return l.fill === 'color' || l.stroke === 'color';
}

/**
 * Styles the legend symbols on the compiled vega spec, where vega-lite left them: it merges the
 * legends of the filled and hollow point layers, and drops symbol fills and strokes given in
 * the vega-lite spec. Implementation legends: reference series hollow (white fill where the
 * label carries the reference suffix), the series colour otherwise. Other legends (the
 * operation's shape and dash): dark outlines on white.
 */
function styleLegends(spec: VgSpec): void {
  const test = `indexof(datum.value, ${JSON.stringify(REFERENCE_SUFFIX)}) >= 0`;
  for (const legend of spec.legends ?? []) {
    const encode = (legend.encode ??= {});
    const symbols = (encode.symbols ??= {});
    symbols.update = isColorLegend(legend)
      ? {
          ...symbols.update,
          fill: [{ test, value: 'white' }, { scale: 'color', field: 'value' }],
          stroke: { scale: 'color', field: 'value' },
          strokeWidth: { value: 2 },
          opacity: { value: 1 },
        }
      : { ...symbols.update, fill: { value: 'white' }, stroke: { value: '#444' }, strokeWidth: { value: 1.5 }, opacity: { value: 1 } };
  }
}

/** The colour encoding of the implementation series of some points. */
function colorEncoding(points: readonly Point[]): ColorEncoding {
  const series = seriesOf(points);
  return {
    field: 'series',
    type: 'nominal',
    title: 'Implementation',
    scale: { domain: series.map((c) => c.label), range: series.map((c) => IMPL_COLOR[c.impl]) },
  };
}

/** What one line plot shows. */
interface LinePlot {
  title: string;
  subtitle: string;
  x: AxisDef;
  y: AxisDef;
  points: Point[];
}

/** A log-log line plot, one line per implementation; references dashed with hollow points. */
function linePlotSpec(p: LinePlot): LayeredSpec {
  const points = mergeIdenticalSeries(p.points);
  const x = axisEncoding('x', p.x, points.map((q) => q.x));
  const y = axisEncoding('y', p.y, points.map((q) => q.y));
  const color = colorEncoding(points);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: p.title, subtitle: p.subtitle },
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values: points },
    encoding: { x, y, color },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          strokeDash: { field: 'reference', type: 'nominal', scale: { domain: [false, true], range: [[1, 0], [6, 4]] }, legend: null },
        },
      },
      ...pointLayers(),
    ],
  };
}

/** Labels of a magnitude axis: 1,000 up to 100,000, then 1e6, 1e7, … */
const MAGNITUDE_LABELS = "datum.value >= 1e6 ? replace(format(datum.value, '.0e'), '+', '') : format(datum.value, ',')";

/** `verify-vs-bits.svg`: rangeVerify, m = 1, ms against bits. */
function verifyVsBits(results: BenchResults): Point[] {
  return rowsOf(results, 'rangeVerify')
    .filter((r) => mOf(r) === 1)
    .map((r) => toPoint(r, r.bits, r.ms))
    .filter((p) => p !== undefined);
}

/** `batch-amortized.svg`: rangeBatchVerify, 64-bit, ms per proof against the batch size. */
function batchAmortized(results: BenchResults): Point[] {
  return rowsOf(results, 'rangeBatchVerify')
    .filter((r) => bitsOf(r) === 64)
    .map((r) => toPoint(r, r.batch ?? 1, r.ms))
    .filter((p) => p !== undefined);
}

/** `proof-size.svg`: rangeProofSize, 64-bit, bytes against m. */
function proofSize(results: BenchResults): Point[] {
  return rowsOf(results, 'rangeProofSize')
    .filter((r) => bitsOf(r) === 64)
    .map((r) => toPoint(r, mOf(r), r.bytes))
    .filter((p) => p !== undefined);
}

/** `decrypt-vs-magnitude.svg`: elgamalDecrypt, ms against the plaintext's magnitude. */
function decryptVsMagnitude(results: BenchResults): Point[] {
  return rowsOf(results, 'elgamalDecrypt')
    .map((r) => toPoint(r, r.magnitude, r.ms))
    .filter((p) => p !== undefined);
}

/** `prove-vs-aggregation.svg`: rangeProve and rangeVerify, 64-bit, ms against m. */
function proveVsAggregation(results: BenchResults): Point[] {
  return results.rows
    .filter((r) => (r.op === 'rangeProve' || r.op === 'rangeVerify') && bitsOf(r) === 64)
    .map((r) => toPoint(r, mOf(r), r.ms, r.op === 'rangeProve' ? 'prove' : 'verify'))
    .filter((p) => p !== undefined);
}

/** The prove/verify plot: colour by implementation, dash and shape by operation. */
function proveVsAggregationSpec(all: Point[]): LayeredSpec {
  const points = mergeIdenticalSeries(all);
  const OPS = ['prove', 'verify'];
  const op = { field: 'group', type: 'nominal', title: 'Operation', legend: { symbolSize: 120 } } as const;
  const x = axisEncoding('x', { title: 'Values aggregated in one proof, m (log₂ scale)', scale: 'log2', format: 'd' }, points.map((q) => q.x));
  const y = axisEncoding('y', { title: 'Time per proof (ms, log scale)', scale: 'log10' }, points.map((q) => q.y));
  const color = colorEncoding(points);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Range proof prove and verify time against aggregation', subtitle: '64-bit values; one proof of m values; lower is better' },
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values: points.map((p) => ({ ...p, line: `${p.series}|${p.group ?? ''}` })) },
    encoding: { x, y, color },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          detail: { field: 'line', type: 'nominal' },
          strokeDash: { ...op, scale: { domain: OPS, range: [[1, 0], [6, 4]] } },
        },
      },
      ...pointLayers({ shape: { ...op, scale: { domain: OPS, range: ['circle', 'square'] } } }),
    ],
  };
}

/** One plot of the report: its file name, title, caption, the rows it needs, and spec (undefined when it has no rows). */
interface PlotDef {
  file: string;
  title: string;
  caption: string;
  /** The rows it plots, in words (logged when the plot is skipped). */
  needs: string;
  spec(results: BenchResults): TopLevelSpec | undefined;
}

/** A line plot definition from its points and axes; no spec when there are no points. */
function linePlot(file: string, title: string, subtitle: string, caption: string, needs: string, x: AxisDef, y: AxisDef, points: (r: BenchResults) => Point[]): PlotDef {
  return {
    file,
    title,
    caption,
    needs,
    spec: (results) => {
      const pts = points(results);
      return pts.length === 0 ? undefined : linePlotSpec({ title, subtitle, x, y, points: pts });
    },
  };
}

/** The report's plots, in order. */
const PLOTS: readonly PlotDef[] = [
  linePlot(
    'verify-vs-bits.svg',
    'Range proof verification time against bit length',
    'One proof of one value (m = 1); lower is better',
    'Time to verify one range proof of a single value, for each bit length, per implementation (both axes logarithmic).',
    'rangeVerify rows with m = 1',
    { title: 'Bits per value (log₂ scale)', scale: 'log2', format: 'd' },
    { title: 'Verification time (ms, log scale)', scale: 'log10' },
    verifyVsBits,
  ),
  linePlot(
    'batch-amortized.svg',
    'Batch verification: amortized time per proof',
    '64-bit proofs of one value each; lower is better',
    'Time per proof when a batch of 64-bit proofs is verified together, against the batch size (both axes logarithmic); single points are implementations measured at one batch size only.',
    '64-bit rangeBatchVerify rows',
    { title: 'Proofs per batch (log₂ scale)', scale: 'log2', format: ',d' },
    { title: 'Time per proof (ms, log scale)', scale: 'log10' },
    batchAmortized,
  ),
  linePlot(
    'proof-size.svg',
    'Range proof size against aggregation',
    '64-bit values; one proof of m values; smaller is better',
    'Bytes of one proof of m 64-bit values: aggregated Bulletproofs grow by a few dozen bytes per doubling of m, per-value proofs linearly (both axes logarithmic).',
    '64-bit rangeProofSize rows',
    { title: 'Values aggregated in one proof, m (log₂ scale)', scale: 'log2', format: 'd' },
    { title: 'Proof size (bytes, log scale)', scale: 'log10' },
    proofSize,
  ),
  linePlot(
    'decrypt-vs-magnitude.svg',
    'EC ElGamal decryption time against plaintext magnitude',
    'Recovering the plaintext from its point; lower is better',
    'Time to decrypt one value against its magnitude (both axes logarithmic): baby-step giant-step stays nearly flat where brute force grows linearly.',
    'elgamalDecrypt rows with a magnitude',
    { title: 'Plaintext magnitude (log scale)', scale: 'log10', labelExpr: MAGNITUDE_LABELS },
    { title: 'Decryption time (ms, log scale)', scale: 'log10' },
    decryptVsMagnitude,
  ),
  {
    file: 'prove-vs-aggregation.svg',
    title: 'Range proof prove and verify time against aggregation',
    needs: '64-bit rangeProve and rangeVerify rows at two values of m or more',
    caption: 'Time to prove (solid lines, circles) and verify (dashed lines, squares) one proof of m 64-bit values, per implementation (both axes logarithmic).',
    spec: (results) => {
      const pts = proveVsAggregation(results);
      // Against aggregation: nothing to show with m = 1 only (verify-vs-bits has those).
      return new Set(pts.map((p) => p.x)).size < 2 ? undefined : proveVsAggregationSpec(pts);
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Rendering

type VegaModule = typeof import('vega');
type VegaLiteModule = typeof import('vega-lite');

/** A vega logger that collects warnings and errors into `sink` instead of printing them. */
class CollectingLogger implements LoggerInterface {
  private lvl = 2; // vega.Warn
  constructor(private readonly sink: string[]) {}
  level(): number;
  level(l: number): this;
  level(l?: number): number | this {
    if (l === undefined) return this.lvl;
    this.lvl = l;
    return this;
  }
  error(...args: unknown[]): this {
    this.sink.push(`error: ${args.map(String).join(' ')}`);
    return this;
  }
  warn(...args: unknown[]): this {
    if (this.lvl >= 2) this.sink.push(`warning: ${args.map(String).join(' ')}`);
    return this;
  }
  info(): this {
    return this;
  }
  debug(): this {
    return this;
  }
}

/** vega and vega-lite, loaded on first use. */
async function loadVega(): Promise<{ vega: VegaModule; vl: VegaLiteModule }> {
  try {
    const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
    return { vega, vl };
  } catch (e) {
    throw new Error('vega and vega-lite are devDependencies of the benchmark report: run npm install', { cause: e });
  }
}

/** A vega-lite spec rendered to SVG text: compiled to vega, then rendered headless. Warnings go to `warnings`. */
async function renderSvg(lib: { vega: VegaModule; vl: VegaLiteModule }, spec: TopLevelSpec, warnings: string[]): Promise<string> {
  const compiled = lib.vl.compile(spec, { logger: new CollectingLogger(warnings) }).spec;
  styleLegends(compiled);
  const view = new lib.vega.View(lib.vega.parse(compiled), { renderer: 'none', logger: new CollectingLogger(warnings), logLevel: lib.vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The options of the PNG conversion. */
const PNG_WIDTH = 900;

/**
 * Converts an SVG file to PNG with @resvg/resvg-js: white background, 900 px wide (height in
 * proportion), with the system's fonts (the plots name a list of common sans-serif families).
 * Throws if @resvg/resvg-js is not installed.
 */
export async function svgToPng(svgPath: string, pngPath: string): Promise<void> {
  let Resvg: typeof import('@resvg/resvg-js').Resvg;
  try {
    const mod = (await import('@resvg/resvg-js')) as typeof import('@resvg/resvg-js') & { default?: typeof import('@resvg/resvg-js') };
    Resvg = mod.Resvg ?? mod.default?.Resvg;
    if (!Resvg) throw new Error('no Resvg export');
  } catch (e) {
    throw new Error('@resvg/resvg-js is a devDependency of the benchmark report (PNG output): run npm install', { cause: e });
  }
  const svg = await readFile(svgPath, 'utf8');
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'width', value: PNG_WIDTH },
    font: { loadSystemFonts: true },
  })
    .render()
    .asPng();
  await writeFile(pngPath, png);
}

/**
 * Writes one run's report into `outDir` (created if needed; files of the same names are
 * overwritten, others left alone): `results.json` (2-space JSON), the SVG plots that have rows,
 * and `README.md` (the Markdown summary); with `options.png`, also `<name>.png` beside each SVG.
 * vega-lite and vega warnings are passed to `log`, as are plots skipped for want of rows.
 * @returns the paths written, in order.
 */
export async function writeReport(
  results: BenchResults,
  outDir: string,
  log: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  options: { png?: boolean } = {},
): Promise<string[]> {
  const lib = await loadVega();
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, data: string) => {
    const file = path.join(outDir, name);
    await writeFile(file, data);
    written.push(file);
    return file;
  };
  await put('results.json', JSON.stringify(results, null, 2) + '\n');

  const plots: WrittenPlot[] = [];
  let pngAvailable = options.png === true;
  for (const def of PLOTS) {
    const spec = def.spec(results);
    if (!spec) {
      log(`report: ${def.file} skipped: no rows for it in this run (it plots ${def.needs})`);
      continue;
    }
    const warnings: string[] = [];
    const svgFile = await put(def.file, await renderSvg(lib, spec, warnings));
    for (const w of warnings) log(`report: ${def.file}: vega ${w}`);
    plots.push({ file: def.file, title: def.title, caption: def.caption });
    if (pngAvailable) {
      const pngFile = path.join(outDir, def.file.replace(/\.svg$/, '.png'));
      try {
        await svgToPng(svgFile, pngFile);
        written.push(pngFile);
      } catch (e) {
        log(`report: PNG output skipped: ${(e as Error).message}`);
        pngAvailable = false;
      }
    }
  }
  await put('README.md', summaryMarkdown(results, plots));
  return written;
}
