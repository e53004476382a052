/**
 * The utility's key files, as `zkmeter keys dkg` writes them and `zkmeter
 * serve` reads them: `shared-key.json` (the public shared key) and one
 * `<party>.share.json` per party (mode 0600). The service needs the control
 * center's share to bill; the privacy authority's share, if present in the same
 * directory, runs the authority in-process (a single-operator deployment; in
 * production it belongs to a separate party and machine).
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ZkmeterError } from '../errors.js';
import { distributedKeyGeneration, type KeyShare, type SharedKey } from '../crypto/threshold.js';
import { keyShareFromJson, keyShareToJson, sharedKeyFromJson, sharedKeyToJson } from '../protocol/json.js';

export const CENTER_PARTY = 'control-center';
export const AUTHORITY_PARTY = 'privacy-authority';

/** Writes the key files; returns their paths (shared key first). */
export function writeKeyFiles(dir: string, key: SharedKey, shares: ReadonlyMap<string, KeyShare>): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, 'shared-key.json')];
  writeFileSync(files[0]!, JSON.stringify(sharedKeyToJson(key), null, 2) + '\n');
  for (const s of shares.values()) {
    const f = path.join(dir, `${s.party}.share.json`);
    writeFileSync(f, JSON.stringify(keyShareToJson(s)) + '\n', { mode: 0o600 });
    files.push(f);
  }
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
