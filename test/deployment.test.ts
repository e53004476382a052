/**
 * The two parties on separate hosts (issue 16), on each backend: the control
 * center, the privacy authority and the meters each in a network namespace
 * made by the test (test/support/hosts.ts), or, without root, on loopback
 * (the reason is printed). Everything goes through the command line and HTTP,
 * as a deployment would:
 *  - the key ceremony runs between the center's and the authority's hosts,
 *    and neither key directory, store nor process environment holds the
 *    other party's share;
 *  - meters register and submit; bills are issued through the authority and
 *    pass the customer's check (`check-bill`, from the meter's export alone);
 *  - the authority is killed mid-release and restarted: the retried release
 *    returns the same share, and its ledger holds it once;
 *  - while it is down, ingest goes on and bills answer 503 with Retry-After;
 *  - a request to the authority signed by any key but the center's is refused.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHosts, runOn, runOnce, type HostProcess, type Hosts } from './support/hosts.js';
import { makeTestCa } from './support/tls.js';
import { httpRequest } from '../lib/server/http-request.js';

const DIST = fileURLToPath(new URL('../dist', import.meta.url));
const METER_HOST = fileURLToPath(new URL('./support/meter-host.mjs', import.meta.url));
const TOKEN = 'deployment-admin-token';
/** 2026-11-01, a UTC midnight: the days billed. */
const START = 1_793_491_200;
const DAY = 86_400;
/** Sealing and checking daily records in pure TypeScript takes minutes on the js backend. */
const SLOW = process.env.ZKMETER_BACKEND === 'js' ? 600_000 : 120_000;

let net: Hosts;
const dirs: Record<'center' | 'authority' | 'meters' | 'installer', string> = {} as never;
const running: HostProcess[] = [];

function readShareSecret(dir: string, party: string): string {
  return (JSON.parse(readFileSync(join(dir, `${party}.share.json`), 'utf8')) as { secret: string }).secret;
}

/** Every file under `dir` as bytes. */
function filesUnder(dir: string): { file: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => ({ file: join(e.parentPath, e.name), bytes: readFileSync(join(e.parentPath, e.name)) }));
}

function holds(bytes: Buffer, secretHex: string): boolean {
  return bytes.includes(Buffer.from(secretHex, 'utf8')) || bytes.includes(Buffer.from(secretHex, 'hex'));
}

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(() => {
  net = makeHosts(['center', 'authority', 'meters']);
  if (!net.separate) console.log(`deployment.test.ts: no separate hosts (${net.why}); running the same scenario on loopback`);
  else console.log(`deployment.test.ts: hosts ${Object.values(net.hosts).map((h) => `${h.name} ${h.address}`).join(', ')}`);
  for (const k of Object.keys({ center: 0, authority: 0, meters: 0, installer: 0 }) as (keyof typeof dirs)[]) dirs[k] = mkdtempSync(join(tmpdir(), `zkmeter-${k}-`));
});

afterAll(async () => {
  for (const p of running) await p.kill();
  net.cleanup();
  for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
});

describe('the center and the authority on separate hosts', () => {
  const { center: C, authority: A, meters: M } = { center: 'center', authority: 'authority', meters: 'meters' } as const;
  let authorityUrl = '';
  let centerUrl = '';
  let provisioningKey = '';
  let authorityIdentity = '';
  let tls: string[] = [];
  let caFile: string | undefined;
  /** A public route of the authority, as an auditor reads it (pinning its CA when it serves HTTPS). */
  const authorityGet = async (path: string) => {
    const res = await httpRequest({ url: new URL(path, authorityUrl), method: 'GET', ...(caFile !== undefined ? { ca: readFileSync(caFile) } : {}), timeoutMs: 10_000, maxResponseBytes: 16 << 20 });
    expect(res.status).toBe(200);
    return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  };
  const startAuthority = async () => {
    const h = net.hosts[A]!;
    // --init on the first start only: restarted, the authority must find its ledger.
    const p = runOn(h, ['authority', 'serve', ...(authorityUrl === '' ? ['--init'] : []), '--keys', dirs.authority, '--db', join(dirs.authority, 'authority.db'), '--provisioning-keys', provisioningKey, '--host', h.address, '--port', authorityUrl === '' ? '0' : new URL(authorityUrl).port, ...tls]);
    running.push(p);
    authorityUrl = String((await p.firstLine).listening);
    return p;
  };

  it('runs the key ceremony across the hosts: each holds only its own share', async () => {
    const a = (await runOnce(net.hosts[A]!, ['keys', 'identity', '--out', dirs.authority])).publicKey as string;
    const c = (await runOnce(net.hosts[C]!, ['keys', 'identity', '--out', dirs.center])).publicKey as string;
    authorityIdentity = a;
    const listener = runOn(net.hosts[A]!, ['keys', 'dkg', '--party', 'privacy-authority', '--out', dirs.authority, '--peer-key', c, '--listen', `${net.hosts[A]!.address}:0`, '--timeout', '120']);
    running.push(listener);
    const url = String((await listener.firstLine).listening);
    if (net.separate) expect(new URL(url).hostname).toBe(net.hosts[A]!.address);
    const joined = await runOnce(net.hosts[C]!, ['keys', 'dkg', '--party', 'control-center', '--out', dirs.center, '--peer-key', a, '--peer', url]);
    expect(await listener.exited).toBe(0);
    const listened = JSON.parse(listener.stdout().trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(joined.publicKey).toBe(listened.publicKey);
    expect(readFileSync(join(dirs.center, 'shared-key.json'), 'utf8')).toBe(readFileSync(join(dirs.authority, 'shared-key.json'), 'utf8'));
    expect(existsSync(join(dirs.center, 'privacy-authority.share.json'))).toBe(false);
    expect(existsSync(join(dirs.authority, 'control-center.share.json'))).toBe(false);
    const installer = await runOnce(net.hosts[M]!, ['keys', 'provisioning', '--out', join(dirs.installer, 'provisioning.key.json')]);
    provisioningKey = String(installer.publicKey);
  });

  it('starts both services; the center reaches the authority over HTTPS, pinning its CA, with signed requests', async () => {
    // The authority serves HTTPS with a certificate of a throwaway CA (Debian's openssl), for its address.
    const ca = makeTestCa(join(dirs.installer, 'tls'));
    if ('skip' in ca) console.log(`deployment.test.ts: ${ca.skip}: the authority serves plain HTTP`);
    else {
      const cert = ca.issue('authority', [net.hosts[A]!.address]);
      tls = ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile];
      caFile = ca.caFile;
    }
    await startAuthority();
    if (caFile !== undefined) expect(authorityUrl).toMatch(/^https:/);
    const h = net.hosts[C]!;
    const center = runOn(h, ['serve', '--authority', authorityUrl, ...(caFile !== undefined ? ['--authority-ca', caFile] : []), '--keys', dirs.center, '--db', join(dirs.center, 'center.db'), '--provisioning-keys', provisioningKey, '--host', h.address, '--port', '0', '--workers', '1'], { ZKMETER_ADMIN_TOKEN: TOKEN });
    running.push(center);
    centerUrl = String((await center.firstLine).listening);
    expect(new URL(centerUrl).hostname).toBe(h.address);
    if (net.separate) expect(center.stderr()).toMatch(/plain HTTP/);
    // The center checked, in the background, that the authority answers and holds a share of its key.
    for (let i = 0; i < 100 && !/answers and holds a share/.test(center.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(center.stderr()).toMatch(/answers and holds a share of this key/);
  });

  it('registers meters and ingests their records; bills go through the authority and pass the customer check', async () => {
    const job = {
      dist: DIST,
      url: centerUrl,
      token: TOKEN,
      sharedKeyFile: join(dirs.meters, 'shared-key.json'),
      provisioningKeyFile: join(dirs.installer, 'provisioning.key.json'),
      authorityKey: authorityIdentity,
      meters: ['MTR-1', 'MTR-2', 'MTR-3'],
      feeder: 'F1',
      validFrom: START - 365 * DAY,
      start: START,
      days: [0, 1],
      hold: [1],
      tariffVersion: 1,
      register: true,
      out: dirs.meters,
    };
    // What the meters were provisioned with: the shared key's public side.
    writeFileSync(job.sharedKeyFile, readFileSync(join(dirs.center, 'shared-key.json')));
    writeFileSync(join(dirs.meters, 'job.json'), JSON.stringify(job));
    const meters = await runNodeOn(M, [METER_HOST, join(dirs.meters, 'job.json')]);
    expect(meters).toEqual({ accepted: 3, meters: 3 });
    for (const id of ['MTR-1']) {
      const bill = await json(`${centerUrl}/v1/bills`, { method: 'POST', body: JSON.stringify({ meterId: id, from: START, to: START + DAY }) });
      expect(bill.status, JSON.stringify(bill.body)).toBe(200);
      const file = join(dirs.meters, `${id}.bill.json`);
      writeFileSync(file, JSON.stringify(bill.body));
      const verdict = await runOnce(net.hosts[M]!, ['check-bill', '--bill', file, '--export', join(dirs.meters, `${id}.export.json`)]);
      expect(verdict).toMatchObject({ ok: true });
      // A wrong bill fails the same check.
      const wrong = join(dirs.meters, `${id}.wrong.json`);
      writeFileSync(wrong, JSON.stringify({ ...bill.body, total: String(BigInt(String(bill.body.total)) + 1n) }));
      const p = runOn(net.hosts[M]!, ['check-bill', '--bill', wrong, '--export', join(dirs.meters, `${id}.export.json`)]);
      expect(await p.exited).toBe(1);
    }
  }, SLOW);

  it('keeps its ledger when killed mid-release: the retry returns the same share, released once', async () => {
    const authority = running.find((p) => p.child.spawnargs.includes('authority') && p.child.exitCode === null)!;
    const req = fetch(`${centerUrl}/v1/bills`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ meterId: 'MTR-2', from: START, to: START + DAY }) });
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
    await authority.kill('SIGKILL');
    const first = await req;
    expect([200, 503]).toContain(first.status);
    // While the authority is down: ingest goes on, bills are 503 with a Retry-After.
    const down = await json(`${centerUrl}/v1/bills`, { method: 'POST', body: JSON.stringify({ meterId: 'MTR-3', from: START, to: START + DAY }) });
    expect(down.status).toBe(503);
    expect((down.body.error as { code: string }).code).toBe('AUTHORITY_UNAVAILABLE');
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    const ingest = await runNodeOn(M, [METER_HOST, join(dirs.meters, 'held.job.json')], { ...JSON.parse(readFileSync(join(dirs.meters, 'job.json'), 'utf8')), submitHeld: true });
    expect(ingest).toEqual({ accepted: 3, invalid: 0 });
    // Restarted on the same store: its registry and ledger are intact.
    await startAuthority();
    const retry = await json(`${centerUrl}/v1/bills`, { method: 'POST', body: JSON.stringify({ meterId: 'MTR-2', from: START, to: START + DAY }) });
    expect(retry.status).toBe(200);
    const log = (await authorityGet('/v1/releases?limit=1000')).entries as { entry: { kind: string; meterId?: string; share?: unknown } }[];
    const released = log.filter((e) => e.entry.kind === 'bill' && e.entry.meterId === 'MTR-2');
    expect(released).toHaveLength(1);
    const shares = retry.body.decryptionShares as { party: string }[];
    expect(shares.find((s) => s.party === 'privacy-authority')).toEqual(released[0]!.entry.share);
    expect(log.filter((e) => e.entry.kind === 'certificate')).toHaveLength(3);
    // And again: the same bill, nothing new released.
    const again = await json(`${centerUrl}/v1/bills`, { method: 'POST', body: JSON.stringify({ meterId: 'MTR-2', from: START, to: START + DAY }) });
    expect(again.body).toEqual(retry.body);
    expect(((await authorityGet('/v1/releases?limit=1000')).entries as unknown[]).length).toBe(log.length);
  });

  it('refuses a request to the authority signed by any key but the center', async () => {
    const script = `
      const { signRequest } = await import(${JSON.stringify(join(DIST, 'lib/server/signed-request.js'))});
      const { randomScalar } = await import(${JSON.stringify(join(DIST, 'lib/crypto/random.js'))});
      const { schnorrPublicKey } = await import(${JSON.stringify(join(DIST, 'lib/crypto/schnorr.js'))});
      const secretKey = randomScalar();
      const body = JSON.stringify({ feeder: 'F1', from: ${START}, to: ${START + DAY}, tariffVersion: 1 });
      const res = await fetch(${JSON.stringify(authorityUrl)} + '/v1/grid-checks', { method: 'POST', headers: { 'content-type': 'application/json', authorization: signRequest({ secretKey, publicKey: schnorrPublicKey(secretKey) }, Buffer.from(${JSON.stringify(authorityIdentity)}, 'hex'), 'POST', '/v1/grid-checks', new TextEncoder().encode(body)) }, body });
      process.stdout.write(JSON.stringify({ status: res.status, body: await res.json() }) + '\\n');`;
    const r = await runNodeOn(M, ['--input-type=module', '-e', script], undefined, caFile !== undefined ? { NODE_EXTRA_CA_CERTS: caFile } : {});
    expect(r).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
  });

  it('leaves each party only its own secret, in files, stores and process environment', () => {
    const centerSecret = readShareSecret(dirs.center, 'control-center');
    const authoritySecret = readShareSecret(dirs.authority, 'privacy-authority');
    for (const f of filesUnder(dirs.center)) expect(holds(f.bytes, authoritySecret), f.file).toBe(false);
    for (const f of filesUnder(dirs.authority)) expect(holds(f.bytes, centerSecret), f.file).toBe(false);
    for (const f of filesUnder(dirs.meters)) expect(holds(f.bytes, centerSecret) || holds(f.bytes, authoritySecret), f.file).toBe(false);
    for (const p of running.filter((x) => x.child.exitCode === null && x.child.signalCode === null)) {
      const environ = readFileSync(`/proc/${p.child.pid}/environ`);
      expect(holds(environ, centerSecret) || holds(environ, authoritySecret)).toBe(false);
    }
  });
});

/** Runs `node ARGS…` on a host (a meter, a stranger): its last stdout line as JSON. `job` replaces the job file first. */
async function runNodeOn(host: string, args: string[], job?: Record<string, unknown>, env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  if (job !== undefined) writeFileSync(args[1]!, JSON.stringify(job));
  const p = runOn(net.hosts[host]!, args, env, { node: true });
  const code = await p.exited;
  if (code !== 0) throw new Error(`node on ${host} exited with ${code}: ${p.stderr()}`);
  return JSON.parse(p.stdout().trim().split('\n').at(-1)!) as Record<string, unknown>;
}
