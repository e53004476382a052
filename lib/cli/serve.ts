/**
 * `zkmeter serve`: the control-center service (lib/server/app.ts) on a port.
 * Prints one JSON line `{"listening":"http(s)://HOST:PORT"}` on stdout once it
 * accepts connections (the address actually bound); everything else goes to
 * stderr. SIGINT and SIGTERM stop it cleanly: queued records are committed and
 * answered first.
 *
 * How the privacy authority, the other holder of the utility key, is reached
 * must be said, one of:
 *  - `--authority URL --keys DIR`: its own service (`zkmeter authority serve`).
 *    DIR holds only the center's share and its identity key (which signs every
 *    request to the authority), as the key ceremony wrote them.
 *  - `--single-operator [--init] --keys DIR`: the authority's service runs in
 *    this process (on a loopback port of its own, reached through the same
 *    signed client, with its store `privacy-authority.db` in DIR) from the
 *    second share in DIR, so this process (and its operator) can decrypt any
 *    reading: for trials on one machine, and said so in the listening line and
 *    the log. `--init` makes the keys (both shares, both identity keys, a
 *    provisioning key) in DIR first if it holds none; it never replaces any.
 * Keys are never made otherwise: a missing key directory, or key file, refuses
 * to start (and the default DIR, `<db>.keys`, is only ever read).
 *
 * Meters are registered from certificates by the provisioning keys it trusts:
 * `--provisioning-keys hex,hex`, or (single-operator only) the key pair
 * `provisioning.key.json` in the key directory, made by `--init` (for
 * `zkmeter simulate`; in production the installer holds the provisioning key).
 *
 * `--tls-cert FILE --tls-key FILE` serve HTTPS. Over plain HTTP beyond
 * loopback the admin token travels in clear, and the log says so.
 * @module
 */
import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { buildServer, type ServerOptions, type ZkmeterServer } from '../server/app.js';
import { AuthorityClient } from '../server/authority-client.js';
import { isLoopback, listeningUrl } from '../server/http.js';
import { SINGLE_OPERATOR_WARNING, startInProcessAuthority, type InProcessAuthority } from '../server/single-operator.js';
import {
  AUTHORITY_PARTY,
  CENTER_PARTY,
  IDENTITY_KEY_FILE,
  PARTIES_FILE,
  PROVISIONING_KEY_FILE,
  SHARED_KEY_FILE,
  dangerouslyInitSingleOperatorKeys,
  loadProvisioningKey,
  dangerouslyLoadSingleOperatorKeys,
  shareFileName,
} from '../server/keys.js';
import { openStore, redactUrl, storeKind } from '../server/stores.js';
import type { Tariff } from '../protocol/tariff.js';
import { DEFAULT_TARIFF } from '../protocol/tariff.js';
import { centerAuthorityClient } from './keys.js';
import { parseSmallInt, parseXOnlyKeys, readTariffFile, readTextFile, tlsFiles, UsageError } from './parse.js';

type Options = Record<string, string | boolean | undefined>;

/** The one line `serve` without a mode answers. */
const NO_MODE =
  'say how the privacy authority is reached: start it as its own service (zkmeter authority serve --keys AUTHORITY_DIR …) and run zkmeter serve --authority URL --keys CENTER_DIR, or try everything on one machine with zkmeter serve --single-operator --init --keys DIR';



export async function serveCommand(o: Options): Promise<void> {
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const port = parseSmallInt(str('port') ?? '8080', '--port', 0, 65_535);
  const host = str('host') ?? '127.0.0.1';
  const db = str('db') ?? './zkmeter.db';
  const explicitKeys = str('keys');
  const keysDir = explicitKeys ?? (storeKind(db) === 'postgres' ? './zkmeter.keys' : `${db.replace(/\.db$/, '')}.keys`);
  const workers = str('workers') !== undefined ? parseSmallInt(str('workers'), '--workers', 1, 256) : undefined;
  const bodyBytes = str('bodyLimit') !== undefined ? parseSmallInt(str('bodyLimit'), '--body-limit', 1024, 1 << 30) : undefined;
  const recordsPerRequest = str('maxRecords') !== undefined ? parseSmallInt(str('maxRecords'), '--max-records', 1, 100_000) : undefined;
  const minIntervals = str('minIntervals') !== undefined ? parseSmallInt(str('minIntervals'), '--min-intervals', 3, 1_000_000) : undefined;
  const tariff: Tariff = str('tariff') !== undefined ? readTariffFile(str('tariff')!, '--tariff') : DEFAULT_TARIFF;
  const trusted = str('provisioningKeys') !== undefined ? parseXOnlyKeys(str('provisioningKeys'), '--provisioning-keys') : undefined;
  const adminToken = process.env.ZKMETER_ADMIN_TOKEN || undefined;

  // The mode first: nothing is read, made or opened before it is known.
  const authorityUrl = str('authority');
  const single = o.singleOperator === true;
  if (authorityUrl !== undefined && single) throw new UsageError('give --authority URL or --single-operator, not both');
  if (authorityUrl === undefined && !single) throw new UsageError(NO_MODE);
  if (o.init === true && !single) throw new UsageError('--init makes single-operator keys: it goes with --single-operator (with --authority, the key ceremony makes the keys: zkmeter keys dkg …)');
  if (str('authorityCa') !== undefined && authorityUrl === undefined) throw new UsageError('--authority-ca goes with --authority URL');
  if (minIntervals !== undefined && !single) throw new UsageError("--min-intervals is the privacy authority's policy: set it where the authority runs (zkmeter authority serve)");
  if (o.init === true && explicitKeys === undefined) throw new UsageError('--init writes keys: name their directory with --keys DIR (the default, <db>.keys, is only ever read)');
  const tls = tlsFiles(o);
  const ca = str('authorityCa') !== undefined ? readTextFile(str('authorityCa')!, '--authority-ca') : undefined;

  const log = (line: string) => process.stderr.write(`zkmeter serve: ${line}\n`);
  const resolvedKeys = path.resolve(keysDir);

  // Keys: read, and made only by --init. A missing directory refuses before anything is opened or written.
  let made: string[] = [];
  if (single && o.init === true && !holdsKeys(keysDir)) {
    const parent = path.dirname(resolvedKeys);
    if (!isDirectory(parent)) throw new UsageError(`--keys ${keysDir}: its parent directory ${parent} does not exist (--init makes the key directory, not its parents)`);
    made = dangerouslyInitSingleOperatorKeys(keysDir);
  } else if (!isDirectory(keysDir)) {
    throw new UsageError(
      single
        ? `key directory ${keysDir} does not exist: give the directory that holds the single-operator keys, or add --init to make them there`
        : `key directory ${keysDir} does not exist: give the directory where the key ceremony (zkmeter keys dkg --party ${CENTER_PARTY} …) wrote the center's keys`,
    );
  }

  let authority: ServerOptions['authority'];
  let authorityMode: ServerOptions['authorityMode'];
  let key: ServerOptions['key'];
  let centerShare: ServerOptions['centerShare'];
  let provisioningKeys: Uint8Array[];
  let inProcess: InProcessAuthority | undefined;
  let client: AuthorityClient | undefined;
  const notes: string[] = [];
  if (single) {
    const keys = dangerouslyLoadSingleOperatorKeys(keysDir);
    ({ key, centerShare } = keys);
    if (made.length > 0) notes.push(`made single-operator keys (both shares) in ${resolvedKeys}`);
    provisioningKeys = trusted ?? [];
    if (trusted === undefined) {
      const file = path.join(keysDir, PROVISIONING_KEY_FILE);
      if (!existsSync(file) && o.init !== true) {
        throw new UsageError(`no ${PROVISIONING_KEY_FILE} in ${keysDir}: give the provisioning keys to trust with --provisioning-keys HEX[,HEX…], or add --init to make one there`);
      }
      const p = loadProvisioningKey(keysDir, o.init === true);
      provisioningKeys = [p.publicKey];
      notes.push(
        `${p.created ? 'made' : 'using'} the provisioning key ${path.resolve(keysDir, PROVISIONING_KEY_FILE)} and trusting it to certify meters: ` +
          'in production the installer holds that key, and the service is given only its public key (--provisioning-keys)',
      );
    }
    // The authority's own service, in this process: its registry and its memory of what it
    // co-decrypted live with its share, in its own store, never in the center's.
    inProcess = await startInProcessAuthority(keysDir, keys, { provisioningKeys, tariffs: [tariff], ...(minIntervals !== undefined ? { policy: { minIntervals } } : {}) });
    client = inProcess.client;
    authority = client;
    authorityMode = { mode: 'single-operator' };
  } else {
    ({ key, centerShare, client } = centerAuthorityClient(keysDir, authorityUrl!, ca));
    authority = client;
    authorityMode = { mode: 'remote', url: authorityUrl! };
    provisioningKeys = trusted ?? [];
    if (trusted === undefined) notes.push('no --provisioning-keys: registration answers 503 until the service is given the public keys of the installers that certify meters');
  }

  const stopExtras = async () => {
    if (inProcess !== undefined) await inProcess.close();
    else client?.close();
  };
  let server: ZkmeterServer;
  let description: string;
  try {
    const store = await openStore(db);
    description = store.describe();
    server = await buildServer({
      store,
      storeDescription: description,
      key,
      centerShare,
      authority,
      authorityMode,
      provisioningKeys,
      tariff,
      ...(tls !== undefined ? { tls } : {}),
      ...(adminToken !== undefined ? { adminToken } : {}),
      ...(workers !== undefined ? { workers } : {}),
      limits: { ...(bodyBytes !== undefined ? { bodyBytes } : {}), ...(recordsPerRequest !== undefined ? { recordsPerRequest } : {}) },
    });
  } catch (e) {
    await stopExtras();
    throw e;
  }
  try {
    await server.app.listen({ port, host });
  } catch (e) {
    await server.close();
    await stopExtras();
    throw new UsageError(`cannot listen on ${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // What was bound, not what was asked: `--host 0.0.0.0` is not 127.0.0.1, and an IPv6 address goes in brackets.
  const listening = listeningUrl(server.app, tls !== undefined);
  const boundAddress = new URL(listening).hostname.replace(/^\[|\]$/g, '');

  for (const n of notes) log(n);
  if (single) log(`WARNING: ${SINGLE_OPERATOR_WARNING}`);
  if (adminToken === undefined) log('ZKMETER_ADMIN_TOKEN is not set: admin routes (registration, status, bills, grids) answer 401');
  if (tls === undefined && !isLoopback(boundAddress)) {
    log(`WARNING: listening on ${boundAddress} beyond loopback over plain HTTP: the admin token travels in clear; serve HTTPS (--tls-cert FILE --tls-key FILE) or keep to loopback behind a TLS proxy`);
  }
  const authorityNote = single ? 'in this process (single operator)' : `at ${redactUrl(authorityUrl!)}`;
  log(`store ${description}, keys ${resolvedKeys}, privacy authority ${authorityNote}, ${tls !== undefined ? 'HTTPS' : 'plain HTTP'}`);
  process.stdout.write(JSON.stringify(single ? { listening, singleOperator: true, warning: SINGLE_OPERATOR_WARNING } : { listening }) + '\n');
  if (client !== undefined && !single) {
    // Not a condition of starting: ingest never depends on the authority, bills and grids answer 503 until it answers.
    client.checkKey().then(
      () => log(`the privacy authority at ${redactUrl(authorityUrl!)} answers and holds a share of this key`),
      (e: unknown) => log(`WARNING: cannot check the privacy authority now (${(e as Error).message}): bills, grids and registration answer 503 until it answers`),
    );
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: finishing queued records, then stopping`);
      server.close().then(
        () => stopExtras().then(resolve, resolve),
        (e: unknown) => {
          log(`error while stopping: ${(e as Error).message}`);
          resolve();
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** Whether `dir` holds any key file of a single-operator or ceremony key directory (then --init makes nothing). */
function holdsKeys(dir: string): boolean {
  return [SHARED_KEY_FILE, shareFileName(CENTER_PARTY), shareFileName(AUTHORITY_PARTY), PARTIES_FILE].some((f) => existsSync(path.join(dir, f)));
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
