/**
 * The compiled CLI (dist/, built by `npm test`'s pretest step) as a user runs it:
 * exit codes, one JSON object on stdout, one `error:` line on stderr, no stack
 * traces. Also the fallback to js when the addon is missing.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VERSION } from '../lib/version.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'lib', 'cli', 'main.js');

function zkmeter(args: string[], env: Record<string, string | undefined> = {}, cwd = root) {
  const res = spawnSync(process.execPath, [join(cwd, 'dist', 'lib', 'cli', 'main.js'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('zkmeter CLI', () => {
  it('is built (npm test builds dist/ first)', () => {
    expect(existsSync(cli)).toBe(true);
  });

  it('--version reports the version and the forced backend', () => {
    for (const backend of ['native', 'js']) {
      if (backend === 'native' && process.env.ZKMETER_BACKEND === 'js') continue;
      const r = zkmeter(['--version'], { ZKMETER_BACKEND: backend });
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ version: VERSION, backend });
    }
  });

  it('rejects an invalid ZKMETER_BACKEND with exit 2 and one error line', () => {
    const r = zkmeter(['--version'], { ZKMETER_BACKEND: 'gpu' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: ZKMETER_BACKEND expected 'native', 'js' or unset, got 'gpu'\n");
    expect(r.stdout).toBe('');
  });

  it('rejects unknown commands and options with exit 2 and no stack trace', () => {
    const a = zkmeter(['frobnicate']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/^error: unknown command 'frobnicate'/);
    const b = zkmeter(['version', '--bogus']);
    expect(b.code).toBe(2);
    expect(b.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(b.stderr).toMatch(/^error: /);
    expect(b.stderr).not.toMatch(/\n\s+at /);
  });

  it('help lists the commands', () => {
    const r = zkmeter(['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/selfcheck/);
    expect(r.stdout).toMatch(/bench/);
  });

  it('help lists the certificate commands and options', () => {
    expect(zkmeter(['keys', '--help']).stdout).toMatch(/^\s+provisioning \[options\]/m);
    expect(zkmeter(['meter', '--help']).stdout).toMatch(/^\s+certify \[options\]/m);
    const seal = zkmeter(['meter', 'seal', '--help']).stdout;
    expect(seal).toMatch(/--key-epoch <n>/);
    expect(seal).toMatch(/--tariff-version <n>/);
    const bill = zkmeter(['center', 'bill', '--help']).stdout;
    expect(bill).toMatch(/--certificates <file>/);
    expect(bill).toMatch(/--provisioning-key-public <hex>/);
    expect(bill).not.toMatch(/--registry/);
    // The authority is its service or, on one machine, run in-process from a single-operator directory: no share files.
    expect(bill).toMatch(/^\s+--authority <url>/m);
    expect(bill).toMatch(/^\s+--single-operator\s/m);
    expect(bill).toMatch(/^\s+--keys <dir>/m);
    expect(bill).not.toMatch(/--center-share|--authority-share|--key </);
    // The customer's check trusts the meter export alone.
    const check = zkmeter(['check-bill', '--help']).stdout;
    expect(check).toMatch(/--earlier-bills <file>/);
    expect(check).toMatch(/^\s+--export <file>/m);
    expect(check).not.toMatch(/--records|--tariff|--meter-key|--key </);
    const exported = zkmeter(['meter', 'export', '--help']).stdout;
    expect(exported).toMatch(/^\s+--key <file>/m);
    expect(exported).toMatch(/^\s+--authority-key <hex>/m);
    const serve = zkmeter(['serve', '--help']);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toMatch(/--provisioning-keys <hexes>/);
  });
});

describe('zkmeter keygen / encrypt / decrypt (SPEC.md)', () => {
  const keys = JSON.parse(zkmeter(['keygen']).stdout);

  it('keygen prints a 32-byte secret key and a 33-byte public key in lowercase hex', () => {
    expect(Object.keys(keys).sort()).toEqual(['publicKey', 'secretKey']);
    expect(keys.secretKey).toMatch(/^[0-9a-f]{64}$/);
    expect(keys.publicKey).toMatch(/^0[23][0-9a-f]{64}$/);
  });

  it('encrypt then decrypt round-trips, with the value as a decimal string', () => {
    const enc = zkmeter(['encrypt', '--public-key', keys.publicKey, '--value', '4294967296']);
    expect(enc.code).toBe(0);
    const { ciphertext } = JSON.parse(enc.stdout);
    expect(ciphertext).toMatch(/^(0[23][0-9a-f]{64}){2}$/);
    const dec = zkmeter(['decrypt', '--secret-key', keys.secretKey, '--ciphertext', ciphertext]);
    expect(dec.code).toBe(0);
    expect(JSON.parse(dec.stdout)).toEqual({ value: '4294967296' });
  });

  it('decrypt honours --max, and a value past it is exit 2', () => {
    const { ciphertext } = JSON.parse(zkmeter(['encrypt', '--public-key', keys.publicKey, '--value', '1001']).stdout);
    expect(JSON.parse(zkmeter(['decrypt', '--secret-key', keys.secretKey, '--ciphertext', ciphertext, '--max', '1001']).stdout)).toEqual({
      value: '1001',
    });
    const r = zkmeter(['decrypt', '--secret-key', keys.secretKey, '--ciphertext', ciphertext, '--max', '1000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: decrypted value is not in the range [0, 1000]\n');
    expect(r.stdout).toBe('');
  });

  it('bad input is exit 2 with one error line and no stack trace', () => {
    const cases: string[][] = [
      ['encrypt', '--public-key', keys.publicKey],
      ['encrypt', '--public-key', keys.publicKey, '--value', '-1'],
      ['encrypt', '--public-key', keys.publicKey, '--value', '1.5'],
      ['encrypt', '--public-key', keys.publicKey, '--value', '0x10'],
      ['encrypt', '--public-key', keys.publicKey.toUpperCase(), '--value', '1'],
      ['encrypt', '--public-key', '04' + keys.publicKey.slice(2), '--value', '1'],
      ['encrypt', '--public-key', keys.publicKey + '00', '--value', '1'],
      ['encrypt', '--public-key', keys.publicKey, '--value', '115792089237316195423570985008687907852837564279074904382605163141518161494337'],
      ['decrypt', '--secret-key', '00'.repeat(32), '--ciphertext', '02'.repeat(66)],
      ['decrypt', '--secret-key', 'ff'.repeat(32), '--ciphertext', '02'.repeat(66)],
      ['decrypt', '--secret-key', keys.secretKey, '--ciphertext', '02'.repeat(66)],
      ['decrypt', '--secret-key', keys.secretKey, '--ciphertext', 'zz'],
      ['decrypt', '--secret-key', keys.secretKey, '--ciphertext', '02'.repeat(66), '--table-bits', '99'],
      ['keygen', '--extra'],
    ];
    for (const args of cases) {
      const r = zkmeter(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(/^error: [^\n]+\n$/);
    }
  });
});

describe('zkmeter prove / verify (SPEC.md)', () => {
  const keys = JSON.parse(zkmeter(['keygen']).stdout);
  const other = JSON.parse(zkmeter(['keygen']).stdout);
  const bounds = ['--min', '100', '--max', '5000', '--bits', '16'];
  const proved = zkmeter(['prove', '--public-key', keys.publicKey, '--value', '1500', ...bounds, '--context', 'meter-1|day-3']);
  const p = JSON.parse(proved.stdout);
  const verifyArgs = (o: Record<string, string>, extra: string[]) => [
    'verify',
    '--public-key', o.publicKey ?? keys.publicKey,
    '--ciphertext', o.ciphertext ?? p.ciphertext,
    '--commitment', o.commitment ?? p.commitment,
    '--range-proof', o.rangeProof ?? p.rangeProof,
    '--equivalence-proof', o.equivalenceProof ?? p.equivalenceProof,
    ...extra,
  ];

  it('prove prints the four hex fields, and verify accepts them under the same flags', () => {
    expect(proved.code).toBe(0);
    expect(Object.keys(p).sort()).toEqual(['ciphertext', 'commitment', 'equivalenceProof', 'rangeProof']);
    for (const v of Object.values(p)) expect(v).toMatch(/^([0-9a-f]{2})+$/);
    const r = zkmeter(verifyArgs({}, [...bounds, '--context', 'meter-1|day-3']));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ valid: true });
  });

  it('fails (exit 1, valid:false with a reason) under any other context, key, bounds, bits, ciphertext or commitment', () => {
    const second = JSON.parse(zkmeter(['prove', '--public-key', keys.publicKey, '--value', '1500', ...bounds, '--context', 'meter-1|day-3']).stdout);
    const cases: [Record<string, string>, string[]][] = [
      [{}, [...bounds, '--context', 'meter-1|day-4']],
      [{}, [...bounds]],
      [{ publicKey: other.publicKey }, [...bounds, '--context', 'meter-1|day-3']],
      [{}, ['--min', '100', '--max', '4999', '--bits', '16', '--context', 'meter-1|day-3']],
      [{}, ['--min', '100', '--max', '5000', '--bits', '32', '--context', 'meter-1|day-3']],
      [{ ciphertext: second.ciphertext }, [...bounds, '--context', 'meter-1|day-3']],
      [{ commitment: second.commitment }, [...bounds, '--context', 'meter-1|day-3']],
      [{ rangeProof: p.rangeProof.slice(0, -2) }, [...bounds, '--context', 'meter-1|day-3']],
      [{ equivalenceProof: p.equivalenceProof + '00' }, [...bounds, '--context', 'meter-1|day-3']],
    ];
    for (const [o, extra] of cases) {
      const r = zkmeter(verifyArgs(o, extra));
      expect(r.code, JSON.stringify([o, extra])).toBe(1);
      const out = JSON.parse(r.stdout);
      expect(out.valid).toBe(false);
      expect(typeof out.reason).toBe('string');
    }
  });

  it('defaults to a 64-bit range from 0', () => {
    const q = JSON.parse(zkmeter(['prove', '--public-key', keys.publicKey, '--value', '18446744073709551615']).stdout);
    const r = zkmeter(['verify', '--public-key', keys.publicKey, '--ciphertext', q.ciphertext, '--commitment', q.commitment,
      '--range-proof', q.rangeProof, '--equivalence-proof', q.equivalenceProof]);
    expect(JSON.parse(r.stdout)).toEqual({ valid: true });
  });

  it('refuses to prove a value outside [min, max] (exit 2, no proof), and bad ranges', () => {
    for (const args of [
      ['--value', '5001', ...bounds],
      ['--value', '99', ...bounds],
      ['--value', '18446744073709551616'],
      ['--value', '5', '--bits', '12'],
      ['--value', '5', '--bits', '8', '--max', '256'],
      ['--value', '5', '--min', '9', '--max', '3'],
    ]) {
      const r = zkmeter(['prove', '--public-key', keys.publicKey, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^error: [^\n]+\n$/);
    }
  });
});

describe('without the native addon', () => {
  // A copy of the package with no build/ and no prebuilds/: what a user gets when the
  // addon failed to build or was deleted.
  const dir = mkdtempSync(join(tmpdir(), 'zkmeter-noaddon-'));
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  cpSync(join(root, 'binding.gyp'), join(dir, 'binding.gyp'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('falls back to js with no error when ZKMETER_BACKEND is unset', () => {
    const r = zkmeter(['--version'], { ZKMETER_BACKEND: undefined }, dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.backend).toBe('js');
    expect(out.fallback).toMatch(/native backend unavailable/);
  });

  it('fails loudly when ZKMETER_BACKEND=native', () => {
    const r = zkmeter(['--version'], { ZKMETER_BACKEND: 'native' }, dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: native backend unavailable: /);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('still computes correctly on js (selfcheck)', () => {
    const r = zkmeter(['selfcheck'], { ZKMETER_BACKEND: undefined }, dir);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, backend: 'js', nativeAvailable: false });
  });
});

describe('package metadata', () => {
  it('VERSION matches package.json', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.version).toBe(VERSION);
    expect(pkg.bin.zkmeter).toBe('./dist/lib/cli/main.js');
  });
});
