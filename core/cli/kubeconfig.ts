import { KubeConfig } from '@kubernetes/client-node';

/** The kubeconfig kmc uses: `--kubeconfig`, else $KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error(
      'no Kubernetes cluster configured: set KUBECONFIG, pass --kubeconfig, or run in a cluster ' +
        '(npm run cluster -- up starts a local one)',
    );
  }
  return kc;
}
