/**
 * The utility's key files. A party's key directory (what the key ceremony,
 * `zkmeter keys dkg --party P`, writes and what that party's service reads):
 *  - `shared-key.json` (0644): the public shared key, the same at every party;
 *  - `<party>.share.json` (0600): this party's secret share, and no other's;
 *  - `parties.json` (0644): the ceremony id and every party's long-term identity
 *    key, so the center knows the authority's identity key and vice versa;
 *  - `identity.key.json` (0600): this party's BIP340 identity key (`keys identity`).
 * Only single-operator mode (`dangerouslyInitSingleOperatorKeys`) puts both shares in one
 * directory. Beside them, a single-operator deployment may keep
 * `provisioning.key.json` (0600): the provisioning key that certifies meters
 * (protocol/certificate.ts), which in production the installer or manufacturer holds.
 * @module
 */
import { closeSync, constants, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ZkmeterError } from '../errors.js';
import { equalBytes, scalarToBytes } from '../backend/bytes.js';
import { bytesToHex, decodeScalar, encodePoints, hexToBytes } from '../crypto/codec.js';
import { randomScalar } from '../crypto/random.js';
import { schnorrPublicKey } from '../crypto/schnorr.js';
import { dangerouslyGenerateAllShares, type KeyShare, type SharedKey } from '../crypto/threshold.js';
import { keyShareFromJson, keyShareToJson, sharedKeyFromJson, sharedKeyToJson } from '../protocol/json.js';

export const CENTER_PARTY = 'control-center';
export const AUTHORITY_PARTY = 'privacy-authority';

/** The public shared key's file name in a key directory. */
export const SHARED_KEY_FILE = 'shared-key.json';
/** The ceremony record's file name: its id and every party's identity key. */
export const PARTIES_FILE = 'parties.json';
/** A party's long-term identity key (BIP340), which signs its ceremony messages. */
export const IDENTITY_KEY_FILE = 'identity.key.json';
/** The provisioning key's file name in a key directory. */
export const PROVISIONING_KEY_FILE = 'provisioning.key.json';

/** A party's share file name in a key directory. */
export function shareFileName(party: string): string {
  checkFileSafeParty(party);
  return `${party}.share.json`;
}

/**
 * Writes a file that holds secrets (or a key that must not silently change): created new,
 * mode 0600 unless `mode` says otherwise, never into an existing file (which may be
 * readable by others) nor through a symlink (O_EXCL refuses both), and fsynced. With
 * `replace`, an existing file is removed first. A refusal is INVALID_ARGUMENT naming the file.
 */
export function writeSecretFile(file: string, text: string, o: { replace?: boolean; mode?: number } = {}): void {
  try {
    if (o.replace && existsSync(file)) unlinkSync(file);
    const fd = openSync(file, 'wx', o.mode ?? 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ZkmeterError('INVALID_ARGUMENT', `cannot write ${file}: ${code === 'EEXIST' ? 'EEXIST (it exists: never overwritten)' : (code ?? (e as Error).message)}`);
  }
}

/**
 * Appends to a file that holds secrets (a customer's readings and blindings): created with
 * mode 0600 if missing; refused (INVALID_ARGUMENT naming the file) if it is a symlink
 * (O_NOFOLLOW) or readable or writable by anyone but its owner, then fsynced.
 */
export function appendSecretFile(file: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ZkmeterError('INVALID_ARGUMENT', `cannot append to ${file}: ${code === 'ELOOP' ? 'ELOOP (a symlink: never followed)' : (code ?? (e as Error).message)}`);
  }
  try {
    if ((fstatSync(fd).mode & 0o077) !== 0) throw new ZkmeterError('INVALID_ARGUMENT', `cannot append to ${file}: others may read or write it (it holds secrets: chmod 600 it, or start a new file)`);
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Party names usable in file names: no path separators, no leading dot. */
const FILE_SAFE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/** Refuses a party name that cannot be part of a file name in a key directory. */
export function checkFileSafeParty(party: string): void {
  if (typeof party !== 'string' || !FILE_SAFE.test(party)) {
    throw new ZkmeterError('INVALID_ARGUMENT', `party name ${JSON.stringify(party)} cannot be a file name (letters, digits, '.', '_', '-'; no leading dot)`);
  }
}

function refuseExisting(files: readonly string[]): void {
  const existing = files.filter((f) => existsSync(f));
  if (existing.length > 0) throw new ZkmeterError('INVALID_ARGUMENT', `cannot write ${existing[0]}: EEXIST (key files are never overwritten; --force replaces them)`);
}

/**
 * DANGER: writes every share in `shares` into one directory (single-operator mode only,
 * hence not exported); returns the paths (shared key first). The caller has refused
 * existing key files.
 */
function dangerouslyWriteAllShareFiles(dir: string, key: SharedKey, shares: ReadonlyMap<string, KeyShare>): string[] {
  for (const s of shares.values()) checkFileSafeParty(s.party);
  mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, SHARED_KEY_FILE), ...[...shares.values()].map((s) => path.join(dir, shareFileName(s.party)))];
  writeSecretFile(files[0]!, JSON.stringify(sharedKeyToJson(key), null, 2) + '\n', { mode: 0o644 });
  [...shares.values()].forEach((s, i) => writeSecretFile(files[i + 1]!, JSON.stringify(keyShareToJson(s)) + '\n'));
  return files;
}

/** What `parties.json` records: the ceremony that made the key, and who took part with which identity key. */
export interface CeremonyRecord {
  /** 16 bytes, chosen by the party that started the ceremony. */
  readonly ceremony: Uint8Array;
  /** Each party's 32-byte x-only identity public key, in the ceremony's (sorted) party order. */
  readonly identities: ReadonlyMap<string, Uint8Array>;
}

/** The files one party of a ceremony writes in `dir`: shared key, its own share, parties.json. */
export function partyKeyFiles(dir: string, party: string): string[] {
  return [path.join(dir, SHARED_KEY_FILE), path.join(dir, shareFileName(party)), path.join(dir, PARTIES_FILE)];
}

/**
 * Writes one ceremony party's files: `shared-key.json` (0644), `<party>.share.json`
 * (0600) and `parties.json` (0644); returns their paths. Never overwrites an
 * existing one unless `replace` (`--force`); checks them all before writing any.
 */
export function writePartyKeyFiles(dir: string, key: SharedKey, share: KeyShare, record: CeremonyRecord, o: { replace?: boolean } = {}): string[] {
  const files = partyKeyFiles(dir, share.party);
  if (key.parties.get(share.party)?.id !== share.id) throw new ZkmeterError('INVALID_ARGUMENT', `the share is not ${share.party}'s share of the key`);
  mkdirSync(dir, { recursive: true });
  if (!o.replace) refuseExisting(files);
  writeSecretFile(files[0]!, JSON.stringify(sharedKeyToJson(key), null, 2) + '\n', { mode: 0o644, ...o });
  writeSecretFile(files[1]!, JSON.stringify(keyShareToJson(share)) + '\n', o);
  writeSecretFile(files[2]!, JSON.stringify(ceremonyRecordToJson(key, record), null, 2) + '\n', { mode: 0o644, ...o });
  return files;
}

/** `{"ceremony": hex 16, "publicKey": hex 33 (the shared key), "parties": [{"party","identityKey": hex 32}…]}`. */
function ceremonyRecordToJson(key: SharedKey, r: CeremonyRecord): Record<string, unknown> {
  return {
    ceremony: bytesToHex(r.ceremony),
    publicKey: bytesToHex(encodePoints(key.publicKey)),
    parties: [...r.identities].map(([party, k]) => ({ party, identityKey: bytesToHex(k) })),
  };
}

function ceremonyRecordFromJson(v: unknown, file: string, key: SharedKey): CeremonyRecord {
  const bad = (why: string): never => {
    throw new ZkmeterError('INVALID_ARGUMENT', `${file}: ${why}`);
  };
  const fields = ['ceremony', 'publicKey', 'parties'];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('expected a JSON object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!fields.includes(k)) bad(`unknown field "${k}"`);
  if (typeof o.ceremony !== 'string' || typeof o.publicKey !== 'string' || !Array.isArray(o.parties)) bad('expected {"ceremony","publicKey","parties"}');
  const ceremony = hexToBytes(o.ceremony as string, `${file} ceremony`, 16);
  if (o.publicKey !== bytesToHex(encodePoints(key.publicKey))) bad(`"publicKey" is not the key in ${SHARED_KEY_FILE}`);
  const identities = new Map<string, Uint8Array>();
  for (const [i, p] of (o.parties as unknown[]).entries()) {
    const e = p as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || Object.keys(e).length !== 2 || typeof e.party !== 'string' || typeof e.identityKey !== 'string') {
      bad(`parties[${i}] expected {"party","identityKey"}`);
    }
    const party = e!.party as string;
    if (!key.parties.has(party) || identities.has(party)) bad(`parties[${i}] ${JSON.stringify(party)} is not a distinct party of the key`);
    identities.set(party, hexToBytes(e!.identityKey as string, `${file} parties[${i}].identityKey`, 32));
  }
  return { ceremony, identities };
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ZkmeterError('INVALID_ARGUMENT', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function requireKeyDir(dir: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // missing: refused below
  }
  if (!isDir) throw new ZkmeterError('INVALID_ARGUMENT', `key directory ${dir} does not exist: run the key ceremony (zkmeter keys dkg …) first`);
}

function readSharedKey(dir: string): SharedKey {
  const file = path.join(dir, SHARED_KEY_FILE);
  if (!existsSync(file)) throw new ZkmeterError('INVALID_ARGUMENT', `no ${SHARED_KEY_FILE} in ${dir}: run the key ceremony (zkmeter keys dkg …) first`);
  return sharedKeyFromJson(readJsonFile(file));
}

/** `party`'s share in `dir`, checked to be that party's share of `key`; undefined when its file is missing. */
function readShare(dir: string, key: SharedKey, party: string): KeyShare | undefined {
  const f = path.join(dir, shareFileName(party));
  if (!existsSync(f)) return undefined;
  const s = keyShareFromJson(readJsonFile(f));
  const expected = key.parties.get(party);
  if (s.party !== party || expected === undefined || expected.id !== s.id) {
    throw new ZkmeterError('INVALID_ARGUMENT', `${f} is not ${party}'s share of the key in ${path.join(dir, SHARED_KEY_FILE)}`);
  }
  return s;
}

function requireShare(dir: string, key: SharedKey, party: string): KeyShare {
  const s = readShare(dir, key, party);
  if (s === undefined) throw new ZkmeterError('INVALID_ARGUMENT', `no ${shareFileName(party)} in ${dir}: this directory holds no share of ${party}`);
  return s;
}

/** One ceremony party's keys, as `loadPartyKeys` reads them. */
export interface PartyKeys {
  readonly key: SharedKey;
  /** This party's share (checked against the shared key). */
  readonly share: KeyShare;
  /** This party's identity key, when `identity.key.json` is in the directory. */
  readonly identity: SigningKey | undefined;
  /** The other parties' identity public keys (32-byte x-only), from parties.json; empty without one. */
  readonly peers: Map<string, Uint8Array>;
}

/**
 * Reads `party`'s key directory (written by the key ceremony): the shared key,
 * that party's share, its identity key if present and the other parties'
 * identity keys from parties.json if present. Refuses, with one INVALID_ARGUMENT
 * sentence, a missing directory, shared key or share, a share that is not
 * `party`'s share of the key, and a parties.json of another key or whose entry
 * for `party` is not the identity key beside it.
 */
export function loadPartyKeys(dir: string, party: string): PartyKeys {
  requireKeyDir(dir);
  const key = readSharedKey(dir);
  const share = requireShare(dir, key, party);
  const identityFile = path.join(dir, IDENTITY_KEY_FILE);
  const identity = existsSync(identityFile) ? readSigningKeyFile(identityFile) : undefined;
  const peers = new Map<string, Uint8Array>();
  const partiesFile = path.join(dir, PARTIES_FILE);
  if (existsSync(partiesFile)) {
    const record = ceremonyRecordFromJson(readJsonFile(partiesFile), partiesFile, key);
    const own = record.identities.get(party);
    if (identity !== undefined && own !== undefined && !equalBytes(own, identity.publicKey)) {
      throw new ZkmeterError('INVALID_ARGUMENT', `${partiesFile} records another identity key for ${party} than ${identityFile}`);
    }
    for (const [p, k] of record.identities) if (p !== party) peers.set(p, k);
  }
  return { key, share, identity, peers };
}

/** Both shares of a single-operator deployment, and both parties' identity keys. */
export interface SingleOperatorKeys {
  readonly key: SharedKey;
  readonly centerShare: KeyShare;
  readonly authorityShare: KeyShare;
  /** Signs the center's requests to the in-process authority. */
  readonly centerIdentity: SigningKey;
  /** Signs the authority's tariffs (a meter export names its public key). */
  readonly authorityIdentity: SigningKey;
}

/** A party's identity key file in a single-operator directory, which holds both parties' keys. */
export function partyIdentityFile(dir: string, party: string): string {
  return path.join(dir, `${party}.${IDENTITY_KEY_FILE}`);
}

/**
 * Reads a single-operator key directory (from `dangerouslyInitSingleOperatorKeys`): the
 * shared key and both the control center's and the privacy authority's shares.
 * Refuses, with one INVALID_ARGUMENT sentence, a missing directory, shared key
 * or share, and a share that is not its party's share of the key.
 */
export function dangerouslyLoadSingleOperatorKeys(dir: string): SingleOperatorKeys {
  requireKeyDir(dir);
  const key = readSharedKey(dir);
  const identity = (party: string) => {
    const file = partyIdentityFile(dir, party);
    if (!existsSync(file)) throw new ZkmeterError('INVALID_ARGUMENT', `no ${path.basename(file)} in ${dir}: a single-operator directory from an earlier version; make a new one (zkmeter serve --single-operator --init --keys NEW_DIR)`);
    return readSigningKeyFile(file);
  };
  return {
    key,
    centerShare: requireShare(dir, key, CENTER_PARTY),
    authorityShare: requireShare(dir, key, AUTHORITY_PARTY),
    centerIdentity: identity(CENTER_PARTY),
    authorityIdentity: identity(AUTHORITY_PARTY),
  };
}

/**
 * DANGER: single-operator mode. Generates a 2-of-2 key for the control center
 * and the privacy authority in this one process and writes both shares into
 * `dir`, so this process, and whoever can read `dir`, holds both shares and can
 * decrypt every single reading. For trials (`zkmeter serve --single-operator
 * --init`) and tests; a deployment runs the key ceremony between two hosts
 * (`zkmeter keys dkg --party …`) instead. The only code path that writes both
 * shares. Both parties' identity keys go beside them (`<party>.identity.key.json`).
 * Refuses (EEXIST) if any key file (shared key, either share, parties.json, an
 * identity key) exists in `dir`; returns the files written (shared key first).
 */
export function dangerouslyInitSingleOperatorKeys(dir: string): string[] {
  const identities = [CENTER_PARTY, AUTHORITY_PARTY].map((p) => partyIdentityFile(dir, p));
  const files = [...[SHARED_KEY_FILE, shareFileName(CENTER_PARTY), shareFileName(AUTHORITY_PARTY), PARTIES_FILE].map((f) => path.join(dir, f)), ...identities];
  const existing = files.filter((f) => existsSync(f));
  if (existing.length > 0) throw new ZkmeterError('INVALID_ARGUMENT', `cannot write ${existing[0]}: EEXIST (key files are never overwritten)`);
  const { key, shares } = dangerouslyGenerateAllShares([CENTER_PARTY, AUTHORITY_PARTY], 2);
  const written = dangerouslyWriteAllShareFiles(dir, key, shares);
  for (const f of identities) writeSigningKeyFile(f, randomScalar());
  return [...written, ...identities];
}

/** A BIP340 signing key pair: the secret and its 32-byte x-only public key (provisioning and identity keys). */
export interface SigningKey {
  readonly secretKey: bigint;
  readonly publicKey: Uint8Array;
}

/** A provisioning key pair: the BIP340 key that signs meter certificates. */
export type ProvisioningKey = SigningKey;

/**
 * Writes a signing key as `{"secretKey","publicKey"}` (hex) to a new `file`, mode
 * 0600 (writeSecretFile: never over an existing file, since replacing a key would
 * orphan everything it signed). Makes the parent directory if needed.
 */
export function writeSigningKeyFile(file: string, secretKey: bigint): SigningKey {
  const key = { secretKey, publicKey: schnorrPublicKey(secretKey) };
  mkdirSync(path.dirname(file), { recursive: true });
  writeSecretFile(file, JSON.stringify({ secretKey: bytesToHex(scalarToBytes(secretKey)), publicKey: bytesToHex(key.publicKey) }) + '\n');
  return key;
}

/** Reads a signing key file, checking that its public key is its secret's. */
export function readSigningKeyFile(file: string): SigningKey {
  const v = readJsonFile(file) as { secretKey?: unknown; publicKey?: unknown } | null;
  if (typeof v !== 'object' || v === null || typeof v.secretKey !== 'string' || typeof v.publicKey !== 'string') {
    throw new ZkmeterError('INVALID_ARGUMENT', `${file} expected {"secretKey","publicKey"} in hex`);
  }
  const secretKey = decodeScalar(hexToBytes(v.secretKey, `${file} secretKey`, 32), `${file} secretKey`, true);
  const publicKey = schnorrPublicKey(secretKey);
  if (bytesToHex(publicKey) !== v.publicKey) throw new ZkmeterError('INVALID_ARGUMENT', `${file}: "publicKey" is not the secret key's`);
  return { secretKey, publicKey };
}

/** The same function as writeSigningKeyFile (kept for its callers). */
export const writeProvisioningKey: (file: string, secretKey: bigint) => ProvisioningKey = writeSigningKeyFile;
/** The same function as readSigningKeyFile (kept for its callers). */
export const readProvisioningKey: (file: string) => ProvisioningKey = readSigningKeyFile;

/**
 * The provisioning key in `dir` (`provisioning.key.json`); if there is none and
 * `create` is set, makes one first. `created` says whether this call made it.
 */
export function loadProvisioningKey(dir: string, create: boolean): ProvisioningKey & { readonly created: boolean } {
  const file = path.join(dir, PROVISIONING_KEY_FILE);
  if (existsSync(file)) return { ...readSigningKeyFile(file), created: false };
  if (!create) throw new ZkmeterError('INVALID_ARGUMENT', `no ${PROVISIONING_KEY_FILE} in ${dir}`);
  return { ...writeSigningKeyFile(file, randomScalar()), created: true };
}

/** Makes `dir/identity.key.json`, a party's new identity key (refused if one exists). */
export function createIdentityKey(dir: string): SigningKey & { readonly file: string } {
  const file = path.join(dir, IDENTITY_KEY_FILE);
  return { ...writeSigningKeyFile(file, randomScalar()), file };
}

/** The identity key in `dir`; refuses (INVALID_ARGUMENT) when there is none. */
export function loadIdentityKey(dir: string): SigningKey {
  const file = path.join(dir, IDENTITY_KEY_FILE);
  if (!existsSync(file)) throw new ZkmeterError('INVALID_ARGUMENT', `no ${IDENTITY_KEY_FILE} in ${dir}: make this party's identity key first (zkmeter keys identity --out ${dir}) and give its public key to the peer`);
  return readSigningKeyFile(file);
}
