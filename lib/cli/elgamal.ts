/**
 * `zkmeter keygen | encrypt | decrypt` (SPEC.md).
 * @module
 */
import { bytesToHex, encodeScalar } from '../crypto/codec.js';
import {
  CIPHERTEXT_LENGTH,
  DEFAULT_MAX,
  decodeCiphertext,
  decodePublicKey,
  decodeSecretKey,
  decrypt,
  encodeCiphertext,
  encodePublicKey,
  encrypt,
  keygen,
} from '../crypto/elgamal.js';
import { DEFAULT_TABLE_BITS, MAX_TABLE_BITS } from '../crypto/bsgs.js';
import { parseHex, parseInteger, parseSmallInt } from './parse.js';

export function keygenCommand(): Record<string, string> {
  const { secretKey, publicKey } = keygen();
  return { secretKey: bytesToHex(encodeScalar(secretKey)), publicKey: bytesToHex(encodePublicKey(publicKey)) };
}

export function encryptCommand(o: { publicKey?: string; value?: string }): Record<string, string> {
  const publicKey = decodePublicKey(parseHex(o.publicKey, '--public-key', 33));
  const value = parseInteger(o.value, '--value');
  return { ciphertext: bytesToHex(encodeCiphertext(encrypt(publicKey, value))) };
}

export function decryptCommand(o: {
  secretKey?: string;
  ciphertext?: string;
  max?: string;
  tableBits?: string;
}): Record<string, string> {
  const secretKey = decodeSecretKey(parseHex(o.secretKey, '--secret-key', 32));
  const ct = decodeCiphertext(parseHex(o.ciphertext, '--ciphertext', CIPHERTEXT_LENGTH));
  const max = o.max === undefined ? DEFAULT_MAX : parseInteger(o.max, '--max');
  const tableBits = o.tableBits === undefined ? DEFAULT_TABLE_BITS : parseSmallInt(o.tableBits, '--table-bits', 1, MAX_TABLE_BITS);
  return { value: decrypt(secretKey, ct, { max, tableBits }).toString() };
}
