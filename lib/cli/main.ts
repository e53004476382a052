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
    .description(
      'one party of the key ceremony of the utility key (2-of-2, control center and privacy authority, each on its own host): ' +
        'writes only this party\'s files in --out: shared-key.json, <party>.share.json (0600) and parties.json; prints {"party","publicKey","files","peer","ceremony"}',
    )
    .option('--party <name>', 'this party: control-center or privacy-authority')
    .option('--out <dir>', "this party's key directory: holds its identity.key.json (from `keys identity`), gets the key files")
    .option('--peer-key <hex>', "the other party's identity public key (32 bytes x-only, hex), told out of band")
    .option('--listen <host:port>', 'over HTTP(S): wait for the peer here (port 0: any free one); prints {"listening":URL} first, stops after one ceremony')
    .option('--peer <url>', 'over HTTP(S): start the ceremony with the peer listening at URL')
    .option('--timeout <seconds>', 'over HTTP(S): give up after this long (default 600)')
    .option('--tls-cert <file>', 'with --listen: serve HTTPS with this PEM certificate (and --tls-key)')
    .option('--tls-key <file>', "with --listen: the certificate's PEM private key")
    .option('--ca <file>', 'with --peer https://…: the PEM CA certificate to trust')
    .option('--round <n>', 'by files (air-gapped): run round 1, 2 or 3, writing this party\'s message to --write')
    .option('--finish', "by files: check the peer's round 3 file (--read) and write the key files")
    .option('--read <file>', "by files: the peer's file of the round before (at round 1: the starter's round 1 file, for its ceremony id)")
    .option('--write <file>', "by files: this party's message for the peer")
    .option('--force', 'replace existing key files in --out, and a ceremony in progress there (without it, nothing is overwritten)')
    .addHelpText(
      'after',
      [
        '',
        'Over HTTP(S): B: zkmeter keys dkg --party privacy-authority --out B --peer-key KA --listen 0.0.0.0:7443',
        '              A: zkmeter keys dkg --party control-center --out A --peer-key KB --peer http://HOST:7443',
        'By files, in this order, carrying each file to the other host (between steps a party\'s secrets',
        'wait in DIR/ceremony.state.json, mode 0600, deleted by --finish):',
        '  A: --round 1 --write a1',
        '  B: --round 1 --read a1 --write b1;   B: --round 2 --read a1 --write b2',
        '  A: --round 2 --read b1 --write a2;   A: --round 3 --read b2 --write a3',
        '  B: --round 3 --read a2 --write b3;   B: --finish --read a3',
        '  A: --finish --read b3',
        '(each with --party P --out DIR; --peer-key at round 1). For a one-machine trial: zkmeter serve --single-operator --init.',
      ].join('\n'),
    )
    .action(async (o) => print(await (await import('./keys.js')).keysDkgCommand(o, (url) => print({ listening: url }))));
  keys
    .command('identity')
    .description("make this party's identity key (BIP340), which signs its key-ceremony messages: writes <dir>/identity.key.json (mode 0600, never overwritten), prints {\"publicKey\",\"file\"}: give publicKey to the peer")
    .requiredOption('--out <dir>', "the party's key directory")
    .action(async (o) => print((await import('./keys.js')).keysIdentityCommand(o)));
  keys
    .command('provisioning')
    .description('make a provisioning key (BIP340), which certifies meters: writes {"secretKey","publicKey"} (mode 0600), prints {"publicKey","out"}')
    .requiredOption('--out <file>', 'the key file to create (never overwritten)')
    .action(async (o) => print((await import('./keys.js')).keysProvisioningCommand(o)));
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
    .requiredOption('--key <file>', "the utility's shared-key.json the meter was provisioned with")
    .requiredOption('--authority-key <hex>', "the privacy authority's identity key the meter was provisioned with (x-only, hex; parties.json)")
    .requiredOption('--out <file>', 'the meter export to write (JSON, mode 0600)')
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
    .description(
      "verify a meter's records and issue its bill: the center's decryption share with the privacy authority's, from its service (--authority URL --keys DIR) or, on one machine, from the authority run in this process (--single-operator --keys DIR)",
    )
    .option('--authority <url>', "the privacy authority's service (zkmeter authority serve)")
    .option('--authority-ca <pemfile>', "the CA the https authority's certificate must chain to")
    .requiredOption('--keys <dir>', "with --authority: the center's key directory (shared key, its share, its identity key); with --single-operator: a single-operator key directory (serve --single-operator --init), whose authority store remembers every release")
    .option('--single-operator', 'both shares in this process (one machine: whoever runs it can decrypt any reading)')
    .requiredOption('--certificates <file>', 'meter certificates (JSON lines, from `meter certify --out`): the registry of both sides')
    .option('--provisioning-key-public <hex>', 'the x-only public key(s) of the provisioning keys the center trusts, comma-separated')
    .option('--provisioning-key <file>', 'or: the provisioning key file, for its public key')
    .requiredOption('--records <file>', 'records (JSON lines)')
    .requiredOption('--meter <id>', 'the meter to bill')
    .requiredOption('--from <time>', 'start of the period: Unix seconds or ISO 8601 UTC')
    .requiredOption('--to <time>', 'end of the period (exclusive)')
    .option('--tariff <file>', 'tariff JSON (default: the built-in three-rate tariff)')
    .option('--min-intervals <n>', "with --single-operator, the in-process authority's policy: fewest readings in a bill, at least 3 (default 48)")
    .option('--out <file>', 'also write the bill JSON here')
    .action(async (o) => print(await (await import('./protocol.js')).centerBillCommand(o)));
  program
    .command('check-bill')
    .description("the customer's check of a bill against their meter's export alone (its records, readings, utility key and the authority's key; the bill's tariff must be signed by that authority); exit 1 if it is wrong")
    .requiredOption('--bill <file>', 'the bill JSON')
    .requiredOption('--export <file>', "the meter's export (JSON, from `meter export`)")
    .option('--earlier-bills <file>', "the meter's earlier bills (JSON lines): a period overlapping one is flagged")
    .action(async (o) => {
      const r = (await import('./protocol.js')).customerCheckCommand(o);
      print(r.result);
      if (!r.ok) process.exitCode = 1;
    });

  program
    .command('check-page')
    .description('write the standalone bill-check page (one HTML file, no network) from this package, to open from your own disk: prints {"file","sha256"}; compare sha256 with the published one')
    .requiredOption('--out <file>', 'the HTML file to create')
    .option('--force', 'replace an existing file (without it, nothing is overwritten)')
    .action(async (o) => print((await import('./check-page.js')).checkPageCommand(o)));

  program
    .command('serve')
    .description(
      'run the control-center service; prints {"listening":"http(s)://HOST:PORT"} once ready (admin token: ZKMETER_ADMIN_TOKEN). ' +
        'Say how the privacy authority is reached: --authority URL (its own service, zkmeter authority serve), or --single-operator (in this process, which then holds both key shares and can decrypt any reading: for trials)',
    )
    .option('--authority <url>', "the privacy authority's service (zkmeter authority serve), http(s)://HOST:PORT; --keys then holds only the center's share and identity key")
    .option('--authority-ca <pemfile>', "the CA the https authority's certificate must chain to (default: the system's CAs)")
    .option('--single-operator', "run the privacy authority in this process from the second share in --keys: this process and its operator can decrypt any reading (trials, one machine)")
    .option('--init', 'with --single-operator: first make the keys (both shares, a provisioning key) in --keys DIR if it holds none; never replaces any')
    .option('--port <n>', 'TCP port, 0 for any free one (default 8080)')
    .option('--host <h>', 'address to listen on (default 127.0.0.1)')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (chain), PEM; with --tls-key')
    .option('--tls-key <file>', "the certificate's private key, PEM")
    .option('--db <path|url>', 'SQLite file (default ./zkmeter.db) or a postgres:// URL')
    .option('--keys <dir>', 'key directory (default: <db>.keys, only ever read: keys are made by the key ceremony, or by --init)')
    .option('--workers <n>', 'verification worker threads (default: the number of cores)')
    .option('--tariff <file>', 'tariff JSON (default: the built-in three-rate tariff)')
    .option('--min-intervals <n>', "with --single-operator, the in-process authority's policy: fewest intervals in a bill (default 48)")
    .option('--body-limit <bytes>', 'largest request body (default 33554432)')
    .option('--max-records <n>', 'most records per submission (default 1000)')
    .option('--provisioning-keys <hexes>', "comma-separated x-only public keys of the provisioning keys whose meter certificates are trusted (default with --single-operator: provisioning.key.json in the key directory, made by --init)")
    .action(async (o: Record<string, string | boolean | undefined>) => {
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

  const authority = program.command('authority').description("the privacy authority's side");
  authority
    .command('serve')
    .description("run the privacy authority's service with its own share and store; prints {\"listening\":URL} once ready")
    .requiredOption('--keys <dir>', 'its key directory from the ceremony (zkmeter keys dkg --party privacy-authority …): shared key, its share, identity key, parties.json')
    .requiredOption('--provisioning-keys <hexes>', 'comma-separated x-only public keys of the provisioning keys whose meter certificates it trusts')
    .option('--db <path|url>', 'its store: a SQLite file (default ./authority.db) or a postgres:// URL')
    .option('--init', 'the first start: accept an empty store (without it, an empty store refuses to start)')
    .option('--center-key <hex>', "the control center's identity key (default: from parties.json)")
    .option('--tariff <files>', 'its tariffs, comma-separated JSON files (default: the built-in three-rate tariff)')
    .option('--min-intervals <n>', 'policy: fewest readings in a bill (default 48)')
    .option('--min-intervals-per-price <n>', 'policy: fewest readings at each price a bill charges (default 12, or --min-intervals if smaller)')
    .option('--min-meters <n>', 'policy: fewest meters in a grid (default 5)')
    .option('--port <n>', 'TCP port, 0 for any free one (default 8090)')
    .option('--host <h>', 'address to listen on (default 127.0.0.1)')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', "and this certificate's key (PEM)")
    .option('--body-limit <bytes>', 'largest request body (default 134217728)')
    .action(async (o: Record<string, string | undefined>) => {
      const { authorityServeCommand } = await import('./authority.js');
      await authorityServeCommand(o);
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
