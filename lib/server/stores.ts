/**
 * Which store a server uses, from one string: a `postgres://` or
 * `postgresql://` URL opens PostgreSQL (lib/server/pg-store.ts), anything else
 * is the path of a SQLite file (lib/server/sqlite-store.ts; `:memory:` for a
 * throwaway one).
 * @module
 */
import { ZkmeterError } from '../errors.js';
import type { CenterStore } from '../protocol/store.js';
import { PgStore, redactUrl } from './pg-store.js';
import { SqliteStore } from './sqlite-store.js';

export { redactUrl };

/** An open store that can say, for logs and without secrets, what it is. */
export type OpenedStore = CenterStore & { describe(): string };

/** Which kind of store `spec` names. */
export function storeKind(spec: string): 'postgres' | 'sqlite' {
  return /^postgres(ql)?:\/\//i.test(spec) ? 'postgres' : 'sqlite';
}

/** Opens (creating and migrating if needed) the store `spec` names; ZkmeterError 'INVALID_ARGUMENT' if it cannot. */
export async function openStore(spec: string): Promise<OpenedStore> {
  if (typeof spec !== 'string' || spec === '') throw new ZkmeterError('INVALID_ARGUMENT', 'store: expected a postgres:// URL or a SQLite file path');
  if (storeKind(spec) === 'postgres') return PgStore.open(spec);
  const store = new SqliteStore(spec);
  return Object.assign(store, { describe: () => `SQLite ${spec}` });
}
