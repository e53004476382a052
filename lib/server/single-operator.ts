/**
 * Single-operator mode: the privacy authority's own service (authority-app.ts)
 * started inside the center's process, on a loopback port of its own, and
 * reached through the same signed client (authority-client.ts) as a remote
 * one, with its store (`privacy-authority.db`) beside its share. The policy,
 * the ledger, the idempotent releases and the signed tariffs are then exactly
 * those of a two-host deployment; what is given up is the separation itself:
 * this one process, and whoever can read the key directory, holds both shares
 * and can decrypt any single reading. For trials on one machine
 * (`zkmeter serve --single-operator`, `zkmeter center bill --single-operator`).
 * @module
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ZkmeterError } from '../errors.js';
import type { AuthorityPolicy } from '../protocol/authority.js';
import type { Tariff } from '../protocol/tariff.js';
import { buildAuthorityServer } from './authority-app.js';
import { AuthorityClient } from './authority-client.js';
import { openAuthorityStore } from './authority-store.js';
import { listeningUrl } from './http.js';
import type { SingleOperatorKeys } from './keys.js';

/** The in-process authority's store, beside its share. */
export const AUTHORITY_STORE_FILE = 'privacy-authority.db';
/** Where an earlier version kept that ledger: refused rather than forgotten. */
const OLD_LEDGER_FILE = 'privacy-authority.ledger.jsonl';

/** What the listening line, the log and the CLI say about single-operator mode. */
export const SINGLE_OPERATOR_WARNING =
  "single-operator mode: this one process holds both key shares (the control center's and the privacy authority's), so its operator can decrypt any single reading; for trials only, in production run the authority as its own service (zkmeter authority serve) and start the center with --authority URL";

export interface InProcessAuthority {
  readonly client: AuthorityClient;
  close(): Promise<void>;
}

/** Starts the authority's service for the single-operator key directory `dir`. */
export async function startInProcessAuthority(
  dir: string,
  keys: SingleOperatorKeys,
  o: { provisioningKeys: readonly Uint8Array[]; tariffs: readonly Tariff[]; policy?: Partial<AuthorityPolicy> },
): Promise<InProcessAuthority> {
  if (existsSync(path.join(dir, OLD_LEDGER_FILE))) {
    throw new ZkmeterError(
      'INVALID_ARGUMENT',
      `${path.join(dir, OLD_LEDGER_FILE)} is the privacy authority's ledger of an earlier version, which this one does not read (forgetting its releases would weaken the policy): make a new single-operator directory`,
    );
  }
  const store = await openAuthorityStore(path.join(dir, AUTHORITY_STORE_FILE));
  let server;
  try {
    server = await buildAuthorityServer({
      store,
      key: keys.key,
      share: keys.authorityShare,
      identity: keys.authorityIdentity,
      centerKeys: [keys.centerIdentity.publicKey],
      provisioningKeys: o.provisioningKeys,
      tariffs: o.tariffs,
      ...(o.policy !== undefined ? { policy: o.policy } : {}),
    });
  } catch (e) {
    await store.close(); // its lock with it, so that the real error is what a retry sees
    throw e;
  }
  try {
    await server.app.listen({ host: '127.0.0.1', port: 0 });
  } catch (e) {
    await server.close();
    throw e;
  }
  const client = new AuthorityClient({ url: listeningUrl(server.app, false), key: keys.key, identity: keys.centerIdentity, authorityKey: keys.authorityIdentity.publicKey });
  return {
    client,
    close: async () => {
      client.close();
      await server.close();
    },
  };
}
