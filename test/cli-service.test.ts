/**
 * `zkmeter serve` and `zkmeter simulate` as a user runs them: the simulator
 * drives a running service and its summary agrees with the server's own
 * metrics; bad usage of either is exit 2 with one `error:` line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
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
    svc = await startService(['--db', join(dir, 'sim.db'), '--keys', join(dir, 'keys'), '--workers', '1'], { ZKMETER_ADMIN_TOKEN: TOKEN, ZKMETER_BACKEND: getGroup().name });
    const r = await zkmeter(['simulate', '--url', svc.url, '--meters', '2', '--days', '1', '--workers', '1', '--abnormal', '0'], { ZKMETER_ADMIN_TOKEN: TOKEN });
    expect(r.stderr).toMatch(/meters sealing/);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    expect(summary).toMatchObject({ meters: 2, days: 1, records: 2, readings: 192, accepted: 2, abnormal: 0, invalid: 0, repeated: 0 });
    expect(summary.readingsPerSec).toBeGreaterThan(0);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^zkmeter_readings_verified_total 192$/m);
    expect(metrics).toMatch(/^zkmeter_records_accepted_total\{outcome="accepted"\} 2$/m);

    // Without the admin token the simulator cannot register meters: a usage error, not a crash.
    const refused = await zkmeter(['simulate', '--url', svc.url, '--meters', '1'], { ZKMETER_ADMIN_TOKEN: '' });
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim().split('\n').pop()).toMatch(/^error: registering meters: .*401.*ZKMETER_ADMIN_TOKEN/);
    expect(await svc.stop()).toBe(0);
  }, 400_000);

  it('bad usage is exit 2 with one error line', async () => {
    const cases: [string[], RegExp][] = [
      [['simulate', '--url', 'ftp://x'], /--url expected the service URL/],
      [['simulate', '--url', 'http://127.0.0.1:1', '--meters', '1'], /cannot reach http:\/\/127\.0\.0\.1:1/],
      [['simulate', '--url', 'http://127.0.0.1:1', '--meters', '0'], /--meters/],
      [['serve', '--port', '70000'], /--port/],
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
