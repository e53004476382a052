/**
 * Argument parsing helpers for the CLI: strict decimal integers and hex, each
 * failure a one-line {@link UsageError} (exit code 2).
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { hexToBytes } from '../crypto/codec.js';

/** A user error: printed as one `error:` line, exit code 2. */
export class UsageError extends Error {}

/** A non-negative decimal integer ("0", "42"; no sign, exponent, hex or spaces). */
export function parseInteger(text: string | undefined, flag: string): bigint {
  if (typeof text !== 'string' || !/^(0|[1-9][0-9]*)$/.test(text)) {
    throw new UsageError(`${flag} expected a non-negative decimal integer, got '${text ?? ''}'`);
  }
  return BigInt(text);
}

/** A small non-negative integer within [min, max]. */
export function parseSmallInt(text: string | undefined, flag: string, min: number, max: number): number {
  const v = parseInteger(text, flag);
  if (v < BigInt(min) || v > BigInt(max)) throw new UsageError(`${flag} expected an integer ${min} <= x <= ${max}, got ${v}`);
  return Number(v);
}

/** Lowercase hex (no 0x), of exactly `length` bytes when given. */
export function parseHex(text: string | undefined, flag: string, length?: number): Uint8Array {
  try {
    return hexToBytes(text ?? '', flag, length);
  } catch (e) {
    if (e instanceof ZkmeterError) throw new UsageError(e.message.replace(`"${flag}"`, flag));
    throw e;
  }
}
