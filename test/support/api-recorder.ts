import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** One request a client made to the API server, with the status the API server answered. */
export interface RecordedRequest {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly status: number;
}

export interface ApiRecorder {
  /** `https://127.0.0.1:<port>`: the server a kubeconfig names to go through the recorder. */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A transparent recorder in front of the real API server: it serves TLS with `serving` (a certificate for
 * 127.0.0.1, which the client's kubeconfig trusts), forwards every request as it came (the client's own bearer
 * token included) over TLS to `upstream`, streams the answer back (watches too), and records method, path and
 * status. Nothing is answered by the recorder itself, so what a client sees is what the API server decided; the
 * record shows every 403 it got, even one the client swallowed.
 */
export async function startApiRecorder(
  upstream: { server: string; ca: Buffer },
  serving: { cert: Buffer; key: Buffer },
): Promise<ApiRecorder> {
  const target = new URL(upstream.server);
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(serving, (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const url = new URL(incoming.url ?? '/', 'http://recorder.invalid');
    const forwarded = httpsRequest(
      {
        hostname: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: target.host },
        ca: upstream.ca,
      },
      (answer) => {
        requests.push({
          method: incoming.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          status: answer.statusCode ?? 0,
        });
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        // A watch may send no body for a long time: its client must get the headers now.
        outgoing.flushHeaders();
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    // A client that goes away (a stopped watch) ends the upstream request too.
    outgoing.on('close', () => forwarded.destroy());
    incoming.pipe(forwarded);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${String(port)}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** What an API request asks for, in RBAC's terms. */
export interface RbacRequest {
  readonly apiGroup: string;
  /** Plural resource, with `/subresource`. */
  readonly resource: string;
  readonly verb: string;
  /** Undefined for cluster-scoped resources and for requests across all namespaces. */
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

/**
 * The RBAC attributes of a resource request, as the API server's request-info resolver derives them; undefined
 * for non-resource paths (`/version`, `/healthz`).
 */
export function rbacRequestOf(
  request: Pick<RecordedRequest, 'method' | 'path' | 'query'>,
): RbacRequest | undefined {
  const parts = request.path.split('/').filter(Boolean);
  let apiGroup: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    apiGroup = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    apiGroup = parts[1] ?? '';
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  // /namespaces/<ns>/<resource>...; a bare /namespaces[/<name>] is the namespaces resource itself.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (!resource) return undefined;
  const watch = ['true', '1'].includes(request.query.get('watch') ?? '');
  const verbs: Record<string, string> = {
    GET: name ? 'get' : watch ? 'watch' : 'list',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: name ? 'delete' : 'deletecollection',
  };
  return {
    apiGroup,
    resource: subresource ? `${resource}/${subresource}` : resource,
    verb: verbs[request.method] ?? request.method.toLowerCase(),
    namespace,
    name,
  };
}
