/**
 * The privacy authority's ledger in a file: one JSON line per release,
 * `{"kind":"bill"|"feeder","readings":["meterId@intervalStart",…]}`, appended
 * and fsynced before the authority's share leaves (authority.ts), and read
 * back at start. A torn last line (a crash during the append) is ignored: its
 * share had not been released. Any other unreadable line is an error, never
 * silently skipped, since forgetting a release would allow a differencing attack.
 * @module
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { ZkmeterError } from '../errors.js';
import type { AuthorityLedger } from '../protocol/authority.js';

export class FileLedger implements AuthorityLedger {
  readonly billed: string[] = [];
  readonly aggregated: string[] = [];
  private readonly fd: number;

  constructor(readonly path: string) {
    if (existsSync(path)) {
      const lines = readFileSync(path, 'utf8').split('\n');
      const last = lines.length - 1; // after the final newline: '' when the file ends cleanly
      lines.forEach((line, i) => {
        if (line === '') return;
        let entry: { kind?: unknown; readings?: unknown };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          if (i === last) return; // torn append
          throw new ZkmeterError('INVALID_ARGUMENT', `${path} line ${i + 1} is not valid JSON`);
        }
        if ((entry.kind !== 'bill' && entry.kind !== 'feeder') || !Array.isArray(entry.readings) || !entry.readings.every((k) => typeof k === 'string')) {
          throw new ZkmeterError('INVALID_ARGUMENT', `${path} line ${i + 1} is not a ledger entry`);
        }
        (entry.kind === 'bill' ? this.billed : this.aggregated).push(...(entry.readings as string[]));
      });
    }
    this.fd = openSync(path, 'a', 0o600);
  }

  record(kind: 'bill' | 'feeder', readings: readonly string[]): void {
    writeSync(this.fd, JSON.stringify({ kind, readings }) + '\n');
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
