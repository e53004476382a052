/**
 * Mixed batch verification: range proofs and proofs of equivalence (the two
 * proofs a meter attaches to each reading) checked together in one MSM, with
 * fresh CSPRNG weights per proof and bisection to name the bad ones.
 * @module
 */
import { prepareRangeChecks, type RangeItem } from './bulletproofs/range.js';
import { joinChecks, verifyChecks } from './msm-accumulator.js';
import { prepareEquivalenceChecks, type EquivalenceItem } from './zkpe.js';

export interface MixedBatchResult {
  readonly valid: boolean;
  /** Indices into `ranges` of the range proofs that do not verify, ascending. */
  readonly invalidRanges: number[];
  /** Indices into `equivalences` of the proofs of equivalence that do not verify, ascending. */
  readonly invalidEquivalences: number[];
}

/** Verifies every range proof and proof of equivalence given in one MSM. Malformed items are reported, not thrown. */
export function batchVerifyProofs(input: {
  ranges?: readonly RangeItem[];
  equivalences?: readonly EquivalenceItem[];
}): MixedBatchResult {
  const ranges = prepareRangeChecks(input.ranges ?? []);
  const eqs = prepareEquivalenceChecks(input.equivalences ?? []);
  // One index space: range proofs first, then proofs of equivalence.
  const offset = (input.ranges ?? []).length;
  const { valid, invalid } = verifyChecks(joinChecks([{ checks: ranges, offset: 0 }, { checks: eqs, offset }]));
  return {
    valid,
    invalidRanges: invalid.filter((i) => i < offset),
    invalidEquivalences: invalid.filter((i) => i >= offset).map((i) => i - offset),
  };
}
