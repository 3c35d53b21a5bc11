import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../core/cluster/run-command.ts';

/** A throw-away certificate authority made with Debian's openssl. */
export interface TestCa {
  readonly name: string;
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
}

export interface IssuedCert {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  /** File name stem and CN. */
  readonly name: string;
  readonly usage: 'server' | 'client';
  /** subjectAltName entries, e.g. `IP:127.0.0.1`, `DNS:localhost` (servers). */
  readonly altNames?: readonly string[];
}

// EC keys: fast to make on 2 cores, and what brokers commonly use.
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256'];

const openssl = (dir: string, args: readonly string[]) => runCommand('openssl', args, { cwd: dir });

export async function createTestCa(dir: string, name: string): Promise<TestCa> {
  await mkdir(dir, { recursive: true });
  const ca: TestCa = { name, dir, cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await openssl(dir, [
    'req',
    '-x509',
    ...KEY,
    '-days',
    '30',
    '-keyout',
    ca.key,
    '-out',
    ca.cert,
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  return ca;
}

/** A leaf certificate signed by `ca`, for a server (serverAuth + altNames) or a client (clientAuth). */
export async function issueCert(ca: TestCa, options: IssueOptions): Promise<IssuedCert> {
  const { dir } = ca;
  const issued = { cert: join(dir, `${options.name}.crt`), key: join(dir, `${options.name}.key`) };
  const csr = join(dir, `${options.name}.csr`);
  const ext = join(dir, `${options.name}.ext`);
  await openssl(dir, ['req', ...KEY, '-keyout', issued.key, '-out', csr, '-subj', `/CN=${options.name}`]);
  await writeFile(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${options.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ...(options.altNames?.length ? [`subjectAltName=${options.altNames.join(',')}`] : []),
      '',
    ].join('\n'),
  );
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '30',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    issued.cert,
  ]);
  return issued;
}

/** mosquitto listener lines for TLS with `server`; with `clientCa`, a client certificate signed by it is required. */
export function mosquittoTlsLines(server: IssuedCert, clientCa?: TestCa): string[] {
  return [
    `certfile ${server.cert}`,
    `keyfile ${server.key}`,
    ...(clientCa ? [`cafile ${clientCa.cert}`, 'require_certificate true'] : []),
  ];
}

/** A mosquitto password file (mosquitto_passwd ships with Debian's mosquitto). */
export async function mosquittoPasswordFile(
  path: string,
  users: Readonly<Record<string, string>>,
): Promise<string> {
  await writeFile(path, '');
  for (const [user, password] of Object.entries(users)) {
    await runCommand('/usr/bin/mosquitto_passwd', ['-b', path, user, password]);
  }
  return path;
}
