import { OperationError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { KubeApiError } from '../kube/api-errors.ts';
import type { ConfigMapLike } from '../kube/discover.ts';

export interface ConfigUpdate {
  /** Returns the new ConfigMap, or undefined when it already holds what we want (nothing to write). */
  (current: ConfigMapLike): ConfigMapLike | undefined;
}

/**
 * Read-modify-write of the flannel ConfigMap with optimistic concurrency: the PUT carries the
 * resourceVersion we read, so a concurrent edit makes it fail with 409 instead of being overwritten.
 * On 409 we read again and re-decide from the fresh object, a bounded number of times.
 */
export const updateConfigMap = async (
  kube: KubeClient,
  ref: { namespace: string; name: string },
  update: ConfigUpdate,
  maxAttempts = 5,
): Promise<{ configMap: ConfigMapLike; written: boolean; attempts: number }> => {
  for (let attempt = 1; ; attempt++) {
    const current = await kube.get<ConfigMapLike>({ apiVersion: 'v1', kind: 'ConfigMap', ...ref });
    if (!current)
      throw new OperationError(`configmap ${ref.namespace}/${ref.name} disappeared during the migration`);
    const next = update(current);
    if (!next) return { configMap: current, written: false, attempts: attempt };
    try {
      const stored = await kube.replace<ConfigMapLike>({
        ...next,
        metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion },
      });
      return { configMap: stored, written: true, attempts: attempt };
    } catch (error) {
      const conflict = error instanceof KubeApiError && error.status === 409;
      if (!conflict || attempt >= maxAttempts) throw error;
    }
  }
};
