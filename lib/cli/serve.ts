/**
 * `zkmeter serve`: the control-center service (lib/server/app.ts) on a port.
 * Prints one JSON line `{"listening":"http://HOST:PORT"}` on stdout once it
 * accepts connections; everything else goes to stderr. SIGINT and SIGTERM stop
 * it cleanly: queued records are committed and answered first.
 * @module
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { buildServer } from '../server/app.js';
import { loadServiceKeys } from '../server/keys.js';
import { FileLedger } from '../server/ledger.js';
import { openStore, storeKind } from '../server/stores.js';
import { tariffFromJson } from '../protocol/json.js';
import { parseSmallInt, UsageError } from './parse.js';

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
  const adminToken = process.env.ZKMETER_ADMIN_TOKEN || undefined;
  const log = (line: string) => process.stderr.write(`zkmeter serve: ${line}\n`);

  const keys = loadServiceKeys(keysDir, true);
  if (keys.created) log(`made a new 2-of-2 utility key in ${path.resolve(keysDir)} (in production the privacy authority keeps its share elsewhere)`);
  if (adminToken === undefined) log('ZKMETER_ADMIN_TOKEN is not set: admin routes (registration, status, bills, aggregates) answer 401');
  // The authority's memory of what it co-decrypted lives with its share, not in the center's store.
  const ledger = keys.authorityShare !== undefined ? new FileLedger(path.join(keysDir, 'privacy-authority.ledger.jsonl')) : undefined;
  const store = await openStore(db);
  const description = store.describe();
  const server = await buildServer({
    store,
    storeDescription: description,
    key: keys.key,
    centerShare: keys.centerShare,
    authorityShare: keys.authorityShare,
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
