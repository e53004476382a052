/**
 * The `zkmeter keys` commands: `identity` (a party's BIP340 identity key),
 * `provisioning` (the key that certifies meters) and `dkg`, one party of the key
 * ceremony (server/ceremony.ts) between the control center and the privacy
 * authority, over HTTP(S) or, for air-gapped hosts, as files:
 *
 *   A (either party): --round 1 --write a1
 *   B (the other):    --round 1 --read a1 --write b1;  --round 2 --read a1 --write b2
 *   A:                --round 2 --read b1 --write a2;  --round 3 --read b2 --write a3
 *   B:                --round 3 --read a2 --write b3;  --finish --read a3
 *   A:                --finish --read b3
 *
 * A's round 1 picks the ceremony id; B's round 1 takes it from A's file. Between
 * steps a party's secrets live in DIR/ceremony.state.json (mode 0600): a random
 * 32-byte seed that rebuilds the same DKG round 1 and ephemeral key (see
 * `seededRandom`) until round 3, then only the party's result until --finish,
 * which deletes it.
 * @module
 */
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { ZkmeterError } from '../errors.js';
import { bytesToHex, encodePoints, hexToBytes } from '../crypto/codec.js';
import { cryptoRandom, randomScalar } from '../crypto/random.js';
import {
  CeremonySession,
  ceremonyContext,
  ceremonyRecord,
  checkConfirmations,
  envelopeFromJson,
  envelopeToJson,
  listenForCeremony,
  newCeremonyId,
  openEnvelope,
  runCeremonyClient,
  sharedKeyDigest,
  type CeremonyContext,
  type CeremonyResult,
  type Envelope,
  type PartyIdentity,
} from '../server/ceremony.js';
import { AuthorityClient } from '../server/authority-client.js';
import { fileLogHeadMemory, LOG_HEAD_FILE } from '../server/log-head.js';
import {
  AUTHORITY_PARTY,
  CENTER_PARTY,
  IDENTITY_KEY_FILE,
  PARTIES_FILE,
  createIdentityKey,
  loadIdentityKey,
  loadPartyKeys,
  partyKeyFiles,
  writePartyKeyFiles,
  writeSecretFile,
  writeSigningKeyFile,
  type SigningKey,
} from '../server/keys.js';
import { keyShareFromJson, keyShareToJson, sharedKeyFromJson, sharedKeyToJson } from '../protocol/json.js';
import type { KeyShare, SharedKey } from '../crypto/threshold.js';
import { parseHex, parseSmallInt, UsageError } from './parse.js';

type Options = Record<string, string | boolean | undefined>;

const PARTIES = [CENTER_PARTY, AUTHORITY_PARTY] as const;
const THRESHOLD = 2;
/** The offline ceremony's state file in a party's key directory. */
export const CEREMONY_STATE_FILE = 'ceremony.state.json';

/** What `keys dkg` without --party says (one line). */
export const DKG_USAGE =
  'keys dkg runs one party of the key ceremony on its own host: --party control-center|privacy-authority --out DIR --peer-key HEX with --listen HOST:PORT, --peer URL, or --round 1|2|3 / --finish for files (see zkmeter keys dkg --help); for a one-machine trial use zkmeter serve --single-operator --init';

function need(o: Options, name: string, flag: string): string {
  const v = o[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`${flag} is required`);
  return v;
}

/** A ZkmeterError from reading or checking an input file, as a usage error naming the flag. */
function withFlag<T>(flag: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ZkmeterError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
}

function readFile(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function readJson(file: string, flag: string): unknown {
  const text = readFile(file, flag);
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${flag}: ${file} is not valid JSON`);
  }
}

/**
 * The center's side of a two-host deployment, from its key directory (the ceremony's):
 * the shared key, its own share, and a client of the authority at `url` whose requests
 * its identity key signs, addressed to the authority's identity key in parties.json. The
 * newest signed head of the authority's ledger is kept beside the keys (LOG_HEAD_FILE), so a
 * rollback of the authority is noticed across the center's restarts too.
 */
export function centerAuthorityClient(keysDir: string, url: string, ca?: string): { key: SharedKey; centerShare: KeyShare; client: AuthorityClient } {
  const keys = loadPartyKeys(keysDir, CENTER_PARTY);
  if (keys.identity === undefined) {
    throw new UsageError(`no ${IDENTITY_KEY_FILE} in ${keysDir}: the center signs its requests to the authority with its identity key (make it with zkmeter keys identity --out ${keysDir}, and give its public key to the authority)`);
  }
  const authorityKey = keys.peers.get(AUTHORITY_PARTY);
  if (authorityKey === undefined) {
    throw new UsageError(`no ${AUTHORITY_PARTY} in ${path.join(keysDir, PARTIES_FILE)}: the center addresses its requests to the authority's identity key, which the key ceremony records there`);
  }
  const headMemory = fileLogHeadMemory(path.join(keysDir, LOG_HEAD_FILE), sharedKeyDigest(keys.key));
  const client = new AuthorityClient({ url, key: keys.key, identity: keys.identity, authorityKey, headMemory, ...(ca !== undefined ? { ca } : {}) });
  return { key: keys.key, centerShare: keys.share, client };
}

/** A provisioning key pair (BIP340), written to a new file {"secretKey","publicKey"} of mode 0600; prints its public key. */
export function keysProvisioningCommand(o: Options): Record<string, unknown> {
  const out = need(o, 'out', '--out');
  // Never overwrites a key file: that would orphan every certificate the old key made.
  const { publicKey } = writeSigningKeyFile(out, randomScalar());
  return { publicKey: bytesToHex(publicKey), out };
}

/** A party's identity key: a new DIR/identity.key.json (mode 0600, never overwritten); prints its public key for the peer. */
export function keysIdentityCommand(o: Options): Record<string, unknown> {
  const { publicKey, file } = createIdentityKey(need(o, 'out', '--out'));
  return { publicKey: bytesToHex(publicKey), file };
}

interface Party {
  readonly dir: string;
  readonly party: string;
  readonly identity: SigningKey;
  readonly force: boolean;
}

function partyFrom(o: Options): Party {
  if (typeof o.party !== 'string') throw new UsageError(DKG_USAGE);
  const party = o.party;
  if (!(PARTIES as readonly string[]).includes(party)) throw new UsageError(`--party expected ${PARTIES.join(' or ')}, got ${JSON.stringify(party)}`);
  const dir = need(o, 'out', '--out');
  const identity = withFlag('--out', () => loadIdentityKey(dir));
  return { dir, party, identity, force: o.force === true };
}

function peerName(party: string): string {
  return PARTIES.find((p) => p !== party)!;
}

function peerFrom(p: Party, o: Options, required: boolean): PartyIdentity | undefined {
  if (typeof o.peerKey !== 'string') {
    if (required) throw new UsageError('--peer-key is required: the peer\'s identity public key (from its zkmeter keys identity), told out of band');
    return undefined;
  }
  const identityKey = parseHex(o.peerKey, '--peer-key', 32);
  return { party: peerName(p.party), identityKey };
}

/** Refuses before a ceremony starts when its key files exist (unless --force): better now than after it. */
function refuseExistingKeyFiles(p: Party): void {
  if (p.force) return;
  const existing = partyKeyFiles(p.dir, p.party).find((f) => existsSync(f));
  if (existing !== undefined) throw new UsageError(`cannot write ${existing}: EEXIST (key files are never overwritten; --force replaces them)`);
}

function commit(p: Party): (r: CeremonyResult) => string[] {
  return (r) => writePartyKeyFiles(p.dir, r.key, r.share, r.record, { replace: p.force });
}

/** What each party prints at the end. */
function summary(p: Party, r: CeremonyResult, files: string[]): Record<string, unknown> {
  const peer = [...r.record.identities].find(([party]) => party !== p.party)!;
  return {
    party: p.party,
    publicKey: bytesToHex(encodePoints(r.key.publicKey)),
    files,
    peer: { party: peer[0], identityKey: bytesToHex(peer[1]) },
    ceremony: bytesToHex(r.record.ceremony),
  };
}

function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):([0-9]{1,5})$/.exec(text);
  if (m === null) throw new UsageError(`--listen expected HOST:PORT (e.g. 0.0.0.0:7443 or [::1]:0), got '${text}'`);
  return { host: m[1] ?? m[2]!, port: parseSmallInt(m[3], '--listen port', 0, 65535) };
}

/** `keys dkg`: one party of the key ceremony, by the transport the flags name. */
export async function keysDkgCommand(o: Options, onListening: (url: string) => void = () => {}): Promise<Record<string, unknown>> {
  const modes = [o.listen !== undefined && '--listen', o.peer !== undefined && '--peer', (o.round !== undefined || o.finish === true) && '--round/--finish'].filter(Boolean);
  if (typeof o.party !== 'string') throw new UsageError(DKG_USAGE);
  if (!(PARTIES as readonly string[]).includes(o.party)) throw new UsageError(`--party expected ${PARTIES.join(' or ')}, got ${JSON.stringify(o.party)}`);
  if (modes.length !== 1) throw new UsageError(modes.length === 0 ? `keys dkg --party needs --listen HOST:PORT, --peer URL, or --round 1|2|3 / --finish (see zkmeter keys dkg --help)` : `give one of ${modes.join(', ')}`);
  if (modes[0] === '--round/--finish') return offlineStep(o);
  const p = partyFrom(o);
  const peer = peerFrom(p, o, true)!;
  refuseExistingKeyFiles(p);
  const timeoutMs = 1000 * (typeof o.timeout === 'string' ? parseSmallInt(o.timeout, '--timeout', 1, 86_400) : 600);
  const common = { party: p.party, identity: p.identity, peer, threshold: THRESHOLD, timeoutMs, commit: commit(p) };
  if (typeof o.listen === 'string') {
    if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
    const tls = typeof o.tlsCert === 'string' && typeof o.tlsKey === 'string' ? { cert: readFile(o.tlsCert, '--tls-cert'), key: readFile(o.tlsKey, '--tls-key') } : undefined;
    const { result, files } = await listenForCeremony({
      ...common,
      ...parseListen(o.listen as string),
      ...(tls !== undefined ? { tls } : {}),
      onListening,
      onRefused: (status, code, message) => process.stderr.write(`refused a request (${status} ${code}): ${message}\n`),
    });
    return summary(p, result, files);
  }
  const ca = typeof o.ca === 'string' ? readFile(o.ca, '--ca') : undefined;
  const { result, files } = await runCeremonyClient({ ...common, url: need(o, 'peer', '--peer'), ...(ca !== undefined ? { ca } : {}) });
  return summary(p, result, files);
}

// ---------------------------------------------------------------- offline, by files

type State =
  | { step: 'round1' | 'round2'; ctx: CeremonyContext; seed: Uint8Array; peerRound1: Envelope[] }
  | { step: 'round3'; ctx: CeremonyContext; result: { key: CeremonyResult['key']; share: CeremonyResult['share'] } };

function stateFile(p: Party): string {
  return path.join(p.dir, CEREMONY_STATE_FILE);
}

function saveState(p: Party, s: State, replace: boolean): void {
  const ctx = { ceremony: bytesToHex(s.ctx.ceremony), threshold: s.ctx.threshold, parties: s.ctx.parties.map((x) => ({ party: x.party, identityKey: bytesToHex(x.identityKey) })) };
  const body =
    s.step === 'round3'
      ? { version: 1, party: p.party, step: s.step, ...ctx, sharedKey: sharedKeyToJson(s.result.key), share: keyShareToJson(s.result.share) }
      : { version: 1, party: p.party, step: s.step, ...ctx, seed: bytesToHex(s.seed), peerRound1: s.peerRound1.map(envelopeToJson) };
  writeSecretFile(stateFile(p), JSON.stringify(body) + '\n', { replace });
}

function loadState(p: Party): State {
  const file = stateFile(p);
  if (!existsSync(file)) throw new UsageError(`no ceremony in progress in ${p.dir} (no ${CEREMONY_STATE_FILE}): start with --round 1`);
  return withFlag(file, () => {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const base = ['version', 'party', 'step', 'ceremony', 'threshold', 'parties'];
    const fields = v.step === 'round3' ? [...base, 'sharedKey', 'share'] : [...base, 'seed', 'peerRound1'];
    for (const k of Object.keys(v)) if (!fields.includes(k)) throw new ZkmeterError('INVALID_ARGUMENT', `unknown field "${k}"`);
    if (v.version !== 1 || v.party !== p.party || !['round1', 'round2', 'round3'].includes(v.step as string)) {
      throw new ZkmeterError('INVALID_ARGUMENT', `not a state of ${p.party}'s ceremony (version 1, step round1|round2|round3)`);
    }
    const parties = (v.parties as { party: string; identityKey: string }[]).map((x, i) => ({ party: x.party, identityKey: hexToBytes(x.identityKey, `parties[${i}].identityKey`, 32) }));
    const ctx = ceremonyContext(hexToBytes(v.ceremony as string, 'ceremony', 16), parties, v.threshold as number);
    if (v.step === 'round3') {
      const key = sharedKeyFromJson(v.sharedKey);
      const share = keyShareFromJson(v.share);
      return { step: 'round3', ctx, result: { key, share } };
    }
    return { step: v.step as 'round1' | 'round2', ctx, seed: hexToBytes(v.seed as string, 'seed', 32), peerRound1: (v.peerRound1 as unknown[]).map(envelopeFromJson) };
  });
}

function readEnvelope(file: string): Envelope {
  return withFlag('--read', () => {
    try {
      return envelopeFromJson(readJson(file, '--read'));
    } catch (e) {
      if (e instanceof ZkmeterError) throw new ZkmeterError(e.code, `${file}: ${e.message}`);
      throw e;
    }
  });
}

function writeEnvelope(p: Party, file: string, e: Envelope): void {
  writeSecretFile(file, JSON.stringify(envelopeToJson(e), null, 2) + '\n', { mode: 0o644, replace: p.force });
}

/** Opens the peer's file as a message of this ceremony for this party; refusals name the file. */
function openPeerFile<R extends 1 | 2 | 3>(ctx: CeremonyContext, p: Party, file: string, round: R): Envelope {
  const e = readEnvelope(file);
  return withFlag('--read', () => {
    try {
      return openEnvelope(ctx, e, { round, to: p.party, from: peerName(p.party) });
    } catch (err) {
      if (err instanceof ZkmeterError) throw new ZkmeterError(err.code, `${file}: ${err.message}`);
      throw err;
    }
  });
}

/** The party's identity and --peer-key (if given) must be what the state recorded. */
function checkStateParties(p: Party, o: Options, ctx: CeremonyContext): void {
  const own = ctx.parties.find((x) => x.party === p.party)!;
  if (bytesToHex(own.identityKey) !== bytesToHex(p.identity.publicKey)) throw new UsageError(`the ceremony in ${p.dir} was started with another identity key than ${p.dir}/identity.key.json`);
  const peer = peerFrom(p, o, false);
  const known = ctx.parties.find((x) => x.party !== p.party)!;
  if (peer !== undefined && bytesToHex(peer.identityKey) !== bytesToHex(known.identityKey)) {
    throw new UsageError(`--peer-key ${bytesToHex(peer.identityKey)} is not the key the ceremony in ${p.dir} was started with (${bytesToHex(known.identityKey)})`);
  }
}

/** The session at round 3, rebuilt from the seed and the peer's round 1 (deterministic: the same DKG and ephemeral key). */
function rebuild(p: Party, s: { ctx: CeremonyContext; seed: Uint8Array; peerRound1: Envelope[] }): CeremonySession {
  const session = new CeremonySession(s.ctx, p.party, p.identity, s.seed);
  session.round1();
  session.round2(s.peerRound1);
  return session;
}

function offlineStep(o: Options): Record<string, unknown> {
  const p = partyFrom(o);
  const round = o.finish === true ? 'finish' : o.round;
  if (o.finish === true && o.round !== undefined) throw new UsageError('give --round or --finish, not both');
  if (round !== 'finish' && round !== '1' && round !== '2' && round !== '3') throw new UsageError(`--round expected 1, 2 or 3, got '${String(o.round)}'`);
  const readFlag = typeof o.read === 'string' ? o.read : undefined;
  refuseExistingKeyFiles(p);
  const write = round === 'finish' ? undefined : need(o, 'write', '--write');
  if (write !== undefined && existsSync(write) && !p.force) throw new UsageError(`cannot write ${write}: EEXIST (it exists: never overwritten; --force replaces it)`);
  const step = (r: number, ctx: CeremonyContext, file: string) => ({ party: p.party, round: r, ceremony: bytesToHex(ctx.ceremony), file });

  if (round === '1') {
    const peer = peerFrom(p, o, true)!;
    if (existsSync(stateFile(p)) && !p.force) throw new UsageError(`a ceremony is already in progress in ${p.dir} (${CEREMONY_STATE_FILE}): continue it with --round 2|3 / --finish, or start over with --force`);
    // The starter picks the ceremony id; the other party takes it from the starter's round 1 file.
    let ceremony = newCeremonyId();
    if (readFlag !== undefined) {
      const e = readEnvelope(readFlag);
      ceremony = e.ceremony;
      openPeerFile(withFlag('--peer-key', () => ceremonyContext(ceremony, [{ party: p.party, identityKey: p.identity.publicKey }, peer], THRESHOLD)), p, readFlag, 1);
    }
    const ctx = withFlag('--peer-key', () => ceremonyContext(ceremony, [{ party: p.party, identityKey: p.identity.publicKey }, peer], THRESHOLD));
    const seed = cryptoRandom(32);
    const [mine] = new CeremonySession(ctx, p.party, p.identity, seed).round1();
    saveState(p, { step: 'round1', ctx, seed, peerRound1: [] }, p.force);
    writeEnvelope(p, write!, mine!);
    return step(1, ctx, write!);
  }

  const state = loadState(p);
  checkStateParties(p, o, state.ctx);
  const read = readFlag ?? (() => {
    throw new UsageError(`--read is required: the peer's ${round === 'finish' ? 'round 3' : `round ${Number(round) - 1}`} file`);
  })();
  const expected = round === '2' ? 'round1' : round === '3' ? 'round2' : 'round3';
  if (state.step !== expected) {
    const next = state.step === 'round1' ? '--round 2' : state.step === 'round2' ? '--round 3' : '--finish';
    throw new UsageError(`the ceremony in ${p.dir} is past ${state.step === 'round1' ? 'round 1' : state.step === 'round2' ? 'round 2' : 'round 3'}: its next step is ${next}`);
  }

  if (round === '2' && state.step === 'round1') {
    const peerRound1 = [openPeerFile(state.ctx, p, read, 1)];
    const session = new CeremonySession(state.ctx, p.party, p.identity, state.seed);
    session.round1();
    const [mine] = withFlag('--read', () => session.round2(peerRound1));
    saveState(p, { ...state, step: 'round2', peerRound1 }, true);
    writeEnvelope(p, write!, mine!);
    return step(2, state.ctx, write!);
  }

  if (round === '3' && state.step === 'round2') {
    const session = rebuild(p, state);
    const peerRound2 = openPeerFile(state.ctx, p, read, 2);
    const [mine] = withFlag('--read', () => session.round3([peerRound2]));
    const { key, share } = session.result;
    // From here on the state holds this party's result only: no seed, no ephemeral secret.
    saveState(p, { step: 'round3', ctx: state.ctx, result: { key, share } }, true);
    writeEnvelope(p, write!, mine!);
    return step(3, state.ctx, write!);
  }

  if (state.step !== 'round3') throw new UsageError('internal: unexpected ceremony state');
  const confirmation = openPeerFile(state.ctx, p, read, 3);
  withFlag('--read', () => checkConfirmations(state.ctx, p.party, sharedKeyDigest(state.result.key), [confirmation]));
  const result: CeremonyResult = { ...state.result, record: ceremonyRecord(state.ctx) };
  const files = withFlag('--out', () => commit(p)(result));
  unlinkSync(stateFile(p));
  return summary(p, result, files);
}
