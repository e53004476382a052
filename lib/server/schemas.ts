/**
 * JSON Schemas of the HTTP API: fastify validates requests with them (ajv,
 * without coercion) and @fastify/swagger turns them into /openapi.json.
 * Encodings follow SPEC.md: lowercase hex without 0x, integers that may exceed
 * 2^53 as decimal strings, times in Unix seconds.
 * @module
 */

const hex = (minBytes: number, maxBytes: number, description: string) => ({
  type: 'string',
  pattern: '^([0-9a-f]{2})*$',
  minLength: 2 * minBytes,
  maxLength: 2 * maxBytes,
  description,
});
const meterId = { type: 'string', pattern: '^[\\x21-\\x7e]{1,64}$', description: '1 to 64 printable ASCII characters' };
const unixSeconds = { type: 'integer', minimum: 0, maximum: 2 ** 40, description: 'Unix time, seconds' };
const unixSecondsText = { type: 'string', pattern: '^(0|[1-9][0-9]{0,11})$', description: 'Unix time, seconds (decimal)' };
const decimal = { type: 'string', pattern: '^(0|[1-9][0-9]*)$' };
const errorBody = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
};

/** Every error: `{"error":{"code","message"}}`. */
export const errorResponse = {
  type: 'object',
  required: ['error'],
  properties: { error: errorBody },
  description: 'an error: 4xx for the caller’s mistakes, 503 with Retry-After when overloaded or when the privacy authority is unavailable (AUTHORITY_UNAVAILABLE)',
};

/** A route's responses: `ok` by status, and the error shape for every 4xx and 5xx. */
export const responses = (ok: Record<number, unknown>) => ({ ...ok, '4xx': errorResponse, '5xx': errorResponse });

export const meterParams = { type: 'object', required: ['meterId'], properties: { meterId } };
export const feederParams = { type: 'object', required: ['feeder'], properties: { feeder: { type: 'string', minLength: 1, maxLength: 64 } } };
export const periodQuery = {
  type: 'object',
  required: ['from', 'to'],
  additionalProperties: false,
  properties: { from: unixSecondsText, to: { ...unixSecondsText, description: 'end of the period (exclusive), Unix seconds' } },
};

export const registerBody = (max: number) => ({
  type: 'object',
  required: ['certificates'],
  additionalProperties: false,
  properties: {
    certificates: {
      type: 'array',
      minItems: 1,
      maxItems: max,
      // A certificate is at most 4 + 1 + 32 + 65 + 32 + 12 + 65 + 65 + 37 + 64 = 377 bytes.
      items: hex(1, 512, 'a meter certificate (ZKMC version 1), signed by a trusted provisioning key'),
      description: 'applied in order: a later certificate may re-key a meter of an earlier one',
    },
  },
});

export const recordsBody = (max: number, recordBytes: number) => ({
  type: 'object',
  required: ['records'],
  additionalProperties: false,
  properties: {
    records: {
      type: 'array',
      minItems: 1,
      maxItems: max,
      items: {
        anyOf: [
          hex(1, recordBytes, "a record's bytes"),
          {
            type: 'object',
            required: ['bytes'],
            properties: { bytes: hex(1, recordBytes, "the record's bytes (authoritative; the other fields must agree)") },
            description: 'the JSON form of a record, as `zkmeter meter seal` writes it',
          },
        ],
      },
    },
  },
});

/** A bill's id: hex SHA-256 of its request's context (meter, period, tariff version). */
const billId = { type: 'string', pattern: '^[0-9a-f]{64}$', description: "hex SHA-256 of the bill's context `zkmeter/bill v1|meterId|from|to|tariffVersion`: the same request, the same id" };
export const billParams = { type: 'object', required: ['id'], properties: { id: billId } };

export const billBody = {
  type: 'object',
  required: ['meterId', 'from', 'to'],
  additionalProperties: false,
  properties: { meterId, from: unixSeconds, to: { ...unixSeconds, description: 'end of the period (exclusive), Unix seconds' } },
};

const outcome = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['accepted', 'abnormal', 'invalid'] },
    meterId: { type: 'string' },
    intervals: { type: 'array', items: { type: 'integer' } },
    repeated: { type: 'boolean', description: 'this very record had been accepted before (idempotent resubmission)' },
    recordId: { type: 'string', description: 'hex of the signed message: the record’s identity' },
    reason: {
      type: 'string',
      enum: ['malformed', 'unsupported-version', 'unknown-meter', 'key-epoch', 'tariff-version', 'class-mismatch', 'misaligned-interval', 'signature', 'range-proof', 'equivalence-proof', 'duplicate'],
    },
    detail: { type: 'string' },
  },
};

const submittedProperties = {
  accepted: { type: 'integer' },
  abnormal: { type: 'integer' },
  invalid: { type: 'integer' },
  results: { type: 'array', items: outcome },
};
export const submitted = { type: 'object', required: ['accepted', 'abnormal', 'invalid', 'results'], properties: submittedProperties };
export const submittedRejected = { type: 'object', required: ['error', 'results'], properties: { error: errorBody, ...submittedProperties } };

const epochSummary = { type: 'object', properties: { keyEpoch: { type: 'integer' }, feeder: { type: 'string' }, meterClass: { type: 'string' } } };
const registrationChange = {
  type: 'object',
  required: ['meterId', 'change', 'keyEpoch', 'feeder', 'meterClass'],
  properties: {
    meterId: { type: 'string' },
    change: { type: 'string', enum: ['registered', 're-keyed', 'unchanged'] },
    keyEpoch: { type: 'integer' },
    feeder: { type: 'string' },
    meterClass: { type: 'string', description: "the class's name" },
    previous: { ...epochSummary, description: 'for a re-key, the epoch it follows' },
  },
};
export const registered = {
  type: 'object',
  required: ['registered', 'changes'],
  properties: {
    registered: { type: 'integer', description: 'certificates accepted (changed or not)' },
    changes: { type: 'array', items: registrationChange, description: 'what each certificate changed, in order' },
  },
};

const epochProperties = {
  publicKey: { type: 'string' },
  feeder: { type: 'string', nullable: true },
  keyEpoch: { type: 'integer' },
  validFrom: { type: 'integer', description: 'Unix seconds from which this key signs; the next epoch’s validFrom ends it' },
  meterClass: { type: 'string' },
  certified: { type: 'boolean', description: 'registered from a provisioning certificate' },
};
export const meter = {
  type: 'object',
  properties: {
    meterId: { type: 'string' },
    ...epochProperties,
    history: { type: 'array', items: { type: 'object', properties: epochProperties }, description: 'earlier key epochs, oldest first' },
  },
};

export const intervals = {
  type: 'object',
  properties: {
    meterId: { type: 'string' },
    from: { type: 'integer' },
    to: { type: 'integer' },
    counts: {
      type: 'object',
      properties: { accepted: { type: 'integer' }, abnormal: { type: 'integer' }, invalid: { type: 'integer' }, missing: { type: 'integer' } },
    },
    intervals: {
      type: 'array',
      items: {
        type: 'object',
        required: ['intervalStart', 'status'],
        properties: {
          intervalStart: { type: 'integer' },
          status: { type: 'string', enum: ['accepted', 'abnormal', 'invalid', 'missing'] },
          recordId: { type: 'string' },
          reason: { type: 'string', description: 'why the latest record for it was rejected' },
          at: { type: 'integer', description: 'when it was rejected, Unix seconds' },
        },
      },
    },
  },
};

const share = { type: 'object', properties: { party: { type: 'string' }, share: { type: 'string' }, proof: { type: 'string' } } };
export const bill = {
  type: 'object',
  description: 'A bill with its decryption proof: anyone with the signed records can check that the amount is what they encrypt, priced by the tariff.',
  properties: {
    id: billId,
    meterId: { type: 'string' },
    from: { type: 'integer' },
    to: { type: 'integer' },
    tariffVersion: { type: 'integer' },
    currency: { type: 'string', description: 'ISO 4217 code of the amounts' },
    minorPerMajor: { ...decimal, description: 'minor units per unit of currency: every amount is in minor units' },
    intervals: { type: 'array', items: { type: 'integer' } },
    recordIds: { type: 'array', items: { type: 'string' }, description: 'for each billed interval, the id (hex of the signed message) of the record it was billed from' },
    encryptedEnergyCharge: { type: 'string', description: '66-byte ciphertext, hex' },
    energyCharge: { ...decimal, description: 'minor currency units' },
    standingCharge: decimal,
    total: decimal,
    decryptionShares: { type: 'array', items: share, description: 'each share with its DLEQ (Chaum–Pedersen) proof' },
    tariff: { type: 'object', additionalProperties: true, description: 'the tariff the bill is priced under, as the privacy authority signed it' },
    tariffSignature: { type: 'string', description: "the privacy authority's BIP340 signature of the tariff (its identity key; the meter export names it)" },
    display: { type: 'string' },
  },
};

export const grid = {
  type: 'object',
  description: "A feeder's grid: the total of every interval of the period over its members",
  properties: {
    feeder: { type: 'string' },
    from: { type: 'integer' },
    to: { type: 'integer' },
    tariffVersion: { type: 'integer' },
    intervalSeconds: { type: 'integer' },
    members: { type: 'array', items: { type: 'string' } },
    excluded: { type: 'array', items: { type: 'object', properties: { meterId: { type: 'string' }, why: { type: 'string' } } }, description: 'meters of the feeder left out, with the authority’s reason' },
    totals: { type: 'array', items: { type: 'object', properties: { intervalStart: { type: 'integer' }, totalWh: decimal } } },
  },
};

const bound = { type: 'object', properties: { min: decimal, max: decimal } };
export const config = {
  type: 'object',
  properties: {
    utilityKey: { type: 'string', description: "the utility's 33-byte compressed public key, hex" },
    tariffVersion: { type: 'integer' },
    meterClass: {
      type: 'object',
      properties: { name: { type: 'string' }, bits: { type: 'integer' }, intervalSeconds: { type: 'integer' }, normal: bound, plausible: bound },
    },
    limits: {
      type: 'object',
      properties: {
        bodyBytes: { type: 'integer' },
        recordsPerRequest: { type: 'integer' },
        recordBytes: { type: 'integer' },
        metersPerRequest: { type: 'integer' },
        inflightBodyBytes: { type: 'integer' },
      },
    },
    billing: { type: 'boolean' },
    provisioningKeys: { type: 'array', items: { type: 'string' }, description: 'the 32-byte x-only keys whose meter certificates are accepted, hex' },
    sharedKey: {
      type: 'object',
      description: "the utility key's public side: its threshold and each party's verifying share, which a customer checks the bill's decryption shares against",
      properties: {
        publicKey: { type: 'string' },
        threshold: { type: 'integer' },
        parties: { type: 'array', items: { type: 'object', properties: { party: { type: 'string' }, id: { type: 'string' }, verifyingShare: { type: 'string' } } } },
      },
    },
    tariff: {
      type: 'object',
      description: 'the tariff bills are computed with (prices in minor units per Wh)',
      properties: {
        version: { type: 'integer' },
        currency: { type: 'string' },
        minorPerMajor: decimal,
        standingChargePerDay: decimal,
        bands: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, fromHour: { type: 'integer' }, pricePerWh: decimal } } },
        timeZone: { type: 'string', description: 'IANA time zone of the bands and of whole days' },
      },
    },
  },
};

export const health = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    version: { type: 'string' },
    backend: { type: 'string' },
    store: { type: 'string' },
    workers: { type: 'integer' },
    queue: { type: 'object', properties: { records: { type: 'integer' }, bytes: { type: 'integer' }, batchesInFlight: { type: 'integer' } } },
    authority: {
      type: 'object',
      description: 'how the privacy authority is reached: "remote" (its URL, without secrets), "single-operator" (in this process, which then holds both key shares) or "none" (billing off)',
      properties: { mode: { type: 'string', enum: ['remote', 'single-operator', 'none'] }, url: { type: 'string' } },
    },
  },
};
