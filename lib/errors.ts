/**
 * The one error type of zkmeter. Every failure a caller can cause — a bad
 * encoding, an out-of-range value, a proof that does not verify, a backend that
 * cannot load — is a {@link ZkmeterError} with a machine-readable `code`.
 * Programming errors inside zkmeter itself stay plain `Error`s.
 * @module
 */

/** Machine-readable error codes. Stable: callers may switch on them. */
export type ErrorCode =
  /** Not a valid encoding of a secp256k1 point (length, prefix, x ≥ p, off the curve). */
  | 'INVALID_POINT'
  /** A scalar that is not canonical (≥ the group order n) or otherwise unusable. */
  | 'INVALID_SCALAR'
  /** The point at infinity where it has no encoding or is not allowed. */
  | 'POINT_AT_INFINITY'
  /** A byte string of the wrong length, or with trailing bytes. */
  | 'INVALID_LENGTH'
  /** An argument of the wrong type or an out-of-range option. */
  | 'INVALID_ARGUMENT'
  /** A value outside the range an operation accepts (encryption, decryption, proving). */
  | 'VALUE_OUT_OF_RANGE'
  /** The requested backend is not available (for example, the addon did not load). */
  | 'BACKEND_UNAVAILABLE'
  /** A meter record whose structure is malformed (bad magic, version, field values, lengths). */
  | 'INVALID_RECORD'
  /** A format version this build does not read (for example, a version 1 meter record). */
  | 'UNSUPPORTED_VERSION'
  /** A party's policy refuses the request (for example, decrypting too small an aggregate). */
  | 'POLICY_REFUSED'
  /** The privacy authority's service could not be reached, or answered with a fault of its own: retry later. */
  | 'AUTHORITY_UNAVAILABLE'
  /** The privacy authority's ledger lacks a head it signed earlier: it was restored from an older state (server/log-head.ts). */
  | 'LEDGER_ROLLED_BACK'
  /** The native kernel could not allocate memory. */
  | 'OUT_OF_MEMORY'
  /** libsecp256k1 reported an internal error; please report it. */
  | 'INTERNAL';

export class ZkmeterError extends Error {
  /** Machine-readable reason, see {@link ErrorCode}. */
  readonly code: ErrorCode;
  /** For errors about one element of a vector, its index; otherwise undefined. */
  readonly index: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { index?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ZkmeterError';
    this.code = code;
    this.index = options?.index;
  }
}
