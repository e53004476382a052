/**
 * zkmeter for browsers (`dist/browser/zkmeter.js`, an ES module): the pure-TypeScript
 * backend, the crypto layer, and the protocol's client side — a meter making signed
 * records, and the customer's bill check with its DLEQ verification — plus the JSON
 * forms they travel in. Built by web/build.mjs with esbuild; no Node built-ins.
 * @module
 */
export { VERSION } from '../../lib/version.js';
export { ZkmeterError, type ErrorCode } from '../../lib/errors.js';
export { backendName } from '../../lib/backend/index.js';
export * as crypto from '../../lib/crypto/index.js';
export { HOUSEHOLD, Meter, type MeterClass, type MeterOptions, type ReadingOpening } from '../../lib/protocol/meter.js';
export { decodeRecord, recordFromJson, recordIntervals, recordToJson, type MeterRecord } from '../../lib/protocol/records.js';
export { verifyRecordBatch, type Verdict, type VerifierRegistration } from '../../lib/protocol/center.js';
export { checkBill, checkBillWithExport, type BillCheck, type IntervalDisagreement } from '../../lib/protocol/customer.js';
export { DEFAULT_TARIFF, formatAmount, priceAt, standingCharge, verifyTariffSignature, type Tariff } from '../../lib/protocol/tariff.js';
export {
  METER_EXPORT_FORMAT,
  billFromJson,
  billToJson,
  meterExportFromJson,
  meterExportToJson,
  openingFromJson,
  openingToJson,
  sharedKeyFromJson,
  sharedKeyToJson,
  tariffFromJson,
  tariffToJson,
  type MeterExport,
} from '../../lib/protocol/json.js';
