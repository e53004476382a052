/**
 * JSON Schemas of the privacy authority's HTTP API (authority-app.ts): fastify
 * validates requests with them (no coercion, unknown fields refused) and
 * @fastify/swagger describes them at /openapi.json. Encodings as SPEC.md.
 * @module
 */
import { responses } from './schemas.js';

export { responses };

const hex = (minBytes: number, maxBytes: number, description: string) => ({ type: 'string', pattern: '^([0-9a-f]{2})*$', minLength: 2 * minBytes, maxLength: 2 * maxBytes, description });
const meterId = { type: 'string', pattern: '^[\\x21-\\x7e]{1,64}$', description: '1 to 64 printable ASCII characters' };
const feeder = { type: 'string', minLength: 1, maxLength: 64, description: 'a feeder id' };
const unixSeconds = { type: 'integer', minimum: 0, maximum: 2 ** 40, description: 'Unix time, seconds' };
const tariffVersion = { type: 'integer', minimum: 0, maximum: 2 ** 32 - 1 };
const share = {
  type: 'object',
  required: ['party', 'share', 'proof'],
  properties: { party: { type: 'string' }, share: { type: 'string' }, proof: { type: 'string' } },
  description: 'a decryption share D = x_i·C1 with its DLEQ proof',
};
const records = (max: number, recordBytes: number) => ({
  type: 'array',
  minItems: 1,
  maxItems: max,
  items: hex(1, recordBytes, "a signed meter record's bytes"),
  description: 'the signed records the aggregate is computed from: the authority re-verifies every one',
});

/** A ledger head signed by the authority (log-head.ts). */
const signedHead = {
  type: 'object',
  required: ['seq', 'chain', 'signature'],
  additionalProperties: false,
  properties: {
    seq: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    chain: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    signature: { type: 'string', pattern: '^[0-9a-f]{128}$' },
  },
  description: "the ledger's head, signed (BIP340) by the authority's identity key",
};
/** In a signed request: the newest head the center was given (the authority refuses to decide if its ledger lacks it). */
const seen = { ...signedHead, description: 'the newest signed head of this ledger the center was given: an authority whose ledger lacks it refuses (503 LEDGER_ROLLED_BACK)' };

export const registerBody = (max: number) => ({
  type: 'object',
  required: ['certificates'],
  additionalProperties: false,
  properties: { certificates: { type: 'array', minItems: 1, maxItems: max, items: hex(1, 512, 'a meter certificate (ZKMC version 1)'), description: 'applied in order, all or nothing' }, seen },
});

export const billShareBody = (max: number, recordBytes: number) => ({
  type: 'object',
  required: ['meterId', 'from', 'to', 'tariffVersion', 'records'],
  additionalProperties: false,
  properties: { meterId, from: unixSeconds, to: unixSeconds, tariffVersion, records: records(max, recordBytes), seen },
});

export const gridShareBody = (max: number, recordBytes: number) => ({
  type: 'object',
  required: ['feeder', 'from', 'to', 'tariffVersion', 'records'],
  additionalProperties: false,
  properties: { feeder, from: unixSeconds, to: unixSeconds, tariffVersion, intervalSeconds: { type: 'integer', minimum: 60, maximum: 86_400 }, records: records(max, recordBytes), seen },
});

export const gridCheckBody = {
  type: 'object',
  required: ['feeder', 'from', 'to', 'tariffVersion'],
  additionalProperties: false,
  properties: { feeder, from: unixSeconds, to: unixSeconds, tariffVersion, seen },
};

export const releasesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$', description: 'entries after this sequence number (default 0)' },
    limit: { type: 'string', pattern: '^([1-9][0-9]{0,2}|1000)$', description: 'at most this many entries, 1 to 1000 (default 100)' },
  },
};

export const billRelease = {
  type: 'object',
  required: ['encryptedCharge', 'intervals', 'share', 'head'],
  properties: {
    encryptedCharge: { type: 'string' },
    intervals: { type: 'array', items: { type: 'integer' } },
    share,
    tariffSignature: { type: 'string', description: "the authority's BIP340 signature of the bill's tariff" },
    head: { ...signedHead, description: 'the head of the ledger that holds this release' },
  },
};

export const gridRelease = {
  type: 'object',
  required: ['feeder', 'from', 'to', 'tariffVersion', 'members', 'excluded', 'totals', 'head'],
  properties: {
    feeder: { type: 'string' },
    from: { type: 'integer' },
    to: { type: 'integer' },
    tariffVersion: { type: 'integer' },
    members: { type: 'array', items: { type: 'string' } },
    excluded: { type: 'array', items: { type: 'object', required: ['meterId', 'why'], properties: { meterId: { type: 'string' }, why: { type: 'string' } } } },
    totals: {
      type: 'array',
      items: { type: 'object', required: ['intervalStart', 'encryptedTotal', 'share'], properties: { intervalStart: { type: 'integer' }, encryptedTotal: { type: 'string' }, share } },
    },
    head: { ...signedHead, description: 'the head of the ledger that holds this release' },
  },
};
