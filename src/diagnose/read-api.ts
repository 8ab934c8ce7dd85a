import { KubeApiError } from '../kube/api-errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { discoverFlannel } from '../kube/discover.ts';
import type { KubeObject } from '../kube/kube-object.ts';
import { FLANNEL_CONTAINER_NAME, FLANNEL_NAMESPACE } from '../flannel/names.ts';
import type { RawApiObjects } from '../facts/cluster-facts.ts';
import { Pool } from '../nodes/pool.ts';

const LOG_TAIL_LINES = 200;
/** kubelet's event reason when RunPodSandbox fails (pkg/kubelet/events: FailedCreatePodSandBox). */
export const FAILED_CREATE_POD_SANDBOX = 'FailedCreatePodSandBox';
const LOG_CONCURRENCY = 16;

/**
 * Everything the checks need from the API, read once: nodes (filtered by -l on the server), the flannel
 * install, its pods and, when asked, each pod's recent flanneld log and the FailedCreatePodSandBox
 * events of every namespace (flannel's CNI plugin fails inside the runtime; kubelet reports it there).
 */
export const readApiObjects = async (
  kube: KubeClient,
  options: { namespace?: string; selector?: string; logs: boolean; events?: boolean },
): Promise<RawApiObjects> => {
  const [nodes, install, events] = await Promise.all([
    kube.list('v1', 'Node', options.selector ? { labelSelector: options.selector } : {}),
    discoverFlannel(kube, options.namespace),
    // Events of any pod on any node, narrowed on the server (events support a field selector on reason).
    options.events
      ? kube.list('v1', 'Event', { fieldSelector: `reason=${FAILED_CREATE_POD_SANDBOX}` })
      : undefined,
  ]);
  const namespace = install?.namespace ?? options.namespace ?? FLANNEL_NAMESPACE;
  const eventFacts = events ? { events } : {};
  if (!install) return { nodes, namespace, ...eventFacts };
  const selector = Object.entries(install.daemonSet.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await kube.list<KubeObject>('v1', 'Pod', { namespace, labelSelector: selector });
  const logs: Record<string, string> = {};
  if (options.logs) {
    const pool = new Pool(LOG_CONCURRENCY);
    await Promise.all(
      pods.map((pod) =>
        pool.use(async () => {
          const name = pod.metadata.name;
          // A pod that has not started has no log yet; that is not an error worth stopping for.
          logs[name] = await kube
            .podLog(namespace, name, { container: FLANNEL_CONTAINER_NAME, tailLines: LOG_TAIL_LINES })
            .catch((error: unknown) => {
              // Forbidden is not "no log yet": checking empty logs would pass without reading them.
              if (error instanceof KubeApiError && error.status === 403) throw error;
              return '';
            });
        }),
      ),
    );
  }
  return {
    nodes,
    namespace,
    daemonSet: install.daemonSet,
    ...(install.configMap ? { configMap: install.configMap } : {}),
    configMapName: install.configMapName,
    pods,
    ...(options.logs ? { logs } : {}),
    ...eventFacts,
  };
};
