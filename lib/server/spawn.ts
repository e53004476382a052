/**
 * `zkmeter serve` as a child process: started on the arguments given, resolved
 * once its stdout's `{"listening": URL, …}` line arrives (after the workers are
 * warm), with its memory read from Linux's /proc. What the load bench and the
 * reliability tests drive; a supervisor could use it too. The arguments must
 * say how the privacy authority is reached (`--authority URL` or
 * `--single-operator`, with `--init` for a key directory yet to be made):
 * nothing here picks a mode, or makes keys, for the caller.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The compiled CLI beside this module. */
export const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface ServeProcess {
  /** The address it bound, from its listening line (https:// when it serves TLS); '' for a command that prints none. */
  readonly url: string;
  /** Its whole listening line: `{"listening"}`, plus `singleOperator` and `warning` in single-operator mode. */
  readonly listening: Readonly<Record<string, unknown>>;
  readonly child: ChildProcess;
  /** What it wrote on stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once it exits. */
  readonly exited: Promise<number | null>;
  /** Resident set size now, bytes. */
  rss(): number;
  /** Peak resident set size so far, bytes (VmHWM). */
  peakRss(): number;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop: queued records are committed first), then wait; the exit code. */
  stop(): Promise<number | null>;
}

function procStatus(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Starts `zkmeter serve --port 0 ARGS…` with `env` added to this process's environment. */
export function spawnServe(args: readonly string[], env: Record<string, string> = {}, startTimeoutMs = 60_000): Promise<ServeProcess> {
  return spawnCli(['serve', '--port', '0', ...args], env, startTimeoutMs);
}

/**
 * Starts `zkmeter ARGS…` with `env` added to this process's environment; resolves once its
 * stdout's first JSON line (a service's `{"listening": URL, …}`) arrives, or at once
 * with `waitForLine: false` (a one-shot command: await `exited`).
 */
export async function spawnCli(args: readonly string[], env: Record<string, string> = {}, startTimeoutMs = 60_000, o: { waitForLine?: boolean } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening =
    o.waitForLine === false
      ? {}
      : await new Promise<Record<string, unknown>>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`zkmeter ${args[0]} did not start within ${startTimeoutMs / 1000} s: ${err}`)), startTimeoutMs);
          const look = () => {
            const line = out.split('\n').slice(0, -1).find((l) => l.startsWith('{')); // whole lines only
            if (line === undefined) return;
            clearTimeout(timer);
            child.stdout!.off('data', look);
            resolve(JSON.parse(line) as Record<string, unknown>);
          };
          child.stdout!.on('data', look);
          void exited.then((code) => {
            clearTimeout(timer);
            reject(new Error(`zkmeter ${args[0]} exited with ${code}: ${err}`));
          });
        });
  return {
    url: typeof listening.listening === 'string' ? listening.listening : '',
    listening,
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    rss: () => procStatus(child.pid!, 'VmRSS'),
    peakRss: () => procStatus(child.pid!, 'VmHWM'),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
