import { ApiException } from '@kubernetes/client-node';

/** The parts of a Kubernetes API error that code decides on: HTTP code, reason and message of the Status. */
export interface KubeApiFailure {
  readonly code: number;
  readonly reason: string | undefined;
  readonly message: string;
}

/** client-node rejects with ApiException whose body is the raw JSON text of a Status. */
export function kubeFailure(error: unknown): KubeApiFailure | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body: unknown = error.body;
  let status: { reason?: string; message?: string } | undefined;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body) as { reason?: string; message?: string };
    } catch {
      status = { message: body };
    }
  } else if (body !== null && typeof body === 'object') {
    status = body;
  }
  return { code: error.code, reason: status?.reason, message: status?.message ?? `HTTP ${error.code}` };
}

export const isNotFound = (error: unknown): boolean => kubeFailure(error)?.code === 404;
export const isConflict = (error: unknown): boolean => kubeFailure(error)?.code === 409;
export const isAlreadyExists = (error: unknown): boolean =>
  kubeFailure(error)?.code === 409 && kubeFailure(error)?.reason === 'AlreadyExists';
export const isForbidden = (error: unknown): boolean => kubeFailure(error)?.code === 403;
/** Creating in a namespace being deleted: the namespace's deletion is the answer, not an error to report. */
export const isNamespaceTerminating = (error: unknown): boolean => {
  const failure = kubeFailure(error);
  return failure?.code === 403 && /is being terminated/.test(failure.message);
};
export const isGone = (error: unknown): boolean => kubeFailure(error)?.code === 410;

/** A short description for logs and Events: "404 NotFound: pods \"x\" not found". */
export function describeKubeError(error: unknown): string {
  const failure = kubeFailure(error);
  if (failure) return `${failure.code}${failure.reason ? ` ${failure.reason}` : ''}: ${failure.message}`;
  return error instanceof Error ? error.message : String(error);
}
