#!/usr/bin/env node
/**
 * The `zkmeter` command line (SPEC.md, "Command line"), on commander. Every
 * command prints one JSON object on stdout; progress goes to stderr.
 * Exit 0 on success, 1 when a proof does not verify, 2 on bad usage or input
 * (one `error: …` line on stderr, never a stack trace).
 * @module
 */
import { Command, CommanderError } from 'commander';
import { ZkmeterError } from '../errors.js';
import { VERSION } from '../version.js';
import { backendFallbackReason, backendName } from '../backend/index.js';
import { UsageError } from './parse.js';
import { decryptCommand, encryptCommand, keygenCommand } from './elgamal.js';
import { proveCommand, verifyCommand } from './proofs.js';
import { runSelfcheck } from './selfcheck.js';

type Result = Record<string, unknown> | undefined;

function print(result: Result): void {
  if (result !== undefined) process.stdout.write(JSON.stringify(result) + '\n');
}

function versionInfo(): Result {
  return { version: VERSION, backend: backendName(), fallback: backendFallbackReason() ?? null };
}

export function buildProgram(): Command {
  const program = new Command('zkmeter')
    .description('Privacy-preserving smart-meter billing on secp256k1. ZKMETER_BACKEND=native|js forces a backend.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showSuggestionAfterError(false)
    .helpCommand(true);

  program
    .command('version')
    .description('print the version and the active backend')
    .action(() => print(versionInfo()));

  program
    .command('keygen')
    .description('make an ElGamal key pair: {"secretKey","publicKey"}')
    .action(() => print(keygenCommand()));

  program
    .command('encrypt')
    .description('encrypt an integer: {"ciphertext"}')
    .requiredOption('--public-key <hex>', '33-byte compressed public key, hex')
    .requiredOption('--value <int>', 'integer 0 <= value < n')
    .action((o) => print(encryptCommand(o)));

  program
    .command('decrypt')
    .description('decrypt a ciphertext whose value is in [0, max]: {"value"}')
    .requiredOption('--secret-key <hex>', '32-byte secret key, hex')
    .requiredOption('--ciphertext <hex>', '66-byte ciphertext, hex')
    .option('--max <int>', 'largest value to search for (default 2^32)')
    .option('--table-bits <int>', 'baby-step table size 2^bits (default 18; use 24 for values up to 2^48)')
    .action((o) => print(decryptCommand(o)));

  const rangeOptions = (c: Command) =>
    c
      .option('--min <int>', 'smallest allowed value (default 0)')
      .option('--max <int>', 'largest allowed value (default min + 2^bits − 1)')
      .option('--bits <n>', 'range proof bit length: 8, 16, 32 or 64 (default 64)')
      .option('--context <str>', 'context bound into both proofs, e.g. a meter id and period (default empty)');

  rangeOptions(
    program
      .command('prove')
      .description('encrypt a value and prove it lies in [min, max]: {"ciphertext","commitment","rangeProof","equivalenceProof"}')
      .requiredOption('--public-key <hex>', '33-byte compressed public key, hex')
      .requiredOption('--value <int>', 'the reading, an integer in [min, max]'),
  ).action((o) => print(proveCommand(o)));

  rangeOptions(
    program
      .command('verify')
      .description('verify a reading\'s proofs: {"valid":true}, or {"valid":false,"reason"} with exit 1')
      .requiredOption('--public-key <hex>', '33-byte compressed public key, hex')
      .requiredOption('--ciphertext <hex>', '66-byte ciphertext, hex')
      .requiredOption('--commitment <hex>', '33-byte Pedersen commitment, hex')
      .requiredOption('--range-proof <hex>', 'Bulletproofs range proof, hex')
      .requiredOption('--equivalence-proof <hex>', '130-byte proof of equivalence, hex'),
  ).action((o) => {
    const outcome = verifyCommand(o);
    print(outcome as unknown as Result);
    if (!outcome.valid) process.exitCode = 1;
  });

  program
    .command('selfcheck')
    .description('cross-check the native and TypeScript backends on random inputs and time them')
    .action(() => print(runSelfcheck((line) => process.stderr.write(line + '\n'))));

  program
    .command('bench')
    .description('run the benchmark suite; the last stdout line is {"machine","metrics"}')
    .option('--quick', 'fewer repetitions (CI smoke run)')
    .option('--json', 'print only the JSON object on stdout (the table goes to stderr either way)')
    .action(async (o: { quick?: boolean; json?: boolean }) => {
      const { runBench } = await import('./bench.js');
      print(runBench({ quick: o.quick === true, json: o.json === true }) as Result);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-v') argv = ['version', ...argv.slice(1)];
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed its one-line "error: …" or the help text. Help that
      // was asked for exits 0; help shown because no command was given is a usage error.
      return e.exitCode === 0 ? 0 : 2;
    }
    throw e;
  }
  return process.exitCode === undefined ? 0 : Number(process.exitCode);
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
