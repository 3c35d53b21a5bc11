import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

/**
 * Records every version of the objects a test watches, in arrival order, so a test can assert the order of
 * changes (a taint that came before another) and not only the final state. Built on ListWatch because a bare
 * Watch ends silently after 30 s without events, which is exactly what a dying node produces.
 */
export interface WatchRecorder<T> {
  readonly versions: readonly T[];
  /** The same versions with the time (ms) each arrived, for tests about when something was seen. */
  readonly arrivals: readonly { readonly at: number; readonly object: T }[];
  stop(): Promise<void>;
}

export async function recordWatch<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: () => Promise<KubernetesListObject<T>>,
  fieldSelector?: string,
): Promise<WatchRecorder<T>> {
  const versions: T[] = [];
  const arrivals: { at: number; object: T }[] = [];
  const informer = new ListWatch<T>(path, new Watch(kc), list, false, undefined, fieldSelector);
  const record = (object: T) => {
    versions.push(object);
    arrivals.push({ at: Date.now(), object });
  };
  informer.on('add', record);
  informer.on('update', record);
  let stopping = false;
  informer.on('error', () => {
    // The informer gives up after a failed list; a recorder must keep recording.
    if (!stopping) setTimeout(() => void informer.start(), 1_000);
  });
  await informer.start();
  return {
    versions,
    arrivals,
    stop: async () => {
      stopping = true;
      await informer.stop();
    },
  };
}
