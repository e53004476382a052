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

  // The protocol across processes, with files (docs/protocol.md).
  const keys = program.command('keys').description('key management');
  keys
    .command('dkg')
    .description('distributed key generation of the utility key: writes shared-key.json and one <party>.share.json per party')
    .requiredOption('--out <dir>', 'directory for the key files')
    .option('--parties <names>', 'comma-separated party names (default control-center,privacy-authority)')
    .option('--threshold <t>', 'shares needed to decrypt (default 2)')
    .option('--force', 'replace existing key files in --out (without it, existing key files are never overwritten)')
    .action(async (o) => print((await import('./protocol.js')).keysDkgCommand(o)));
  keys
    .command('provisioning')
    .description('make a provisioning key (BIP340), which certifies meters: writes {"secretKey","publicKey"} (mode 0600), prints {"publicKey","out"}')
    .requiredOption('--out <file>', 'the key file to create (never overwritten)')
    .action(async (o) => print((await import('./protocol.js')).keysProvisioningCommand(o)));
  const meter = program.command('meter').description('meter side');
  meter
    .command('keygen')
    .description('make a meter signing key: {"signingKey","publicKey"} (BIP340, x-only)')
    .option('--meter-id <id>', 'echoed in the output')
    .action(async (o) => print((await import('./protocol.js')).meterKeygenCommand(o)));
  meter
    .command('certify')
    .description('certify a household meter\'s key with a provisioning key: {"certificate","meterId","keyEpoch","feeder"}, appended to --out as a JSON line')
    .requiredOption('--provisioning-key <file>', 'the provisioning key file (from `keys provisioning`)')
    .requiredOption('--meter-id <id>', 'the meter id (1 to 64 printable ASCII characters)')
    .requiredOption('--meter-key <hex>', "the meter's 32-byte public key (x-only), hex")
    .requiredOption('--feeder <f>', 'the feeder the meter hangs on')
    .option('--key-epoch <n>', 'the key epoch: 0 when installed, raised by every re-key (default 0)')
    .option('--valid-from <time>', 'when the key starts signing readings: Unix seconds or ISO 8601 UTC (default: now)')
    .option('--out <file>', 'certificates file (JSON lines), appended to')
    .action(async (o) => print((await import('./protocol.js')).meterCertifyCommand(o)));
  meter
    .command('seal')
    .description('seal readings into signed records, appended to --out as JSON lines')
    .requiredOption('--meter-id <id>', 'the meter id')
    .requiredOption('--signing-key <hex>', "the meter's 32-byte signing key, hex")
    .requiredOption('--utility-key <hex>', "the utility's 33-byte public key, hex")
    .requiredOption('--start <time>', 'start of the first interval: Unix seconds or ISO 8601 UTC')
    .requiredOption('--readings <list>', 'comma-separated Wh per 15-minute interval')
    .requiredOption('--out <file>', 'records file (JSON lines), appended to')
    .option('--daily', 'one daily record for all readings (default: one record per reading)')
    .option('--sequence <n>', 'first sequence number (default 0)')
    .option('--key-epoch <n>', "the signing key's epoch, as its certificate states (default 0)")
    .option('--tariff-version <n>', 'the tariff version the records are sealed under (default 1, the built-in tariff)')
    .option('--export <file>', "the customer's export (readings and blindings, JSON lines), appended to")
    .action(async (o) => print((await import('./protocol.js')).meterSealCommand(o)));
  meter
    .command('export')
    .description("write the customer's meter export (one JSON file) for the bill-check page at /check")
    .requiredOption('--meter-id <id>', 'the meter id')
    .requiredOption('--meter-key <hex>', "the meter's 32-byte public key (x-only), hex")
    .requiredOption('--records <file>', 'the meter\'s records (JSON lines, from `meter seal --out`)')
    .requiredOption('--export <file>', 'its readings and blindings (JSON lines, from `meter seal --export`)')
    .requiredOption('--out <file>', 'the meter export to write (JSON)')
    .action(async (o) => print((await import('./protocol.js')).meterExportCommand(o)));
  const center = program.command('center').description('control-center side');
  center
    .command('verify')
    .description('verify a records file: summary and one outcome per record; exit 1 if any is invalid')
    .option('--certificates <file>', 'meter certificates (JSON lines, from `meter certify --out`)')
    .option('--provisioning-key-public <hex>', 'with --certificates: the x-only public key(s) of the trusted provisioning keys, comma-separated')
    .option('--provisioning-key <file>', 'or: the provisioning key file, for its public key')
    .option('--registry <file>', 'or, without certificates: meters (JSON lines: {"meterId","publicKey","feeder"?,"keyEpoch"?})')
    .requiredOption('--records <file>', 'records (JSON lines)')
    .option('--utility-key <hex>', "the utility's 33-byte public key, hex")
    .option('--key <file>', 'or: shared-key.json')
    .action(async (o) => {
      const r = await (await import('./protocol.js')).centerVerifyCommand(o);
      print(r.result);
      if (!r.allValid) process.exitCode = 1;
    });
  center
    .command('bill')
    .description("verify a meter's records and issue its bill with threshold decryption (both shares' files)")
    .requiredOption('--key <file>', 'shared-key.json')
    .requiredOption('--center-share <file>', "the control center's share file")
    .requiredOption('--authority-share <file>', "the privacy authority's share file")
    .requiredOption('--certificates <file>', 'meter certificates (JSON lines, from `meter certify --out`): the registry of both sides')
    .option('--provisioning-key-public <hex>', 'the x-only public key(s) of the provisioning keys the authority trusts, comma-separated')
    .option('--provisioning-key <file>', 'or: the provisioning key file, for its public key')
    .requiredOption('--records <file>', 'records (JSON lines)')
    .requiredOption('--meter <id>', 'the meter to bill')
    .requiredOption('--from <time>', 'start of the period: Unix seconds or ISO 8601 UTC')
    .requiredOption('--to <time>', 'end of the period (exclusive)')
    .option('--tariff <file>', 'tariff JSON (default: the built-in three-rate tariff)')
    .option('--min-intervals <n>', "the authority's policy: fewest readings in a bill, at least 3 (default 48)")
    .option('--out <file>', 'also write the bill JSON here')
    .action(async (o) => print(await (await import('./protocol.js')).centerBillCommand(o)));
  program
    .command('check-bill')
    .description("the customer's check of a bill against their meter's export; exit 1 if it is wrong")
    .requiredOption('--bill <file>', 'the bill JSON')
    .requiredOption('--records <file>', 'the signed records (JSON lines)')
    .requiredOption('--export <file>', "the meter's export (JSON lines)")
    .requiredOption('--key <file>', 'shared-key.json')
    .requiredOption('--meter-key <hex>', "the meter's 32-byte public key, hex")
    .option('--tariff <file>', 'tariff JSON (default: the built-in tariff)')
    .option('--earlier-bills <file>', "the meter's earlier bills (JSON lines): a period overlapping one is flagged")
    .action(async (o) => {
      const r = (await import('./protocol.js')).customerCheckCommand(o);
      print(r.result);
      if (!r.ok) process.exitCode = 1;
    });

  program
    .command('serve')
    .description('run the control-center service; prints {"listening":"http://HOST:PORT"} once ready (admin token: ZKMETER_ADMIN_TOKEN)')
    .option('--port <n>', 'TCP port, 0 for any free one (default 8080)')
    .option('--host <h>', 'address to listen on (default 127.0.0.1)')
    .option('--db <path|url>', 'SQLite file (default ./zkmeter.db) or a postgres:// URL')
    .option('--keys <dir>', 'key directory from `zkmeter keys dkg` (default: <db>.keys, made on first start)')
    .option('--workers <n>', 'verification worker threads (default: the number of cores)')
    .option('--tariff <file>', 'tariff JSON (default: the built-in three-rate tariff)')
    .option('--min-intervals <n>', "the privacy authority's policy: fewest intervals in a bill (default 48)")
    .option('--body-limit <bytes>', 'largest request body (default 33554432)')
    .option('--max-records <n>', 'most records per submission (default 1000)')
    .option('--provisioning-keys <hexes>', "comma-separated x-only public keys of the provisioning keys whose meter certificates are trusted (default: one made in the keys directory on first start)")
    .action(async (o: Record<string, string | undefined>) => {
      const { serveCommand } = await import('./serve.js');
      await serveCommand(o);
    });

  program
    .command('simulate')
    .description('drive a running service with simulated meters over HTTP: progress on stderr, a summary on stdout; exit 1 if any record is rejected')
    .requiredOption('--url <url>', 'the service, e.g. http://127.0.0.1:8080')
    .option('--meters <n>', 'number of meters (default 20)')
    .option('--days <n>', 'days of 15-minute readings per meter, one daily record each (default 1)')
    .option('--start <unix>', 'first day, a UTC midnight in Unix seconds (default: the last whole days)')
    .option('--batch <n>', 'records per request (default 16)')
    .option('--concurrency <n>', 'concurrent requests (default 4)')
    .option('--workers <n>', 'sealing worker threads (default: the number of cores)')
    .option('--abnormal <share>', 'share of readings that are abnormal spikes (default 0.002)')
    .option('--seed <n>', 'seed of the simulated load (default 1)')
    .option('--token <t>', 'admin token for registering meters (default: ZKMETER_ADMIN_TOKEN)')
    .option('--provisioning-key <file>', 'the provisioning key file that certifies the simulated meters ({"secretKey","publicKey"})')
    .option('--keys <dir>', "or: the service's key directory, whose provisioning.key.json certifies them")
    .action(async (o: Record<string, string | undefined>) => {
      const { simulateCommand } = await import('./simulate.js');
      const { ok, summary } = await simulateCommand(o);
      print(summary as unknown as Result);
      if (!ok) process.exitCode = 1;
    });

  program
    .command('demo')
    .description('run a full billing cycle: meters, verification, threshold billing, customer checks (what npm start runs)')
    .option('--meters <n>', 'number of meters (default 200)', '200')
    .option('--days <n>', 'days of readings (default 1)', '1')
    .option('--interval <minutes>', 'reading interval in minutes: 15 or 30 (default 15)', '15')
    .option('--bits <n>', 'range proof bit length: 16 or 32 (default 16)', '16')
    .option('--mode <mode>', 'record mode: daily (one record per meter-day, recommended) or reading', 'daily')
    .option('--abnormal <share>', 'share of readings that are abnormal spikes (default 0.002)', '0.002')
    .option('--tampered <share>', 'attacks mixed in, as a share of honest records (default 0.02)', '0.02')
    .option('--workers <n>', 'worker threads (default: the number of cores)')
    .option('--seed <n>', 'seed of the simulated load (default 1)', '1')
    .option('--tariff <file>', 'tariff JSON (default: the built-in three-rate tariff)')
    .option('--backend <name>', 'native or js (same as ZKMETER_BACKEND)')
    .action(async (o: Record<string, string | undefined>) => {
      const { demoCommand } = await import('./demo-command.js');
      const { ok, summary } = await demoCommand(o);
      print(summary);
      if (!ok) process.exitCode = 1;
    });

  program
    .command('bench')
    .description('run the benchmark suite and write the comparative report; the last stdout line is {"machine","reference","metrics"}')
    .option('--quick', 'fewer repetitions and sizes (CI smoke run, under 2 minutes)')
    .option('--json', 'print only the JSON object on stdout (the table goes to stderr either way)')
    .option('--out <dir>', 'where the report goes: README.md, results.json and SVG plots', 'bench/report')
    .option('--no-report', 'write no report')
    .action(async (o: { quick?: boolean; json?: boolean; out: string; report: boolean }) => {
      const { runBench } = await import('./bench.js');
      print((await runBench({ quick: o.quick === true, json: o.json === true, out: o.report ? o.out : null })) as Result);
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
