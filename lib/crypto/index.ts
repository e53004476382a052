/**
 * The public crypto API (`zkmeter/crypto`): EC ElGamal with BSGS decryption,
 * Pedersen commitments, the proof of equivalence, Bulletproofs range proofs, the
 * transcript, codecs and generators. All points are 64-byte affine in memory; encoders give the wire
 * forms of SPEC.md.
 * @module
 */
export {
  CIPHERTEXT_LENGTH,
  DEFAULT_MAX,
  add,
  decodeCiphertext,
  decodePublicKey,
  decodeSecretKey,
  decrypt,
  decryptToPoint,
  encodeCiphertext,
  encodePublicKey,
  encrypt,
  encryptWithRandomness,
  keygen,
  publicKeyOf,
  rerandomize,
  scale,
  subtract,
  unmask,
  weightedSum,
  type Ciphertext,
  type DecryptOptions,
  type KeyPair,
} from './elgamal.js';
export { BabyStepTable, DEFAULT_TABLE_BITS, MAX_TABLE_BITS, babyStepTable, discreteLog } from './bsgs.js';
export { commit, commitRandom } from './pedersen.js';
export {
  ZKPE_LABEL,
  ZKPE_LENGTH,
  batchVerifyEquivalence,
  proveEquivalence,
  verifyEquivalence,
  type BatchResult,
  type EquivalenceItem,
  type EquivalenceStatement,
  type EquivalenceWitness,
} from './zkpe.js';
export {
  MAX_AGGREGATION,
  RANGE_BITS,
  RANGE_PROOF_LABEL,
  batchVerifyRange,
  proveRange,
  rangeProofLength,
  verifyRange,
  type RangeBits,
  type RangeItem,
  type RangeStatement,
  type RangeWitness,
} from './bulletproofs/range.js';
export { batchVerifyProofs, type MixedBatchResult } from './batch.js';
export { Transcript } from './transcript.js';
export { POINT_LENGTH, SCALAR_LENGTH, bytesToHex, decodePoint, decodeScalar, encodePoints, encodeScalar, hexToBytes } from './codec.js';
export { GENERATOR_DST, MAX_VECTOR_GENERATORS, pedersenH, vectorGenerators } from './generators.js';
export { batchWeights, cryptoRandom, randomScalar, randomScalars, type RandomSource } from './random.js';
export { MsmAccumulator, joinChecks, verifyChecks, type PreparedCheck, type PreparedChecks } from './msm-accumulator.js';
export {
  MAX_AGGREGATE_PAIRS,
  ZKPE_AGGREGATE_LABEL,
  prepareAggregateEquivalenceChecks,
  proveAggregateEquivalence,
  verifyAggregateEquivalence,
  type AggregateEquivalenceItem,
  type AggregateEquivalenceStatement,
  type AggregateEquivalenceWitness,
} from './zkpe.js';
export { DLEQ_LABEL, DLEQ_LENGTH, proveDleq, verifyDleq, type DleqStatement } from './dleq.js';
export {
  SCHNORR_PUBLIC_KEY_LENGTH,
  SCHNORR_SIGNATURE_LENGTH,
  batchVerifySchnorr,
  schnorrPublicKey,
  signSchnorr,
  taggedHash,
  verifySchnorr,
  type SignatureItem,
} from './schnorr.js';
export {
  combineDecryptionShares,
  lagrangeAt,
  validateSharedKey,
  partialDecrypt,
  thresholdDecrypt,
  verifyDecryptionShare,
  type DecryptionShare,
  type KeyShare,
  type SharedKey,
} from './threshold.js';
export {
  DkgParticipant,
  dkgRound1FromJson,
  dkgRound1ToJson,
  dkgRound2FromJson,
  dkgRound2ToJson,
  validateDkgParties,
  type DkgRound1,
  type DkgRound2,
} from './dkg.js';
