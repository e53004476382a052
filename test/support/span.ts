/**
 * What a set of released linear forms over readings determines, solved exactly
 * modulo a prime: the span of the forms is reduced to row echelon form, and a
 * combination of readings is determined exactly when it lies in that span.
 * A single reading is determined when its column of the null space is zero;
 * any combination of two readings (their sum, their difference, any weights)
 * when their two columns are parallel. Modulo p the rank can only drop, never
 * rise, so "determined" can be spurious only with probability about N²/p: a
 * finding is confirmed modulo a second prime before it is reported.
 */
const PRIMES = [2_147_483_647, 1_000_000_007] as const;

function mulmod(a: number, b: number, p: number): number {
  // a, b < 2^31: split b so every product stays below 2^53.
  return ((((a * Math.floor(b / 65_536)) % p) * 65_536) % p + a * (b % 65_536)) % p;
}

function powmod(a: number, e: number, p: number): number {
  let r = 1;
  let x = a % p;
  for (; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) r = mulmod(r, x, p);
    x = mulmod(x, x, p);
  }
  return r;
}

export class ReleasedSystem {
  private readonly index = new Map<string, number>();
  private readonly rows: Map<number, bigint>[] = [];

  /** `readings`: every reading that exists, by name (e.g. "meter@interval"). */
  constructor(readonly readings: readonly string[]) {
    readings.forEach((r, i) => this.index.set(r, i));
  }

  get releases(): number {
    return this.rows.length;
  }

  /** Adds one released form Σ coefficient·reading. */
  add(form: ReadonlyMap<string, bigint>): void {
    const row = new Map<number, bigint>();
    for (const [name, c] of form) {
      const i = this.index.get(name);
      if (i === undefined) throw new Error(`released form names unknown reading ${name}`);
      if (c !== 0n) row.set(i, c);
    }
    this.rows.push(row);
  }

  /** The readings, and the pairs of readings, of which some combination is determined (confirmed modulo both primes). */
  determined(): { singles: string[]; pairs: [string, string][] } {
    const first = this.analyse(PRIMES[0]);
    const second = this.analyse(PRIMES[1]);
    const singles = first.singles.filter((i) => second.singles.includes(i)).map((i) => this.readings[i]!);
    const key2 = new Set(second.pairs.map(([a, b]) => `${a},${b}`));
    const pairs = first.pairs.filter(([a, b]) => key2.has(`${a},${b}`)).map(([a, b]): [string, string] => [this.readings[a]!, this.readings[b]!]);
    return { singles, pairs };
  }

  /** Rank of the released forms modulo the first prime. */
  rank(): number {
    return this.reduce(PRIMES[0]).pivots.length;
  }

  private reduce(p: number): { matrix: number[][]; pivots: number[] } {
    const n = this.readings.length;
    const m = this.rows.map((r) => {
      const dense = new Array<number>(n).fill(0);
      for (const [i, c] of r) dense[i] = Number(((c % BigInt(p)) + BigInt(p)) % BigInt(p));
      return dense;
    });
    const pivots: number[] = [];
    let row = 0;
    for (let col = 0; col < n && row < m.length; col++) {
      let sel = -1;
      for (let r = row; r < m.length; r++) if (m[r]![col] !== 0) { sel = r; break; }
      if (sel < 0) continue;
      [m[row], m[sel]] = [m[sel]!, m[row]!];
      const inv = powmod(m[row]![col]!, p - 2, p);
      const pr = m[row]!;
      for (let c = col; c < n; c++) pr[c] = mulmod(pr[c]!, inv, p);
      for (let r = 0; r < m.length; r++) {
        if (r === row || m[r]![col] === 0) continue;
        const f = m[r]![col]!;
        const rr = m[r]!;
        for (let c = col; c < n; c++) if (pr[c] !== 0) rr[c] = (rr[c]! - mulmod(f, pr[c]!, p) + p) % p;
      }
      pivots.push(col);
      row++;
    }
    return { matrix: m.slice(0, pivots.length), pivots };
  }

  /**
   * Columns of the null space: a free column is its own unit vector; pivot column j's entries are
   * −R[j][f] over the free columns f. Zero column: determined; parallel columns: a pair determined.
   */
  private analyse(p: number): { singles: number[]; pairs: [number, number][] } {
    const { matrix, pivots } = this.reduce(p);
    const n = this.readings.length;
    const isPivot = new Map(pivots.map((c, j) => [c, j]));
    const free = [...Array(n).keys()].filter((c) => !isPivot.has(c));
    const singles: number[] = [];
    const byDirection = new Map<string, number[]>();
    for (let c = 0; c < n; c++) {
      let entries: [number, number][];
      const j = isPivot.get(c);
      if (j === undefined) entries = [[c, 1]];
      else entries = free.filter((f) => matrix[j]![f] !== 0).map((f) => [f, (p - matrix[j]![f]!) % p]);
      if (entries.length === 0) {
        singles.push(c);
        continue;
      }
      const inv = powmod(entries[0]![1], p - 2, p);
      const key = entries.map(([f, v]) => `${f}:${mulmod(v, inv, p)}`).join(' ');
      const list = byDirection.get(key);
      if (list === undefined) byDirection.set(key, [c]);
      else list.push(c);
    }
    const pairs: [number, number][] = [];
    for (const list of byDirection.values()) for (let a = 0; a < list.length; a++) for (let b = a + 1; b < list.length; b++) pairs.push([list[a]!, list[b]!]);
    // A determined single combined with anything is a determined pair too; singles are reported on their own.
    return { singles, pairs };
  }
}
