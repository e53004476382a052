/**
 * The protocol across processes with files, through the compiled CLI: key
 * generation, a provisioning key certifying a meter, the meter sealing records,
 * the center verifying and billing (with the privacy authority's policy, its
 * service run in-process from a single-operator key directory, whose store
 * remembers releases across runs), the customer checking the bill from the meter
 * export alone (the tariff the authority signed, the shared key the meter was
 * provisioned with), and the demo (small). Exit codes follow SPEC.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { scalarToBytes } from '../lib/backend/bytes.js';
import { bytesToHex, hexToBytes } from '../lib/crypto/codec.js';
import { partialDecrypt, type KeyShare, type SharedKey } from '../lib/crypto/threshold.js';
import { billContext, encryptedEnergyCharge } from '../lib/protocol/billing.js';
import { checkCertificate } from '../lib/protocol/certificate.js';
import { billFromJson, billToJson, meterExportFromJson, meterExportToJson, sharedKeyToJson, tariffFromJson } from '../lib/protocol/json.js';
import { HOUSEHOLD } from '../lib/protocol/meter.js';
import { recordFromJson, recordIntervals } from '../lib/protocol/records.js';
import { signTariff, verifyTariffSignature } from '../lib/protocol/tariff.js';
import { AUTHORITY_PARTY, dangerouslyInitSingleOperatorKeys, dangerouslyLoadSingleOperatorKeys } from '../lib/server/keys.js';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'zkmeter-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function zkmeter(...args: string[]) {
  const res = spawnSync(process.execPath, [join(root, 'dist', 'lib', 'cli', 'main.js'), ...args], { cwd: dir, encoding: 'utf8', env: process.env });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr, json: () => JSON.parse(res.stdout) };
}

const NO_SIGNATURE = 'the bill carries no tariff signed by the privacy authority: its prices cannot be checked';
const NOT_THE_AUTHORITY = "the bill's tariff is not signed by the privacy authority your meter trusts";

/**
 * Two runs of the same bill request: the same bill. The authority answers the release it stored (its
 * decryption share, proof and all); the center's share is the same point (its DLEQ proof is made afresh).
 */
/** The same bill, to the last byte of both DLEQ proofs (their nonces are derived: crypto/dleq.ts). */
function sameBill(again: Record<string, unknown>, first: Record<string, unknown>): void {
  expect(JSON.stringify(again)).toBe(JSON.stringify(first));
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
    dangerouslyInitSingleOperatorKeys(join(dir, 'keys-epoch'));
    const Y = JSON.parse(readFileSync(join(dir, 'keys-epoch', 'shared-key.json'), 'utf8')).publicKey as string;
    const m = zkmeter('meter', 'keygen').json();
    const seal = zkmeter('meter', 'seal', '--meter-id', 'ME', '--signing-key', m.signingKey, '--utility-key', Y, '--start', '2026-11-25', '--readings', '7,8', '--key-epoch', '3', '--tariff-version', '2', '--out', 'epoch.jsonl');
    expect(seal.code, seal.stderr).toBe(0);
    const headers = readFileSync(join(dir, 'epoch.jsonl'), 'utf8').trim().split('\n').map((l) => recordFromJson(JSON.parse(l)).header);
    expect(headers.map((h) => [h.keyEpoch, h.tariffVersion])).toEqual([[3, 2], [3, 2]]);
    const plain = zkmeter('meter', 'seal', '--meter-id', 'ME', '--signing-key', m.signingKey, '--utility-key', Y, '--start', '2026-11-26', '--readings', '9', '--out', 'epoch0.jsonl');
    expect(plain.code).toBe(0);
    expect(recordFromJson(JSON.parse(readFileSync(join(dir, 'epoch0.jsonl'), 'utf8'))).header).toMatchObject({ keyEpoch: 0, tariffVersion: 1 });
  });

  it('keys, a certified meter, records, verification, a bill under the policy, and the customer check, across processes', () => {
    // Both shares in one directory: single-operator mode, the one path that writes them (keys dkg runs
    // one party of the key ceremony, test/ceremony.test.ts), with both parties' identity keys. Key files are never overwritten.
    const files = dangerouslyInitSingleOperatorKeys(join(dir, 'keys'));
    expect(files).toEqual(
      ['shared-key.json', 'control-center.share.json', 'privacy-authority.share.json', 'control-center.identity.key.json', 'privacy-authority.identity.key.json'].map((f) => join(dir, 'keys', f)),
    );
    for (const f of files.slice(1)) expect(statSync(f).mode & 0o777, f).toBe(0o600);
    const share = readFileSync(join(dir, 'keys', 'privacy-authority.share.json'), 'utf8');
    expect(() => dangerouslyInitSingleOperatorKeys(join(dir, 'keys'))).toThrow(/^cannot write .*shared-key\.json: EEXIST \(key files are never overwritten\)$/);
    expect(readFileSync(join(dir, 'keys', 'privacy-authority.share.json'), 'utf8')).toBe(share);
    // keys dkg no longer writes every share: without --party it says, in one line, how to run the ceremony.
    const all = zkmeter('keys', 'dkg', '--out', 'keys-all');
    expect([all.code, all.stdout]).toEqual([2, '']);
    expect(all.stderr).toMatch(/^error: keys dkg runs one party of the key ceremony [^\n]*--party[^\n]*serve --single-operator --init\n$/);
    expect(existsSync(join(dir, 'keys-all'))).toBe(false);
    expect(zkmeter('keys', 'dkg', '--party', '../b', '--out', 'keys-all', '--round', '1').stderr).toBe('error: --party expected control-center or privacy-authority, got "../b"\n');
    const sharedKeyFile = JSON.parse(readFileSync(join(dir, 'keys', 'shared-key.json'), 'utf8'));
    const Y = sharedKeyFile.publicKey as string;
    // The authority's identity public key, which signs the tariffs of its bills: the file's, and the loaded directory's.
    const authorityKey = JSON.parse(readFileSync(join(dir, 'keys', 'privacy-authority.identity.key.json'), 'utf8')).publicKey as string;
    expect(bytesToHex(dangerouslyLoadSingleOperatorKeys(join(dir, 'keys')).authorityIdentity.publicKey)).toBe(authorityKey);
    const prov = zkmeter('keys', 'provisioning', '--out', 'prov.json').json();
    const m = zkmeter('meter', 'keygen', '--meter-id', 'M1').json();
    const cert = zkmeter('meter', 'certify', '--provisioning-key', 'prov.json', '--meter-id', 'M1', '--meter-key', m.publicKey, '--feeder', 'F1', '--valid-from', '2026-11-25', '--out', 'certs.jsonl');
    expect(cert.code, cert.stderr).toBe(0);
    const seal = zkmeter('meter', 'seal', '--meter-id', 'M1', '--signing-key', m.signingKey, '--utility-key', Y, '--start', '2026-11-25', '--readings', '100,200,5000,300', '--tariff-version', '2', '--out', 'records.jsonl', '--export', 'export.jsonl');
    expect(seal.code).toBe(0);
    expect(seal.json()).toMatchObject({ records: 4, abnormal: 1 });
    // The openings (readings and blindings) are secret: the export file is 0600, and an existing file
    // others may read, or a symlink, is refused before anything is written to it.
    expect(statSync(join(dir, 'export.jsonl')).mode & 0o777).toBe(0o600);
    const sealTo = (exportFile: string) => zkmeter('meter', 'seal', '--meter-id', 'M1', '--signing-key', m.signingKey, '--utility-key', Y, '--start', '2026-11-30', '--readings', '100', '--tariff-version', '2', '--out', 'scratch.jsonl', '--export', exportFile);
    writeFileSync(join(dir, 'open.jsonl'), '', { mode: 0o644 });
    const open = sealTo('open.jsonl');
    expect([open.code, open.stderr]).toEqual([2, expect.stringMatching(/^error: cannot append to open\.jsonl: others may read or write it/)]);
    expect(readFileSync(join(dir, 'open.jsonl'), 'utf8')).toBe('');
    expect(existsSync(join(dir, 'scratch.jsonl'))).toBe(false); // and no record was written whose blindings nobody kept
    symlinkSync(join(dir, 'export.jsonl'), join(dir, 'export-link.jsonl'));
    expect(sealTo('export-link.jsonl').stderr).toMatch(/^error: cannot append to export-link\.jsonl: ELOOP/);
    const verify = zkmeter('center', 'verify', '--certificates', 'certs.jsonl', '--provisioning-key-public', prov.publicKey, '--records', 'records.jsonl', '--utility-key', Y);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json()).toMatchObject({ records: 4, accepted: 3, abnormal: 1, invalid: 0 });

    // The privacy authority runs in this process from the single-operator directory, with its store there.
    const billArgs = (from: string, to: string) => ['center', 'bill', '--single-operator', '--keys', 'keys', '--certificates', 'certs.jsonl', '--provisioning-key-public', prov.publicKey, '--records', 'records.jsonl', '--meter', 'M1', '--from', from, '--to', to, '--tariff', 'flat.json'];
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
    // The refusals released nothing: the bill of the day is issued (and says on stderr that this is single-operator mode).
    const bill = zkmeter(...billArgs('2026-11-25', '2026-11-26'), '--min-intervals', '4', '--out', 'bill.json');
    expect(bill.code, bill.stderr).toBe(0);
    expect(bill.stderr).toMatch(/^zkmeter center bill: WARNING: single-operator mode: [^\n]*can decrypt any single reading[^\n]*\n$/);
    // 20 per Wh, plus one day's standing charge, in the tariff's currency.
    expect(bill.json()).toMatchObject({ energyCharge: String(20 * 5600), standingCharge: '50000', total: String(20 * 5600 + 50_000), currency: 'EUR', minorPerMajor: '100000', display: '1.62000 EUR', tariff: flat });
    // The bill carries its tariff signed by the authority's identity key.
    const billJson = JSON.parse(readFileSync(join(dir, 'bill.json'), 'utf8'));
    expect(verifyTariffSignature(tariffFromJson(billJson.tariff), hexToBytes(billJson.tariffSignature, 'sig', 64), hexToBytes(authorityKey, 'key', 32))).toBe(true);
    expect(existsSync(join(dir, 'keys', 'privacy-authority.db'))).toBe(true);
    // The same request again (the provisioning key file serves as well as its public key) is the same bill:
    // the authority answers the release it stored, and the center's share decrypts the same.
    const viaFile = zkmeter(...billArgs('2026-11-25', '2026-11-26').map((a) => (a === '--provisioning-key-public' ? '--provisioning-key' : a === prov.publicKey ? 'prov.json' : a)), '--min-intervals', '4');
    expect(viaFile.code, viaFile.stderr).toBe(0);
    sameBill(viaFile.json(), bill.json());

    // The customer's meter export: the records and readings, with the shared key and the authority key the meter was provisioned with.
    const exportArgs = (out: string, o: { meterKey?: string; key?: string } = {}) => [
      'meter', 'export', '--meter-id', 'M1', '--meter-key', o.meterKey ?? m.publicKey, '--records', 'records.jsonl', '--export', 'export.jsonl', '--key', o.key ?? 'keys/shared-key.json', '--authority-key', authorityKey, '--out', out,
    ];
    const exported = zkmeter(...exportArgs('meter-export.json'));
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.json()).toMatchObject({ records: 4, readings: 4 });
    // It round-trips, and holds what it was made from.
    const exportJson = JSON.parse(readFileSync(join(dir, 'meter-export.json'), 'utf8'));
    expect(exportJson.format).toBe('zkmeter/meter-export v2');
    const bundle = meterExportFromJson(exportJson);
    expect(meterExportToJson(bundle)).toEqual(exportJson);
    expect(sharedKeyToJson(bundle.sharedKey)).toEqual(sharedKeyFile);
    expect(bytesToHex(bundle.authorityKey)).toBe(authorityKey);
    expect(bytesToHex(bundle.meterPublicKey)).toBe(m.publicKey);
    expect(bundle.records.length).toBe(4);
    expect(bundle.openings.map((x) => x.reading)).toEqual([100n, 200n, 5000n, 300n]);
    expect(zkmeter(...exportArgs('x.json', { meterKey: 'zz' })).code).toBe(2);
    // A customer's export is a secret file: never written over an existing file, nor through a symlink.
    const again = zkmeter(...exportArgs('meter-export.json'));
    expect([again.code, again.stderr]).toEqual([2, expect.stringMatching(/^error: cannot write meter-export\.json: EEXIST/)]);
    symlinkSync(join(dir, 'elsewhere.json'), join(dir, 'link.json'));
    expect(zkmeter(...exportArgs('link.json')).code).toBe(2);
    expect(existsSync(join(dir, 'elsewhere.json'))).toBe(false);
    expect(statSync(join(dir, 'meter-export.json')).mode & 0o777).toBe(0o600);

    // check-bill: the bill against the export alone.
    const checkOf = (billFile: string, exportFile = 'meter-export.json') => ['check-bill', '--bill', billFile, '--export', exportFile];
    const check = checkOf('bill.json');
    const ok = zkmeter(...check);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json()).toEqual({ ok: true, billedTotal: '162000', expectedTotal: '162000', display: '1.62000 EUR billed, 1.62000 EUR expected', problems: [], disagreements: [] });
    // What `center bill` printed (with its display line) is accepted as a bill file too.
    writeFileSync(join(dir, 'printed-bill.json'), bill.stdout);
    expect(zkmeter(...checkOf('printed-bill.json')).code).toBe(0);

    // --earlier-bills: the same bill again is no overlap; an earlier bill whose days overlap is flagged.
    writeFileSync(join(dir, 'earlier.jsonl'), JSON.stringify(billJson) + '\n');
    expect(zkmeter(...check, '--earlier-bills', 'earlier.jsonl').json()).toMatchObject({ ok: true });
    writeFileSync(join(dir, 'earlier.jsonl'), [bill.stdout.trim(), JSON.stringify({ ...billJson, from: DAY - 86_400, intervals: [DAY - 900, ...billJson.intervals], recordIds: [billJson.recordIds[0], ...billJson.recordIds] })].join('\n') + '\n');
    const overlap = zkmeter(...check, '--earlier-bills', 'earlier.jsonl');
    expect(overlap.code).toBe(1);
    expect(overlap.json()).toMatchObject({ ok: false, problems: [`the period [${DAY}, ${DAY + 86_400}) overlaps the earlier bill for [${DAY - 86_400}, ${DAY + 86_400})`], disagreements: [] });
    writeFileSync(join(dir, 'bad-earlier.jsonl'), JSON.stringify({ ...billJson, currency: undefined }) + '\n');
    expect(zkmeter(...check, '--earlier-bills', 'bad-earlier.jsonl').stderr).toBe('error: --earlier-bills: bad-earlier.jsonl line 1: bill is missing "currency"\n');

    /** check-bill of a bill file written from `json`: exit 1 and its problems. */
    const failing = (name: string, json: unknown) => {
      writeFileSync(join(dir, name), JSON.stringify(json));
      const c = zkmeter(...checkOf(name));
      expect(c.code, c.stderr).toBe(1);
      expect(c.json().ok).toBe(false);
      return c.json().problems as string[];
    };
    expect(failing('wrong-bill.json', { ...billJson, energyCharge: '112001', total: '162001' })).toContain('energy charge 112001, your readings give 112000');
    // No signed tariff: its prices cannot be checked.
    const { tariff: _t, tariffSignature: _s, ...unsigned } = billJson;
    writeFileSync(join(dir, 'unsigned-bill.json'), JSON.stringify(unsigned));
    const noSignature = zkmeter(...checkOf('unsigned-bill.json'));
    expect(noSignature.code).toBe(1);
    expect(noSignature.json()).toMatchObject({ ok: false, billedTotal: '162000', problems: [NO_SIGNATURE], disagreements: [] });
    // Signed by another key than the authority the export names: the signature alone fails it.
    const flatTariff = tariffFromJson(flat);
    expect(failing('stranger-bill.json', { ...billJson, tariffSignature: bytesToHex(signTariff(flatTariff, 7n ** 70n)) })).toEqual([NOT_THE_AUTHORITY]);
    // The tariff altered after signing, a dearer price: the charge of the records under it, really decrypted
    // (whoever holds both shares can), with the signature of the real tariff. It adds up; the signature fails it.
    const keys = dangerouslyLoadSingleOperatorKeys(join(dir, 'keys'));
    const dearer = { ...flatTariff, bands: [{ ...flatTariff.bands[0]!, pricePerWh: 21n }] };
    const records = readFileSync(join(dir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => recordFromJson(JSON.parse(l)));
    const encrypted = encryptedEnergyCharge(records.map((x) => ({ intervalStart: recordIntervals(x.header)[0]!, ciphertext: x.ciphertexts[0]! })), dearer);
    const context = billContext('M1', DAY, DAY + 86_400, 2);
    const decryptedUnder = (ct: typeof encrypted, key: SharedKey, shares: KeyShare[]) => shares.map((s) => partialDecrypt(key, s, ct, context));
    const honest = billFromJson(billJson);
    const dearerBill = { ...honest, encryptedEnergyCharge: encrypted, energyCharge: 21n * 5600n, total: 21n * 5600n + 50_000n, signedTariff: { tariff: dearer, signature: honest.signedTariff!.signature } };
    expect(failing('dearer-bill.json', billToJson({ ...dearerBill, decryptionShares: decryptedUnder(encrypted, keys.key, [keys.centerShare, keys.authorityShare]) }))).toEqual([NOT_THE_AUTHORITY]);

    // A shared key whose verifying shares are forged: the center substitutes the authority's with one of a
    // secret it knows, to make both decryption shares itself. meter export refuses such a key, and so does
    // check-bill in an export; a bill whose shares were made under it fails under the meter's real key.
    const forgedSecret = 3n ** 100n;
    const forged: SharedKey = {
      ...keys.key,
      parties: new Map([...keys.key.parties].map(([p, v]) => [p, p === AUTHORITY_PARTY ? { ...v, verifyingShare: getGroup().mulGen(scalarToBytes(forgedSecret)) } : v])),
    };
    writeFileSync(join(dir, 'forged-key.json'), JSON.stringify(sharedKeyToJson(forged)));
    const inconsistent = 'the shared key is inconsistent: its verifying shares do not interpolate to its public key\n';
    refusal(exportArgs('forged-export.json', { key: 'forged-key.json' }), `error: --key: forged-key.json: ${inconsistent}`);
    expect(existsSync(join(dir, 'forged-export.json'))).toBe(false);
    writeFileSync(join(dir, 'forged-export.json'), JSON.stringify({ ...exportJson, sharedKey: sharedKeyToJson(forged) }));
    refusal(checkOf('bill.json', 'forged-export.json'), `error: --export: forged-export.json: ${inconsistent}`);
    const forgedShares = decryptedUnder(honest.encryptedEnergyCharge, forged, [keys.centerShare, { party: AUTHORITY_PARTY, id: keys.authorityShare.id, secret: forgedSecret }]);
    expect(failing('forged-shares-bill.json', billToJson({ ...honest, decryptionShares: forgedShares }))).toEqual([expect.stringMatching(/^the bill's decryption is not valid: .*privacy-authority/)]);
    // A v1 export (no shared key, no authority key) is refused, saying so.
    const { sharedKey: _k, authorityKey: _a, ...v1 } = { ...exportJson, format: 'zkmeter/meter-export v1' };
    writeFileSync(join(dir, 'v1-export.json'), JSON.stringify(v1));
    refusal(checkOf('bill.json', 'v1-export.json'), 'error: --export: v1-export.json: meter export v1 carries neither the utility key nor the authority key the meter was provisioned with, which the bill check trusts: make a v2 export (zkmeter meter export --key … --authority-key …)\n');

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

  it("center bill --single-operator remembers its releases across runs: the same request is the same bill, a shifted overlapping period is refused (issue 16)", () => {
    dangerouslyInitSingleOperatorKeys(join(dir, 'keys-overlap'));
    const Y = JSON.parse(readFileSync(join(dir, 'keys-overlap', 'shared-key.json'), 'utf8')).publicKey as string;
    const authorityKey = JSON.parse(readFileSync(join(dir, 'keys-overlap', 'privacy-authority.identity.key.json'), 'utf8')).publicKey as string;
    const prov = zkmeter('keys', 'provisioning', '--out', 'prov-overlap.json').json();
    const m = zkmeter('meter', 'keygen').json();
    expect(zkmeter('meter', 'certify', '--provisioning-key', 'prov-overlap.json', '--meter-id', 'M2', '--meter-key', m.publicKey, '--feeder', 'F1', '--valid-from', '2026-11-25', '--out', 'certs-overlap.jsonl').code).toBe(0);
    // Four readings on each of three days.
    for (const [i, day] of ['2026-11-25', '2026-11-26', '2026-11-27'].entries()) {
      const s = zkmeter('meter', 'seal', '--meter-id', 'M2', '--signing-key', m.signingKey, '--utility-key', Y, '--start', day, '--readings', ['100,200,300,400', '110,220,330,440', '120,240,360,480'][i]!, '--sequence', String(10 * i), '--tariff-version', '2', '--out', 'records-overlap.jsonl', '--export', 'export-overlap.jsonl');
      expect(s.code, s.stderr).toBe(0);
    }
    const billArgs = (from: string, to: string) => ['center', 'bill', '--single-operator', '--keys', 'keys-overlap', '--certificates', 'certs-overlap.jsonl', '--provisioning-key-public', prov.publicKey, '--records', 'records-overlap.jsonl', '--meter', 'M2', '--from', from, '--to', to, '--tariff', 'flat.json', '--min-intervals', '4'];
    const first = zkmeter(...billArgs('2026-11-25', '2026-11-27'), '--out', 'bill-25-27.json');
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toMatchObject({ from: DAY, to: DAY + 2 * 86_400, energyCharge: String(20 * 2100), total: String(20 * 2100 + 2 * 50_000) });
    // The same request, in another process: the same bill.
    const repeat = zkmeter(...billArgs('2026-11-25', '2026-11-27'));
    expect(repeat.code, repeat.stderr).toBe(0);
    sameBill(repeat.json(), first.json());
    // Shifted by a day, overlapping: refused, in one line. Released, it would give with the first the
    // difference of the 25th's and the 27th's consumption: the leak issue 16 reported.
    const shifted = zkmeter(...billArgs('2026-11-26', '2026-11-28'));
    expect([shifted.code, shifted.stdout]).toEqual([2, '']);
    expect(shifted.stderr).toBe(`error: refused by rule 'overlap': meter M2 was already billed for [${DAY}, ${DAY + 2 * 86_400}), which overlaps [${DAY + 86_400}, ${DAY + 3 * 86_400})\n`);
    // So is a period inside the first, and the refusal is remembered as nothing released: the shifted one stays refused.
    expect(zkmeter(...billArgs('2026-11-26', '2026-11-27')).stderr).toMatch(/^error: refused by rule 'overlap': [^\n]+\n$/);
    expect(zkmeter(...billArgs('2026-11-26', '2026-11-28')).stderr).toBe(shifted.stderr);
    // The next day, adjacent and not overlapping, is billed; the customer checks it with the first as an earlier bill.
    const next = zkmeter(...billArgs('2026-11-27', '2026-11-28'), '--out', 'bill-27-28.json');
    expect(next.code, next.stderr).toBe(0);
    expect(next.json()).toMatchObject({ energyCharge: String(20 * 1200), total: String(20 * 1200 + 50_000) });
    const exp = zkmeter('meter', 'export', '--meter-id', 'M2', '--meter-key', m.publicKey, '--records', 'records-overlap.jsonl', '--export', 'export-overlap.jsonl', '--key', 'keys-overlap/shared-key.json', '--authority-key', authorityKey, '--out', 'meter-export-overlap.json');
    expect(exp.code, exp.stderr).toBe(0);
    writeFileSync(join(dir, 'earlier-overlap.jsonl'), readFileSync(join(dir, 'bill-25-27.json'), 'utf8').replace(/\n/g, '') + '\n');
    for (const b of ['bill-25-27.json', 'bill-27-28.json']) {
      const c = zkmeter('check-bill', '--bill', b, '--export', 'meter-export-overlap.json', '--earlier-bills', 'earlier-overlap.jsonl');
      expect([c.code, c.json().problems], b).toEqual([0, []]);
    }
  }, 300_000);

  it('bad input: exit 2 with one error line naming the problem', () => {
    const Y = zkmeter('keygen').json().publicKey as string;
    const cases: [string[], RegExp][] = [
      [['meter', 'seal', '--meter-id', 'M', '--signing-key', '00', '--utility-key', '02', '--start', 'yesterday', '--readings', '1', '--out', 'x'], /^error: /],
      [['center', 'verify', '--registry', 'missing.jsonl', '--records', 'r.jsonl', '--utility-key', 'ab'], /^error: /],
      [['check-bill', '--bill', 'nope.json', '--export', 'e'], /^error: --bill: cannot read nope\.json/],
      // check-bill trusts the export alone: the options that fed it other keys and tariffs are gone.
      [['check-bill', '--bill', 'b.json', '--export', 'e', '--records', 'r'], /^error: unknown option '--records'$/m],
      [['check-bill', '--bill', 'b.json', '--export', 'e', '--tariff', 't.json'], /^error: unknown option '--tariff'$/m],
      // center bill says how the privacy authority is reached, and takes no shares as files any more.
      [['center', 'bill', '--keys', 'keys', '--certificates', 'c.jsonl', '--provisioning-key-public', '00'.repeat(32), '--records', 'r.jsonl', '--meter', 'M', '--from', '2026-11-25', '--to', '2026-11-26'], /^error: center bill needs the privacy authority: --authority URL --keys DIR .*--single-operator/],
      [['center', 'bill', '--authority', 'http://127.0.0.1:1', '--single-operator', '--keys', 'keys', '--certificates', 'c.jsonl', '--records', 'r.jsonl', '--meter', 'M', '--from', '2026-11-25', '--to', '2026-11-26'], /^error: give --authority URL or --single-operator, not both$/m],
      [['center', 'bill', '--single-operator', '--keys', 'keys', '--authority-share', 'k.json', '--certificates', 'c.jsonl', '--records', 'r.jsonl', '--meter', 'M', '--from', '2026-11-25', '--to', '2026-11-26'], /^error: unknown option '--authority-share'$/m],
      [['center', 'bill', '--single-operator', '--keys', 'no-such-keys', '--certificates', 'c.jsonl', '--records', 'r.jsonl', '--meter', 'M', '--from', '2026-11-25', '--to', '2026-11-26'], /^error: key directory no-such-keys does not exist/],
      // meter export needs the keys the meter was provisioned with.
      [['meter', 'export', '--meter-id', 'M', '--meter-key', '00'.repeat(32), '--records', 'r.jsonl', '--export', 'e.jsonl', '--key', 'k.json', '--out', 'x.json'], /^error: required option '--authority-key <hex>' not specified$/m],
      [['meter', 'export', '--meter-id', 'M', '--meter-key', '00'.repeat(32), '--records', 'r.jsonl', '--export', 'e.jsonl', '--authority-key', '00'.repeat(32), '--out', 'x.json'], /^error: required option '--key <file>' not specified$/m],
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
