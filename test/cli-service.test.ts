/**
 * `zkmeter serve` and `zkmeter simulate` as a user runs them: the simulator
 * certifies its meters with the provisioning key serve made in its key
 * directory and drives the service, and its summary agrees with the server's
 * own metrics; serve trusts the keys `--provisioning-keys` names instead, when
 * given; bad usage of either is exit 2 with one `error:` line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { bytesToHex } from '../lib/crypto/codec.js';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey } from '../lib/crypto/schnorr.js';
import { writeProvisioningKey } from '../dist/lib/server/keys.js';
import { CLI, startService, type Service } from './support/service.js';

const TOKEN = 'cli-service-token';
const dir = mkdtempSync(join(tmpdir(), 'zkmeter-cli-service-'));
let svc: Service | undefined;
afterAll(async () => {
  if (svc !== undefined && svc.child.exitCode === null) await svc.kill();
  rmSync(dir, { recursive: true, force: true });
});

function zkmeter(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ZKMETER_BACKEND: getGroup().name, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe(`zkmeter serve and simulate (${getGroup().name})`, () => {
  it('simulate drives the service; its counts agree with the server’s metrics', async () => {
    const keys = join(dir, 'keys');
    const serveArgs = ['--db', join(dir, 'sim.db'), '--keys', keys, '--workers', '1'];
    const env = { ZKMETER_ADMIN_TOKEN: TOKEN, ZKMETER_BACKEND: getGroup().name };
    svc = await startService(serveArgs, env);
    // First start: serve made a provisioning key beside the shares, trusts it, and says who should hold it.
    const keyFile = join(keys, 'provisioning.key.json');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const made = JSON.parse(readFileSync(keyFile, 'utf8')) as { secretKey: string; publicKey: string };
    expect(svc.stderr()).toMatch(/made the provisioning key .*provisioning\.key\.json.*in production the installer holds that key/);
    expect(((await (await fetch(`${svc.url}/v1/config`)).json()) as { provisioningKeys: string[] }).provisioningKeys).toEqual([made.publicKey]);
    const r = await zkmeter(['simulate', '--url', svc.url, '--keys', keys, '--meters', '2', '--days', '1', '--workers', '1', '--abnormal', '0'], { ZKMETER_ADMIN_TOKEN: TOKEN });
    expect(r.stderr).toMatch(/meters sealing/);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    expect(summary).toMatchObject({ meters: 2, days: 1, records: 2, readings: 192, accepted: 2, abnormal: 0, invalid: 0, repeated: 0 });
    expect(summary.readingsPerSec).toBeGreaterThan(0);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^zkmeter_readings_verified_total 192$/m);
    expect(metrics).toMatch(/^zkmeter_records_accepted_total\{outcome="accepted"\} 2$/m);

    // Without the admin token the simulator cannot register meters: a usage error, not a crash.
    const refused = await zkmeter(['simulate', '--url', svc.url, '--provisioning-key', keyFile, '--meters', '1'], { ZKMETER_ADMIN_TOKEN: '' });
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim().split('\n').pop()).toMatch(/^error: registering meters: .*401.*ZKMETER_ADMIN_TOKEN/);
    expect(await svc.stop()).toBe(0);

    // Later starts load the same key.
    svc = await startService(serveArgs, env);
    expect(svc.stderr()).toMatch(/using the provisioning key /);
    expect(JSON.parse(readFileSync(keyFile, 'utf8'))).toEqual(made);
    expect(await svc.stop()).toBe(0);

    // With --provisioning-keys it trusts those keys only: certificates by the key-directory key are refused.
    const installer = bytesToHex(schnorrPublicKey(randomScalar()));
    svc = await startService([...serveArgs, '--provisioning-keys', installer], env);
    expect(svc.stderr()).not.toMatch(/provisioning key/);
    expect(((await (await fetch(`${svc.url}/v1/config`)).json()) as { provisioningKeys: string[] }).provisioningKeys).toEqual([installer]);
    const untrusted = await zkmeter(['simulate', '--url', svc.url, '--keys', keys, '--meters', '1', '--workers', '1'], { ZKMETER_ADMIN_TOKEN: TOKEN });
    expect(untrusted.status).toBe(2);
    expect(untrusted.stderr.trim().split('\n').pop()).toMatch(/^error: registering meters: .*403 certificates\[0\]: refused by rule 'registry': .*not a trusted provisioning key/);
    expect(await svc.stop()).toBe(0);
  }, 400_000);

  it('bad usage is exit 2 with one error line', async () => {
    const keyFile = join(dir, 'installer.key.json');
    writeProvisioningKey(keyFile, randomScalar());
    const cases: [string[], RegExp][] = [
      [['simulate', '--url', 'ftp://x'], /--url expected the service URL/],
      [['simulate', '--url', 'http://127.0.0.1:1', '--meters', '1'], /--provisioning-key expected the provisioning key file/],
      [['simulate', '--url', 'http://127.0.0.1:1', '--provisioning-key', join(dir, 'none.json')], /--provisioning-key: cannot read .*none\.json: ENOENT/],
      [['simulate', '--url', 'http://127.0.0.1:1', '--keys', join(dir, 'no-keys')], /--provisioning-key: cannot read .*provisioning\.key\.json: ENOENT/],
      [['simulate', '--url', 'http://127.0.0.1:1', '--provisioning-key', keyFile, '--meters', '1'], /cannot reach http:\/\/127\.0\.0\.1:1/],
      [['simulate', '--url', 'http://127.0.0.1:1', '--meters', '0'], /--meters/],
      [['serve', '--port', '70000'], /--port/],
      [['serve', '--port', '0', '--provisioning-keys', 'zz', '--keys', join(dir, 'keys4')], /--provisioning-keys/],
      [['serve', '--port', '0', '--provisioning-keys', 'ff'.repeat(32), '--keys', join(dir, 'keys5')], /--provisioning-keys: key 1 is not an x-only secp256k1 key/],
      [['serve', '--port', '0', '--db', join(dir, 'no', 'such', 'dir', 'x.db'), '--keys', join(dir, 'keys2')], /cannot open database/],
      [['serve', '--port', '0', '--db', 'postgres://u:secret@127.0.0.1:1/db', '--keys', join(dir, 'keys3')], /cannot connect to PostgreSQL/],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ZKMETER_BACKEND: getGroup().name }, timeout: 60_000 });
      const last = r.stderr.trim().split('\n').pop() ?? '';
      expect([args.join(' '), r.status]).toEqual([args.join(' '), 2]);
      expect(last).toMatch(/^error: /);
      expect(last).toMatch(message);
      expect(r.stderr).not.toMatch(/secret|\n\s+at /); // no password, no stack trace
    }
  }, 400_000);
});
