/** The shared Fiat–Shamir transcript: framing, domain separation, challenge derivation. */
import { describe, expect, it } from 'vitest';
import { Transcript } from '../lib/crypto/transcript.js';
import { CURVE_ORDER } from '../lib/backend/bytes.js';

const u = (s: string) => new TextEncoder().encode(s);

function challengeOf(build: (t: Transcript) => void, protocol = 'test v1'): bigint {
  const t = new Transcript(protocol);
  build(t);
  return t.challengeScalar('c');
}

describe('Transcript', () => {
  it('is deterministic', () => {
    const f = (t: Transcript) => t.appendMessage('a', u('hello')).appendU64('n', 5);
    expect(challengeOf(f)).toBe(challengeOf(f));
  });

  it('separates protocols (domain separation)', () => {
    const f = (t: Transcript) => t.appendMessage('a', u('x'));
    expect(challengeOf(f, 'zkmeter/zkpe v1')).not.toBe(challengeOf(f, 'zkmeter/rangeproof v1'));
  });

  it('frames labels and data unambiguously', () => {
    const base = challengeOf((t) => t.appendMessage('ab', u('c')));
    expect(challengeOf((t) => t.appendMessage('a', u('bc')))).not.toBe(base);
    expect(challengeOf((t) => t.appendMessage('abc', u('')))).not.toBe(base);
    const two = challengeOf((t) => t.appendMessage('m', u('ab')).appendMessage('m', u('c')));
    expect(challengeOf((t) => t.appendMessage('m', u('a')).appendMessage('m', u('bc')))).not.toBe(two);
  });

  it('depends on every append, its order, and the challenge label', () => {
    const full = (t: Transcript) => t.appendMessage('a', u('1')).appendMessage('b', u('2'));
    const c = challengeOf(full);
    expect(challengeOf((t) => t.appendMessage('b', u('2')).appendMessage('a', u('1')))).not.toBe(c);
    expect(challengeOf((t) => t.appendMessage('a', u('1')))).not.toBe(c);
    expect(challengeOf((t) => t.appendMessage('a', u('1')).appendMessage('b', u('3')))).not.toBe(c);
    const t1 = new Transcript('test v1');
    full(t1);
    const t2 = new Transcript('test v1');
    full(t2);
    expect(t1.challengeScalar('x')).not.toBe(t2.challengeScalar('y'));
  });

  it('chains challenges: a second challenge depends on the first', () => {
    const t = new Transcript('test v1');
    const c1 = t.challengeScalar('c');
    const c2 = t.challengeScalar('c');
    expect(c2).not.toBe(c1);
  });

  it('gives challenges in [1, n−1], spread over the whole range', () => {
    let high = 0;
    for (let i = 0; i < 200; i++) {
      const c = challengeOf((t) => t.appendU64('i', i));
      expect(c > 0n && c < CURVE_ORDER).toBe(true);
      if (c > CURVE_ORDER / 2n) high++;
    }
    expect(high).toBeGreaterThan(60);
    expect(high).toBeLessThan(140);
  });

  it('rejects integers outside u64', () => {
    expect(() => new Transcript('t').appendU64('n', -1)).toThrow(RangeError);
    expect(() => new Transcript('t').appendU64('n', 2n ** 64n)).toThrow(RangeError);
  });
});

describe('Transcript.clone', () => {
  it('continues independently from the same state', () => {
    const base = new Transcript('test v1').appendMessage('shared', u('prefix'));
    const a = base.clone().appendMessage('x', u('1'));
    const b = base.clone().appendMessage('x', u('1'));
    const c = base.clone().appendMessage('x', u('2'));
    const direct = new Transcript('test v1').appendMessage('shared', u('prefix')).appendMessage('x', u('1'));
    const ca = a.challengeScalar('c');
    expect(b.challengeScalar('c')).toBe(ca);
    expect(direct.challengeScalar('c')).toBe(ca);
    expect(c.challengeScalar('c')).not.toBe(ca);
    // the original is untouched by its clones
    expect(base.clone().appendMessage('x', u('1')).challengeScalar('c')).toBe(ca);
  });
});

describe('Transcript.appendMessages', () => {
  it('hashes exactly like the same appends one by one', () => {
    const parts: [string, Uint8Array][] = [
      ['a', u('first')],
      ['bb', new Uint8Array(0)],
      ['c', new Uint8Array(300).fill(7)],
    ];
    const one = new Transcript('test v1');
    for (const [l, d] of parts) one.appendMessage(l, d);
    const many = new Transcript('test v1').appendMessages(parts);
    expect(many.challengeScalar('c')).toBe(one.challengeScalar('c'));
  });
});
