// The meters of the deployment test (test/deployment.test.ts), run on their own host:
// `node meter-host.mjs JOB.json`. The installer's provisioning key certifies each meter, the
// center registers the certificates (admin), each meter seals its days as signed daily records
// under the utility key it was provisioned with, submits them over HTTP, and writes its
// customer's meter export (readings, blindings, records, and the utility's shared key and the
// authority's identity key it trusts). Prints one JSON line: what was accepted.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const dist = job.dist;
const { Meter, HOUSEHOLD, certifyMeter, meterExportToJson, sharedKeyFromJson } = await import(join(dist, 'lib/protocol/index.js'));
const { readSigningKeyFile, ServiceClient } = await import(join(dist, 'lib/server/index.js'));
const { randomScalar } = await import(join(dist, 'lib/crypto/random.js'));
const { hexToBytes } = await import(join(dist, 'lib/crypto/codec.js'));

// A second run only submits the records the first one held back (sealed, not yet sent).
if (job.submitHeld) {
  const client = new ServiceClient(job.url, { maxRetries: 0 });
  const held = JSON.parse(readFileSync(join(job.out, 'held.json'), 'utf8')).map((h) => hexToBytes(h));
  const res = await client.submit(held);
  process.stdout.write(JSON.stringify({ accepted: res.accepted + res.abnormal, invalid: res.invalid }) + '\n');
  process.exit(0);
}
const key = sharedKeyFromJson(JSON.parse(readFileSync(job.sharedKeyFile, 'utf8')));
const provisioning = readSigningKeyFile(job.provisioningKeyFile);
const client = new ServiceClient(job.url, { token: job.token, maxRetries: 0 });
const meters = job.meters.map((meterId) => {
  const signingKey = randomScalar();
  return { meterId, signingKey, meter: new Meter({ meterId, signingKey, utilityKey: key.publicKey, meterClass: HOUSEHOLD, keyEpoch: 0, tariffVersion: job.tariffVersion }), records: [] };
});
if (job.register) {
  await client.registerCertificates(
    meters.map((m) => certifyMeter({ meterId: m.meterId, publicKey: m.meter.publicKey, keyEpoch: 0, validFrom: job.validFrom, feeder: job.feeder, meterClass: HOUSEHOLD }, provisioning.secretKey)),
  );
}
let accepted = 0;
const held = [];
for (const day of job.days) {
  const records = meters.map((m, k) => {
    const wh = Array.from({ length: 96 }, (_, i) => BigInt(100 + ((i * 37 + k * 101 + day * 5) % 900)));
    const r = m.meter.daily(job.start + day * 86_400, wh);
    m.records.push(r.bytes);
    return r.bytes;
  });
  if ((job.hold ?? []).includes(day)) held.push(...records.map((b) => Buffer.from(b).toString('hex')));
  else {
    const res = await client.submit(records);
    accepted += res.accepted + res.abnormal;
  }
}
writeFileSync(join(job.out, 'held.json'), JSON.stringify(held));
for (const m of meters) {
  const x = { meterId: m.meterId, meterPublicKey: m.meter.publicKey, openings: m.meter.export(), records: m.records, sharedKey: key, authorityKey: hexToBytes(job.authorityKey) };
  writeFileSync(join(job.out, `${m.meterId}.export.json`), JSON.stringify(meterExportToJson(x)));
}
process.stdout.write(JSON.stringify({ accepted, meters: meters.length }) + '\n');
