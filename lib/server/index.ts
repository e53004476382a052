/**
 * zkmeter/server: the control center as a service. `buildServer` makes the
 * fastify app over a store (SQLite by default, PostgreSQL for scale, or any
 * CenterStore), with micro-batched verification in worker threads;
 * `ServiceClient` talks to it; `openStore` picks a store from a path or URL.
 * `zkmeter serve` and `zkmeter simulate` are these on the command line.
 * @module
 */
export { buildServer, DEFAULT_LIMITS, HttpError, type ServerLimits, type ServerOptions, type ZkmeterServer } from './app.js';
export { ServiceClient, ServiceError, type MeterToCertify, type RegistrationResult, type SubmitResult } from './client.js';
export {
  AUTHORITY_PARTY,
  CENTER_PARTY,
  PROVISIONING_KEY_FILE,
  loadProvisioningKey,
  loadServiceKeys,
  readProvisioningKey,
  writeKeyFiles,
  writeProvisioningKey,
  writeSecretFile,
  type ProvisioningKey,
  type ServiceKeys,
} from './keys.js';
export { FileLedger } from './ledger.js';
export { createMetrics, type ServerMetrics } from './metrics.js';
export { PgStore, type PgStoreOptions } from './pg-store.js';
export { WorkerPool } from './pool.js';
export { SqliteStore } from './sqlite-store.js';
export { openStore, redactUrl, storeKind, type OpenedStore } from './stores.js';
export { MicroBatchVerifier, type VerifierOptions } from './verifier.js';
export { encodeFrames, type PackedVerdict } from './wire.js';
export type { WorkerResult, WorkerTask } from './worker.js';
