/**
 * `zkmeter authority serve`: the privacy authority's service
 * (server/authority-app.ts) on its own host. It reads its key directory from
 * the key ceremony (`zkmeter keys dkg --party privacy-authority …`): the shared
 * key, its own share and identity key, and the center's identity key from
 * parties.json (or `--center-key`). It never makes keys: a missing directory
 * refuses to start; nor does it start on an empty store (its ledger) without `--init`. Prints one JSON line `{"listening":URL}` on stdout, with
 * the address actually bound, once it accepts connections; everything else
 * goes to stderr. SIGINT and SIGTERM stop it after the decision in progress.
 * @module
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openAuthorityStore } from '../server/authority-store.js';
import { storeKind } from '../server/stores.js';
import { buildAuthorityServer } from '../server/authority-app.js';
import { isLoopback, listeningUrl } from '../server/http.js';
import { AUTHORITY_PARTY, CENTER_PARTY, loadPartyKeys } from '../server/keys.js';
import { DEFAULT_TARIFF } from '../protocol/tariff.js';
import { parseSmallInt, parseXOnlyKeys, readTariffFile, tlsFiles, UsageError } from './parse.js';

type Options = Record<string, string | boolean | undefined>;

export async function authorityServeCommand(o: Options): Promise<void> {
  const log = (line: string) => process.stderr.write(`zkmeter authority: ${line}\n`);
  const port = parseSmallInt(typeof o.port === 'string' ? o.port : '8090', '--port', 0, 65_535);
  const host = typeof o.host === 'string' ? o.host : '127.0.0.1';
  if (typeof o.keys !== 'string') throw new UsageError('--keys <dir> is required: the key directory the ceremony wrote (zkmeter keys dkg --party privacy-authority …)');
  const keysDir = o.keys;
  const db = typeof o.db === 'string' ? o.db : './authority.db';
  if (typeof o.provisioningKeys !== 'string') throw new UsageError('--provisioning-keys <hex,…> is required: the provisioning keys whose meter certificates the authority trusts');
  const provisioningKeys = parseXOnlyKeys(o.provisioningKeys, '--provisioning-keys');
  const tariffs = typeof o.tariff === 'string' ? o.tariff.split(',').map((f) => readTariffFile(f.trim(), '--tariff')) : [DEFAULT_TARIFF];
  const minIntervals = typeof o.minIntervals === 'string' ? parseSmallInt(o.minIntervals, '--min-intervals', 3, 1_000_000) : undefined;
  const minPerPrice = typeof o.minIntervalsPerPrice === 'string' ? parseSmallInt(o.minIntervalsPerPrice, '--min-intervals-per-price', 1, 1_000_000) : undefined;
  const minMeters = typeof o.minMeters === 'string' ? parseSmallInt(o.minMeters, '--min-meters', 3, 1_000_000) : undefined;
  const bodyBytes = typeof o.bodyLimit === 'string' ? parseSmallInt(o.bodyLimit, '--body-limit', 1024, 2 ** 31 - 1) : undefined;
  const tls = tlsFiles(o);

  const keys = loadPartyKeys(keysDir, AUTHORITY_PARTY);
  if (keys.identity === undefined) throw new UsageError(`${path.join(keysDir, 'identity.key.json')} is missing: the authority signs its tariffs with its identity key (zkmeter keys identity --out ${keysDir})`);
  const centerKeys = typeof o.centerKey === 'string' ? parseXOnlyKeys(o.centerKey, '--center-key') : keys.peers.has(CENTER_PARTY) ? [keys.peers.get(CENTER_PARTY)!] : undefined;
  if (centerKeys === undefined) throw new UsageError(`no identity key of the control center: neither --center-key nor ${CENTER_PARTY} in ${path.join(keysDir, 'parties.json')}`);

  if (o.init !== true && storeKind(db) === 'sqlite' && !existsSync(db)) {
    throw new UsageError(`the authority's store ${db} does not exist: if this is its first start, add --init; otherwise give the store that holds its ledger (an authority that forgot its releases would weaken its policy)`);
  }
  const store = await openAuthorityStore(db);
  // An empty store is a first start, said so with --init: a mistyped --db, another working
  // directory or a lost database must not bring up an authority that forgot its releases.
  if (o.init !== true && (await store.head()).seq === 0) {
    await store.close();
    throw new UsageError(`the authority's store ${store.describe()} is empty: if this is its first start, add --init; otherwise give the store that holds its ledger (an authority that forgot its releases would weaken its policy)`);
  }
  let server;
  try {
    server = await buildAuthorityServer({
      store,
      key: keys.key,
      share: keys.share,
      identity: keys.identity,
      centerKeys,
      provisioningKeys,
      tariffs,
      policy: { ...(minIntervals !== undefined ? { minIntervals } : {}), ...(minPerPrice !== undefined ? { minIntervalsPerPrice: minPerPrice } : {}), ...(minMeters !== undefined ? { minMeters } : {}) },
      ...(bodyBytes !== undefined ? { limits: { bodyBytes } } : {}),
      ...(tls !== undefined ? { https: tls } : {}),
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  try {
    await server.app.listen({ port, host });
  } catch (e) {
    await server.close();
    throw new UsageError(`cannot listen on ${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const url = listeningUrl(server.app, tls !== undefined);
  const bound = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (tls === undefined && !isLoopback(bound)) log(`WARNING: listening on ${bound} over plain HTTP: requests are signed, but records, shares and the ledger travel unencrypted (use --tls-cert and --tls-key)`);
  log(`store ${store.describe()}, keys ${path.resolve(keysDir)}, party ${keys.share.party}, accepting requests signed by ${centerKeys.length} center key(s)`);
  process.stdout.write(JSON.stringify({ listening: url, party: AUTHORITY_PARTY }) + '\n');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: finishing the decision in progress, then stopping`);
      server.close().then(resolve, (e: unknown) => {
        log(`error while stopping: ${(e as Error).message}`);
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
