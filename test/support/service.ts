/**
 * Test helper: `zkmeter serve` from dist/ (built by npm test's pretest step)
 * as a child process on a free loopback port (lib/server/spawn.ts). Unless the
 * arguments name a mode (`--authority` or `--single-operator`), the service
 * runs in single-operator mode and makes its keys in `--keys DIR` on first
 * start (`--single-operator --init`): what the tests that are not about the
 * remote authority need. `spawnServe` itself takes the arguments as given.
 */
import { spawnServe, type ServeProcess } from '../../dist/lib/server/spawn.js';

export { CLI, spawnServe, type ServeProcess as Service } from '../../dist/lib/server/spawn.js';

/** The arguments with `--single-operator --init` added when they name no mode. */
export function withMode(args: readonly string[]): string[] {
  return args.includes('--authority') || args.includes('--single-operator') ? [...args] : ['--single-operator', '--init', ...args];
}

export function startService(args: readonly string[], env: Record<string, string> = {}, startTimeoutMs?: number): Promise<ServeProcess> {
  return spawnServe(withMode(args), env, startTimeoutMs);
}
