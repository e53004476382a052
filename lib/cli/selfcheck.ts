/**
 * `zkmeter selfcheck` (what `npm start` runs until the billing demo exists):
 * loads both backends, checks that they agree byte for byte on random point
 * operations and MSMs, derives the generators, and times one MSM on each.
 * @module
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { loadBackend, nativeAvailable, backendName, backendFallbackReason, type Group } from '../backend/index.js';
import { equalBytes, scalarsToBytes } from '../backend/bytes.js';
import { pedersenH, vectorGenerators } from '../crypto/generators.js';
import { randomScalars } from '../crypto/random.js';
import { timeMs } from '../../bench/msm.js';


export function runSelfcheck(log: (line: string) => void): Record<string, unknown> {
  const js = loadBackend('js');
  const native = nativeAvailable() ? loadBackend('native') : null;
  log(`active backend: ${backendName()}${backendFallbackReason() ? ` (fell back: ${backendFallbackReason()})` : ''}`);
  const checks: { name: string; agree: boolean }[] = [];
  const compare = (name: string, f: (g: Group) => Uint8Array) => {
    if (native === null) return;
    const agree = equalBytes(f(native), f(js));
    checks.push({ name, agree });
    log(`  ${agree ? 'ok  ' : 'FAIL'} ${name}: native and js ${agree ? 'agree' : 'DISAGREE'}`);
  };

  const { G, H } = vectorGenerators(64);
  const h = pedersenH();
  log(`generators: H = ${bytesToHex((native ?? js).compress(h))} (RFC 9380, DST zkmeter/v1), 64 vector bases`);

  const k = scalarsToBytes(randomScalars(64));
  const k2 = scalarsToBytes(randomScalars(64));
  compare('mulGen ×64', (g) => g.mulGen(k));
  compare('mul (constant time) ×64', (g) => g.mul(G, k));
  compare('mulVartime ×64', (g) => g.mulVartime(H, k2));
  compare('add ×64', (g) => g.add(G, H));
  compare('compress/decompress ×64', (g) => g.decompress(g.compress(g.negate(G))));
  const gs = scalarsToBytes(randomScalars(1));
  compare('msm 64 table + 64 points + G', (g) =>
    g.msm({ table: g.createTable(G), tableScalars: k, points: H, scalars: k2, gScalar: gs }),
  );

  const points = (native ?? js).mulGen(scalarsToBytes(randomScalars(128)));
  const scalars = scalarsToBytes(randomScalars(128));
  compare('msm 128 points', (g) => g.msm({ points, scalars }));
  const jsMs = timeMs(() => js.msm({ points, scalars }), 200);
  const nativeMs = native ? timeMs(() => native.msm({ points, scalars }), 200) : null;
  log(
    `msm of 128 points: js ${jsMs.toFixed(2)} ms` +
      (nativeMs === null ? ' (native addon not available)' : `, native ${nativeMs.toFixed(3)} ms (${(jsMs / nativeMs).toFixed(1)}× faster)`),
  );
  const ok = checks.every((c) => c.agree);
  log(ok ? 'selfcheck passed' : 'selfcheck FAILED');
  if (!ok) process.exitCode = 1;
  return {
    ok,
    backend: backendName(),
    nativeAvailable: native !== null,
    checks,
    msm128: { jsMs, nativeMs },
  };
}
