import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ReadinessProbe } from './component-specs.ts';

export interface AdminTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** One GET; resolves with the status code and body, or rejects on a connection error or after `timeoutMs`. */
export function httpGet(
  url: string,
  tls: { readonly admin?: AdminTls; readonly insecure?: boolean } = {},
  timeoutMs = 5_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const options = {
      method: 'GET',
      timeout: timeoutMs,
      ...(tls.admin ? { ca: tls.admin.ca, cert: tls.admin.cert, key: tls.admin.key } : {}),
      ...(tls.insecure ? { rejectUnauthorized: false } : {}),
    };
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      options,
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end();
  });
}

export async function probeOnce(probe: ReadinessProbe, admin: AdminTls): Promise<boolean> {
  try {
    const tls =
      probe.kind === 'https-admin' ? { admin } : probe.kind === 'https-insecure' ? { insecure: true } : {};
    const { status } = await httpGet(probe.url, tls, 3_000);
    return status === 200;
  } catch {
    return false;
  }
}
