import { ApiextensionsV1Api, type KubeConfig } from '@kubernetes/client-node';

/**
 * Waits until a CustomResourceDefinition is Established. Polls the object rather than `kubectl wait`, which
 * exits at once (code 1) when asked before the API server has written the CRD's first status.
 */
export async function waitForCrdEstablished(kc: KubeConfig, name: string, timeoutMs = 60_000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const crd = await api.readCustomResourceDefinition({ name });
      const established = crd.status?.conditions?.find((c) => c.type === 'Established');
      if (established?.status === 'True') return;
      last = established
        ? `Established=${established.status}: ${established.message ?? ''}`
        : 'no status yet';
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline)
      throw new Error(`CRD ${name} not Established after ${String(timeoutMs / 1000)} s (${last})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
