/**
 * zkmeter/server: the two parties as services. `buildServer` makes the control
 * center's fastify app over a store (SQLite by default, PostgreSQL for scale,
 * or any CenterStore), with micro-batched verification in worker threads;
 * `ServiceClient` talks to it; `openStore` picks a store from a path or URL.
 * `buildAuthorityServer` makes the privacy authority's service over its own
 * store (`openAuthorityStore`), which the center reaches with
 * `AuthorityClient` (requests signed by its identity key); the key ceremony
 * between the two runs with `listenForCeremony` / `runCeremonyClient`.
 * `zkmeter serve`, `zkmeter authority serve`, `zkmeter keys dkg` and
 * `zkmeter simulate` are these on the command line.
 * @module
 */
export { buildServer, DEFAULT_LIMITS, type ServerLimits, type ServerOptions, type ZkmeterServer } from './app.js';
export { AUTHORITY_LIMITS, buildAuthorityServer, type AuthorityLimits, type AuthorityServer, type AuthorityServerOptions } from './authority-app.js';
export { AuthorityClient, type AuthorityClientOptions } from './authority-client.js';
export { HttpError } from './http.js';
export {
  LOG_HEAD_FILE,
  LOG_HEAD_TAG,
  fileLogHeadMemory,
  logHeadMessage,
  memoryLogHeadMemory,
  signLogHead,
  signedLogHeadFromJson,
  verifyLogHead,
  type LogHead,
  type LogHeadMemory,
  type SignedLogHead,
} from './log-head.js';
export { RequestVerifier, SIGNATURE_WINDOW_SECONDS, requestDigest, signRequest } from './signed-request.js';
export { AUTHORITY_STORE_FILE, SINGLE_OPERATOR_WARNING, startInProcessAuthority, type InProcessAuthority } from './single-operator.js';
export { ServiceClient, ServiceError, type MeterToCertify, type RegistrationResult, type SubmitResult } from './client.js';
export {
  AUTHORITY_PARTY,
  CENTER_PARTY,
  PROVISIONING_KEY_FILE,
  loadProvisioningKey,
  readProvisioningKey,
  writeProvisioningKey,
  writeSecretFile,
  type ProvisioningKey,
  IDENTITY_KEY_FILE,
  PARTIES_FILE,
  SHARED_KEY_FILE,
  createIdentityKey,
  dangerouslyInitSingleOperatorKeys,
  loadIdentityKey,
  loadPartyKeys,
  dangerouslyLoadSingleOperatorKeys,
  partyIdentityFile,
  readSigningKeyFile,
  writeSigningKeyFile,
  type PartyKeys,
  type SigningKey,
  type SingleOperatorKeys,
  checkFileSafeParty,
  partyKeyFiles,
  shareFileName,
  writePartyKeyFiles,
  type CeremonyRecord,
} from './keys.js';
export {
  CeremonySession,
  listenForCeremony,
  runCeremonyClient,
  type CeremonyContext,
  type Envelope,
  type EnvelopeBody,
  type EnvelopeFields,
  type Round1Payload,
  type Round2Payload,
  type Round3Payload,
  type CeremonyOutcome,
  type CeremonyPartyOptions,
  type CeremonyResult,
  type ConnectOptions,
  type ListenOptions,
  type PartyIdentity,
} from './ceremony.js';
export {
  AUTHORITY_LOCK,
  AUTHORITY_SCHEMA_VERSION,
  MAX_LOG_PAGE,
  PgAuthorityStore,
  SqliteAuthorityStore,
  ZERO_CHAIN,
  canonicalJson,
  ledgerChainStep,
  openAuthorityStore,
  type AuthorityStore,
  type StoredLedgerEntry,
} from './authority-store.js';
export { createMetrics, type ServerMetrics } from './metrics.js';
export { PgStore, type PgStoreOptions } from './pg-store.js';
export { WorkerPool } from './pool.js';
export { SqliteStore } from './sqlite-store.js';
export { openStore, redactUrl, storeKind, type OpenedStore } from './stores.js';
export { MicroBatchVerifier, type VerifierOptions } from './verifier.js';
export { encodeFrames, type PackedVerdict } from './wire.js';
export type { WorkerResult, WorkerTask } from './worker.js';
