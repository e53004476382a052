/**
 * The protocol across processes with files, through the compiled CLI: key
 * generation, a meter sealing records, the center verifying and billing, the
 * customer checking the bill, and the demo (small). Exit codes follow SPEC.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { meterExportFromJson } from '../lib/protocol/json.js';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'zkmeter-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function zkmeter(...args: string[]) {
  const res = spawnSync(process.execPath, [join(root, 'dist', 'lib', 'cli', 'main.js'), ...args], { cwd: dir, encoding: 'utf8', env: process.env });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr, json: () => JSON.parse(res.stdout) };
}

describe('protocol CLI', () => {
  it('keys, meter records, verification, a bill, and the customer check, across processes', () => {
    const dkg = zkmeter('keys', 'dkg', '--out', 'keys');
    expect(dkg.code).toBe(0);
    const Y = dkg.json().publicKey as string;
    const m = zkmeter('meter', 'keygen', '--meter-id', 'M1').json();
    writeFileSync(join(dir, 'registry.jsonl'), JSON.stringify({ meterId: 'M1', publicKey: m.publicKey }) + '\n');
    const seal = zkmeter('meter', 'seal', '--meter-id', 'M1', '--signing-key', m.signingKey, '--utility-key', Y, '--start', '2026-11-25', '--readings', '100,200,5000,300', '--out', 'records.jsonl', '--export', 'export.jsonl');
    expect(seal.code).toBe(0);
    expect(seal.json()).toMatchObject({ records: 4, abnormal: 1 });
    const verify = zkmeter('center', 'verify', '--registry', 'registry.jsonl', '--records', 'records.jsonl', '--utility-key', Y);
    expect(verify.code).toBe(0);
    expect(verify.json()).toMatchObject({ records: 4, accepted: 3, abnormal: 1, invalid: 0 });

    const billArgs = ['center', 'bill', '--key', 'keys/shared-key.json', '--center-share', 'keys/control-center.share.json', '--authority-share', 'keys/privacy-authority.share.json', '--registry', 'registry.jsonl', '--records', 'records.jsonl', '--meter', 'M1', '--from', '2026-11-25', '--to', '2026-11-26'];
    const refused = zkmeter(...billArgs);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('error: a bill must cover at least 48 intervals, this one covers 4\n');
    const bill = zkmeter(...billArgs, '--min-intervals', '4', '--out', 'bill.json');
    expect(bill.code).toBe(0);
    // 00:00–01:00 UTC is off-peak (15 per Wh), plus one day's standing charge.
    expect(bill.json()).toMatchObject({ energyCharge: String(15 * (100 + 200 + 5000 + 300)), total: String(15 * 5600 + 60_000) });

    const check = ['check-bill', '--bill', 'bill.json', '--records', 'records.jsonl', '--export', 'export.jsonl', '--key', 'keys/shared-key.json', '--meter-key', m.publicKey];
    const ok = zkmeter(...check);
    // The same files as one meter export, the bill-check page's input.
    const exported = zkmeter('meter', 'export', '--meter-id', 'M1', '--meter-key', m.publicKey, '--records', 'records.jsonl', '--export', 'export.jsonl', '--out', 'meter-export.json');
    expect(exported.code).toBe(0);
    expect(exported.json()).toMatchObject({ records: 4, readings: 4 });
    const bundle = meterExportFromJson(JSON.parse(readFileSync(join(dir, 'meter-export.json'), 'utf8')));
    expect(bundle.records.length).toBe(4);
    expect(bundle.openings.map((x) => x.reading)).toEqual([100n, 200n, 5000n, 300n]);
    expect(zkmeter('meter', 'export', '--meter-id', 'M1', '--meter-key', 'zz', '--records', 'records.jsonl', '--export', 'export.jsonl', '--out', 'x.json').code).toBe(2);
    expect(ok.code).toBe(0);
    expect(ok.json()).toMatchObject({ ok: true, disagreements: [] });
    const billJson = JSON.parse(readFileSync(join(dir, 'bill.json'), 'utf8'));
    writeFileSync(join(dir, 'bill.json'), JSON.stringify({ ...billJson, energyCharge: '84001', total: '144001' }));
    const wrong = zkmeter(...check);
    expect(wrong.code).toBe(1);
    expect(wrong.json().ok).toBe(false);

    // A tampered record file: exit 1, the record named invalid.
    const lines = readFileSync(join(dir, 'records.jsonl'), 'utf8').trim().split('\n');
    const r0 = JSON.parse(lines[0]!);
    const hex = r0.bytes as string;
    r0.bytes = hex.slice(0, -4) + (hex.slice(-4) === '0000' ? '0001' : '0000');
    writeFileSync(join(dir, 'tampered.jsonl'), [JSON.stringify(r0), ...lines.slice(1)].join('\n') + '\n');
    const bad = zkmeter('center', 'verify', '--registry', 'registry.jsonl', '--records', 'tampered.jsonl', '--utility-key', Y);
    expect(bad.code).toBe(1);
    expect(bad.json()).toMatchObject({ invalid: 1, reasons: { signature: 1 } });
  });

  it('bad input: exit 2 with one error line naming the problem', () => {
    const cases: [string[], RegExp][] = [
      [['meter', 'seal', '--meter-id', 'M', '--signing-key', '00', '--utility-key', '02', '--start', 'yesterday', '--readings', '1', '--out', 'x'], /^error: /],
      [['center', 'verify', '--registry', 'missing.jsonl', '--records', 'r.jsonl', '--utility-key', 'ab'], /^error: /],
      [['check-bill', '--bill', 'nope.json', '--records', 'r', '--export', 'e', '--key', 'k', '--meter-key', 'aa'], /^error: --bill: cannot read nope\.json/],
      [['demo', '--meters', '0'], /^error: --meters expected an integer 1 <= x <= 100000, got 0/],
      [['demo', '--mode', 'weekly'], /^error: --mode expected daily or reading/],
    ];
    for (const [args, message] of cases) {
      const r = zkmeter(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('the demo runs a small billing cycle and reports every check as passed', () => {
    // Pure TypeScript proves about 60× slower: fewer meters there.
    const meters = process.env.ZKMETER_BACKEND === 'js' ? 2 : 6;
    const r = zkmeter('demo', '--meters', String(meters), '--mode', 'reading', '--interval', '30', '--workers', '2');
    expect(r.code, r.stderr.slice(-500)).toBe(0);
    const s = r.json();
    expect(s).toMatchObject({ ok: true, failures: [], backend: process.env.ZKMETER_BACKEND, bills: { issued: meters, matchingTruth: meters, customerVerified: meters, inflatedBillCaught: true } });
    expect(s.records.invalid).toBe(s.records.attacks);
  }, 600_000);
});
