/**
 * The metering protocol (`zkmeter/protocol`): meters and their signed records,
 * the one verification of a record's cryptography, the control center's verification policy, tariffs, threshold billing with the
 * privacy authority, and the customer's bill check. Design: docs/protocol.md.
 * @module
 */
export { HOUSEHOLD, Meter, type MeterClass, type MeterOptions, type ReadingOpening } from './meter.js';
export {
  MAX_RECORD_READINGS,
  RECORD_TAG,
  RECORD_VERSION,
  decodeRecord,
  encodeHeader,
  proofContext,
  recordFromJson,
  recordIntervals,
  recordSignatureItem,
  recordToJson,
  signedMessage,
  type MeterRecord,
  type RecordHeader,
  type RecordKind,
} from './records.js';
export {
  ControlCenter,
  MAX_STATUS_INTERVALS,
  verifyRecordBatch,
  type ControlCenterOptions,
  type IntervalStatus,
  type MeterRegistration,
  type RecordOutcome,
  type RejectReason,
  type StoredReading,
  type Verdict,
  type VerifiedRecord,
  type VerifierEpoch,
  type VerifierRegistration,
} from './center.js';
export { MemoryStore, type CenterStore, type PutOutcome, type RecordToStore, type Rejection, type StoredEpoch, type StoredMeter } from './store.js';
export {
  DEFAULT_POLICY,
  isLedgerEntry,
  MemoryLedger,
  PrivacyAuthority,
  type AuthorityLedger,
  type AuthorityPolicy,
  type BillEntry,
  type BillRelease,
  type BillShareRequest,
  type GridEntry,
  type GridRelease,
  type GridShareRequest,
  type LedgerEntry,
  type PolicyRule,
  type PreparedRelease,
  type ShareJson,
} from './authority.js';
export {
  certifyMeter,
  checkCertificate,
  decodeCertificate,
  validateMeterClass,
  type CertificateFields,
  type MeterCertificate,
  type RegistrationChange,
} from './certificate.js';
export { billContext, encryptedEnergyCharge, gridContext, issueBill, maxEnergyCharge, releaseFeederGrid, type Bill, type BillingAuthority, type FeederGrid } from './billing.js';
export { checkBill, checkBillWithExport, type BillCheck, type IntervalDisagreement } from './customer.js';
export { verifyRecords, type RecordCheck, type RecordToVerify, type RecordVerdict } from './verify.js';
export {
  DEFAULT_TARIFF,
  bandAt,
  coveredDays,
  formatAmount,
  isLocalMidnight,
  localDay,
  priceAt,
  priceSpreadProblem,
  signTariff,
  standingCharge,
  tariffDigest,
  validateTariff,
  verifyTariffSignature,
  type Tariff,
  type TariffBand,
} from './tariff.js';
export {
  billFromJson,
  decryptionShareFromJson,
  decryptionShareToJson,
  billToJson,
  keyShareFromJson,
  keyShareToJson,
  openingFromJson,
  openingToJson,
  registrationFromJson,
  sharedKeyFromJson,
  sharedKeyToJson,
  tariffFromJson,
  tariffToJson,
  METER_EXPORT_FORMAT,
  meterExportFromJson,
  meterExportToJson,
  type Json,
  type MeterExport,
} from './json.js';
export { householdDay, seededUniform } from './simulation.js';
export { partialDecrypt, thresholdDecrypt, verifyDecryptionShare, type DecryptionShare, type KeyShare, type SharedKey } from '../crypto/threshold.js';
