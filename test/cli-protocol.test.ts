/**
 * The protocol across processes with files, through the compiled CLI: key
 * generation, a provisioning key certifying a meter, the meter sealing records,
 * the center verifying and billing (with the privacy authority's policy), the
 * customer checking the bill, and the demo (small). Exit codes follow SPEC.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../lib/crypto/codec.js';
import { checkCertificate } from '../lib/protocol/certificate.js';
import { meterExportFromJson } from '../lib/protocol/json.js';
import { HOUSEHOLD } from '../lib/protocol/meter.js';
import { recordFromJson } from '../lib/protocol/records.js';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'zkmeter-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function zkmeter(...args: string[]) {
  const res = spawnSync(process.execPath, [join(root, 'dist', 'lib', 'cli', 'main.js'), ...args], { cwd: dir, encoding: 'utf8', env: process.env });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr, json: () => JSON.parse(res.stdout) };
}

describe('protocol CLI', () => {
  const DAY = Date.parse('2026-11-25T00:00:00Z') / 1000;
  // A flat tariff: the authority's price-spread bound admits it for bills of a few readings
  // (the built-in three-rate tariff needs bills of a whole day of them).
  const flat = { version: 2, currency: 'EUR', minorPerMajor: '100000', standingChargePerDay: '50000', bands: [{ name: 'flat', fromHour: 0, pricePerWh: '20' }] };
  writeFileSync(join(dir, 'flat.json'), JSON.stringify(flat));

  it('keys provisioning makes a key file of mode 0600, and never overwrites one', () => {
    const r = zkmeter('keys', 'provisioning', '--out', 'provisioning.json');
    expect(r.code).toBe(0);
    const file = JSON.parse(readFileSync(join(dir, 'provisioning.json'), 'utf8'));
    expect(Object.keys(file).sort()).toEqual(['publicKey', 'secretKey']);
    expect(file.secretKey).toMatch(/^[0-9a-f]{64}$/);
    expect(r.json()).toEqual({ publicKey: file.publicKey, out: 'provisioning.json' });
    expect(statSync(join(dir, 'provisioning.json')).mode & 0o777).toBe(0o600);
    const again = zkmeter('keys', 'provisioning', '--out', 'provisioning.json');
    expect(again.code).toBe(2);
    expect(again.stderr).toBe('error: cannot write provisioning.json: EEXIST (it exists: never overwritten)\n');
    expect(JSON.parse(readFileSync(join(dir, 'provisioning.json'), 'utf8'))).toEqual(file);
  });

  it('meter certify prints a certificate that decodes and verifies under the provisioning key only', () => {
    const p = zkmeter('keys', 'provisioning', '--out', 'prov-certify.json').json();
    const other = zkmeter('keys', 'provisioning', '--out', 'prov-other.json').json();
    const m = zkmeter('meter', 'keygen').json();
    const r = zkmeter('meter', 'certify', '--provisioning-key', 'prov-certify.json', '--meter-id', 'MC-7', '--meter-key', m.publicKey, '--feeder', 'F-north', '--key-epoch', '2', '--valid-from', '2026-11-25T00:00:00Z');
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(Object.keys(out).sort()).toEqual(['certificate', 'feeder', 'keyEpoch', 'meterId']);
    expect(out).toMatchObject({ meterId: 'MC-7', keyEpoch: 2, feeder: 'F-north' });
    const c = checkCertificate(hexToBytes(out.certificate, 'certificate'), [hexToBytes(p.publicKey, 'p', 32)]);
    expect(c).toMatchObject({ meterId: 'MC-7', keyEpoch: 2, feeder: 'F-north', validFrom: DAY, meterClass: HOUSEHOLD });
    expect(Buffer.from(c.publicKey).toString('hex')).toBe(m.publicKey);
    expect(Buffer.from(c.issuer).toString('hex')).toBe(p.publicKey);
    expect(() => checkCertificate(c.bytes, [hexToBytes(other.publicKey, 'o', 32)])).toThrow(/refused by rule 'registry'/);
    // Without --valid-from the key is valid from now.
    const now = zkmeter('meter', 'certify', '--provisioning-key', 'prov-certify.json', '--meter-id', 'MC-8', '--meter-key', m.publicKey, '--feeder', 'F', '--out', 'now.jsonl');
    const line = JSON.parse(readFileSync(join(dir, 'now.jsonl'), 'utf8'));
    expect(now.json()).toEqual({ ...line, out: 'now.jsonl' });
    const validFrom = checkCertificate(hexToBytes(line.certificate, 'c'), [hexToBytes(p.publicKey, 'p', 32)]).validFrom;
    expect(Math.abs(validFrom - Date.now() / 1000)).toBeLessThan(120);
    // A key file whose halves disagree certifies nothing.
    writeFileSync(join(dir, 'mismatched.json'), JSON.stringify({ secretKey: JSON.parse(readFileSync(join(dir, 'prov-certify.json'), 'utf8')).secretKey, publicKey: other.publicKey }));
    const refused = zkmeter('meter', 'certify', '--provisioning-key', 'mismatched.json', '--meter-id', 'MC-9', '--meter-key', m.publicKey, '--feeder', 'F');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('error: --provisioning-key: mismatched.json: "publicKey" is not the secret key\'s\n');
  });

  it('meter seal --key-epoch and --tariff-version go into every record header', () => {
    const dkg = zkmeter('keys', 'dkg', '--out', 'keys-epoch');
    const m = zkmeter('meter', 'keygen').json();
    const seal = zkmeter('meter', 'seal', '--meter-id', 'ME', '--signing-key', m.signingKey, '--utility-key', dkg.json().publicKey, '--start', '2026-11-25', '--readings', '7,8', '--key-epoch', '3', '--tariff-version', '2', '--out', 'epoch.jsonl');
    expect(seal.code, seal.stderr).toBe(0);
    const headers = readFileSync(join(dir, 'epoch.jsonl'), 'utf8').trim().split('\n').map((l) => recordFromJson(JSON.parse(l)).header);
    expect(headers.map((h) => [h.keyEpoch, h.tariffVersion])).toEqual([[3, 2], [3, 2]]);
    const plain = zkmeter('meter', 'seal', '--meter-id', 'ME', '--signing-key', m.signingKey, '--utility-key', dkg.json().publicKey, '--start', '2026-11-26', '--readings', '9', '--out', 'epoch0.jsonl');
    expect(plain.code).toBe(0);
    expect(recordFromJson(JSON.parse(readFileSync(join(dir, 'epoch0.jsonl'), 'utf8'))).header).toMatchObject({ keyEpoch: 0, tariffVersion: 1 });
  });

  it('keys, a certified meter, records, verification, a bill under the policy, and the customer check, across processes', () => {
    const dkg = zkmeter('keys', 'dkg', '--out', 'keys');
    expect(dkg.code).toBe(0);
    // Key files are never overwritten without --force, and party names cannot leave --out.
    const share = readFileSync(join(dir, 'keys', 'privacy-authority.share.json'), 'utf8');
    const twice = zkmeter('keys', 'dkg', '--out', 'keys');
    expect([twice.code, twice.stderr]).toEqual([2, expect.stringMatching(/^error: cannot write .*shared-key\.json: EEXIST \(key files are never overwritten; --force replaces them\)\n$/)]);
    expect(readFileSync(join(dir, 'keys', 'privacy-authority.share.json'), 'utf8')).toBe(share);
    expect(zkmeter('keys', 'dkg', '--out', 'keys-forced', '--parties', 'a,../b').stderr).toMatch(/^error: party name "\.\.\/b" cannot be a file name/);
    expect(existsSync(join(dir, 'b.share.json'))).toBe(false);
    expect(zkmeter('keys', 'dkg', '--out', 'keys-forced').code).toBe(0);
    const forced = zkmeter('keys', 'dkg', '--out', 'keys-forced', '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(statSync(join(dir, 'keys-forced', 'control-center.share.json')).mode & 0o777).toBe(0o600);
    const Y = dkg.json().publicKey as string;
    const prov = zkmeter('keys', 'provisioning', '--out', 'prov.json').json();
    const m = zkmeter('meter', 'keygen', '--meter-id', 'M1').json();
    const cert = zkmeter('meter', 'certify', '--provisioning-key', 'prov.json', '--meter-id', 'M1', '--meter-key', m.publicKey, '--feeder', 'F1', '--valid-from', '2026-11-25', '--out', 'certs.jsonl');
    expect(cert.code, cert.stderr).toBe(0);
    const seal = zkmeter('meter', 'seal', '--meter-id', 'M1', '--signing-key', m.signingKey, '--utility-key', Y, '--start', '2026-11-25', '--readings', '100,200,5000,300', '--tariff-version', '2', '--out', 'records.jsonl', '--export', 'export.jsonl');
    expect(seal.code).toBe(0);
    expect(seal.json()).toMatchObject({ records: 4, abnormal: 1 });
    const verify = zkmeter('center', 'verify', '--certificates', 'certs.jsonl', '--provisioning-key-public', prov.publicKey, '--records', 'records.jsonl', '--utility-key', Y);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json()).toMatchObject({ records: 4, accepted: 3, abnormal: 1, invalid: 0 });

    const billArgs = (from: string, to: string) => ['center', 'bill', '--key', 'keys/shared-key.json', '--center-share', 'keys/control-center.share.json', '--authority-share', 'keys/privacy-authority.share.json', '--certificates', 'certs.jsonl', '--provisioning-key-public', prov.publicKey, '--records', 'records.jsonl', '--meter', 'M1', '--from', from, '--to', to, '--tariff', 'flat.json'];
    const refusal = (args: string[], line: string) => {
      const r = zkmeter(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(line);
    };
    refusal(billArgs('2026-11-25', '2026-11-26'), "error: refused by rule 'min-intervals': a bill must cover at least 48 readings, this one covers 4\n");
    // Not whole days: the period starts at 00:15.
    const r = zkmeter(...billArgs('2026-11-25T00:15:00Z', '2026-11-26'), '--min-intervals', '3');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: refused by rule 'whole-days': [^\n]+\n$/);
    // Whole days, but one more than the readings cover.
    refusal([...billArgs('2026-11-25', '2026-11-27'), '--min-intervals', '4'], `error: refused by rule 'whole-days': the period [${DAY}, ${DAY + 2 * 86_400}) has days before its first or after its last reading: a bill covers the days of its readings\n`);
    // The built-in three-rate tariff is refused for bills this small.
    expect(zkmeter(...billArgs('2026-11-25', '2026-11-26').slice(0, -2), '--min-intervals', '4').stderr).toMatch(/^error: refused by rule 'tariff': /);
    // A certificate by a provisioning key the authority does not trust.
    const stranger = zkmeter('keys', 'provisioning', '--out', 'stranger.json').json();
    expect(zkmeter(...billArgs('2026-11-25', '2026-11-26').map((a) => (a === prov.publicKey ? stranger.publicKey : a)), '--min-intervals', '4').stderr).toMatch(
      /^error: --certificates: certs\.jsonl line 1: refused by rule 'registry': meter M1's certificate is signed by [0-9a-f]{64}, not a trusted provisioning key\n$/,
    );
    const bill = zkmeter(...billArgs('2026-11-25', '2026-11-26'), '--min-intervals', '4', '--out', 'bill.json');
    expect(bill.code, bill.stderr).toBe(0);
    // 20 per Wh, plus one day's standing charge, in the tariff's currency.
    expect(bill.json()).toMatchObject({ energyCharge: String(20 * 5600), standingCharge: '50000', total: String(20 * 5600 + 50_000), currency: 'EUR', minorPerMajor: '100000', display: '1.62000 EUR' });
    // The provisioning key file serves as well as its public key.
    const viaFile = zkmeter(...billArgs('2026-11-25', '2026-11-26').map((a) => (a === '--provisioning-key-public' ? '--provisioning-key' : a === prov.publicKey ? 'prov.json' : a)), '--min-intervals', '4');
    expect(viaFile.code, viaFile.stderr).toBe(0);
    expect(viaFile.json().total).toBe(bill.json().total);

    const check = ['check-bill', '--bill', 'bill.json', '--records', 'records.jsonl', '--export', 'export.jsonl', '--key', 'keys/shared-key.json', '--meter-key', m.publicKey, '--tariff', 'flat.json'];
    const ok = zkmeter(...check);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json()).toMatchObject({ ok: true, problems: [], disagreements: [] });
    // What `center bill` printed (with its display line) is accepted as a bill file too.
    writeFileSync(join(dir, 'printed-bill.json'), bill.stdout);
    expect(zkmeter(...check.map((a) => (a === 'bill.json' ? 'printed-bill.json' : a))).code).toBe(0);
    // The same files as one meter export, the bill-check page's input.
    const exported = zkmeter('meter', 'export', '--meter-id', 'M1', '--meter-key', m.publicKey, '--records', 'records.jsonl', '--export', 'export.jsonl', '--out', 'meter-export.json');
    expect(exported.code).toBe(0);
    expect(exported.json()).toMatchObject({ records: 4, readings: 4 });
    const bundle = meterExportFromJson(JSON.parse(readFileSync(join(dir, 'meter-export.json'), 'utf8')));
    expect(bundle.records.length).toBe(4);
    expect(bundle.openings.map((x) => x.reading)).toEqual([100n, 200n, 5000n, 300n]);
    expect(zkmeter('meter', 'export', '--meter-id', 'M1', '--meter-key', 'zz', '--records', 'records.jsonl', '--export', 'export.jsonl', '--out', 'x.json').code).toBe(2);
    // A customer's export is a secret file: never written over an existing file, nor through a symlink.
    const again = zkmeter('meter', 'export', '--meter-id', 'M1', '--meter-key', m.publicKey, '--records', 'records.jsonl', '--export', 'export.jsonl', '--out', 'meter-export.json');
    expect([again.code, again.stderr]).toEqual([2, expect.stringMatching(/^error: cannot write meter-export\.json: EEXIST/)]);
    symlinkSync(join(dir, 'elsewhere.json'), join(dir, 'link.json'));
    expect(zkmeter('meter', 'export', '--meter-id', 'M1', '--meter-key', m.publicKey, '--records', 'records.jsonl', '--export', 'export.jsonl', '--out', 'link.json').code).toBe(2);
    expect(existsSync(join(dir, 'elsewhere.json'))).toBe(false);
    expect(statSync(join(dir, 'meter-export.json')).mode & 0o777).toBe(0o600);

    // --earlier-bills: the same bill again is no overlap; an earlier bill whose days overlap is flagged.
    const billJson = JSON.parse(readFileSync(join(dir, 'bill.json'), 'utf8'));
    writeFileSync(join(dir, 'earlier.jsonl'), JSON.stringify(billJson) + '\n');
    expect(zkmeter(...check, '--earlier-bills', 'earlier.jsonl').json()).toMatchObject({ ok: true });
    writeFileSync(join(dir, 'earlier.jsonl'), [bill.stdout.trim(), JSON.stringify({ ...billJson, from: DAY - 86_400, intervals: [DAY - 900, ...billJson.intervals], recordIds: [billJson.recordIds[0], ...billJson.recordIds] })].join('\n') + '\n');
    const overlap = zkmeter(...check, '--earlier-bills', 'earlier.jsonl');
    expect(overlap.code).toBe(1);
    expect(overlap.json()).toMatchObject({ ok: false, problems: [`the period [${DAY}, ${DAY + 86_400}) overlaps the earlier bill for [${DAY - 86_400}, ${DAY + 86_400})`], disagreements: [] });
    writeFileSync(join(dir, 'bad-earlier.jsonl'), JSON.stringify({ ...billJson, currency: undefined }) + '\n');
    expect(zkmeter(...check, '--earlier-bills', 'bad-earlier.jsonl').stderr).toBe('error: --earlier-bills: bad-earlier.jsonl line 1: bill is missing "currency"\n');

    writeFileSync(join(dir, 'bill.json'), JSON.stringify({ ...billJson, energyCharge: '112001', total: '162001' }));
    const wrong = zkmeter(...check);
    expect(wrong.code).toBe(1);
    expect(wrong.json().ok).toBe(false);

    // A tampered record file: exit 1, the record named invalid.
    const lines = readFileSync(join(dir, 'records.jsonl'), 'utf8').trim().split('\n');
    const r0 = JSON.parse(lines[0]!);
    const hex = r0.bytes as string;
    r0.bytes = hex.slice(0, -4) + (hex.slice(-4) === '0000' ? '0001' : '0000');
    writeFileSync(join(dir, 'tampered.jsonl'), [JSON.stringify(r0), ...lines.slice(1)].join('\n') + '\n');
    const bad = zkmeter('center', 'verify', '--certificates', 'certs.jsonl', '--provisioning-key', 'prov.json', '--records', 'tampered.jsonl', '--utility-key', Y);
    expect(bad.code).toBe(1);
    expect(bad.json()).toMatchObject({ invalid: 1, reasons: { signature: 1 } });
    // The offline registry file still serves center verify.
    writeFileSync(join(dir, 'registry.jsonl'), JSON.stringify({ meterId: 'M1', publicKey: m.publicKey }) + '\n');
    expect(zkmeter('center', 'verify', '--registry', 'registry.jsonl', '--records', 'records.jsonl', '--utility-key', Y).json()).toMatchObject({ accepted: 3, abnormal: 1, invalid: 0 });
  }, 300_000);

  it('bad input: exit 2 with one error line naming the problem', () => {
    const Y = zkmeter('keygen').json().publicKey as string;
    const cases: [string[], RegExp][] = [
      [['meter', 'seal', '--meter-id', 'M', '--signing-key', '00', '--utility-key', '02', '--start', 'yesterday', '--readings', '1', '--out', 'x'], /^error: /],
      [['center', 'verify', '--registry', 'missing.jsonl', '--records', 'r.jsonl', '--utility-key', 'ab'], /^error: /],
      [['check-bill', '--bill', 'nope.json', '--records', 'r', '--export', 'e', '--key', 'k', '--meter-key', 'aa'], /^error: --bill: cannot read nope\.json/],
      [['center', 'verify', '--records', 'r.jsonl', '--utility-key', Y], /^error: --certificates or --registry is required$/m],
      [['center', 'verify', '--certificates', 'lying.jsonl', '--registry', 'r.jsonl', '--records', 'r.jsonl', '--utility-key', Y], /^error: give --certificates or --registry, not both$/m],
      [['center', 'verify', '--certificates', 'lying.jsonl', '--records', 'r.jsonl', '--utility-key', Y], /^error: --provisioning-key-public or --provisioning-key is required with --certificates$/m],
      [['center', 'verify', '--certificates', 'lying.jsonl', '--provisioning-key', 'lying-prov.json', '--records', 'r.jsonl', '--utility-key', Y], /^error: --certificates: lying\.jsonl line 1: "feeder" is "F9", but the certificate says "F1"$/m],
      [['center', 'verify', '--certificates', 'lying.jsonl', '--provisioning-key-public', 'abcd', '--records', 'r.jsonl', '--utility-key', Y], /^error: --provisioning-key-public item 1 expected 32 bytes, got 2$/m],
      [['meter', 'certify', '--provisioning-key', 'lying-prov.json', '--meter-id', 'M', '--meter-key', '00'.repeat(32), '--feeder', 'F'], /^error: /],
      [['meter', 'certify', '--provisioning-key', 'lying-prov.json', '--meter-id', 'M', '--meter-key', 'ab', '--feeder', 'F'], /^error: --meter-key expected 32 bytes, got 1$/m],
      [['meter', 'certify', '--provisioning-key', 'lying-prov.json', '--meter-id', 'M', '--meter-key', 'ab'], /^error: required option '--feeder <f>' not specified$/m],
      [['meter', 'certify', '--provisioning-key', 'missing.json', '--meter-id', 'M', '--meter-key', 'ab', '--feeder', 'F'], /^error: --provisioning-key: cannot read missing\.json: ENOENT$/m],
      [['meter', 'seal', '--meter-id', 'M', '--signing-key', '11'.repeat(32), '--utility-key', Y, '--start', '0', '--readings', '1', '--key-epoch', '-1', '--out', 'x'], /^error: --key-epoch expected a non-negative decimal integer, got '-1'$/m],
      [['demo', '--meters', '0'], /^error: --meters expected an integer 1 <= x <= 100000, got 0/],
      [['demo', '--mode', 'weekly'], /^error: --mode expected daily or reading/],
    ];
    const lyingProv = zkmeter('keys', 'provisioning', '--out', 'lying-prov.json');
    expect(lyingProv.code).toBe(0);
    const key = zkmeter('meter', 'keygen').json().publicKey;
    const line = zkmeter('meter', 'certify', '--provisioning-key', 'lying-prov.json', '--meter-id', 'M', '--meter-key', key, '--feeder', 'F1').json();
    // A line whose plain fields say something else than its certificate.
    writeFileSync(join(dir, 'lying.jsonl'), JSON.stringify({ ...line, feeder: 'F9' }) + '\n');
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
