/**
 * Separate hosts on one machine for deployment tests: one Linux network
 * namespace per host (`ip netns`, Debian's iproute2), each with a veth pair
 * into a bridge in the test's own namespace, which gets the subnet's first
 * address so the test can reach every host. Names and the subnet derive from
 * the process id, so concurrent test processes do not collide; `cleanup`
 * removes everything this made (and kills what runs inside).
 *
 * Without root or `ip` (or when any step fails), `makeHosts` says why and
 * returns loopback "hosts" instead: the same scenario on 127.0.0.1 ports.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { CLI } from '../../dist/lib/server/spawn.js';

export interface Host {
  readonly name: string;
  /** The address services on it listen on and others reach it at. */
  readonly address: string;
  /** The command prefix that runs a program on it (`ip netns exec NS`), empty on loopback. */
  readonly wrap: readonly string[];
}

export interface Hosts {
  readonly hosts: Record<string, Host>;
  /** True when the hosts are separate network namespaces. */
  readonly separate: boolean;
  /** Why they are not, when they are not. */
  readonly why?: string;
  cleanup(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Network namespaces for `names` (at most 8), or loopback with the reason. */
export function makeHosts(names: readonly string[]): Hosts {
  const loopback = (why: string): Hosts => ({
    hosts: Object.fromEntries(names.map((n) => [n, { name: n, address: '127.0.0.1', wrap: [] }])),
    separate: false,
    why,
    cleanup: () => {},
  });
  if (process.getuid?.() !== 0) return loopback('not root: network namespaces need CAP_NET_ADMIN');
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return loopback("no 'ip' command (apt-get install iproute2)");
  }
  const id = process.pid % 10_000;
  const subnet = `10.${100 + (process.pid % 100)}.${Math.floor(process.pid / 100) % 250}`;
  const bridge = `zkbr${id}`;
  const made: string[] = [];
  const cleanup = () => {
    for (const ns of made) {
      try {
        // Kill whatever still runs inside, then drop the namespace (and its veth end).
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean);
        for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
      try {
        ip('netns', 'del', ns);
      } catch {
        /* already gone */
      }
    }
    try {
      ip('link', 'del', bridge);
    } catch {
      /* already gone */
    }
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    const hosts: Record<string, Host> = {};
    names.forEach((n, i) => {
      const ns = `zk${id}${n.slice(0, 6)}`;
      const outer = `zk${id}o${i}`;
      const inner = `zk${id}i${i}`;
      ip('netns', 'add', ns);
      made.push(ns);
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
      ip('link', 'set', inner, 'netns', ns);
      ip('link', 'set', outer, 'master', bridge);
      ip('link', 'set', outer, 'up');
      const address = `${subnet}.${i + 2}`;
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', inner);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', inner, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      ip('netns', 'exec', ns, 'ip', 'route', 'add', 'default', 'via', `${subnet}.1`);
      hosts[n] = { name: n, address, wrap: ['ip', 'netns', 'exec', ns] };
    });
    return { hosts, separate: true, cleanup };
  } catch (e) {
    cleanup();
    return loopback(`could not make network namespaces: ${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}`);
  }
}

/** A zkmeter CLI process on a host. */
export interface HostProcess {
  readonly child: ChildProcess;
  /** The first JSON line of its stdout (a service's listening line), once it came. */
  readonly firstLine: Promise<Record<string, unknown>>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `zkmeter ARGS…` (or, with `node`, `node ARGS…`) on `host` with `env`: only what is
 * given, plus PATH and the backend, so that nothing else (no secret of the test) leaks in.
 */
export function runOn(host: Host, args: readonly string[], env: Record<string, string> = {}, o: { node?: boolean } = {}): HostProcess {
  const command = [...host.wrap, process.execPath, ...(o.node ? [] : [CLI]), ...args];
  const child = spawn(command[0]!, command.slice(1), {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(process.env.ZKMETER_BACKEND ? { ZKMETER_BACKEND: process.env.ZKMETER_BACKEND } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const firstLine = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').slice(0, -1).find((l) => l.startsWith('{')); // whole lines only
      if (line !== undefined) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    void exited.then((code) => reject(new Error(`zkmeter ${args.slice(0, 2).join(' ')} on ${host.name} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`)));
  });
  firstLine.catch(() => undefined);
  return {
    child,
    firstLine,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a one-shot `zkmeter ARGS…` on `host`: its parsed JSON output, or throws with its error line. */
export async function runOnce(host: Host, args: readonly string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const p = runOn(host, args, env);
  const code = await p.exited;
  if (code !== 0) throw new Error(`zkmeter ${args.slice(0, 3).join(' ')} on ${host.name} exited with ${code}: ${p.stderr().trim()}`);
  return JSON.parse(p.stdout().trim().split('\n').at(-1)!) as Record<string, unknown>;
}
