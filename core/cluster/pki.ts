import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run-command.ts';

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  /** One certificate serves the API server and authenticates the admin (O=system:masters), as kwok does. */
  readonly adminCert: string;
  readonly adminKey: string;
  /** Service-account token signing pair. */
  readonly saKey: string;
  readonly saPub: string;
}

/**
 * Generates a throw-away PKI for one local control plane with Debian's openssl: a CA, one serving + admin client
 * certificate for 127.0.0.1 / localhost and the in-cluster service names, and the service-account key pair.
 */
export async function generatePki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true });
  const pki: Pki = {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    saKey: join(dir, 'sa.key'),
    saPub: join(dir, 'sa.pub'),
  };
  const openssl = (args: string[]) => runCommand('openssl', args, { cwd: dir }).catch(explainMissingOpenssl);
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '3650',
    '-keyout',
    pki.caKey,
    '-out',
    pki.caCert,
    '-subj',
    '/CN=kmc-local-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  const csr = join(dir, 'admin.csr');
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-keyout',
    pki.adminKey,
    '-out',
    csr,
    '-subj',
    '/O=system:masters/CN=kmc-admin',
  ]);
  const ext = join(dir, 'admin.ext');
  await writeFile(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,' +
        'DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.0.0.1',
      '',
    ].join('\n'),
  );
  await openssl([
    'x509',
    '-req',
    '-sha256',
    '-days',
    '3650',
    '-in',
    csr,
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-CAcreateserial',
    '-extfile',
    ext,
    '-out',
    pki.adminCert,
  ]);
  await openssl(['genrsa', '-out', pki.saKey, '2048']);
  await openssl(['rsa', '-in', pki.saKey, '-pubout', '-out', pki.saPub]);
  return pki;
}

function explainMissingOpenssl(error: unknown): never {
  if (error instanceof Error && error.message.startsWith('cannot run openssl')) {
    throw new Error('openssl is needed to generate the control plane certificates: apt-get install openssl', {
      cause: error,
    });
  }
  throw error;
}

export interface KubeconfigMaterial {
  readonly server: string;
  readonly caData: string;
  readonly certData: string;
  readonly keyData: string;
}

export async function readKubeconfigMaterial(pki: Pki, server: string): Promise<KubeconfigMaterial> {
  const b64 = async (path: string) => (await readFile(path)).toString('base64');
  return {
    server,
    caData: await b64(pki.caCert),
    certData: await b64(pki.adminCert),
    keyData: await b64(pki.adminKey),
  };
}

/** An admin kubeconfig with the credentials embedded, so it works from any directory and for any client. */
export function renderKubeconfig(material: KubeconfigMaterial, name = 'kmc-local'): string {
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name, cluster: { server: material.server, 'certificate-authority-data': material.caData } },
      ],
      users: [
        {
          name: `${name}-admin`,
          user: { 'client-certificate-data': material.certData, 'client-key-data': material.keyData },
        },
      ],
      contexts: [{ name, context: { cluster: name, user: `${name}-admin` } }],
      'current-context': name,
    },
    null,
    2,
  );
}
