/**
 * The privacy authority's ledger in a file: one JSON line per entry (a
 * certificate it registered, a tariff version it configured, a bill or a grid
 * it released: `LedgerEntry` in authority.ts), appended and fsynced before the
 * authority's share leaves, and read back at start. A torn last line (a crash
 * during the append) is ignored: its share had not been released. Any other
 * unreadable line is an error, never silently skipped, since forgetting a
 * release would let a later request isolate a reading.
 * @module
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { ZkmeterError } from '../errors.js';
import type { AuthorityLedger, LedgerEntry } from '../protocol/authority.js';

const isInt = (v: unknown) => Number.isSafeInteger(v);
const isText = (v: unknown) => typeof v === 'string';

/** Whether a parsed line has the shape of a ledger entry (the authority checks its content). */
function isEntry(e: Record<string, unknown>): boolean {
  switch (e.kind) {
    case 'certificate':
      return isText(e.certificate);
    case 'tariff':
      return isInt(e.version) && isText(e.digest);
    case 'bill':
      return isText(e.meterId) && isInt(e.from) && isInt(e.to) && isInt(e.tariffVersion) && Array.isArray(e.intervals) && e.intervals.every(isInt) && isText(e.charge) && isText(e.readings);
    case 'grid':
      return (
        isText(e.feeder) && isInt(e.from) && isInt(e.to) && isInt(e.tariffVersion) && isInt(e.intervalSeconds) &&
        Array.isArray(e.members) && e.members.every(isText) && Array.isArray(e.readings) && e.readings.length === e.members.length && e.readings.every(isText)
      );
    default:
      return false;
  }
}

export class FileLedger implements AuthorityLedger {
  readonly entries: LedgerEntry[] = [];
  private readonly fd: number;

  constructor(readonly path: string) {
    if (existsSync(path)) {
      const lines = readFileSync(path, 'utf8').split('\n');
      const last = lines.length - 1; // after the final newline: '' when the file ends cleanly
      lines.forEach((line, i) => {
        if (line === '') return;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          if (i === last) return; // torn append
          throw new ZkmeterError('INVALID_ARGUMENT', `${path} line ${i + 1} is not valid JSON`);
        }
        if (typeof entry !== 'object' || entry === null || !isEntry(entry)) {
          throw new ZkmeterError('INVALID_ARGUMENT', `${path} line ${i + 1} is not a ledger entry (a ledger from before issue 15's policy is not read: start a new one)`);
        }
        this.entries.push(entry as unknown as LedgerEntry);
      });
    }
    this.fd = openSync(path, 'a', 0o600);
  }

  append(entry: LedgerEntry): void {
    writeSync(this.fd, JSON.stringify(entry) + '\n');
    fsyncSync(this.fd);
    this.entries.push(entry);
  }

  close(): void {
    closeSync(this.fd);
  }
}
