/**
 * `zkmeter serve`: the control-center service (lib/server/app.ts) on a port.
 * Prints one JSON line `{"listening":"http://HOST:PORT"}` on stdout once it
 * accepts connections; everything else goes to stderr. SIGINT and SIGTERM stop
 * it cleanly: queued records are committed and answered first.
 *
 * Meters are registered from certificates by the provisioning keys it trusts:
 * `--provisioning-keys hex,hex`, or else the key pair `provisioning.key.json` in
 * the key directory, made on first start (a single-operator setup, for
 * `zkmeter simulate`; in production the installer holds the provisioning key).
 * @module
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { buildServer } from '../server/app.js';
import { loadProvisioningKey, loadServiceKeys, PROVISIONING_KEY_FILE } from '../server/keys.js';
import { FileLedger } from '../server/ledger.js';
import { openStore, storeKind } from '../server/stores.js';
import { tariffFromJson } from '../protocol/json.js';
import { validateMeterKey } from '../protocol/verify.js';
import { ZkmeterError } from '../errors.js';
import { parseHex, parseSmallInt, UsageError } from './parse.js';

type Options = Record<string, string | boolean | undefined>;

export async function serveCommand(o: Options): Promise<void> {
  const port = parseSmallInt(typeof o.port === 'string' ? o.port : '8080', '--port', 0, 65_535);
  const host = typeof o.host === 'string' ? o.host : '127.0.0.1';
  const db = typeof o.db === 'string' ? o.db : './zkmeter.db';
  const kind = storeKind(db);
  const keysDir = typeof o.keys === 'string' ? o.keys : kind === 'postgres' ? './zkmeter.keys' : `${db.replace(/\.db$/, '')}.keys`;
  const workers = typeof o.workers === 'string' ? parseSmallInt(o.workers, '--workers', 1, 256) : undefined;
  const bodyBytes = typeof o.bodyLimit === 'string' ? parseSmallInt(o.bodyLimit, '--body-limit', 1024, 1 << 30) : undefined;
  const recordsPerRequest = typeof o.maxRecords === 'string' ? parseSmallInt(o.maxRecords, '--max-records', 1, 100_000) : undefined;
  const minIntervals = typeof o.minIntervals === 'string' ? parseSmallInt(o.minIntervals, '--min-intervals', 1, 1_000_000) : undefined;
  let tariff;
  if (typeof o.tariff === 'string') {
    let text: string;
    try {
      text = readFileSync(o.tariff, 'utf8');
    } catch (e) {
      throw new UsageError(`--tariff: cannot read ${o.tariff}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      tariff = tariffFromJson(JSON.parse(text));
    } catch (e) {
      throw new UsageError(`--tariff: ${o.tariff}: ${(e as Error).message}`);
    }
  }
  const trusted = typeof o.provisioningKeys === 'string' ? parseProvisioningKeys(o.provisioningKeys) : undefined;
  const adminToken = process.env.ZKMETER_ADMIN_TOKEN || undefined;
  const log = (line: string) => process.stderr.write(`zkmeter serve: ${line}\n`);

  const keys = loadServiceKeys(keysDir, true);
  if (keys.created) log(`made a new 2-of-2 utility key in ${path.resolve(keysDir)} (in production the privacy authority keeps its share elsewhere)`);
  let provisioningKeys = trusted;
  if (provisioningKeys === undefined) {
    const p = loadProvisioningKey(keysDir, true);
    provisioningKeys = [p.publicKey];
    log(
      `${p.created ? 'made' : 'using'} the provisioning key ${path.resolve(keysDir, PROVISIONING_KEY_FILE)} and trusting it to certify meters: ` +
        'in production the installer holds that key, and the service is given only its public key (--provisioning-keys)',
    );
  }
  if (adminToken === undefined) log('ZKMETER_ADMIN_TOKEN is not set: admin routes (registration, status, bills, grids) answer 401');
  // The authority's registry and its memory of what it co-decrypted live with its share, not in the center's store.
  const ledger = keys.authorityShare !== undefined ? new FileLedger(path.join(keysDir, 'privacy-authority.ledger.jsonl')) : undefined;
  const store = await openStore(db);
  const description = store.describe();
  const server = await buildServer({
    store,
    storeDescription: description,
    key: keys.key,
    centerShare: keys.centerShare,
    authorityShare: keys.authorityShare,
    provisioningKeys,
    ...(ledger !== undefined ? { authorityLedger: ledger } : {}),
    ...(minIntervals !== undefined ? { authorityPolicy: { minIntervals } } : {}),
    ...(tariff !== undefined ? { tariff } : {}),
    ...(adminToken !== undefined ? { adminToken } : {}),
    ...(workers !== undefined ? { workers } : {}),
    limits: { ...(bodyBytes !== undefined ? { bodyBytes } : {}), ...(recordsPerRequest !== undefined ? { recordsPerRequest } : {}) },
  });
  let address: string;
  try {
    address = await server.app.listen({ port, host });
  } catch (e) {
    await server.close();
    throw new UsageError(`cannot listen on ${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  log(`store ${description}, keys ${path.resolve(keysDir)}, billing ${keys.centerShare && keys.authorityShare ? 'on' : 'off'}`);
  process.stdout.write(JSON.stringify({ listening: address }) + '\n');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: finishing queued records, then stopping`);
      server.close().then(() => {
        ledger?.close();
        resolve();
      }, (e: unknown) => {
        log(`error while stopping: ${(e as Error).message}`);
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** `--provisioning-keys`: comma-separated 32-byte x-only keys, hex. */
function parseProvisioningKeys(text: string): Uint8Array[] {
  const keys = text.split(',').map((h, i) => {
    const key = parseHex(h.trim(), `--provisioning-keys (key ${i + 1})`, 32);
    try {
      return validateMeterKey('provisioning key', key);
    } catch (e) {
      if (e instanceof ZkmeterError) throw new UsageError(`--provisioning-keys: key ${i + 1} is not an x-only secp256k1 key: ${e.message}`);
      throw e;
    }
  });
  if (keys.length === 0) throw new UsageError('--provisioning-keys expected at least one key');
  return keys;
}
