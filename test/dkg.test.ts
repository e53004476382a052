/**
 * The key generation one party at a time (lib/crypto/dkg.ts), on each backend:
 * parties that only see each other's serialized packages agree on the key and
 * each end with its own share only; the shares reconstruct the x behind Y and
 * decrypt together; tampered, missing, misaddressed, replayed or out-of-order
 * packages are refused, naming the party; the wire forms are strict.
 */
import { describe, expect, it } from 'vitest';
import { getGroup } from '../lib/backend/index.js';
import { scalarToBytes } from '../lib/backend/bytes.js';
import { encrypt } from '../lib/crypto/elgamal.js';
import { DkgParticipant, dkgRound1FromJson, dkgRound1ToJson, dkgRound2FromJson, dkgRound2ToJson, type DkgRound1, type DkgRound2 } from '../lib/crypto/dkg.js';
import { lagrangeAt, partialDecrypt, thresholdDecrypt } from '../lib/crypto/threshold.js';
import { modN } from '../lib/crypto/scalar.js';
import { errorCode } from './support/errors.js';
import { TestRng, testSeed } from './support/rng.js';

const seed = testSeed();
const rng = new TestRng(seed);
const rand = (n: number) => rng.bytes(n);
const g = getGroup();
console.log(`dkg.test.ts on ${g.name}: seed ${seed}`);

const PARTIES = ['control-center', 'privacy-authority'];

/** A ceremony where every package crosses a wire (JSON text) between the parties. */
function ceremony(parties = PARTIES, threshold = 2) {
  const ps = parties.map((p) => new DkgParticipant(p, parties, threshold, rand));
  const wire1 = ps.map((p) => JSON.stringify(dkgRound1ToJson(p.round1())));
  const round1 = (i: number) => wire1.filter((_, j) => j !== i).map((t) => dkgRound1FromJson(JSON.parse(t)));
  const wire2 = ps.flatMap((p, i) => p.round2(round1(i)).map((r) => JSON.stringify(dkgRound2ToJson(r))));
  const round2For = (party: string) => wire2.map((t) => dkgRound2FromJson(JSON.parse(t))).filter((r) => r.to === party);
  return { ps, results: ps.map((p) => p.round3(round2For(p.party))) };
}

describe(`the DKG, one party at a time (${g.name})`, () => {
  it('parties that only exchange packages agree on Y, each holds its own share, and the shares reconstruct x', () => {
    const { results } = ceremony(['a', 'b', 'c'], 2);
    const Y = results[0]!.key.publicKey;
    for (const r of results) {
      expect(r.key.publicKey).toEqual(Y);
      expect(r.key.parties.get(r.share.party)!.verifyingShare).toEqual(g.mulGen(scalarToBytes(r.share.secret)));
    }
    expect(new Set(results.map((r) => r.share.secret)).size).toBe(3);
    // Any two shares reconstruct x with Y = x·G.
    for (const [i, j] of [[0, 1], [0, 2], [1, 2]] as const) {
      const [si, sj] = [results[i]!.share, results[j]!.share];
      const [li, lj] = lagrangeAt([si.id, sj.id], 0n);
      expect(g.mulGen(scalarToBytes(modN(li! * si.secret + lj! * sj.secret)))).toEqual(Y);
    }
  });

  it('the two parties decrypt together, and their shares verify', () => {
    const { results } = ceremony();
    const key = results[0]!.key;
    const ct = encrypt(key.publicKey, 4242n, rand);
    const ctx = new TextEncoder().encode('test');
    const shares = results.map((r) => partialDecrypt(key, r.share, ct, ctx, rand));
    expect(thresholdDecrypt(key, ct, shares, ctx, { max: 10_000n })).toBe(4242n);
  });

  it('refuses a tampered proof, a share off its commitments, and missing, doubled, misaddressed or out-of-order packages', () => {
    const setup = () => {
      const ps = PARTIES.map((p) => new DkgParticipant(p, PARTIES, 2, rand));
      return { ps, r1: ps.map((p) => p.round1()) };
    };
    // A round 1 whose proof of knowledge was altered.
    let { ps, r1 } = setup();
    const badProof: DkgRound1 = { ...r1[1]!, proof: r1[1]!.proof.map((b, i) => (i === 40 ? b ^ 1 : b)) };
    expect(() => ps[0]!.round2([badProof])).toThrow(/DKG party control-center: a round 1 package does not verify/);
    // A round 1 from the other party's commitments but another's proof: also refused.
    ({ ps, r1 } = setup());
    const other = setup().r1[1]!;
    expect(() => ps[0]!.round2([{ ...r1[1]!, proof: other.proof }])).toThrow(/does not verify/);
    // Missing, doubled and unknown parties.
    ({ ps, r1 } = setup());
    expect(() => ps[0]!.round2([])).toThrow(/none from privacy-authority/);
    ({ ps, r1 } = setup());
    expect(() => ps[0]!.round2([r1[1]!, r1[1]!])).toThrow(/two from privacy-authority/);
    ({ ps, r1 } = setup());
    expect(() => ps[0]!.round2([{ ...r1[1]!, party: 'mallory' }])).toThrow(/unexpected party "mallory"/);
    // Too few commitments for the threshold.
    ({ ps, r1 } = setup());
    expect(() => ps[0]!.round2([{ ...r1[1]!, commitments: r1[1]!.commitments.slice(0, 1) }])).toThrow(/1 commitments, not 2/);
    // A share that does not match its sender's commitments, and one addressed to someone else.
    ({ ps, r1 } = setup());
    const [to1] = ps[0]!.round2([r1[1]!]) as [DkgRound2];
    ps[1]!.round2([r1[0]!]);
    const shifted: DkgRound2 = { ...to1, share: scalarToBytes(modN(BigInt('0x' + Buffer.from(to1.share).toString('hex')) + 1n)) };
    expect(() => ps[1]!.round3([shifted])).toThrow(/a round 2 share does not match its sender's commitments/);
    ({ ps, r1 } = setup());
    const [x] = ps[0]!.round2([r1[1]!]) as [DkgRound2];
    ps[1]!.round2([r1[0]!]);
    expect(() => ps[1]!.round3([{ ...x, to: 'control-center' }])).toThrow(/addressed to control-center/);
    // Rounds out of order, or twice.
    const p = new DkgParticipant('a', ['a', 'b'], 2, rand);
    expect(() => p.round2([])).toThrow(/round2 called at round1/);
    p.round1();
    expect(() => p.round1()).toThrow(/round1 called at round2/);
    // Bad parameters.
    expect(errorCode(() => new DkgParticipant('z', PARTIES, 2))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => new DkgParticipant('a', ['a'], 2))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => new DkgParticipant('a', ['a', 'b'], 3))).toBe('INVALID_ARGUMENT');
  });

  it('the wire forms are strict', () => {
    const p = new DkgParticipant('a', ['a', 'b'], 2, rand);
    const j = dkgRound1ToJson(p.round1());
    expect(dkgRound1FromJson(JSON.parse(JSON.stringify(j)))).toEqual(dkgRound1FromJson(j));
    const bad: Record<string, unknown>[] = [
      { ...j, extra: 1 },
      { party: j.party, commitments: j.commitments },
      { ...j, party: 'has space' },
      { ...j, commitments: [(j.commitments as string[])[0]] },
      { ...j, commitments: ['02' + '00'.repeat(32), (j.commitments as string[])[1]] }, // x = 0 is not on the curve
      { ...j, proof: (j.proof as string).slice(2) },
      { ...j, proof: 'AB' + (j.proof as string).slice(2) },
    ];
    for (const b of bad) expect(() => dkgRound1FromJson(b), JSON.stringify(b).slice(0, 80)).toThrow();
    const r2 = { from: 'a', to: 'b', share: '11'.repeat(32) };
    expect(dkgRound2FromJson(r2).share).toHaveLength(32);
    for (const b of [{ ...r2, share: '00'.repeat(32) }, { ...r2, share: '11'.repeat(31) }, { ...r2, to: undefined }, { ...r2, x: 1 }]) {
      expect(() => dkgRound2FromJson(b)).toThrow();
    }
  });
});
