/**
 * The key ceremony between two processes (lib/server/ceremony.ts, `zkmeter keys
 * dkg --party …`), on each backend: over HTTP(S) between two CLI processes and
 * offline by files, each party ends with the same shared key and only its own
 * share, and the two shares decrypt together; envelopes signed by another key,
 * of another ceremony, round or recipient, a tampered round 2 ciphertext and a
 * confirmation of another key are refused, and the listener survives garbage
 * and refusals and completes a correct ceremony afterwards; nothing is
 * overwritten without --force. Over HTTP in process: a lost reply (the round 3
 * one, after the listener committed) costs nothing, since the client retries the
 * same bytes and the listener answers a repeat with the same reply; a different
 * envelope for an answered round is refused; the listener stops after its grace
 * period or the client's signed "done"; the client's retries are bounded. Also
 * the key-directory loading API (keys.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { bytesToHex } from '../lib/crypto/codec.js';
import { encrypt } from '../lib/crypto/elgamal.js';
import { partialDecrypt, thresholdDecrypt } from '../lib/crypto/threshold.js';
import { keyShareToJson, sharedKeyToJson } from '../lib/protocol/json.js';
import {
  CeremonySession,
  ceremonyContext,
  ceremonyDoneJson,
  envelopeFromJson,
  envelopeToJson,
  listenForCeremony,
  newCeremonyId,
  openEnvelope,
  runCeremonyClient,
  sharedKeyDigest,
  signEnvelope,
  type CeremonyOutcome,
  type Envelope,
  type EnvelopeBody,
} from '../lib/server/ceremony.js';
import {
  AUTHORITY_PARTY,
  CENTER_PARTY,
  createIdentityKey,
  dangerouslyInitSingleOperatorKeys,
  loadIdentityKey,
  loadPartyKeys,
  dangerouslyLoadSingleOperatorKeys,
  partyKeyFiles,
  readSigningKeyFile,
  writePartyKeyFiles,
  type SigningKey,
} from '../lib/server/keys.js';
import { TestRng, testSeed } from './support/rng.js';

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
const g = getGroup();
console.log(`ceremony.test.ts on ${g.name}: seed ${seed}`);

const CLI = join(import.meta.dirname, '..', 'dist', 'lib', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'zkmeter-ceremony-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, ZKMETER_BACKEND: g.name };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function zkmeter(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `keys dkg … --listen 127.0.0.1:0`, resolved with its URL once it prints {"listening"}. */
function listener(...args: string[]): Promise<{ url: string; done: Promise<Run>; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'keys', 'dkg', '--listen', '127.0.0.1:0', ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const first = stdout.split('\n')[0]!;
      if (stdout.includes('\n')) resolve({ url: (JSON.parse(first) as { listening: string }).listening, done, stderr: () => stderr });
    });
    void done.then((r) => reject(new Error(`the listener exited with ${r.code}: ${r.stderr}`)));
  });
}

/** A fresh key directory with a new identity key. */
let dirs = 0;
function party(name: string): { dir: string; id: SigningKey; hex: string } {
  const d = join(dir, `${name}-${++dirs}`);
  const id = createIdentityKey(d);
  return { dir: d, id, hex: bytesToHex(id.publicKey) };
}

const lastLine = (r: Run) => JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
const secretHex = (d: string, p: string) => (JSON.parse(readFileSync(join(d, `${p}.share.json`), 'utf8')) as { secret: string }).secret;

function allFileText(d: string): string {
  return readdirSync(d)
    .map((f) => readFileSync(join(d, f), 'utf8'))
    .join('\n');
}

/**
 * What every finished ceremony must give: the same shared key in both
 * directories, each with only its own share (and no trace of the other's secret),
 * the files' modes, each side knowing the other's identity key, and the two
 * shares decrypting together what was encrypted under the key.
 */
function checkCeremonyResult(cc: { dir: string; id: SigningKey }, pa: { dir: string; id: SigningKey }): void {
  expect(readdirSync(cc.dir).sort()).toEqual(['control-center.share.json', 'identity.key.json', 'parties.json', 'shared-key.json']);
  expect(readdirSync(pa.dir).sort()).toEqual(['identity.key.json', 'parties.json', 'privacy-authority.share.json', 'shared-key.json']);
  expect(readFileSync(join(cc.dir, 'shared-key.json'), 'utf8')).toBe(readFileSync(join(pa.dir, 'shared-key.json'), 'utf8'));
  expect(readFileSync(join(cc.dir, 'parties.json'), 'utf8')).toBe(readFileSync(join(pa.dir, 'parties.json'), 'utf8'));
  for (const [d, p] of [[cc.dir, CENTER_PARTY], [pa.dir, AUTHORITY_PARTY]] as const) {
    expect(statSync(join(d, `${p}.share.json`)).mode & 0o777).toBe(0o600);
    expect(statSync(join(d, 'shared-key.json')).mode & 0o777).toBe(0o644);
    expect(statSync(join(d, 'parties.json')).mode & 0o777).toBe(0o644);
  }
  expect(allFileText(cc.dir)).not.toContain(secretHex(pa.dir, AUTHORITY_PARTY));
  expect(allFileText(pa.dir)).not.toContain(secretHex(cc.dir, CENTER_PARTY));
  const a = loadPartyKeys(cc.dir, CENTER_PARTY);
  const b = loadPartyKeys(pa.dir, AUTHORITY_PARTY);
  expect(a.identity!.publicKey).toEqual(cc.id.publicKey);
  expect(a.peers).toEqual(new Map([[AUTHORITY_PARTY, pa.id.publicKey]]));
  expect(b.peers).toEqual(new Map([[CENTER_PARTY, cc.id.publicKey]]));
  const m = BigInt(rng.int(10_000));
  const ct = encrypt(a.key.publicKey, m, rand);
  const context = new TextEncoder().encode('ceremony test');
  const shares = [partialDecrypt(a.key, a.share, ct, context, rand), partialDecrypt(b.key, b.share, ct, context, rand)];
  expect(thresholdDecrypt(b.key, ct, shares, context, { max: 10_000n })).toBe(m);
  expect(() => thresholdDecrypt(a.key, ct, shares.slice(0, 1), context, { max: 10_000n })).toThrow(/expected 2 distinct parties, got 1/);
}

function checkSummary(r: Run, self: string, peer: string, peerKey: string): Record<string, unknown> {
  expect(r.code, r.stderr).toBe(0);
  const out = lastLine(r);
  expect(Object.keys(out).sort()).toEqual(['ceremony', 'files', 'party', 'peer', 'publicKey']);
  expect(out).toMatchObject({ party: self, peer: { party: peer, identityKey: peerKey } });
  expect(out.ceremony).toMatch(/^[0-9a-f]{32}$/);
  expect(out.publicKey).toMatch(/^0[23][0-9a-f]{64}$/);
  return out;
}

function resign(e: Envelope, changes: Partial<EnvelopeBody>, secret: bigint): Envelope {
  return signEnvelope({ ...e, ...changes } as EnvelopeBody, secret);
}

function flip(b: Uint8Array, i = 0): Uint8Array {
  const c = b.slice();
  c[i]! ^= 1;
  return c;
}

describe(`the key ceremony (${g.name})`, () => {
  it('keys identity makes a 0600 identity key and never overwrites one; keys dkg without --party exits 2 with one line', async () => {
    const r = await zkmeter('keys', 'identity', '--out', 'id-cli');
    expect(r.code, r.stderr).toBe(0);
    const file = JSON.parse(readFileSync(join(dir, 'id-cli', 'identity.key.json'), 'utf8'));
    expect(Object.keys(file).sort()).toEqual(['publicKey', 'secretKey']);
    expect(r.stdout).toBe(JSON.stringify({ publicKey: file.publicKey, file: join('id-cli', 'identity.key.json') }) + '\n');
    expect(statSync(join(dir, 'id-cli', 'identity.key.json')).mode & 0o777).toBe(0o600);
    expect(bytesToHex(loadIdentityKey(join(dir, 'id-cli')).publicKey)).toBe(file.publicKey);
    const again = await zkmeter('keys', 'identity', '--out', 'id-cli');
    expect([again.code, again.stdout, again.stderr]).toEqual([2, '', `error: cannot write ${join('id-cli', 'identity.key.json')}: EEXIST (it exists: never overwritten)\n`]);
    expect(JSON.parse(readFileSync(join(dir, 'id-cli', 'identity.key.json'), 'utf8'))).toEqual(file);
    expect(() => loadIdentityKey(join(dir, 'no-id'))).toThrow(/^no identity\.key\.json in .*no-id: make this party's identity key first \(zkmeter keys identity --out .*no-id\)/);

    const all = await zkmeter('keys', 'dkg', '--out', 'all-shares');
    expect([all.code, all.stdout]).toEqual([2, '']);
    expect(all.stderr.split('\n')).toHaveLength(2);
    expect(all.stderr).toMatch(/^error: keys dkg runs one party of the key ceremony.*--party control-center\|privacy-authority.*--listen.*--peer.*--round.*zkmeter serve --single-operator --init\n$/);
    expect(existsSync(join(dir, 'all-shares'))).toBe(false);
    // A party without an identity key is told how to make one.
    const noId = await zkmeter('keys', 'dkg', '--party', CENTER_PARTY, '--out', 'no-id', '--peer-key', file.publicKey, '--peer', 'http://127.0.0.1:9');
    expect([noId.code, noId.stderr]).toEqual([2, expect.stringMatching(/^error: --out: no identity\.key\.json in no-id: make this party's identity key first[^\n]*\n$/)]);
  });

  it('two sessions that only exchange envelopes agree on the key (2 of 2, and 2 of 3); the same seed rebuilds the same round 1; ephemeral secrets are wiped', () => {
    for (const names of [[CENTER_PARTY, AUTHORITY_PARTY], ['a', 'b', 'c']]) {
      const keys = names.map((n) => ({ party: n, k: createIdentityKey(join(dir, `mem-${n}-${++dirs}`)) }));
      const ctx = ceremonyContext(newCeremonyId(rand), keys.map((x) => ({ party: x.party, identityKey: x.k.publicKey })), 2);
      const sessions = keys.map((x) => new CeremonySession(ctx, x.party, x.k, rand(32)));
      const wire = (es: Envelope[]) => es.map((e) => envelopeFromJson(JSON.parse(JSON.stringify(envelopeToJson(e)))));
      const to = (es: Envelope[], p: string) => es.filter((e) => e.to === p);
      const r1 = wire(sessions.flatMap((s) => s.round1()));
      const r2 = wire(sessions.flatMap((s) => s.round2(to(r1, s.party))));
      const r3 = wire(sessions.flatMap((s) => s.round3(to(r2, s.party))));
      for (const s of sessions) expect((s as unknown as { ephemeralSecret: Uint8Array }).ephemeralSecret).toHaveLength(0);
      const results = sessions.map((s) => s.finish(to(r3, s.party)));
      for (const r of results) expect(sharedKeyToJson(r.key)).toEqual(sharedKeyToJson(results[0]!.key));
      expect(new Set(results.map((r) => r.share.secret)).size).toBe(names.length);
      expect(results[0]!.record.ceremony).toEqual(ctx.ceremony);
      expect(envelopeToJson(r3[0]!).payload).toEqual({ sharedKeyHash: bytesToHex(sharedKeyDigest(results[0]!.key)) });
    }
    const a = createIdentityKey(join(dir, `det-a-${++dirs}`));
    const b = createIdentityKey(join(dir, `det-b-${++dirs}`));
    const ctx = ceremonyContext(newCeremonyId(rand), [{ party: CENTER_PARTY, identityKey: a.publicKey }, { party: AUTHORITY_PARTY, identityKey: b.publicKey }], 2);
    const s = rand(32);
    const one = new CeremonySession(ctx, CENTER_PARTY, a, s).round1()[0]!;
    const two = new CeremonySession(ctx, CENTER_PARTY, a, s).round1()[0]!;
    const other = new CeremonySession(ctx, CENTER_PARTY, a, rand(32)).round1()[0]!;
    expect(two.payload).toEqual(one.payload);
    expect(other.payload).not.toEqual(one.payload);
    // Strict wire form.
    const json = envelopeToJson(one);
    expect(() => envelopeFromJson({ ...json, extra: 1 })).toThrow(/unknown field "extra"/);
    expect(() => envelopeFromJson({ ...json, parties: [...(json.parties as unknown[])].reverse() })).toThrow(/sorted order/);
    expect(() => envelopeFromJson({ ...json, round: 4 })).toThrow(/"round" expected 1, 2 or 3/);
    expect(() => envelopeFromJson({ ...json, payload: { ...(json.payload as object), ephemeralKey: '02' + '00'.repeat(32) } })).toThrow();
    expect(() => openEnvelope(ctx, one, { round: 2, to: AUTHORITY_PARTY })).toThrow(/is a round 1 message, expected round 2/);
    expect(() => ceremonyContext(ctx.ceremony, [{ party: CENTER_PARTY, identityKey: a.publicKey }, { party: AUTHORITY_PARTY, identityKey: a.publicKey }], 2)).toThrow(/same identity key/);
    expect(() => ceremonyContext(ctx.ceremony, [{ party: '../x', identityKey: a.publicKey }, { party: AUTHORITY_PARTY, identityKey: b.publicKey }], 2)).toThrow(/cannot be a file name/);
  });

  it('over HTTP between two CLI processes: the same key, only its own share each, joint decryption; a wrong --peer-key is refused; nothing overwritten without --force', async () => {
    const cc = party('cc');
    const pa = party('pa');
    const l = await listener('--party', AUTHORITY_PARTY, '--out', pa.dir, '--peer-key', cc.hex, '--timeout', '60');
    expect(l.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9][0-9]*$/);
    // A connector that was told another key for the listener: refused, exit 2 with one line; the listener keeps waiting.
    const wrong = await zkmeter('keys', 'dkg', '--party', CENTER_PARTY, '--out', cc.dir, '--peer-key', party('stranger').hex, '--peer', l.url);
    expect([wrong.code, wrong.stdout]).toEqual([2, '']);
    expect(wrong.stderr).toMatch(/^error: the peer refused round 1 \(HTTP 400 INVALID_ARGUMENT\): the round 1 envelope from "control-center" names privacy-authority's identity key [0-9a-f]{64}, but this party's own key is [0-9a-f]{64}\n$/);
    expect(readdirSync(cc.dir)).toEqual(['identity.key.json']);
    const client = await zkmeter('keys', 'dkg', '--party', CENTER_PARTY, '--out', cc.dir, '--peer-key', pa.hex, '--peer', l.url);
    const mine = checkSummary(client, CENTER_PARTY, AUTHORITY_PARTY, pa.hex);
    const theirs = checkSummary(await l.done, AUTHORITY_PARTY, CENTER_PARTY, cc.hex);
    expect((await l.done).stdout.split('\n')[0]).toBe(JSON.stringify({ listening: l.url }));
    expect(theirs.publicKey).toBe(mine.publicKey);
    expect(theirs.ceremony).toBe(mine.ceremony);
    expect(mine.files).toEqual(['shared-key.json', 'control-center.share.json', 'parties.json'].map((f) => join(cc.dir, f)));
    checkCeremonyResult(cc, pa);
    expect(JSON.parse(readFileSync(join(cc.dir, 'parties.json'), 'utf8'))).toEqual({
      ceremony: mine.ceremony,
      publicKey: mine.publicKey,
      parties: [
        { party: CENTER_PARTY, identityKey: cc.hex },
        { party: AUTHORITY_PARTY, identityKey: pa.hex },
      ],
    });

    // Existing key files: both ends refuse before any network traffic, and nothing changes.
    const before = readFileSync(join(pa.dir, 'privacy-authority.share.json'), 'utf8');
    const again = await zkmeter('keys', 'dkg', '--party', AUTHORITY_PARTY, '--out', pa.dir, '--peer-key', cc.hex, '--listen', '127.0.0.1:0');
    expect([again.code, again.stdout, again.stderr]).toEqual([2, '', `error: cannot write ${join(pa.dir, 'shared-key.json')}: EEXIST (key files are never overwritten; --force replaces them)\n`]);
    const again2 = await zkmeter('keys', 'dkg', '--party', CENTER_PARTY, '--out', cc.dir, '--peer-key', pa.hex, '--peer', 'http://127.0.0.1:9');
    expect([again2.code, again2.stderr]).toEqual([2, expect.stringMatching(/EEXIST \(key files are never overwritten; --force replaces them\)\n$/)]);
    expect(readFileSync(join(pa.dir, 'privacy-authority.share.json'), 'utf8')).toBe(before);
    // With --force on both ends: a new key replaces the old one.
    const lf = await listener('--party', AUTHORITY_PARTY, '--out', pa.dir, '--peer-key', cc.hex, '--force');
    const forced = checkSummary(await zkmeter('keys', 'dkg', '--party', CENTER_PARTY, '--out', cc.dir, '--peer-key', pa.hex, '--peer', lf.url, '--force'), CENTER_PARTY, AUTHORITY_PARTY, pa.hex);
    expect(checkSummary(await lf.done, AUTHORITY_PARTY, CENTER_PARTY, cc.hex).publicKey).toBe(forced.publicKey);
    expect(forced.publicKey).not.toBe(mine.publicKey);
    checkCeremonyResult(cc, pa);
  });

  it('the listener refuses garbage, other keys, other ceremonies, wrong recipients, tampered ciphertexts and bad confirmations (4xx JSON), then completes a correct ceremony', async () => {
    const cc = party('cc');
    const pa = party('pa');
    const stranger = party('stranger');
    const l = await listener('--party', AUTHORITY_PARTY, '--out', pa.dir, '--peer-key', cc.hex, '--timeout', '60');
    const post = async (body: unknown) => {
      const r = await fetch(`${l.url}/v1/ceremony`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as { error?: { code: string; message: string } } & Record<string, unknown> };
    };
    let refusals = 2; // the GET and the other path below
    const refused = async (body: unknown, status: number, code: string, message: RegExp) => {
      refusals++;
      const r = await post(body);
      expect(r.status).toBe(status);
      expect(Object.keys(r.body)).toEqual(['error']);
      expect(r.body.error!.code).toBe(code);
      expect(r.body.error!.message).toMatch(message);
    };
    const ctxFor = (ceremony: Uint8Array, centerKey = cc.id.publicKey) =>
      ceremonyContext(ceremony, [{ party: CENTER_PARTY, identityKey: centerKey }, { party: AUTHORITY_PARTY, identityKey: pa.id.publicKey }], 2);

    // Garbage, oversized and malformed bodies, other methods and paths.
    await refused('not json', 400, 'INVALID_REQUEST', /not JSON/);
    await refused('x'.repeat(100 * 1024), 413, 'BODY_TOO_LARGE', /at most 65536/);
    await refused({}, 400, 'INVALID_ARGUMENT', /missing "version"/);
    const get = await fetch(`${l.url}/v1/ceremony`);
    expect([get.status, ((await get.json()) as { error: { code: string } }).error.code]).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect((await fetch(`${l.url}/elsewhere`, { method: 'POST', body: '{}' })).status).toBe(404);

    // Another ceremony Y (same identities, run in this process), whose messages get replayed below.
    const y = ctxFor(newCeremonyId(rand));
    const cY = new CeremonySession(y, CENTER_PARTY, cc.id, rand(32));
    const aY = new CeremonySession(y, AUTHORITY_PARTY, pa.id, rand(32));
    const y1 = cY.round1()[0]!;
    const y2 = cY.round2(aY.round1())[0]!;
    aY.round2([y1]);
    await refused(envelopeToJson(y2), 409, 'NO_CEREMONY', /no ceremony is in progress: round 2 needs round 1 first/);
    // Round 1 by a stranger naming its own key, by a stranger under the center's name, and to the wrong recipient.
    const s1 = new CeremonySession(ctxFor(newCeremonyId(rand), stranger.id.publicKey), CENTER_PARTY, stranger.id, rand(32)).round1()[0]!;
    await refused(envelopeToJson(s1), 400, 'INVALID_ARGUMENT', new RegExp(`names control-center's identity key ${stranger.hex}, but the key this party was given \\(--peer-key\\) is ${cc.hex}`));
    const x = ctxFor(newCeremonyId(rand));
    const c = new CeremonySession(x, CENTER_PARTY, cc.id, rand(32));
    const x1 = c.round1()[0]!;
    await refused(envelopeToJson(resign(x1, {}, stranger.id.secretKey)), 400, 'INVALID_ARGUMENT', new RegExp(`is not signed by control-center's identity key ${cc.hex}`));
    await refused(envelopeToJson(resign(x1, { to: CENTER_PARTY }, cc.id.secretKey)), 400, 'INVALID_ARGUMENT', /is addressed to control-center, not to privacy-authority/);
    await refused({ ...envelopeToJson(x1), signature: '00'.repeat(64) }, 400, 'INVALID_ARGUMENT', /is not signed by/);

    // Ceremony X, with refusals at each round that leave it open.
    const a1 = await post(envelopeToJson(x1));
    expect(a1.status).toBe(200);
    const x2 = c.round2([envelopeFromJson(a1.body)])[0]!;
    await refused(envelopeToJson(y2), 400, 'INVALID_ARGUMENT', new RegExp(`belongs to ceremony ${bytesToHex(y.ceremony)}, not to this ceremony ${bytesToHex(x.ceremony)}`));
    if (x2.round !== 2) throw new Error('round 2 expected');
    const tampered = resign(x2, { payload: { nonce: x2.payload.nonce, ciphertext: flip(x2.payload.ciphertext, 5) } }, cc.id.secretKey);
    await refused(envelopeToJson(tampered), 400, 'INVALID_ARGUMENT', /the round 2 share from control-center does not decrypt/);
    await refused({ ...envelopeToJson(x2), payload: { ...(envelopeToJson(tampered).payload as object) } }, 400, 'INVALID_ARGUMENT', /is not signed by control-center's identity key/);
    const a2 = await post(envelopeToJson(x2));
    expect(a2.status).toBe(200);
    const x3 = c.round3([envelopeFromJson(a2.body)])[0]!;
    if (x3.round !== 3) throw new Error('round 3 expected');
    // A confirmation of another key ends ceremony X, and nothing was written.
    await refused(envelopeToJson(resign(x3, { payload: { sharedKeyHash: flip(x3.payload.sharedKeyHash) } }, cc.id.secretKey)), 400, 'INVALID_ARGUMENT', /key confirmation [0-9a-f]{64} does not match this party's key/);
    await refused(envelopeToJson(x3), 409, 'NO_CEREMONY', /no ceremony is in progress/);
    expect(readdirSync(pa.dir)).toEqual(['identity.key.json']);

    // The listener is still there, and a correct ceremony completes.
    const client = await zkmeter('keys', 'dkg', '--party', CENTER_PARTY, '--out', cc.dir, '--peer-key', pa.hex, '--peer', l.url);
    const mine = checkSummary(client, CENTER_PARTY, AUTHORITY_PARTY, pa.hex);
    const done = await l.done;
    expect(checkSummary(done, AUTHORITY_PARTY, CENTER_PARTY, cc.hex).publicKey).toBe(mine.publicKey);
    expect(done.stderr.match(/^refused a request \(4\d\d [A-Z_]+\): /gm)).toHaveLength(refusals);
    checkCeremonyResult(cc, pa);
  });

  it('offline by files: the same key and only its own share each; the state file is 0600, drops its seed after round 3 and is deleted; misplaced files are refused', async () => {
    const cc = party('cc');
    const pa = party('pa');
    const A = ['keys', 'dkg', '--party', CENTER_PARTY, '--out', cc.dir];
    const B = ['keys', 'dkg', '--party', AUTHORITY_PARTY, '--out', pa.dir];
    const tag = dirs;
    const f = (n: string) => join(dir, `${n}-${tag}.json`);
    const step = async (args: string[], round: number | 'finish') => {
      const r = await zkmeter(...args);
      expect(r.code, r.stderr).toBe(0);
      if (round !== 'finish') expect(lastLine(r)).toMatchObject({ round, file: args[args.length - 1] });
      return lastLine(r);
    };
    const s1 = await step([...A, '--peer-key', pa.hex, '--round', '1', '--write', f('a1')], 1);
    const state = join(cc.dir, 'ceremony.state.json');
    expect(statSync(state).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(state, 'utf8'))).toHaveProperty('seed');
    // A second round 1 would lose the first ceremony's state.
    const twice = await zkmeter(...A, '--peer-key', pa.hex, '--round', '1', '--write', f('a1-again'));
    expect([twice.code, twice.stderr]).toEqual([2, expect.stringMatching(/^error: a ceremony is already in progress in .*: continue it with --round 2\|3 \/ --finish, or start over with --force\n$/)]);
    expect(await step([...B, '--peer-key', cc.hex, '--round', '1', '--read', f('a1'), '--write', f('b1')], 1)).toMatchObject({ ceremony: s1.ceremony });
    // The wrong round's file, and one addressed to the other party.
    const early = await zkmeter(...B, '--round', '2', '--read', f('b1'), '--write', f('b2'));
    expect([early.code, early.stderr]).toEqual([2, expect.stringMatching(/^error: --read: .*b1-\d+\.json: the round 1 envelope from "privacy-authority" is addressed to control-center, not to privacy-authority\n$/)]);
    await step([...B, '--round', '2', '--read', f('a1'), '--write', f('b2')], 2);
    const wrongRound = await zkmeter(...A, '--round', '2', '--read', f('b2'), '--write', f('a2'));
    expect([wrongRound.code, wrongRound.stderr]).toEqual([2, expect.stringMatching(/is a round 2 message, expected round 1\n$/)]);
    const outOfOrder = await zkmeter(...A, '--finish', '--read', f('b2'));
    expect([outOfOrder.code, outOfOrder.stderr]).toEqual([2, expect.stringMatching(/^error: the ceremony in .* is past round 1: its next step is --round 2\n$/)]);
    await step([...A, '--round', '2', '--read', f('b1'), '--write', f('a2')], 2);
    await step([...A, '--round', '3', '--read', f('b2'), '--write', f('a3')], 3);
    const after3 = JSON.parse(readFileSync(state, 'utf8')) as Record<string, unknown>;
    expect(after3).not.toHaveProperty('seed');
    expect(after3).not.toHaveProperty('peerRound1');
    expect(after3.step).toBe('round3');
    await step([...B, '--round', '3', '--read', f('a2'), '--write', f('b3')], 3);
    // A confirmation of another key is refused and writes nothing.
    const b3 = JSON.parse(readFileSync(f('b3'), 'utf8'));
    const badB3 = resign(envelopeFromJson(b3), { payload: { sharedKeyHash: new Uint8Array(32) } } as Partial<EnvelopeBody>, pa.id.secretKey);
    writeFileSync(f('b3-bad'), JSON.stringify(envelopeToJson(badB3)));
    const bad = await zkmeter(...A, '--finish', '--read', f('b3-bad'));
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/^error: --read: privacy-authority's key confirmation 0{64} does not match this party's key/)]);
    expect(existsSync(join(cc.dir, 'shared-key.json'))).toBe(false);
    const endB = await step([...B, '--finish', '--read', f('a3')], 'finish');
    const endA = await step([...A, '--finish', '--read', f('b3')], 'finish');
    expect(endA).toMatchObject({ party: CENTER_PARTY, publicKey: endB.publicKey, ceremony: s1.ceremony, peer: { party: AUTHORITY_PARTY, identityKey: pa.hex } });
    expect(existsSync(state)).toBe(false);
    checkCeremonyResult(cc, pa);
    // What crossed between the hosts holds neither secret share.
    const exchanged = ['a1', 'b1', 'a2', 'b2', 'a3', 'b3'].map((n) => readFileSync(f(n), 'utf8')).join('\n');
    expect(exchanged).not.toContain(secretHex(cc.dir, CENTER_PARTY));
    expect(exchanged).not.toContain(secretHex(pa.dir, AUTHORITY_PARTY));

    // A second ceremony: a file replayed from the first one is refused.
    const cc2 = party('cc');
    const pa2 = party('pa');
    const tag2 = dirs;
    const f2 = (n: string) => join(dir, `${n}-${tag2}.json`);
    const A2 = ['keys', 'dkg', '--party', CENTER_PARTY, '--out', cc2.dir];
    const B2 = ['keys', 'dkg', '--party', AUTHORITY_PARTY, '--out', pa2.dir, '--peer-key', cc2.hex];
    const t1 = await step([...A2, '--peer-key', pa2.hex, '--round', '1', '--write', f2('a1')], 1);
    await step([...B2, '--round', '1', '--read', f2('a1'), '--write', f2('b1')], 1);
    // Re-sign the first ceremony's round 1 by pa2 so only the ceremony id is wrong.
    const old = envelopeFromJson(JSON.parse(readFileSync(f('b1'), 'utf8')));
    const replayed = resign(old, { parties: [{ party: CENTER_PARTY, identityKey: cc2.id.publicKey }, { party: AUTHORITY_PARTY, identityKey: pa2.id.publicKey }] }, pa2.id.secretKey);
    writeFileSync(f2('replayed'), JSON.stringify(envelopeToJson(replayed)));
    const replay = await zkmeter(...A2, '--round', '2', '--read', f2('replayed'), '--write', f2('a2'));
    expect([replay.code, replay.stderr]).toEqual([2, expect.stringMatching(new RegExp(`belongs to ceremony ${s1.ceremony as string}, not to this ceremony ${t1.ceremony as string} \\(replayed from another ceremony\\?\\)\\n$`))]);
    // And files signed by a key other than --peer-key: under the peer's key, and naming the signer's own.
    const b1 = envelopeFromJson(JSON.parse(readFileSync(f2('b1'), 'utf8')));
    writeFileSync(f2('forged1'), JSON.stringify(envelopeToJson(resign(b1, {}, pa.id.secretKey))));
    const forged1 = await zkmeter(...A2, '--round', '2', '--read', f2('forged1'), '--write', f2('a2'));
    expect([forged1.code, forged1.stderr]).toEqual([2, expect.stringMatching(new RegExp(`is not signed by privacy-authority's identity key ${pa2.hex} \\(signed by another key, or altered\\)\\n$`))]);
    const named = resign(b1, { parties: [{ party: CENTER_PARTY, identityKey: cc2.id.publicKey }, { party: AUTHORITY_PARTY, identityKey: pa.id.publicKey }] }, pa.id.secretKey);
    writeFileSync(f2('forged2'), JSON.stringify(envelopeToJson(named)));
    const forged2 = await zkmeter(...A2, '--round', '2', '--read', f2('forged2'), '--write', f2('a2'));
    expect([forged2.code, forged2.stderr]).toEqual([2, expect.stringMatching(new RegExp(`names privacy-authority's identity key ${pa.hex}, but the key this party was given \\(--peer-key\\) is ${pa2.hex}\\n$`))]);
    expect(existsSync(f2('a2'))).toBe(false);
    const givenOther = await zkmeter(...A2, '--round', '2', '--read', f2('b1'), '--write', f2('a2'), '--peer-key', pa.hex);
    expect([givenOther.code, givenOther.stderr]).toEqual([2, expect.stringMatching(/^error: --peer-key [0-9a-f]{64} is not the key the ceremony in .* was started with/)]);
    await step([...A2, '--round', '2', '--read', f2('b1'), '--write', f2('a2')], 2);
  });

  const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
  it.skipIf(!haveOpenssl)('over HTTPS: --tls-cert/--tls-key on the listener, --ca on the connector (and without --ca the self-signed listener is refused)', async () => {
    const tlsDir = join(dir, `tls-${++dirs}`);
    mkdirSync(tlsDir);
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(tlsDir, 'key.pem'), '-out', join(tlsDir, 'cert.pem'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1']);
    expect(gen.status, gen.stderr?.toString()).toBe(0);
    const cc = party('cc');
    const pa = party('pa');
    const l = await listener('--party', AUTHORITY_PARTY, '--out', pa.dir, '--peer-key', cc.hex, '--tls-cert', join(tlsDir, 'cert.pem'), '--tls-key', join(tlsDir, 'key.pem'), '--timeout', '60');
    expect(l.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const untrusted = await zkmeter('keys', 'dkg', '--party', CENTER_PARTY, '--out', cc.dir, '--peer-key', pa.hex, '--peer', l.url);
    expect([untrusted.code, untrusted.stderr]).toEqual([2, expect.stringMatching(/^error: cannot reach the peer at https:\/\/127\.0\.0\.1:\d+: [A-Z_]*SELF_SIGNED[A-Z_]*\n$/)]);
    const mine = checkSummary(await zkmeter('keys', 'dkg', '--party', CENTER_PARTY, '--out', cc.dir, '--peer-key', pa.hex, '--peer', l.url, '--ca', join(tlsDir, 'cert.pem')), CENTER_PARTY, AUTHORITY_PARTY, pa.hex);
    expect(checkSummary(await l.done, AUTHORITY_PARTY, CENTER_PARTY, cc.hex).publicKey).toBe(mine.publicKey);
    checkCeremonyResult(cc, pa);
  });

  it('a listener that sees no ceremony stops after --timeout with one error line and writes nothing', async () => {
    const cc = party('cc');
    const pa = party('pa');
    const l = await listener('--party', AUTHORITY_PARTY, '--out', pa.dir, '--peer-key', cc.hex, '--timeout', '1');
    const r = await l.done;
    expect([r.code, r.stderr]).toEqual([2, 'error: no key ceremony completed within 1 s: nothing was written\n']);
    expect(readdirSync(pa.dir)).toEqual(['identity.key.json']);
  });
});

type Dir = { dir: string; id: SigningKey };
const peerOf = (name: string, p: Dir) => ({ party: name, identityKey: p.id.publicKey });
const wire = (e: Envelope) => JSON.stringify(envelopeToJson(e));
const parse = (text: string) => envelopeFromJson(JSON.parse(text));

/** An in-process listener for the authority `pa` expecting the center `cc`, writing pa's key files; resolved once it listens. */
function startListener(pa: Dir, cc: Dir, o: { graceMs: number }): Promise<{ url: string; done: Promise<CeremonyOutcome>; refused: string[]; commits: () => number }> {
  const refused: string[] = [];
  let commits = 0;
  return new Promise((resolve, reject) => {
    const done = listenForCeremony({
      party: AUTHORITY_PARTY,
      identity: pa.id,
      peer: peerOf(CENTER_PARTY, cc),
      timeoutMs: 60_000,
      graceMs: o.graceMs,
      host: '127.0.0.1',
      port: 0,
      commit: (r) => {
        commits++;
        return writePartyKeyFiles(pa.dir, r.key, r.share, r.record);
      },
      onListening: (url) => resolve({ url, done, refused, commits: () => commits }),
      onRefused: (status, code) => refused.push(`${status} ${code}`),
    });
    done.catch(reject);
  });
}

/** The center's side run by hand: a session of a fresh ceremony between cc and pa. */
function centerSession(cc: Dir, pa: Dir): { ctx: ReturnType<typeof ceremonyContext>; s: CeremonySession } {
  const ctx = ceremonyContext(newCeremonyId(rand), [peerOf(CENTER_PARTY, cc), peerOf(AUTHORITY_PARTY, pa)], 2);
  return { ctx, s: new CeremonySession(ctx, CENTER_PARTY, cc.id, rand(32)) };
}

/** One POST of `body` to the listener; the status and the exact response text. */
async function postText(url: string, body: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`${url}/v1/ceremony`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: r.status, text: await r.text() };
}

async function expectRefused(url: string, body: string, status: number, code: string, message: RegExp): Promise<void> {
  const r = await postText(url, body);
  expect(r.status).toBe(status);
  const e = (JSON.parse(r.text) as { error: { code: string; message: string } }).error;
  expect(e.code).toBe(code);
  expect(e.message).toMatch(message);
}

function listenOn(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** A port on 127.0.0.1 that nothing listens on (bound once, then released). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  const port = await listenOn(s);
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/**
 * A TCP proxy on 127.0.0.1 to the listener at `target`. It forwards every connection
 * both ways, except the first one that carries a round 3 envelope: there it reads the
 * listener's whole answer (so the listener has committed) and resets the client's
 * connection instead of forwarding it: the reply is lost. `requests` has each
 * connection's round ('done' for the client's "done"); `replies` the response bodies
 * the listener sent, per round, the lost one included.
 */
async function lossyProxy(target: URL, listenerDir: string) {
  const requests: string[] = [];
  const replies: Record<string, string[]> = {};
  const lost = { bytes: 0, listenerHadCommitted: false };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const sock of [client, upstream]) {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    }
    let request = '';
    let response = '';
    let round: string | undefined;
    let drop = false;
    const bodyOf = (raw: string) => raw.slice(raw.indexOf('\r\n\r\n') + 4);
    client.on('data', (c: Buffer) => {
      request += c.toString('latin1');
      upstream.write(c);
    });
    client.on('end', () => upstream.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.on('data', (c: Buffer) => {
      if (round === undefined) {
        // The listener answers only once it has read the whole request.
        round = /"round":([123])/.exec(request)?.[1] ?? (request.includes('"done":') ? 'done' : '?');
        drop = round === '3' && !requests.includes('3');
        requests.push(round);
        if (drop) lost.listenerHadCommitted = existsSync(join(listenerDir, `${AUTHORITY_PARTY}.share.json`));
      }
      response += c.toString('latin1');
      if (!drop) {
        client.write(c);
        return;
      }
      lost.bytes += c.length;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(response)?.[1] ?? NaN);
      if (bodyOf(response).length >= length) {
        (replies[round] ??= []).push(bodyOf(response));
        client.resetAndDestroy();
        upstream.destroy();
      }
    });
    upstream.on('end', () => {
      if (drop) return;
      (replies[round ?? '?'] ??= []).push(bodyOf(response));
      client.end();
    });
  });
  const port = await listenOn(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    replies,
    lost,
    close: () =>
      new Promise<void>((resolve) => {
        for (const sock of sockets) sock.destroy();
        server.close(() => resolve());
      }),
  };
}

describe(`the HTTP ceremony: lost replies, repeats and the grace period (${g.name})`, () => {
  it("the listener's round 3 reply is lost once, after it committed: the client retries the same bytes, gets the same confirmation, and both end with the same key, each with only its own share", async () => {
    const cc = party('cc');
    const pa = party('pa');
    // A grace period far longer than the test takes: the client's "done" must end the listener.
    const l = await startListener(pa, cc, { graceMs: 30_000 });
    const proxy = await lossyProxy(new URL(l.url), pa.dir);
    try {
      const t0 = Date.now();
      const mine = await runCeremonyClient({
        party: CENTER_PARTY,
        identity: cc.id,
        peer: peerOf(AUTHORITY_PARTY, pa),
        timeoutMs: 30_000,
        url: proxy.url,
        retryDelayMs: 50,
        commit: (r) => writePartyKeyFiles(cc.dir, r.key, r.share, r.record),
      });
      const theirs = await l.done;
      expect(Date.now() - t0).toBeLessThan(15_000);
      // Round 3 twice: the first answer was lost after the listener had written its files.
      expect(proxy.requests).toEqual(['1', '2', '3', '3', 'done']);
      expect(proxy.lost.bytes).toBeGreaterThan(0);
      expect(proxy.lost.listenerHadCommitted).toBe(true);
      expect(proxy.replies['3']).toHaveLength(2);
      expect(proxy.replies['3']![1]).toBe(proxy.replies['3']![0]);
      expect(proxy.replies.done).toEqual([JSON.stringify({ done: bytesToHex(mine.result.record.ceremony) })]);
      expect([l.commits(), l.refused]).toEqual([1, []]);
      expect(sharedKeyToJson(theirs.result.key)).toEqual(sharedKeyToJson(mine.result.key));
      expect(mine.files).toEqual(partyKeyFiles(cc.dir, CENTER_PARTY));
      expect(theirs.files).toEqual(partyKeyFiles(pa.dir, AUTHORITY_PARTY));
      checkCeremonyResult(cc, pa);
    } finally {
      await proxy.close();
    }
  });

  it('a repeated round 1 or round 2 envelope gets the byte-identical reply and changes nothing, as does a repeated round 3 after the commit; "done" is refused before the commit and unless signed by the peer for this key, and then stops the listener', async () => {
    const cc = party('cc');
    const pa = party('pa');
    const l = await startListener(pa, cc, { graceMs: 30_000 });
    const { ctx, s } = centerSession(cc, pa);
    const x1 = wire(s.round1()[0]!);
    const a1 = await postText(l.url, x1);
    expect(a1.status).toBe(200);
    expect(await postText(l.url, x1)).toEqual(a1);
    // The same envelope in other JSON (spacing): the same message, the same reply.
    expect(await postText(l.url, JSON.stringify(JSON.parse(x1), null, 2))).toEqual(a1);
    const x2 = wire(s.round2([parse(a1.text)])[0]!);
    const a2 = await postText(l.url, x2);
    expect(a2.status).toBe(200);
    expect(await postText(l.url, x2)).toEqual(a2);
    // Round 1 again, now at round 3: the same reply, and the ceremony is not restarted.
    expect(await postText(l.url, x1)).toEqual(a1);
    const digest = () => s.result.digest;
    const x3 = wire(s.round3([parse(a2.text)])[0]!);
    await expectRefused(l.url, JSON.stringify(ceremonyDoneJson(ctx, CENTER_PARTY, AUTHORITY_PARTY, digest(), cc.id.secretKey)), 409, 'NO_CEREMONY', /no ceremony is finished here/);
    const a3 = await postText(l.url, x3);
    expect(a3.status).toBe(200);
    expect(l.commits()).toBe(1);
    expect(await postText(l.url, x3)).toEqual(a3);
    expect(await postText(l.url, x2)).toEqual(a2);
    expect(await postText(l.url, x1)).toEqual(a1);
    expect(l.commits()).toBe(1);
    const result = s.finish([parse(a3.text)]);

    const stranger = party('stranger');
    const done = (hash: Uint8Array, secret: bigint) => JSON.stringify(ceremonyDoneJson(ctx, CENTER_PARTY, AUTHORITY_PARTY, hash, secret));
    await expectRefused(l.url, done(digest(), stranger.id.secretKey), 400, 'INVALID_ARGUMENT', new RegExp(`^the done message from "control-center" is not signed by control-center's identity key ${cc.hex}`));
    await expectRefused(l.url, done(flip(digest()), cc.id.secretKey), 400, 'INVALID_ARGUMENT', /^the done message from "control-center" confirms the key [0-9a-f]{64}, not this ceremony's/);
    const other = centerSession(cc, pa).ctx;
    await expectRefused(l.url, JSON.stringify(ceremonyDoneJson(other, CENTER_PARTY, AUTHORITY_PARTY, digest(), cc.id.secretKey)), 400, 'INVALID_ARGUMENT', /belongs to ceremony [0-9a-f]{32}, not to this ceremony/);
    const t0 = Date.now();
    expect(await postText(l.url, done(digest(), cc.id.secretKey))).toEqual({ status: 200, text: JSON.stringify({ done: bytesToHex(ctx.ceremony) }) });
    const theirs = await l.done;
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(sharedKeyToJson(theirs.result.key)).toEqual(sharedKeyToJson(result.key));
    expect(l.refused).toEqual(['409 NO_CEREMONY', '400 INVALID_ARGUMENT', '400 INVALID_ARGUMENT', '400 INVALID_ARGUMENT']);
    expect(readdirSync(pa.dir).sort()).toEqual(['identity.key.json', 'parties.json', 'privacy-authority.share.json', 'shared-key.json']);
  });

  it('a different envelope for an answered round is refused as before (round 2 re-signed or altered: 409 OUT_OF_ORDER); after the commit anything but a repeat is refused (409 CEREMONY_FINISHED), nothing restarts and nothing is written again', async () => {
    const cc = party('cc');
    const pa = party('pa');
    const l = await startListener(pa, cc, { graceMs: 30_000 });
    const { ctx, s } = centerSession(cc, pa);
    const a1 = await postText(l.url, wire(s.round1()[0]!));
    const e2 = s.round2([parse(a1.text)])[0]!;
    if (e2.round !== 2) throw new Error('round 2 expected');
    const a2 = await postText(l.url, wire(e2));
    expect(a2.status).toBe(200);
    // The same round 2 payload under a new signature (BIP340 with fresh aux randomness): other bytes.
    const resigned = wire(resign(e2, {}, cc.id.secretKey));
    expect(resigned).not.toBe(wire(e2));
    await expectRefused(l.url, resigned, 409, 'OUT_OF_ORDER', /^ceremony party privacy-authority: round3 called at finish$/);
    const altered = wire(resign(e2, { payload: { nonce: flip(e2.payload.nonce), ciphertext: e2.payload.ciphertext } } as Partial<EnvelopeBody>, cc.id.secretKey));
    await expectRefused(l.url, altered, 409, 'OUT_OF_ORDER', /round3 called at finish/);
    // The refusals left the ceremony as it was: the real round 2 is still a repeat, and round 3 completes.
    expect(await postText(l.url, wire(e2))).toEqual(a2);
    const e3 = s.round3([parse(a2.text)])[0]!;
    const a3 = await postText(l.url, wire(e3));
    expect(a3.status).toBe(200);
    s.finish([parse(a3.text)]);
    const files = readdirSync(pa.dir).map((f) => [f, readFileSync(join(pa.dir, f), 'utf8')]);

    const finished = new RegExp(`^ceremony ${bytesToHex(ctx.ceremony)} is finished and privacy-authority's key files are written: this listener only answers repeats of the envelopes it answered, and this round (\\d) envelope is not one$`);
    await expectRefused(l.url, wire(resign(e3, {}, cc.id.secretKey)), 409, 'CEREMONY_FINISHED', finished);
    await expectRefused(l.url, resigned, 409, 'CEREMONY_FINISHED', finished);
    // Not even a new ceremony's round 1: the key files are written.
    await expectRefused(l.url, wire(centerSession(cc, pa).s.round1()[0]!), 409, 'CEREMONY_FINISHED', finished);
    expect(await postText(l.url, wire(e3))).toEqual(a3);
    expect(l.commits()).toBe(1);
    expect(readdirSync(pa.dir).map((f) => [f, readFileSync(join(pa.dir, f), 'utf8')])).toEqual(files);
    expect(l.refused).toEqual(['409 OUT_OF_ORDER', '409 OUT_OF_ORDER', '409 CEREMONY_FINISHED', '409 CEREMONY_FINISHED', '409 CEREMONY_FINISHED']);
    await postText(l.url, JSON.stringify(ceremonyDoneJson(ctx, CENTER_PARTY, AUTHORITY_PARTY, s.result.digest, cc.id.secretKey)));
    await l.done;
  });

  it('a listener whose client never says "done" answers repeats during its grace period, then stops by itself with its outcome', async () => {
    const cc = party('cc');
    const pa = party('pa');
    const graceMs = 500;
    const l = await startListener(pa, cc, { graceMs });
    const { s } = centerSession(cc, pa);
    const a1 = await postText(l.url, wire(s.round1()[0]!));
    const a2 = await postText(l.url, wire(s.round2([parse(a1.text)])[0]!));
    const x3 = wire(s.round3([parse(a2.text)])[0]!);
    const a3 = await postText(l.url, x3);
    const t0 = Date.now();
    expect(a3.status).toBe(200);
    expect(await postText(l.url, x3)).toEqual(a3);
    const theirs = await l.done;
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(graceMs - 100);
    expect(waited).toBeLessThan(graceMs + 5_000);
    expect(theirs.files).toEqual(partyKeyFiles(pa.dir, AUTHORITY_PARTY));
    expect(sharedKeyToJson(theirs.result.key)).toEqual(sharedKeyToJson(s.finish([parse(a3.text)]).key));
    // Nothing listens any more.
    await expect(postText(l.url, x3)).rejects.toThrow();
    expect(l.commits()).toBe(1);
  });

  it('the client retries a round only on transport failures, the same bytes each time and at most `attempts` times: refused connections, timeouts and 5xx are retried, a 4xx or COMMIT_FAILED is not', async () => {
    const cc = party('cc');
    const pa = party('pa');
    const client = (url: string, more: { attemptTimeoutMs?: number } = {}) =>
      runCeremonyClient({
        party: CENTER_PARTY,
        identity: cc.id,
        peer: peerOf(AUTHORITY_PARTY, pa),
        timeoutMs: 20_000,
        url,
        attempts: 3,
        retryDelayMs: 100,
        ...more,
        commit: () => {
          throw new Error('nothing to commit');
        },
      });
    const port = await freePort();
    const t0 = Date.now();
    await expect(client(`http://127.0.0.1:${port}`)).rejects.toThrow(new RegExp(`^cannot reach the peer at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED \\(3 attempts\\)$`));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300 - 20); // 100 + 200 ms of backoff
    expect(Date.now() - t0).toBeLessThan(5_000);

    // A fake peer giving one answer (or none) to everything: how many requests it got, and that they were the same.
    const fake = async (answer: ((res: http.ServerResponse) => void) | undefined, run: (url: string) => Promise<unknown>) => {
      const bodies: string[] = [];
      const server = http.createServer((req, res) => {
        let b = '';
        req.on('data', (c: Buffer) => (b += c.toString()));
        req.on('end', () => {
          bodies.push(b);
          answer?.(res);
        });
      });
      const url = `http://127.0.0.1:${await listenOn(server)}`;
      try {
        await run(url);
      } finally {
        server.closeAllConnections();
        server.close();
      }
      expect(new Set(bodies).size).toBe(1);
      expect(JSON.parse(bodies[0]!)).toMatchObject({ round: 1, from: CENTER_PARTY, to: AUTHORITY_PARTY });
      return bodies.length;
    };
    const answering = (status: number, code: string) => (res: http.ServerResponse) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code, message: 'as told' } }));
    };
    for (const [status, code, count] of [
      [503, 'UNAVAILABLE', 3],
      [500, 'INTERNAL', 3],
      [500, 'COMMIT_FAILED', 1],
      [400, 'INVALID_ARGUMENT', 1],
      [409, 'OUT_OF_ORDER', 1],
    ] as const) {
      const n = await fake(answering(status, code), (url) => expect(client(url)).rejects.toThrow(`the peer refused round 1 (HTTP ${status} ${code}): as told${count > 1 ? ` (${count} attempts)` : ''}`));
      expect([status, code, n]).toEqual([status, code, count]);
    }
    // A peer that never answers: each attempt times out.
    expect(await fake(undefined, (url) => expect(client(url, { attemptTimeoutMs: 200 })).rejects.toThrow(/^cannot reach the peer at http:\/\/127\.0\.0\.1:\d+: no answer within 200 ms \(3 attempts\)$/))).toBe(3);
    expect(readdirSync(cc.dir)).toEqual(['identity.key.json']);
  });
});

describe(`key directories (${g.name})`, () => {
  it('loadPartyKeys, dangerouslyLoadSingleOperatorKeys and dangerouslyInitSingleOperatorKeys refuse what is missing or not theirs', () => {
    const missing = join(dir, 'nowhere');
    expect(() => loadPartyKeys(missing, CENTER_PARTY)).toThrow(`key directory ${missing} does not exist: run the key ceremony (zkmeter keys dkg …) first`);
    expect(() => dangerouslyLoadSingleOperatorKeys(missing)).toThrow(`key directory ${missing} does not exist`);
    const empty = join(dir, `empty-${++dirs}`);
    mkdirSync(empty);
    expect(() => loadPartyKeys(empty, CENTER_PARTY)).toThrow(/^no shared-key\.json in .*: run the key ceremony/);
    expect(() => dangerouslyLoadSingleOperatorKeys(empty)).toThrow(/^no shared-key\.json in /);

    // Both shares and both parties' identity keys, each secret file 0600; never written twice.
    const single = join(dir, `single-${++dirs}`);
    const files = dangerouslyInitSingleOperatorKeys(single);
    const identityFiles = [CENTER_PARTY, AUTHORITY_PARTY].map((p) => join(single, `${p}.identity.key.json`));
    expect(files).toEqual([...['shared-key.json', 'control-center.share.json', 'privacy-authority.share.json'].map((f) => join(single, f)), ...identityFiles]);
    expect(readdirSync(single).sort()).toEqual(['control-center.identity.key.json', 'control-center.share.json', 'privacy-authority.identity.key.json', 'privacy-authority.share.json', 'shared-key.json']);
    for (const f of [...identityFiles, join(single, 'control-center.share.json'), join(single, 'privacy-authority.share.json')]) expect([f, statSync(f).mode & 0o777]).toEqual([f, 0o600]);
    expect(() => dangerouslyInitSingleOperatorKeys(single)).toThrow(/^cannot write .*shared-key\.json: EEXIST/);
    const both = dangerouslyLoadSingleOperatorKeys(single);
    expect([both.centerShare.party, both.authorityShare.party]).toEqual([CENTER_PARTY, AUTHORITY_PARTY]);
    // The identity keys loaded are the files' (each a valid BIP340 pair), and two different keys.
    const [centerId, authorityId] = identityFiles.map((f) => readSigningKeyFile(f));
    expect([both.centerIdentity.secretKey, bytesToHex(both.centerIdentity.publicKey)]).toEqual([centerId!.secretKey, bytesToHex(centerId!.publicKey)]);
    expect([both.authorityIdentity.secretKey, bytesToHex(both.authorityIdentity.publicKey)]).toEqual([authorityId!.secretKey, bytesToHex(authorityId!.publicKey)]);
    expect(bytesToHex(both.centerIdentity.publicKey)).not.toBe(bytesToHex(both.authorityIdentity.publicKey));
    const asParty = loadPartyKeys(single, AUTHORITY_PARTY);
    expect(keyShareToJson(asParty.share)).toEqual(keyShareToJson(both.authorityShare));
    expect([asParty.identity, asParty.peers.size]).toEqual([undefined, 0]);

    // A single-operator directory without either identity key (as an earlier version wrote them) is refused, naming the file.
    for (const [p, other] of [[CENTER_PARTY, AUTHORITY_PARTY], [AUTHORITY_PARTY, CENTER_PARTY]] as const) {
      const old = join(dir, `old-single-${++dirs}`);
      dangerouslyInitSingleOperatorKeys(old);
      rmSync(join(old, `${p}.identity.key.json`));
      expect(() => dangerouslyLoadSingleOperatorKeys(old)).toThrow(new RegExp(`^no ${p}\\.identity\\.key\\.json in .*old-single-\\d+: a single-operator directory from an earlier version; make a new one \\(zkmeter serve --single-operator --init --keys NEW_DIR\\)$`));
      expect(existsSync(join(old, `${other}.identity.key.json`))).toBe(true);
      // Nor will dangerouslyInitSingleOperatorKeys fill the gap: the directory's other key files are never replaced.
      expect(() => dangerouslyInitSingleOperatorKeys(old)).toThrow(/^cannot write .*shared-key\.json: EEXIST/);
      expect(existsSync(join(old, `${p}.identity.key.json`))).toBe(false);
    }
    // And a lone identity key file in a fresh directory keeps dangerouslyInitSingleOperatorKeys from writing anything.
    const partial = join(dir, `partial-${++dirs}`);
    mkdirSync(partial);
    writeFileSync(join(partial, `${AUTHORITY_PARTY}.identity.key.json`), readFileSync(identityFiles[1]!, 'utf8'), { mode: 0o600 });
    expect(() => dangerouslyInitSingleOperatorKeys(partial)).toThrow(/^cannot write .*privacy-authority\.identity\.key\.json: EEXIST/);
    expect(readdirSync(partial)).toEqual([`${AUTHORITY_PARTY}.identity.key.json`]);

    // A directory with one share: a party's, not a single operator's; another party's share under its name is refused.
    rmSync(join(single, 'privacy-authority.share.json'));
    expect(() => dangerouslyLoadSingleOperatorKeys(single)).toThrow(/^no privacy-authority\.share\.json in .*: this directory holds no share of privacy-authority$/);
    expect(() => loadPartyKeys(single, AUTHORITY_PARTY)).toThrow(/no privacy-authority\.share\.json in/);
    renameSync(join(single, 'control-center.share.json'), join(single, 'privacy-authority.share.json'));
    expect(() => loadPartyKeys(single, AUTHORITY_PARTY)).toThrow(/privacy-authority\.share\.json is not privacy-authority's share of the key in .*shared-key\.json/);
    // An dangerouslyInitSingleOperatorKeys over a partial directory is refused too.
    expect(() => dangerouslyInitSingleOperatorKeys(single)).toThrow(/EEXIST/);
  });
});
