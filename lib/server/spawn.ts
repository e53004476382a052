/**
 * `zkmeter serve` as a child process: started on the arguments given, resolved
 * once its stdout's `{"listening": URL}` line arrives (after the workers are
 * warm), with its memory read from Linux's /proc. What the load bench and the
 * reliability tests drive; a supervisor could use it too.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The compiled CLI beside this module. */
export const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** What the server wrote on stderr so far. */
  stderr(): string;
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
export async function spawnServe(args: readonly string[], env: Record<string, string> = {}, startTimeoutMs = 60_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start within ${startTimeoutMs / 1000} s: ${err}`)), startTimeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { listening: string }).listening);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
  return {
    url,
    child,
    stderr: () => err,
    rss: () => procStatus(child.pid!, 'VmRSS'),
    peakRss: () => procStatus(child.pid!, 'VmHWM'),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
