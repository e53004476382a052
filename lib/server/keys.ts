/**
 * The utility's key files, as `zkmeter keys dkg` writes them and `zkmeter
 * serve` reads them: `shared-key.json` (the public shared key) and one
 * `<party>.share.json` per party (mode 0600). The service needs the control
 * center's share to bill; the privacy authority's share, if present in the same
 * directory, runs the authority in-process (a single-operator deployment; in
 * production it belongs to a separate party and machine). Beside them, a
 * single-operator deployment may keep `provisioning.key.json` (mode 0600): the
 * provisioning key that certifies meters (protocol/certificate.ts), which in
 * production the installer or manufacturer holds.
 * @module
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ZkmeterError } from '../errors.js';
import { scalarToBytes } from '../backend/bytes.js';
import { bytesToHex, decodeScalar, hexToBytes } from '../crypto/codec.js';
import { randomScalar } from '../crypto/random.js';
import { schnorrPublicKey } from '../crypto/schnorr.js';
import { distributedKeyGeneration, type KeyShare, type SharedKey } from '../crypto/threshold.js';
import { keyShareFromJson, keyShareToJson, sharedKeyFromJson, sharedKeyToJson } from '../protocol/json.js';

export const CENTER_PARTY = 'control-center';
export const AUTHORITY_PARTY = 'privacy-authority';

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

/** Party names usable in file names: no path separators, no leading dot. */
const FILE_SAFE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/**
 * Writes the key files; returns their paths (shared key first). Existing key files are
 * never overwritten, unless `replace` (`keys dkg --force`).
 */
export function writeKeyFiles(dir: string, key: SharedKey, shares: ReadonlyMap<string, KeyShare>, o: { replace?: boolean } = {}): string[] {
  for (const s of shares.values()) {
    if (!FILE_SAFE.test(s.party)) throw new ZkmeterError('INVALID_ARGUMENT', `party name ${JSON.stringify(s.party)} cannot be a file name (letters, digits, '.', '_', '-'; no leading dot)`);
  }
  mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, 'shared-key.json'), ...[...shares.values()].map((s) => path.join(dir, `${s.party}.share.json`))];
  if (!o.replace) {
    const existing = files.filter((f) => existsSync(f));
    if (existing.length > 0) throw new ZkmeterError('INVALID_ARGUMENT', `cannot write ${existing[0]}: EEXIST (key files are never overwritten; --force replaces them)`);
  }
  writeSecretFile(files[0]!, JSON.stringify(sharedKeyToJson(key), null, 2) + '\n', { mode: 0o644, ...o });
  [...shares.values()].forEach((s, i) => writeSecretFile(files[i + 1]!, JSON.stringify(keyShareToJson(s)) + '\n', o));
  return files;
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ZkmeterError('INVALID_ARGUMENT', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export interface ServiceKeys {
  readonly key: SharedKey;
  readonly centerShare: KeyShare | undefined;
  readonly authorityShare: KeyShare | undefined;
  /** True when this call generated the keys (first start). */
  readonly created: boolean;
}

/**
 * Reads the key directory; if it holds no shared key and `create` is set, runs a
 * 2-of-2 key generation for the control center and the privacy authority first.
 */
export function loadServiceKeys(dir: string, create: boolean): ServiceKeys {
  const sharedFile = path.join(dir, 'shared-key.json');
  let created = false;
  if (!existsSync(sharedFile)) {
    if (!create) throw new ZkmeterError('INVALID_ARGUMENT', `no shared-key.json in ${dir} (make one with: zkmeter keys dkg --out ${dir})`);
    const { key, shares } = distributedKeyGeneration([CENTER_PARTY, AUTHORITY_PARTY], 2);
    writeKeyFiles(dir, key, shares);
    created = true;
  }
  const key = sharedKeyFromJson(readJsonFile(sharedFile));
  const share = (party: string): KeyShare | undefined => {
    const f = path.join(dir, `${party}.share.json`);
    if (!existsSync(f)) return undefined;
    const s = keyShareFromJson(readJsonFile(f));
    const expected = key.parties.get(party);
    if (s.party !== party || expected === undefined || expected.id !== s.id) {
      throw new ZkmeterError('INVALID_ARGUMENT', `${f} is not ${party}'s share of the key in ${sharedFile}`);
    }
    return s;
  };
  return { key, centerShare: share(CENTER_PARTY), authorityShare: share(AUTHORITY_PARTY), created };
}

/** The provisioning key's file name in a key directory. */
export const PROVISIONING_KEY_FILE = 'provisioning.key.json';

/** A provisioning key pair: the BIP340 secret that signs meter certificates, and its 32-byte x-only public key. */
export interface ProvisioningKey {
  readonly secretKey: bigint;
  readonly publicKey: Uint8Array;
}

/** Writes `{"secretKey","publicKey"}` (hex) to `file`, mode 0600, refusing to overwrite one. */
export function writeProvisioningKey(file: string, secretKey: bigint): ProvisioningKey {
  const key = { secretKey, publicKey: schnorrPublicKey(secretKey) };
  mkdirSync(path.dirname(file), { recursive: true });
  writeSecretFile(file, JSON.stringify({ secretKey: bytesToHex(scalarToBytes(secretKey)), publicKey: bytesToHex(key.publicKey) }) + '\n');
  return key;
}

/** Reads a provisioning key file, checking that its public key is its secret's. */
export function readProvisioningKey(file: string): ProvisioningKey {
  const v = readJsonFile(file) as { secretKey?: unknown; publicKey?: unknown } | null;
  if (typeof v !== 'object' || v === null || typeof v.secretKey !== 'string' || typeof v.publicKey !== 'string') {
    throw new ZkmeterError('INVALID_ARGUMENT', `${file} expected {"secretKey","publicKey"} in hex`);
  }
  const secretKey = decodeScalar(hexToBytes(v.secretKey, `${file} secretKey`, 32), `${file} secretKey`, true);
  const publicKey = schnorrPublicKey(secretKey);
  if (bytesToHex(publicKey) !== v.publicKey) throw new ZkmeterError('INVALID_ARGUMENT', `${file}: "publicKey" is not the secret key's`);
  return { secretKey, publicKey };
}

/**
 * The provisioning key in `dir` (`provisioning.key.json`); if there is none and
 * `create` is set, makes one first. `created` says whether this call made it.
 */
export function loadProvisioningKey(dir: string, create: boolean): ProvisioningKey & { readonly created: boolean } {
  const file = path.join(dir, PROVISIONING_KEY_FILE);
  if (existsSync(file)) return { ...readProvisioningKey(file), created: false };
  if (!create) throw new ZkmeterError('INVALID_ARGUMENT', `no ${PROVISIONING_KEY_FILE} in ${dir}`);
  return { ...writeProvisioningKey(file, randomScalar()), created: true };
}
