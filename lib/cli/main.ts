#!/usr/bin/env node
/**
 * The `zkmeter` command line (SPEC.md, "Command line"). Every command prints one
 * JSON object on stdout; progress goes to stderr. Exit 0 on success, 2 on bad
 * usage or input with one `error: …` line on stderr and no stack trace.
 * @module
 */
import { parseArgs } from 'node:util';
import { ZkmeterError } from '../errors.js';
import { VERSION } from '../version.js';
import { backendFallbackReason, backendName } from '../backend/index.js';
import { runSelfcheck } from './selfcheck.js';

/** A user error: printed as one line, exit code 2. */
export class UsageError extends Error {}

type Options = Record<string, string | boolean | undefined>;

interface Command {
  summary: string;
  options: Record<string, { type: 'string' | 'boolean' }>;
  run(opts: Options): Promise<unknown> | unknown;
}

const commands: Record<string, Command> = {
  version: {
    summary: 'print the version and the active backend',
    options: {},
    run: () => ({ version: VERSION, backend: backendName(), fallback: backendFallbackReason() ?? null }),
  },
  selfcheck: {
    summary: 'cross-check the native and TypeScript backends on random inputs and time them',
    options: {},
    run: () => runSelfcheck((line) => process.stderr.write(line + '\n')),
  },
  bench: {
    summary: 'run the benchmark suite (--quick for a short run, --json for one JSON line)',
    options: { quick: { type: 'boolean' }, json: { type: 'boolean' } },
    async run(opts) {
      const { runBench } = await import('./bench.js');
      return runBench({ quick: opts.quick === true, json: opts.json === true });
    },
  },
};

function usage(): string {
  const lines = ['usage: zkmeter <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'ZKMETER_BACKEND=native|js forces a backend.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands[name === '--version' || name === '-v' ? 'version' : name];
  if (command === undefined) throw new UsageError(`unknown command '${name}' (try 'zkmeter help')`);
  let values: Options;
  try {
    values = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!);
  }
  const result = await command.run(values);
  if (result !== undefined) process.stdout.write(JSON.stringify(result) + '\n');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || e instanceof ZkmeterError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`error: internal error: ${msg}\n`);
      if (process.env.ZKMETER_DEBUG) console.error(e);
      process.exitCode = 70;
    }
  },
);
