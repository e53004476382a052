/**
 * `zkmeter serve` and `zkmeter simulate` as a user runs them: the simulator
 * certifies its meters with the provisioning key serve made in its key
 * directory (`--single-operator --init`) and drives the service, and its
 * summary agrees with the server's own metrics; a bill is stored and served
 * again after a restart; single-operator restarts keep the privacy
 * authority's registry and ledger (its own store in the key directory: a
 * shifted overlapping bill is refused, the same bill's share comes back even
 * to a center that lost its store); serve trusts the keys `--provisioning-keys` names
 * instead, when given. Serve's modes: none is exit 2 with one line naming
 * them; keys are never made by accident (a missing or mistyped key directory,
 * a mistyped --db: nothing is created); single-operator mode says in its
 * listening line and its log that this one process can decrypt any reading;
 * the listening line is the address bound (0.0.0.0, [::1]), with a warning
 * beyond loopback over plain HTTP; HTTPS with a throwaway CA (a client that
 * pins it connects, one that does not is refused); the remote mode against
 * a real `zkmeter authority serve` (bills through it, 503 with Retry-After
 * once it is gone while records are still accepted). Bad usage of either
 * command is exit 2 with one `error:` line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { bytesToHex } from '../lib/crypto/codec.js';
import { randomScalar } from '../lib/crypto/random.js';
import { schnorrPublicKey } from '../lib/crypto/schnorr.js';
import { certifyMeter } from '../lib/protocol/certificate.js';
import { HOUSEHOLD, Meter } from '../lib/protocol/meter.js';
import { dangerouslyGenerateAllShares } from '../dist/lib/crypto/threshold.js';
import { AUTHORITY_PARTY, CENTER_PARTY, createIdentityKey, readProvisioningKey, writePartyKeyFiles, writeProvisioningKey } from '../dist/lib/server/keys.js';
import { ServiceClient } from '../dist/lib/server/client.js';
import { decodeHexPoint } from '../dist/lib/server/wire.js';
import { LOG_HEAD_FILE } from '../dist/lib/server/log-head.js';
import { CLI, startService, type Service } from './support/service.js';
import { makeTestCa } from './support/tls.js';

const TOKEN = 'cli-service-token';
const dir = mkdtempSync(join(tmpdir(), 'zkmeter-cli-service-'));
const running: (Service | ChildProcess)[] = [];
let svc: Service | undefined;
afterAll(async () => {
  for (const s of running) {
    const child = 'child' in s ? s.child : s;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
  rmSync(dir, { recursive: true, force: true });
});
const env = { ZKMETER_ADMIN_TOKEN: TOKEN, ZKMETER_BACKEND: getGroup().name };

async function serve(args: string[], e: Record<string, string> = env): Promise<Service> {
  const s = await startService(args, e);
  running.push(s);
  return s;
}

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

/** `zkmeter ARGS` run to its end in `cwd` (default: the test directory, so that default paths land there). */
function run(args: string[], cwd = dir) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ZKMETER_BACKEND: getGroup().name }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stderr.trim().split('\n').filter((l) => l !== '') };
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether this machine can listen on ::1. */
async function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(0, '::1', () => srv.close(() => resolve(true)));
  });
}

/** GET over https, pinning `ca` or not: the status, or the TLS error's code. */
function httpsGet(url: string, ca?: string): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = https.get(url, { ...(ca !== undefined ? { ca } : {}), agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode! }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

describe(`zkmeter serve and simulate (${getGroup().name})`, () => {
  it('simulate drives the service; its counts agree with the server’s metrics', async () => {
    const keys = join(dir, 'keys');
    const serveArgs = ['--single-operator', '--init', '--db', join(dir, 'sim.db'), '--keys', keys, '--workers', '1'];
    svc = await serve(serveArgs);
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

    // A simulated meter's day is billable; the bill is stored under its id.
    const runId = /\(run ([0-9a-f]+),/.exec(r.stderr)![1]!;
    const day = Math.floor(Date.now() / 86_400_000) * 86_400 - 86_400;
    const admin = new ServiceClient(svc.url, { token: TOKEN, maxRetries: 0 });
    const bill = await admin.bill(`sim-${runId}-0`, day, day + 86_400);
    expect(bill.id).toMatch(/^[0-9a-f]{64}$/);
    expect(bill.meterId).toBe(`sim-${runId}-0`);

    // Without the admin token the simulator cannot register meters: a usage error, not a crash.
    const refused = await zkmeter(['simulate', '--url', svc.url, '--provisioning-key', keyFile, '--meters', '1'], { ZKMETER_ADMIN_TOKEN: '' });
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim().split('\n').pop()).toMatch(/^error: registering meters: .*401.*ZKMETER_ADMIN_TOKEN/);
    expect(await svc.stop()).toBe(0);

    // Later starts load the same keys (--init makes none when the directory holds them), and serve the stored bill.
    const shared = readFileSync(join(keys, 'shared-key.json'), 'utf8');
    svc = await serve(serveArgs);
    expect(svc.stderr()).toMatch(/using the provisioning key /);
    expect(svc.stderr()).not.toMatch(/made single-operator keys/);
    expect(JSON.parse(readFileSync(keyFile, 'utf8'))).toEqual(made);
    expect(readFileSync(join(keys, 'shared-key.json'), 'utf8')).toBe(shared);
    const stored = await fetch(`${svc.url}/v1/bills/${String(bill.id)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(stored.status).toBe(200);
    expect(await stored.json()).toEqual(bill);
    expect(await new ServiceClient(svc.url, { token: TOKEN, maxRetries: 0 }).bill(`sim-${runId}-0`, day, day + 86_400)).toEqual(bill);
    expect(await svc.stop()).toBe(0);

    // With --provisioning-keys it trusts those keys only: certificates by the key-directory key are refused.
    const installer = bytesToHex(schnorrPublicKey(randomScalar()));
    svc = await serve([...serveArgs, '--provisioning-keys', installer]);
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
      [['serve', '--single-operator', '--port', '70000'], /--port/],
      [['serve', '--single-operator', '--init', '--port', '0', '--provisioning-keys', 'zz', '--keys', join(dir, 'keys4')], /--provisioning-keys/],
      [['serve', '--single-operator', '--init', '--port', '0', '--provisioning-keys', 'ff'.repeat(32), '--keys', join(dir, 'keys5')], /--provisioning-keys: key 1 is not an x-only secp256k1 key/],
      [['serve', '--single-operator', '--init', '--port', '0', '--db', join(dir, 'no', 'such', 'dir', 'x.db'), '--keys', join(dir, 'keys2')], /cannot open database/],
      [['serve', '--single-operator', '--init', '--port', '0', '--db', 'postgres://u:secret@127.0.0.1:1/db', '--keys', join(dir, 'keys3')], /cannot connect to PostgreSQL/],
      [['serve', '--authority', 'http://127.0.0.1:1', '--single-operator', '--keys', join(dir, 'keys3')], /give --authority URL or --single-operator, not both/],
      [['serve', '--authority', 'http://127.0.0.1:1', '--init', '--keys', join(dir, 'keys3')], /--init makes single-operator keys: it goes with --single-operator/],
      [['serve', '--single-operator', '--init'], /--init writes keys: name their directory with --keys DIR/],
      [['serve', '--single-operator', '--keys', join(dir, 'keys3'), '--tls-cert', join(dir, 'cert.pem')], /--tls-cert and --tls-key go together/],
      [['serve', '--single-operator', '--keys', join(dir, 'keys3'), '--tls-cert', join(dir, 'none.pem'), '--tls-key', join(dir, 'none.key')], /--tls-cert: cannot read .*none\.pem: ENOENT/],
      [['serve', '--authority', 'http://127.0.0.1:1', '--min-intervals', '4', '--keys', join(dir, 'keys3')], /--min-intervals is the privacy authority's policy/],
      [['serve', '--single-operator', '--authority-ca', join(dir, 'ca.pem'), '--keys', join(dir, 'keys3')], /--authority-ca goes with --authority URL/],
      [['serve', '--single-operator', '--init', '--keys', join(dir, 'no', 'such', 'parent', 'keys')], /its parent directory .* does not exist/],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ZKMETER_BACKEND: getGroup().name }, timeout: 60_000 });
      const last = r.stderr.trim().split('\n').pop() ?? '';
      expect([args.join(' '), r.status]).toEqual([args.join(' '), 2]);
      expect(last).toMatch(/^error: /);
      expect(last).toMatch(message);
      expect(r.stderr).not.toMatch(/secret|\n\s+at /); // no password, no stack trace
    }
    expect(existsSync(join(dir, 'no'))).toBe(false);
  }, 400_000);
});

describe(`zkmeter serve --single-operator: restarts keep the privacy authority's registry and ledger (${getGroup().name})`, () => {
  it('after a restart a repeated bill is the same bill, a shifted overlapping one is refused 403, the meter is still billable; with the center’s store lost, the authority gives the same shares again', async () => {
    const keys = join(dir, 'restart.keys');
    const args = (db: string) => ['--single-operator', '--init', '--keys', keys, '--db', join(dir, db), '--workers', '1'];
    let s = await serve(args('restart-a.db'));
    let admin = new ServiceClient(s.url, { token: TOKEN, maxRetries: 0 });
    const utilityKey = decodeHexPoint((await admin.config()).utilityKey, 'utilityKey');
    const provisioning = readProvisioningKey(join(keys, 'provisioning.key.json')).secretKey;
    const d0 = 1_764_115_200;
    const D = 86_400;
    const m = new Meter({ meterId: 'S1', signingKey: randomScalar(), utilityKey });
    // The installer's certificate, made once: the authority knows it by its bytes (another signature of the same content is another certificate).
    const certificate = certifyMeter({ meterId: 'S1', publicKey: m.publicKey, keyEpoch: 0, validFrom: d0 - 400 * D, feeder: 'FS', meterClass: HOUSEHOLD }, provisioning);
    const register = async () => (await admin.registerCertificates([certificate])).changes.map((c) => c.change);
    const values = (k: number) => Array.from({ length: D / HOUSEHOLD.intervalSeconds }, (_, i) => BigInt((i * 31 + k * 17) % 400));
    // Two whole days, sealed once (and sent again to a center that lost them).
    const days = [m.daily(d0, values(0)).bytes, m.daily(d0 + D, values(1)).bytes];
    const submit = async () => expect((await admin.submit(days)).accepted).toBe(2);
    const refusal = (rule: string) => ({ status: 403, code: 'POLICY_REFUSED', message: expect.stringContaining(`refused by rule '${rule}'`) });
    const authorityShare = (b: Record<string, unknown>) => (b.decryptionShares as { party: string }[]).find((x) => x.party === AUTHORITY_PARTY);
    expect(await register()).toEqual(['registered']);
    await submit();
    const second = await admin.bill('S1', d0 + D, d0 + 2 * D);
    expect(authorityShare(second)).toBeDefined();
    expect(await s.stop()).toBe(0);
    // The authority's store is its own, beside the shares, and private.
    expect(statSync(join(keys, 'privacy-authority.db')).mode & 0o777).toBe(0o600);

    // Restarted on the same keys and store, and never told of the meter again.
    s = await serve(args('restart-a.db'));
    expect(s.stderr()).not.toMatch(/made single-operator keys/);
    admin = new ServiceClient(s.url, { token: TOKEN, maxRetries: 0 });
    expect(await admin.bill('S1', d0 + D, d0 + 2 * D)).toEqual(second);
    // Shifted to overlap the billed day: only the authority's ledger knows of that bill.
    await expect(admin.bill('S1', d0, d0 + 2 * D)).rejects.toMatchObject(refusal('overlap'));
    // The day before is billable: the authority's registry came back with it.
    const first = await admin.bill('S1', d0, d0 + D);
    expect(authorityShare(first)).toBeDefined();
    expect(await s.stop()).toBe(0);

    // Restarted with the center's store lost (a new --db), the same key directory: the center is told of the meter and
    // its records again and asks the authority anew, whose ledger answers the shares it released before.
    s = await serve(args('restart-b.db'));
    admin = new ServiceClient(s.url, { token: TOKEN, maxRetries: 0 });
    expect(await register()).toEqual(['registered']); // the center's registry is new
    await submit();
    for (const [from, before] of [[d0, first], [d0 + D, second]] as const) {
      const again = await admin.bill('S1', from, from + D);
      expect(again.id).toBe(before.id);
      expect([again.energyCharge, again.total]).toEqual([before.energyCharge, before.total]);
      expect(authorityShare(again)).toEqual(authorityShare(before)); // the very share, not a new decryption
    }
    await expect(admin.bill('S1', d0, d0 + 2 * D)).rejects.toMatchObject(refusal('overlap'));
    expect(await s.stop()).toBe(0);
  }, 400_000);
});

describe(`zkmeter serve: modes, keys, addresses and TLS (${getGroup().name})`, () => {
  it('without --authority or --single-operator it exits 2 with one line saying how to start either', () => {
    const r = run(['serve', '--db', join(dir, 'nomode.db')]);
    expect(r.status).toBe(2);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^error: say how the privacy authority is reached: .*zkmeter authority serve .*zkmeter serve --authority URL .*--single-operator --init/);
    expect(existsSync(join(dir, 'nomode.db'))).toBe(false);
    expect(existsSync(join(dir, 'nomode.keys'))).toBe(false);
  });

  it('keys are never made by accident: a missing key directory (or a mistyped --db) refuses to start and creates nothing', () => {
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    const db = join(scratch, 'center.db');
    for (const [mode, hint] of [
      [['--single-operator'], /add --init to make them there/],
      [['--authority', 'http://127.0.0.1:1'], /key ceremony \(zkmeter keys dkg --party control-center/],
    ] as const) {
      const r = run(['serve', ...mode, '--keys', join(scratch, 'typo', 'dir'), '--db', db, '--port', '0']);
      expect([mode.join(' '), r.status, r.lines.length]).toEqual([mode.join(' '), 2, 1]);
      expect(r.lines[0]).toMatch(/^error: key directory .*typo\/dir does not exist/);
      expect(r.lines[0]).toMatch(hint);
      // The default key directory of a mistyped --db is only read, never made.
      const typo = run(['serve', ...mode, '--db', join(scratch, 'cneter.db'), '--port', '0']);
      expect([typo.status, typo.lines.length]).toEqual([2, 1]);
      expect(typo.lines[0]).toMatch(/^error: key directory .*cneter\.keys does not exist/);
    }
    expect(readdirSync(scratch)).toEqual([]); // no key directory, no database, nothing
  });

  it('--init never replaces keys, and a key directory of one party is not a single-operator one', () => {
    const party = join(dir, 'center-only');
    const { key, shares } = dangerouslyGenerateAllShares([CENTER_PARTY, AUTHORITY_PARTY], 2);
    const id = createIdentityKey(party);
    writePartyKeyFiles(party, key, shares.get(CENTER_PARTY)!, { ceremony: randomBytes(16), identities: new Map([[CENTER_PARTY, id.publicKey], [AUTHORITY_PARTY, schnorrPublicKey(randomScalar())]]) });
    const before = Object.fromEntries(readdirSync(party).map((f) => [f, readFileSync(join(party, f), 'utf8')]));
    const r = run(['serve', '--single-operator', '--init', '--keys', party, '--db', join(dir, 'center-only.db'), '--port', '0']);
    expect([r.status, r.lines.length]).toEqual([2, 1]);
    expect(r.lines[0]).toMatch(/^error: no privacy-authority\.share\.json in /);
    expect(Object.fromEntries(readdirSync(party).map((f) => [f, readFileSync(join(party, f), 'utf8')]))).toEqual(before);
    expect(existsSync(join(dir, 'center-only.db'))).toBe(false);
  });

  it('--host 0.0.0.0 prints the address bound and warns that the admin token travels in clear; single-operator mode says so in its line and its log', async () => {
    const s = await serve(['--single-operator', '--init', '--keys', join(dir, 'any.keys'), '--db', join(dir, 'any.db'), '--host', '0.0.0.0', '--workers', '1']);
    expect(s.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect(s.listening).toMatchObject({ listening: s.url, singleOperator: true, warning: expect.stringMatching(/one process holds both key shares .*can decrypt any single reading/) });
    expect(s.stderr()).toMatch(/made single-operator keys \(both shares\) in /);
    expect(s.stderr()).toContain(`WARNING: ${String(s.listening.warning)}`);
    expect(s.stderr()).toMatch(/WARNING: listening on 0\.0\.0\.0 beyond loopback over plain HTTP: the admin token travels in clear/);
    const port = new URL(s.url).port;
    expect(((await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { authority: unknown }).authority).toEqual({ mode: 'single-operator' });
    expect(await s.stop()).toBe(0);
  }, 120_000);

  it('an IPv6 address is printed in brackets, and loopback gives no clear-text warning', async (ctx) => {
    if (!(await ipv6Loopback())) {
      console.log('cli-service.test.ts: the IPv6 listening test is SKIPPED: this machine cannot listen on ::1');
      ctx.skip();
    }
    const s = await serve(['--single-operator', '--init', '--keys', join(dir, 'v6.keys'), '--db', join(dir, 'v6.db'), '--host', '::1', '--workers', '1']);
    expect(s.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect(((await (await fetch(`${s.url}/healthz`)).json()) as { status: string }).status).toBe('ok');
    expect(s.stderr()).not.toMatch(/travels in clear/);
    expect(await s.stop()).toBe(0);
  }, 120_000);

  it('serves HTTPS with --tls-cert and --tls-key: a client pinning the CA connects, one without it is refused', async (ctx) => {
    const ca = makeTestCa(join(dir, 'tls'));
    if ('skip' in ca) {
      console.log(`cli-service.test.ts: the HTTPS test is SKIPPED: ${ca.skip}`);
      ctx.skip();
      return;
    }
    // Beyond loopback, but over TLS: no clear-text warning.
    const s = await serve(['--single-operator', '--init', '--keys', join(dir, 'tls.keys'), '--db', join(dir, 'tls.db'), '--host', '0.0.0.0', '--tls-cert', ca.server.certFile, '--tls-key', ca.server.keyFile, '--workers', '1']);
    expect(s.url).toMatch(/^https:\/\/0\.0\.0\.0:\d+$/);
    expect(s.stderr()).not.toMatch(/travels in clear/);
    expect(s.stderr()).toMatch(/, HTTPS$/m);
    const at = `https://127.0.0.1:${new URL(s.url).port}/healthz`;
    expect(await httpsGet(at, ca.ca)).toEqual({ status: 200 });
    expect((await httpsGet(at)).error).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    // A plain-HTTP request to the TLS port gets no answer of the service.
    expect((await fetch(`http://127.0.0.1:${new URL(s.url).port}/healthz`).then((r) => r.status, () => 'refused'))).not.toBe(200);
    expect(await s.stop()).toBe(0);
  }, 120_000);
});

describe(`zkmeter serve --authority: the remote privacy authority (${getGroup().name})`, () => {
  /** `zkmeter authority serve …` as a child process, resolved with its listening URL. */
  async function authorityServe(args: string[]): Promise<{ url: string; child: ChildProcess; stderr: () => string; stop: () => Promise<void> }> {
    const child = spawn(process.execPath, [CLI, 'authority', 'serve', '--port', '0', ...args], { env: { ...process.env, ZKMETER_BACKEND: getGroup().name }, stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line !== undefined) resolve((JSON.parse(line) as { listening: string }).listening);
      });
      child.once('exit', (code) => reject(new Error(`authority serve exited with ${code}: ${err}`)));
    });
    return {
      url,
      child,
      stderr: () => err,
      stop: async () => {
        child.kill('SIGTERM');
        if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      },
    };
  }

  it('the center bills through the authority service; with it gone, bills and registration answer 503 with Retry-After while records are still accepted', async () => {
    // Both parties' key directories, as the key ceremony writes them: each holds its own share only.
    const centerDir = join(dir, 'remote-center');
    const authorityDir = join(dir, 'remote-authority');
    const { key, shares } = dangerouslyGenerateAllShares([CENTER_PARTY, AUTHORITY_PARTY], 2);
    const ids = { center: createIdentityKey(centerDir), authority: createIdentityKey(authorityDir) };
    const record = { ceremony: randomBytes(16), identities: new Map([[CENTER_PARTY, ids.center.publicKey], [AUTHORITY_PARTY, ids.authority.publicKey]]) };
    writePartyKeyFiles(centerDir, key, shares.get(CENTER_PARTY)!, record);
    writePartyKeyFiles(authorityDir, key, shares.get(AUTHORITY_PARTY)!, record);
    const provisioningFile = join(dir, 'remote-installer.key.json');
    const provisioning = writeProvisioningKey(provisioningFile, randomScalar());
    const trust = ['--provisioning-keys', bytesToHex(provisioning.publicKey)];

    // Without its identity key the center cannot sign its requests: it refuses to start.
    const bare = join(dir, 'remote-bare');
    writePartyKeyFiles(bare, key, shares.get(CENTER_PARTY)!, record);
    const refused = run(['serve', '--authority', 'http://127.0.0.1:1', '--keys', bare, '--db', join(dir, 'bare.db')]);
    expect([refused.status, refused.lines.length]).toEqual([2, 1]);
    expect(refused.lines[0]).toMatch(/^error: no identity\.key\.json in .*remote-bare: the center signs its requests to the authority/);
    expect(existsSync(join(dir, 'bare.db'))).toBe(false);

    // An empty store is a first start only with --init: a mistyped --db must not bring up an authority that forgot its ledger.
    await expect(authorityServe(['--keys', authorityDir, '--db', join(dir, 'typo-authority.db'), ...trust])).rejects.toThrow(/does not exist: if this is its first start, add --init/);
    expect(existsSync(join(dir, 'typo-authority.db'))).toBe(false);
    const authority = await authorityServe(['--init', '--keys', authorityDir, '--db', join(dir, 'remote-authority.db'), ...trust]);
    const center = await serve(['--authority', authority.url, '--keys', centerDir, '--db', join(dir, 'remote-center.db'), '--workers', '1', ...trust]);
    expect(center.listening).toEqual({ listening: center.url });
    expect(center.stderr()).not.toMatch(/single-operator|both key shares/);
    await until('the center to check the authority', () => /answers and holds a share of this key|cannot check the privacy authority/.test(center.stderr()));
    expect(center.stderr()).toMatch(/the privacy authority at .* answers and holds a share of this key/);
    const admin = new ServiceClient(center.url, { token: TOKEN, maxRetries: 0 });
    expect(await admin.health()).toMatchObject({ authority: { mode: 'remote', url: `${authority.url}/` } });
    expect((await admin.config()).billing).toBe(true);
    // The center's directory never gained the authority's share.
    expect(existsSync(join(centerDir, `${AUTHORITY_PARTY}.share.json`))).toBe(false);

    const utilityKey = decodeHexPoint((await admin.config()).utilityKey, 'utilityKey');
    const day = 1_764_115_200;
    const fleet = ['R1', 'R2'].map((id) => new Meter({ meterId: id, signingKey: randomScalar(), utilityKey }));
    const registered = await admin.registerMeters(provisioning.secretKey, fleet.map((m) => ({ meterId: m.meterId, publicKey: m.publicKey, feeder: 'FR', validFrom: day - 400 * 86_400 })));
    expect(registered.changes.map((c) => c.change)).toEqual(['registered', 'registered']);
    const values = Array.from({ length: 86_400 / HOUSEHOLD.intervalSeconds }, (_, i) => BigInt((i * 53) % 400));
    expect((await admin.submit([fleet[0]!.daily(day, values).bytes])).accepted).toBe(1);
    const bill = await admin.bill('R1', day, day + 86_400);
    expect((bill.decryptionShares as { party: string }[]).map((x) => x.party).sort()).toEqual([CENTER_PARTY, AUTHORITY_PARTY]);
    expect(await admin.bill('R1', day, day + 86_400)).toEqual(bill);
    // The center kept the authority's newest signed head beside its keys: the log's own head.
    const logHead = ((await (await fetch(`${authority.url}/v1/releases?limit=1`)).json()) as { head: unknown }).head;
    const { key: keptFor, ...kept } = JSON.parse(readFileSync(join(centerDir, LOG_HEAD_FILE), 'utf8')) as { key: string };
    expect(kept).toEqual(logHead);
    expect(keptFor).toMatch(/^[0-9a-f]{64}$/);

    // The authority goes away.
    await authority.stop();
    const call = async (path: string, body: unknown) => {
      const res = await fetch(center.url + path, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), code: ((await res.json()) as { error?: { code: string } }).error?.code };
    };
    expect((await admin.submit([fleet[1]!.daily(day, values).bytes])).accepted).toBe(1); // ingest never depends on the authority
    expect(await call('/v1/bills', { meterId: 'R2', from: day, to: day + 86_400 })).toEqual({ status: 503, retryAfter: '1', code: 'AUTHORITY_UNAVAILABLE' });
    const late = new Meter({ meterId: 'R3', signingKey: randomScalar(), utilityKey });
    const cert = certifyMeter({ meterId: 'R3', publicKey: late.publicKey, keyEpoch: 0, validFrom: day, feeder: 'FR', meterClass: HOUSEHOLD }, provisioning.secretKey);
    expect(await call('/v1/meters', { certificates: [bytesToHex(cert)] })).toEqual({ status: 503, retryAfter: '1', code: 'AUTHORITY_UNAVAILABLE' });
    // The bill issued before is still served, from the center's store.
    expect(await admin.bill('R1', day, day + 86_400)).toEqual(bill);
    expect(center.stderr()).toMatch(/the privacy authority is unavailable: /);
    expect(await center.stop()).toBe(0);
  }, 400_000);
});
