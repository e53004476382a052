/**
 * Parses `zkmeter demo` options (see main.ts) and runs the demo.
 * @module
 */
import { readTariff } from './protocol.js';
import { parseSmallInt, UsageError } from './parse.js';

function parseShare(text: string | undefined, flag: string): number {
  const v = Number(text);
  if (typeof text !== 'string' || !/^(0|1|0?\.[0-9]+)$/.test(text) || !(v >= 0 && v <= 1)) {
    throw new UsageError(`${flag} expected a share between 0 and 1, got '${text ?? ''}'`);
  }
  return v;
}

export async function demoCommand(o: Record<string, string | undefined>): Promise<{ ok: boolean; summary: Record<string, unknown> }> {
  if (o.backend !== undefined) {
    if (o.backend !== 'native' && o.backend !== 'js') throw new UsageError(`--backend expected native or js, got '${o.backend}'`);
    process.env.ZKMETER_BACKEND = o.backend; // before the first backend use; workers inherit it
  }
  const interval = parseSmallInt(o.interval, '--interval', 15, 30);
  if (interval !== 15 && interval !== 30) throw new UsageError(`--interval expected 15 or 30 minutes, got ${interval}`);
  const bits = parseSmallInt(o.bits, '--bits', 16, 32);
  if (bits !== 16 && bits !== 32) throw new UsageError(`--bits expected 16 or 32, got ${bits}`);
  if (o.mode !== 'daily' && o.mode !== 'reading') throw new UsageError(`--mode expected daily or reading, got '${o.mode ?? ''}'`);
  const { runDemo, defaultWorkers } = await import('./demo.js');
  const today = Math.floor(Date.now() / 86_400_000) * 86_400;
  return runDemo(
    {
      meters: parseSmallInt(o.meters, '--meters', 1, 100_000),
      days: parseSmallInt(o.days, '--days', 1, 366),
      intervalSeconds: interval * 60,
      bits,
      mode: o.mode,
      abnormalShare: parseShare(o.abnormal, '--abnormal'),
      tamperedShare: parseShare(o.tampered, '--tampered'),
      workers: o.workers !== undefined ? parseSmallInt(o.workers, '--workers', 1, 256) : defaultWorkers(),
      seed: parseSmallInt(o.seed, '--seed', 0, 2 ** 31),
      start: today - 86_400 * parseSmallInt(o.days, '--days', 1, 366),
      tariff: readTariff(o),
    },
    (line) => process.stderr.write(line + '\n'),
  );
}
