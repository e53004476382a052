/**
 * The privacy authority's service as the tests run it: a World's key and
 * authority share, its provisioning key, the two-rate tariff and the test
 * policy, over a store at `db`, listening on a loopback port of its own.
 */
import { randomScalar } from '../../lib/crypto/random.js';
import { schnorrPublicKey } from '../../lib/crypto/schnorr.js';
import { buildAuthorityServer, type AuthorityLimits, type AuthorityServer } from '../../lib/server/authority-app.js';
import { openAuthorityStore } from '../../lib/server/authority-store.js';
import type { SigningKey } from '../../lib/server/keys.js';
import { HOURLY, TEST_POLICY, TWO_RATE, type World } from './world.js';

/** A fresh BIP340 identity key from `rand`. */
export function testIdentity(rand: (n: number) => Uint8Array): SigningKey {
  const secretKey = randomScalar(rand);
  return { secretKey, publicKey: schnorrPublicKey(secretKey) };
}

export async function startTestAuthority(
  w: World,
  o: { db: string; identity: SigningKey; centerKeys: readonly Uint8Array[]; limits?: Partial<AuthorityLimits>; https?: { key: string; cert: string } },
): Promise<AuthorityServer> {
  const s = await buildAuthorityServer({
    store: await openAuthorityStore(o.db),
    key: w.key,
    share: w.authorityShare,
    identity: o.identity,
    centerKeys: o.centerKeys,
    provisioningKeys: [w.provisioningKey],
    tariffs: [TWO_RATE],
    policy: TEST_POLICY,
    meterClasses: [HOURLY],
    ...(o.limits !== undefined ? { limits: o.limits } : {}),
    ...(o.https !== undefined ? { https: o.https } : {}),
  });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  return s;
}
