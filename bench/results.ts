/**
 * The shape of one benchmark run's results (`bench/report/results.json`): what the
 * bench workers measure and what the report (bench/report.ts) renders.
 *
 * Every measured row comes from this run, on this machine. Rows with
 * `reference: true` were not measured here: they carry their `source` and the
 * machine they were measured on, and the report labels them as such.
 * @module
 */

/** Who a row is about. Measured implementations first, then reference-only ones. */
export const IMPLEMENTATIONS = {
  native: 'zkmeter native',
  js: 'zkmeter pure-TS',
  bulletproofjs: 'bulletproof-js',
  borromean: 'secp256k1-zkp WASM (Borromean)',
  naive: 'naive ElGamal (noble, brute force)',
  secp256k1zkpC: 'secp256k1-zkp C Bulletproofs',
  dalek: 'dalek bulletproofs',
  poc: 'earlier C proof of concept',
} as const;
export type ImplementationId = keyof typeof IMPLEMENTATIONS;

/**
 * Operations. Times are milliseconds per operation (`ms`); sizes are bytes (`bytes`).
 *  - `rangeProve`, `rangeVerify`: one proof of `m` values of `bits` bits each;
 *  - `rangeBatchVerify`: per proof, amortized over a batch of `batch` proofs (m = 1);
 *  - `rangeProofSize`: bytes of one proof of `m` values (`bits` bits);
 *  - `elgamalEncrypt`, `elgamalDecrypt`: one value of about `magnitude`;
 *  - `zkpeProve`, `zkpeVerify`, `zkpeBatchVerify` (per proof, over `batch`): `m` pairs in one
 *    proof (1 for the single form), `bytes` the proof's size;
 *  - `e2eReadings`: `perSec` verified readings per second (all cores), `mode` the record mode.
 */
export type Operation =
  | 'rangeProve'
  | 'rangeVerify'
  | 'rangeBatchVerify'
  | 'rangeProofSize'
  | 'elgamalEncrypt'
  | 'elgamalDecrypt'
  | 'zkpeProve'
  | 'zkpeVerify'
  | 'zkpeBatchVerify'
  | 'e2eReadings';

export interface ResultRow {
  impl: ImplementationId;
  op: Operation;
  bits?: number;
  /** Values aggregated in one range proof. */
  m?: number;
  /** Proofs in one batch verification. */
  batch?: number;
  /** The plaintext's size for ElGamal rows. */
  magnitude?: number;
  ms?: number;
  bytes?: number;
  perSec?: number;
  mode?: string;
  /** Free-text qualification shown next to the figure (e.g. how a size was counted). */
  note?: string;
  /** Not measured in this run. */
  reference?: boolean;
  /** For reference rows: where the figure comes from, and on what machine. */
  source?: string;
}

/** The forgery classes run against every implementation (bench/soundness.ts). */
export const FORGERY_CLASSES = {
  wrongCommitment: 'an honest proof presented for a different commitment V',
  knownLogH: 'a commitment to 2^32 + 1000 reopened as 1000 through log_G(H), then proved in [0, 2^32)',
  replayedChallenges: "an honest proof's challenges reused under a new statement: a commitment to 2^32 + 1000",
} as const;
export type ForgeryClass = keyof typeof FORGERY_CLASSES;

export interface SoundnessRow {
  impl: ImplementationId;
  forgery: ForgeryClass;
  /** What the verifier said about the forged proof. */
  outcome: 'accepted' | 'rejected' | 'not applicable';
  /** How the forgery was built against this implementation, in one sentence. */
  how: string;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  zkmeter: string;
  mode: 'quick' | 'full';
  e2eRecordMode: string;
}

export interface BenchResults {
  machine: MachineInfo;
  /** ISO 8601, start of the run. */
  startedAt: string;
  /** Wall-clock seconds for the whole run. */
  durationSeconds: number;
  /** SPEC.md's flat metrics, every one from this run. */
  metrics: Record<string, number>;
  /** Figures not measured in this run, with their sources. */
  reference: Record<string, number | string>;
  rows: ResultRow[];
  soundness: SoundnessRow[];
  /** Peers or steps that could not run, and why. */
  skipped: string[];
}

/** What each bench worker prints as its last stdout line. */
export interface WorkerOutput {
  metrics: Record<string, number>;
  rows?: ResultRow[];
  soundness?: SoundnessRow[];
  skipped?: string[];
}
