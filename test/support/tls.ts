/**
 * Throwaway TLS material for tests, made at test time with the `openssl` CLI
 * (Debian's openssl package): a CA of its own, and server certificates it
 * issues for 127.0.0.1, ::1 and localhost (plus any extra IP addresses asked
 * for), P-256 keys, valid for two days. Nothing is trusted by the system: a
 * client succeeds only if it pins the CA. When openssl is missing the result
 * is `{ skip: reason }`, for the test to print.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServerCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestCa {
  /** The CA certificate's file and PEM: what a client pins. */
  readonly caFile: string;
  readonly ca: string;
  /** A server certificate for 127.0.0.1, ::1 and localhost. */
  readonly server: ServerCert;
  /** Issues another server certificate, for 127.0.0.1, ::1, localhost and `ips`. */
  issue(name: string, ips: readonly string[]): ServerCert;
}

const NOT_INSTALLED = 'openssl is not installed (apt-get install openssl)';

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Whether the openssl CLI runs here; the reason it does not, otherwise. */
export function opensslMissing(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return NOT_INSTALLED;
  }
}

/** Makes a CA and a loopback server certificate in `dir` (created if needed). */
export function makeTestCa(dir: string): TestCa | { readonly skip: string } {
  const missing = opensslMissing();
  if (missing !== undefined) return { skip: missing };
  mkdirSync(dir, { recursive: true });
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', '/CN=zkmeter test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const issue = (name: string, ips: readonly string[]): ServerCert => {
    const keyFile = join(dir, `${name}.key`);
    const csr = join(dir, `${name}.csr`);
    const certFile = join(dir, `${name}.pem`);
    const ext = join(dir, `${name}.ext`);
    const sans = ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost', ...ips.map((ip) => `IP:${ip}`)];
    writeFileSync(ext, `subjectAltName=${sans.join(',')}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`]);
    // A random serial each time: no serial file shared between certificates.
    openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-extfile', ext, '-out', certFile]);
    return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  };
  return { caFile, ca: readFileSync(caFile, 'utf8'), server: issue('server', []), issue };
}
