/**
 * Baby-step giant-step discrete logarithm in a caller-given range [0, max]:
 * finds m with M = m·G, for EC ElGamal decryption (Shanks 1971).
 *
 * The baby-step table holds x(j·G) for j = 1…B (B = 2^bits). Since x(−P) = x(P),
 * one table entry covers ±j, so each giant step covers 2B+1 values: giant point
 * Mᵢ = M − (B + 2B·i)·G matches entry j exactly when m = B + 2B·i ± j, and is
 * infinity when m = B + 2B·i. Giant steps run in chunks through one backend
 * call each (`progressionX`), so small values return after the first chunk.
 *
 * The table is key-independent: built once per size, cached for the process.
 * It stores 32-bit fingerprints of x (and j) in an open-addressing hash table
 * of 2B slots at load factor ≤ 1/2: two Uint32Arrays, 16·B bytes in all
 * (4 MiB at the default B = 2^18). A fingerprint match is only a candidate;
 * each candidate m is confirmed by recomputing m·G, so collisions cannot give a
 * wrong answer.
 *
 * Cost: building B points once, then ⌈(max+1)/(2B)⌉ giant steps per decryption.
 * At B = 2^18, a 32-bit value needs at most 8,193 giant steps.
 * @module
 */
import { ZkmeterError } from '../errors.js';
import { getGroup } from '../backend/index.js';
import { CURVE_ORDER, equalBytes, scalarToBytes, scalarsToBytes } from '../backend/bytes.js';

/** Default table size exponent: B = 2^18 baby steps, 4 MiB. */
export const DEFAULT_TABLE_BITS = 18;
/** Largest table: B = 2^26 baby steps, 1 GiB. */
export const MAX_TABLE_BITS = 26;

/** Giant steps per backend call, at most. */
const CHUNK = 2048;
/** Giant steps in the first chunk; later chunks double up to CHUNK. */
const FIRST_CHUNK = 4;
/**
 * Most giant steps one decryption may take (2^28: a couple of minutes natively).
 * A larger search is refused up front with advice, rather than left to run for hours.
 */
export const MAX_GIANT_STEPS = 2n ** 28n;

export class BabyStepTable {
  /** B: number of baby steps (j = 1…B). */
  readonly size: number;
  private readonly mask: number;
  private readonly keys: Uint32Array;
  private readonly values: Uint32Array;

  constructor(readonly bits: number) {
    this.size = 2 ** bits;
    const slots = 2 * this.size;
    this.mask = slots - 1;
    this.keys = new Uint32Array(slots);
    this.values = new Uint32Array(slots); // j, or 0 for an empty slot
    const g = getGroup();
    const G = g.mulGen(scalarToBytes(1n));
    // x(j·G) for j = 1…B, built in chunks to bound temporary memory.
    const step = 1 << 16;
    for (let first = 1; first <= this.size; first += step) {
      const count = Math.min(step, this.size - first + 1);
      const xs = g.progressionX(g.mulGen(scalarToBytes(BigInt(first))), G, count);
      for (let i = 0; i < count; i++) this.insert(fingerprint(xs, 32 * i), first + i);
    }
  }

  /** Memory held by the table, in bytes. */
  get bytes(): number {
    return this.keys.byteLength + this.values.byteLength;
  }

  private insert(fp: number, j: number): void {
    let slot = fp & this.mask;
    while (this.values[slot] !== 0) slot = (slot + 1) & this.mask;
    this.keys[slot] = fp;
    this.values[slot] = j;
  }

  /** Calls `found(j)` for every entry whose fingerprint equals fp. */
  lookup(fp: number, found: (j: number) => boolean): boolean {
    for (let slot = fp & this.mask; this.values[slot] !== 0; slot = (slot + 1) & this.mask) {
      if (this.keys[slot] === fp && found(this.values[slot]!)) return true;
    }
    return false;
  }
}

/** 32 bits of x taken from its low-order bytes (uniform for random points). */
function fingerprint(xs: Uint8Array, off: number): number {
  return ((xs[off + 28]! << 24) | (xs[off + 29]! << 16) | (xs[off + 30]! << 8) | xs[off + 31]!) >>> 0;
}

const tables = new Map<number, BabyStepTable>();

/** The cached table with 2^bits baby steps, built on first use. */
export function babyStepTable(bits = DEFAULT_TABLE_BITS): BabyStepTable {
  if (!Number.isInteger(bits) || bits < 1 || bits > MAX_TABLE_BITS) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"tableBits" expected an integer 1 <= bits <= ${MAX_TABLE_BITS}, got ${bits}`);
  }
  let t = tables.get(bits);
  if (t === undefined) {
    t = new BabyStepTable(bits);
    tables.set(bits, t);
  }
  return t;
}


/**
 * Finds m ∈ [0, max] with M = m·G (M as 64-byte affine; infinity means m = 0).
 * Throws VALUE_OUT_OF_RANGE if there is none. Never loops past max.
 */
export function discreteLog(M: Uint8Array, max: bigint, tableBits = DEFAULT_TABLE_BITS): bigint {
  if (typeof max !== 'bigint' || max < 0n || max >= CURVE_ORDER) {
    throw new ZkmeterError('INVALID_ARGUMENT', `"max" expected a bigint 0 <= max < n, got ${String(max)}`);
  }
  const g = getGroup();
  if (M.every((b) => b === 0)) return 0n;
  const table = babyStepTable(tableBits);
  const B = BigInt(table.size);
  // Giant step i covers m ∈ [B + 2B·i − B, B + 2B·i + B]; we need i up to ⌈(max − B)/2B⌉.
  const giantSteps = max <= B ? 1n : (max - B + 2n * B - 1n) / (2n * B) + 1n;
  if (giantSteps > MAX_GIANT_STEPS) {
    throw new ZkmeterError(
      'INVALID_ARGUMENT',
      `"max" ${max} needs ${giantSteps} giant steps with tableBits ${tableBits}; the limit is 2^28: use a larger tableBits (each step of 1 quarters the steps)`,
    );
  }
  const negStep = g.negate(g.mulGen(scalarToBytes(2n * B)));
  const confirm = (m: bigint) => m >= 0n && m <= max && equalBytes(g.mulGen(scalarToBytes(m)), M);
  let start = g.add(M, g.negate(g.mulGen(scalarToBytes(B)))); // M − B·G
  // Chunks grow from FIRST_CHUNK to CHUNK giant steps, doubling: a small value (a reading, a
  // household's month) is found after a few steps instead of after a whole chunk's worth.
  let chunk = FIRST_CHUNK;
  for (let done = 0n; done < giantSteps; chunk = Math.min(2 * chunk, CHUNK)) {
    const count = Number(giantSteps - done < BigInt(chunk) ? giantSteps - done : BigInt(chunk));
    const xs = g.progressionX(start, negStep, count);
    for (let i = 0; i < count; i++) {
      const centre = B + 2n * B * (done + BigInt(i));
      let zero = true;
      for (let k = 32 * i; k < 32 * i + 32; k++) if (xs[k] !== 0) zero = false;
      if (zero) {
        if (confirm(centre)) return centre;
        continue;
      }
      let result: bigint | undefined;
      table.lookup(fingerprint(xs, 32 * i), (j) => {
        for (const m of [centre + BigInt(j), centre - BigInt(j)]) {
          if (confirm(m)) {
            result = m;
            return true;
          }
        }
        return false;
      });
      if (result !== undefined) return result;
    }
    done += BigInt(count);
    // Next chunk starts `count` giant steps further on.
    start = g.add(start, g.mulVartime(negStep, scalarsToBytes([BigInt(count)])));
  }
  throw new ZkmeterError('VALUE_OUT_OF_RANGE', `decrypted value is not in the range [0, ${max}]`);
}

