/**
 * zkmeter: privacy-preserving smart-meter billing on secp256k1.
 *
 * This entry point re-exports the group backend (native or pure TypeScript),
 * the generators and the error type. Higher layers (ElGamal, proofs, protocol)
 * arrive in later modules.
 * @module
 */
export { ZkmeterError, type ErrorCode } from './errors.js';
export {
  backendName,
  backendFallbackReason,
  getGroup,
  loadBackend,
  nativeAvailable,
  type BackendName,
  type Group,
  type MsmInput,
  type PointFormat,
  type PointTable,
} from './backend/index.js';
export * as crypto from './crypto/index.js';
export { GENERATOR_DST, MAX_VECTOR_GENERATORS, pedersenH, vectorGenerators } from './crypto/generators.js';
export { VERSION } from './version.js';
