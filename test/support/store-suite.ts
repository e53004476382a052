/**
 * The behaviour every CenterStore must have, run against each implementation
 * (SQLite in test/sqlite-store.test.ts, PostgreSQL in test/pg-store.test.ts):
 * the center's classification on top of it, state that survives a reopen,
 * group commits decided in order, rejections for interval status, racing
 * writers of one record storing it exactly once, key histories: a re-key
 * keeps the earlier epoch (its key, class and validity) across a reopen, and
 * issued bills: the first stored under an id wins for good, racing writers
 * included, and survives a reopen.
 */
import { describe, expect, it } from 'vitest';
import { keygen } from '../../lib/crypto/elgamal.js';
import { randomScalar } from '../../lib/crypto/random.js';
import { ControlCenter, verifyRecordBatch } from '../../lib/protocol/center.js';
import { HOUSEHOLD, Meter } from '../../lib/protocol/meter.js';
import { signedMessage } from '../../lib/protocol/records.js';
import type { CenterStore } from '../../lib/protocol/store.js';
import { schnorrPublicKey, signSchnorr } from '../../lib/crypto/schnorr.js';
import { certifyMeter } from '../../lib/protocol/certificate.js';
import { TestRng, testSeed } from './rng.js';

export const DAY = 1_764_115_200;

/** `open()` opens the same (persistent) database each time it is called; `fresh()` an empty one. */
export function describeStore(name: string, o: { open: () => Promise<CenterStore>; skip?: string }): void {
  const seed = testSeed();
  const rng = new TestRng(seed);
  const rand = (n: number) => rng.bytes(n);
  const suite = o.skip !== undefined ? describe.skip : describe;
  if (o.skip !== undefined) console.log(`${name}: SKIPPED: ${o.skip}`);

  suite(`${name} (seed ${seed})`, () => {
    const { publicKey: utilityKey } = keygen(rand);
    const meter = new Meter({ meterId: 'MPAN-7', signingKey: randomScalar(rand), utilityKey, rng: rand });
    const records = [meter.reading(DAY, 120n), meter.reading(DAY + 900, 4500n), meter.daily(DAY + 1800, [10n, 20n, 30n])];

    it('classifies and stores like the in-memory center, and keeps everything across a reopen', async () => {
      const store = await o.open();
      const center = new ControlCenter({ utilityKey, store });
      await center.register({ meterId: 'MPAN-7', publicKey: meter.publicKey, feeder: 'F9' });
      expect((await center.submit(records.map((r) => r.bytes))).map((x) => x.status)).toEqual(['accepted', 'abnormal', 'accepted']);
      const before = await center.readingsOf('MPAN-7', DAY, DAY + 86_400);
      expect(before.map((r) => r.intervalStart)).toEqual([0, 1, 2, 3, 4].map((i) => DAY + 900 * i));
      await store.close();

      const again = await o.open();
      const reopened = new ControlCenter({ utilityKey, store: again });
      expect(await again.getMeter('MPAN-7')).toEqual({ meterId: 'MPAN-7', publicKey: meter.publicKey, meterClass: HOUSEHOLD, feeder: 'F9', keyEpoch: 0, validFrom: 0, history: [] });
      expect([...(await again.getMeters(['MPAN-7', 'nobody'])).keys()]).toEqual(['MPAN-7']);
      expect(await again.meterIds()).toEqual(['MPAN-7']);
      expect(await reopened.readingsOf('MPAN-7', DAY, DAY + 86_400)).toEqual(before);
      expect((await reopened.inspectionQueue()).map((r) => r.intervalStart)).toEqual([DAY + 900]);
      expect((await reopened.feederReadingsIn('F9', DAY, DAY + 1)).map((r) => r.meterId)).toEqual(['MPAN-7']);
      expect(await reopened.evidenceFor(before)).toEqual(records.map((r) => r.bytes));
      expect(await reopened.gaps('MPAN-7', DAY, DAY + 6 * 900)).toEqual([DAY + 5 * 900]);
      // The same records again: idempotent. Another record for a held interval: a duplicate.
      expect((await reopened.submit([records[0]!.bytes]))[0]).toMatchObject({ status: 'accepted', repeated: true });
      expect((await reopened.submit([meter.reading(DAY, 121n).bytes]))[0]).toMatchObject({ status: 'invalid', reason: 'duplicate' });
      await again.close();
    });

    it('a group commit decides records in order: the first for an interval wins, each record whole or not at all', async () => {
      const store = await o.open();
      const center = new ControlCenter({ utilityKey, store });
      const m = new Meter({ meterId: 'M-group', signingKey: randomScalar(rand), utilityKey, rng: rand });
      await center.register({ meterId: 'M-group', publicKey: m.publicKey });
      const T = DAY + 86_400;
      const first = m.daily(T, [1n, 2n, 3n]);
      const overlapping = m.daily(T + 1800, [4n, 5n]); // its first interval is first's last
      const after = m.reading(T + 2700, 6n);
      const out = await center.submit([first.bytes, overlapping.bytes, after.bytes, first.bytes]);
      expect(out.map((x) => (x.status === 'invalid' ? x.reason : x.repeated ? 'repeated' : x.status))).toEqual(['accepted', 'duplicate', 'accepted', 'repeated']);
      // Nothing of the overlapping record was stored: T + 2700 holds `after`.
      const held = await center.readingsOf('M-group', T, T + 4 * 900);
      expect(held.map((r) => r.recordId)).toEqual([out[0], out[0], out[0], out[2]].map((x) => (x as { recordId: string }).recordId));
      await store.close();
    });

    it('interval status: accepted, abnormal, invalid (signed but failing its proofs), missing', async () => {
      const store = await o.open();
      const center = new ControlCenter({ utilityKey, store });
      const signingKey = randomScalar(rand);
      const m = new Meter({ meterId: 'M-status', signingKey, utilityKey, rng: rand });
      const stranger = new Meter({ meterId: 'M-status', signingKey: randomScalar(rand), utilityKey, rng: rand });
      await center.register({ meterId: 'M-status', publicKey: m.publicKey });
      const T = DAY + 2 * 86_400;
      const bad = m.reading(T + 900, 50n);
      // A meter whose proof is wrong but whose signature is its own: flip a bit of the
      // proof of equivalence and re-sign (what a faulty meter would send).
      const flipped = bad.bytes.slice();
      flipped[flipped.length - 64 - 10]! ^= 1;
      const unsigned = flipped.subarray(0, flipped.length - 64);
      flipped.set(signSchnorr([signedMessage(unsigned)], signingKey, rand), flipped.length - 64);
      const out = await center.submit([m.reading(T, 100n).bytes, flipped, m.reading(T + 1800, 4800n).bytes, stranger.reading(T + 2700, 1n).bytes]);
      expect(out.map((x) => x.status)).toEqual(['accepted', 'invalid', 'abnormal', 'invalid']);
      const status = await center.intervalStatus('M-status', T, T + 4 * 900);
      expect(status.map((s) => s.status)).toEqual(['accepted', 'invalid', 'abnormal', 'missing']); // a foreign signature marks nothing
      expect(status[1]).toMatchObject({ reason: 'equivalence-proof' });
      // Then the meter sends a good record for the invalid interval: accepted wins.
      await center.submit([m.reading(T + 900, 50n).bytes]);
      expect((await center.intervalStatus('M-status', T, T + 4 * 900)).map((s) => s.status)).toEqual(['accepted', 'accepted', 'abnormal', 'missing']);
      await store.close();
    });

    it('a re-key keeps the earlier epoch across a reopen: old records verify under their own key, within their epoch', async () => {
      const provisioning = randomScalar(rand);
      const open = async () => {
        const store = await o.open();
        return { store, center: new ControlCenter({ utilityKey, store, provisioningKeys: [schnorrPublicKey(provisioning)] }) };
      };
      const D = DAY + 20 * 86_400;
      const key0 = randomScalar(rand);
      const key1 = randomScalar(rand);
      const at = (keyEpoch: number, signingKey: bigint) => new Meter({ meterId: 'M-rekey', signingKey, utilityKey, keyEpoch, rng: rand });
      const [old, fresh] = [at(0, key0), at(1, key1)];
      const certify = (m: Meter, keyEpoch: number, validFrom: number, feeder: string) => certifyMeter({ meterId: 'M-rekey', publicKey: m.publicKey, keyEpoch, validFrom, feeder, meterClass: HOUSEHOLD }, provisioning, rand);
      const cert0 = certify(old, 0, D - 400 * 86_400, 'F1');
      const cert1 = certify(fresh, 1, D + 86_400, 'F2');
      let { store, center } = await open();
      expect(await center.registerCertificate(cert0)).toEqual({ meterId: 'M-rekey', change: 'registered', keyEpoch: 0, feeder: 'F1', meterClass: 'household' });
      expect((await center.submit([old.reading(D, 7n).bytes]))[0]).toMatchObject({ status: 'accepted' });
      expect(await center.registerCertificate(cert1)).toEqual({
        meterId: 'M-rekey',
        change: 're-keyed',
        keyEpoch: 1,
        feeder: 'F2',
        meterClass: 'household',
        previous: { keyEpoch: 0, feeder: 'F1', meterClass: 'household' },
      });
      await store.close();

      ({ store, center } = await open());
      const m = (await store.getMeter('M-rekey'))!;
      expect(m).toMatchObject({ keyEpoch: 1, publicKey: fresh.publicKey, feeder: 'F2', validFrom: D + 86_400, certificate: cert1 });
      expect(m.history).toEqual([{ publicKey: old.publicKey, meterClass: HOUSEHOLD, feeder: 'F1', keyEpoch: 0, validFrom: D - 400 * 86_400, certificate: cert0 }]);
      expect(await store.feederMeters('F2')).toEqual(['M-rekey']);
      expect(await center.registerCertificate(cert1)).toMatchObject({ change: 'unchanged' });
      expect(await center.registerCertificate(cert0)).toMatchObject({ change: 'unchanged' });
      const outcome = async (r: { bytes: Uint8Array }) => {
        const x = (await center.submit([r.bytes]))[0]!;
        return x.status === 'invalid' ? x.reason : x.status;
      };
      expect(await outcome(old.reading(D + 900, 8n))).toBe('accepted'); // epoch 0, inside its validity: still verifies after the re-key
      expect(await outcome(old.daily(D + 86_400 - 900, [1n, 2n]))).toBe('key-epoch'); // its second interval is epoch 1's
      expect(await outcome(old.reading(D + 86_400, 9n))).toBe('key-epoch');
      expect(await outcome(fresh.reading(D + 2700, 9n))).toBe('key-epoch'); // before epoch 1's validFrom
      expect(await outcome(fresh.reading(D + 86_400, 10n))).toBe('accepted');
      // Epoch 0's key cannot sign as epoch 1: the signature is checked under the key of the epoch the header names.
      expect(await outcome(at(1, key0).reading(D + 86_400 + 900, 1n))).toBe('signature');
      // Another key for epoch 1, or an uncertified re-key of a certified meter: refused, nothing stored.
      const rival = certify(at(1, randomScalar(rand)), 1, D + 2 * 86_400, 'F2');
      await expect(center.registerCertificate(rival)).rejects.toMatchObject({ code: 'POLICY_REFUSED', message: expect.stringMatching(/^refused by rule 'registry'/) });
      await expect(center.register({ meterId: 'M-rekey', publicKey: old.publicKey, keyEpoch: 2 })).rejects.toMatchObject({ code: 'POLICY_REFUSED' });
      expect(await store.getMeter('M-rekey')).toEqual(m);
      await store.close();
    });

    it('racing re-keys are applied one at a time; epochs up to 2^32 − 1 are stored; a refused batch stores nothing', async () => {
      const provisioning = randomScalar(rand);
      const store = await o.open();
      const center = new ControlCenter({ utilityKey, store, provisioningKeys: [schnorrPublicKey(provisioning)] });
      const certify = (meterId: string, keyEpoch: number, validFrom: number, signingKey = randomScalar(rand)) =>
        certifyMeter({ meterId, publicKey: schnorrPublicKey(signingKey), keyEpoch, validFrom, feeder: 'F3', meterClass: HOUSEHOLD }, provisioning, rand);
      await center.registerCertificate(certify('M-race', 0, DAY));
      // Two re-keys at once: both land, in order, neither lost.
      const [c1, c2] = await Promise.all([center.registerCertificate(certify('M-race', 1, DAY + 10)), center.registerCertificate(certify('M-race', 2, DAY + 20))]);
      expect([c1.change, c2.change]).toEqual(['re-keyed', 're-keyed']);
      const m = (await store.getMeter('M-race'))!;
      expect([...(m.history ?? []).map((e) => e.keyEpoch), m.keyEpoch]).toEqual([0, 1, 2]);
      // Two different keys for one epoch at once: exactly one is registered.
      const rivals = await Promise.allSettled([center.registerCertificate(certify('M-race', 3, DAY + 30)), center.registerCertificate(certify('M-race', 3, DAY + 30))]);
      expect(rivals.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      // The largest epoch a certificate can carry survives the store.
      await center.registerCertificate(certify('M-big', 2 ** 32 - 1, DAY));
      expect((await store.getMeter('M-big'))!.keyEpoch).toBe(2 ** 32 - 1);
      // A batch with one refused certificate (an epoch going back) stores none of it.
      await expect(center.registerCertificates([certify('M-new', 0, DAY), certify('M-big', 5, DAY + 1)])).rejects.toMatchObject({ code: 'POLICY_REFUSED', index: 1 });
      expect(await store.getMeter('M-new')).toBeUndefined();
      await store.close();
    });

    it('uncertified registrations: leaving the feeder out keeps it, another key needs a higher epoch, a re-key keeps the history', async () => {
      const store = await o.open();
      const center = new ControlCenter({ utilityKey, store });
      const [k0, k1] = [randomScalar(rand), randomScalar(rand)];
      const p0 = schnorrPublicKey(k0);
      const p1 = schnorrPublicKey(k1);
      expect(await center.register({ meterId: 'M-plain', publicKey: p0, feeder: 'F7' })).toEqual({ meterId: 'M-plain', change: 'registered', keyEpoch: 0, feeder: 'F7', meterClass: 'household' });
      expect(await center.register({ meterId: 'M-plain', publicKey: p0 })).toMatchObject({ change: 'unchanged', feeder: 'F7' });
      expect((await store.getMeter('M-plain'))!.feeder).toBe('F7');
      for (const bad of [{ publicKey: p1 }, { publicKey: p1, keyEpoch: 0 }, { publicKey: p0, feeder: 'F8' }]) {
        await expect(center.register({ meterId: 'M-plain', ...bad })).rejects.toMatchObject({ code: 'POLICY_REFUSED', message: expect.stringMatching(/^refused by rule 'registry'/) });
      }
      await expect(center.registerCertificate(new Uint8Array(10))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/no provisioning keys/) });
      const T = DAY + 30 * 86_400;
      expect(await center.register({ meterId: 'M-plain', publicKey: p1, keyEpoch: 1, validFrom: T })).toMatchObject({ change: 're-keyed', keyEpoch: 1, feeder: 'F7', previous: { keyEpoch: 0, feeder: 'F7' } });
      await expect(center.register({ meterId: 'M-plain', publicKey: p0, keyEpoch: 0 })).rejects.toMatchObject({ code: 'POLICY_REFUSED' });
      const m = (await store.getMeter('M-plain'))!;
      expect(m).toMatchObject({ keyEpoch: 1, feeder: 'F7', validFrom: T });
      expect(m.history?.map((e) => [e.keyEpoch, e.feeder, e.validFrom])).toEqual([[0, 'F7', 0]]);
      const old = new Meter({ meterId: 'M-plain', signingKey: k0, utilityKey, rng: rand });
      const out = await center.submit([old.reading(T - 900, 1n).bytes, old.reading(T, 2n).bytes]);
      expect(out.map((x) => (x.status === 'invalid' ? x.reason : x.status))).toEqual(['accepted', 'key-epoch']);
      await store.close();
    });

    it('bills: the first stored under an id is kept for good (racing writers too) and survives a reopen', async () => {
      const store = await o.open();
      const id = 'ab'.repeat(32);
      const first = JSON.stringify({ id, meterId: 'MPAN-7', total: '100' });
      expect(await store.getBill(id)).toBeUndefined();
      expect(await store.putBill(id, first)).toBe(first);
      // The same request decrypted again (another decryption share of the center) changes nothing.
      expect(await store.putBill(id, JSON.stringify({ id, meterId: 'MPAN-7', total: '100', other: true }))).toBe(first);
      expect(await store.getBill(id)).toBe(first);
      await store.close();
      const [a, b, c] = await Promise.all([o.open(), o.open(), o.open()]);
      expect(await a!.getBill(id)).toBe(first);
      // Three stores racing for one new id: all answer the one that was stored.
      const raced = 'cd'.repeat(32);
      const answers = await Promise.all([a!, b!, c!].map((s, i) => s.putBill(raced, JSON.stringify({ id: raced, writer: i }))));
      expect(new Set(answers).size).toBe(1);
      expect(await b!.getBill(raced)).toBe(answers[0]);
      expect(await c!.getBill('ef'.repeat(32))).toBeUndefined();
      await Promise.all([a!, b!, c!].map((s) => s.close()));
    });

    it('racing writers of the same records store each exactly once', async () => {
      const stores = await Promise.all([o.open(), o.open(), o.open()]);
      const m = new Meter({ meterId: 'M-race', signingKey: randomScalar(rand), utilityKey, rng: rand });
      await stores[0]!.putMeter({ meterId: 'M-race', publicKey: m.publicKey, meterClass: HOUSEHOLD, feeder: undefined, keyEpoch: 0 });
      const T = DAY + 3 * 86_400;
      const recs = [m.daily(T, [1n, 2n]), m.reading(T + 1800, 3n), m.daily(T, [7n, 8n])]; // the third competes with the first
      const verdicts = verifyRecordBatch(
        recs.map((r) => r.bytes),
        () => ({ publicKey: m.publicKey, meterClass: HOUSEHOLD, keyEpoch: 0 }),
        utilityKey,
      ).map((v) => {
        if (!v.ok) throw new Error(v.detail);
        return v;
      });
      const results = await Promise.all(stores.flatMap((s, i) => [s.putRecords(i === 2 ? [...verdicts].reverse() : verdicts), s.putRecords(verdicts)]));
      const all = results.flat();
      expect(all.filter((p) => p.status === 'stored').length).toBe(2); // one of recs[0]/recs[2], and recs[1]
      const held = await stores[1]!.readings('M-race', T, T + 3 * 900);
      expect(held.length).toBe(3);
      expect(new Set(held.slice(0, 2).map((r) => r.recordId)).size).toBe(1); // both intervals from one record
      await Promise.all(stores.map((s) => s.close()));
    });
  });
}
