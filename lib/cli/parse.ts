/**
 * Argument parsing helpers for the CLI: strict decimal integers and hex, each
 * failure a one-line {@link UsageError} (exit code 2).
 * @module
 */
import { readFileSync } from 'node:fs';
import { ZkmeterError } from '../errors.js';
import { hexToBytes } from '../crypto/codec.js';
import { tariffFromJson } from '../protocol/json.js';
import type { Tariff } from '../protocol/tariff.js';
import { validateMeterKey } from '../protocol/verify.js';

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

/** Comma-separated 32-byte x-only secp256k1 keys, hex (provisioning keys, identity keys). */
export function parseXOnlyKeys(text: string | undefined, flag: string): Uint8Array[] {
  const keys = (text ?? '').split(',').map((h, i) => {
    const key = parseHex(h.trim(), `${flag} (key ${i + 1})`, 32);
    try {
      return validateMeterKey('key', key);
    } catch (e) {
      if (e instanceof ZkmeterError) throw new UsageError(`${flag}: key ${i + 1} is not an x-only secp256k1 key: ${e.message}`);
      throw e;
    }
  });
  if (keys.length === 0) throw new UsageError(`${flag} expected at least one key`);
  return keys;
}

/** A file's text, or a one-line UsageError naming the flag. */
export function readTextFile(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A tariff JSON file (the README's "Tariff files"), checked. */
export function readTariffFile(file: string, flag: string): Tariff {
  try {
    return tariffFromJson(JSON.parse(readTextFile(file, flag)));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${flag}: ${file}: ${(e as Error).message}`);
  }
}

/** `--tls-cert FILE --tls-key FILE`: both or neither. */
export function tlsFiles(o: Record<string, unknown>): { cert: string; key: string } | undefined {
  const cert = typeof o.tlsCert === 'string' ? o.tlsCert : undefined;
  const key = typeof o.tlsKey === 'string' ? o.tlsKey : undefined;
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new UsageError('--tls-cert and --tls-key go together');
  return { cert: readTextFile(cert, '--tls-cert'), key: readTextFile(key, '--tls-key') };
}
