import { OperationError } from '../errors.ts';
import { CONFIGMAP_NAME, FLANNEL_NAMESPACE, LEGACY_NAMESPACE, POD_LABEL_SELECTOR } from '../flannel/names.ts';
import type { KubeClient } from './client.ts';
import type { KubeObject } from './kube-object.ts';
import type { DaemonSetLike } from './rollout.ts';

/** Where the current layout puts flannel, then where releases before v0.19.0 put it. */
export const FLANNEL_NAMESPACES = [FLANNEL_NAMESPACE, LEGACY_NAMESPACE] as const;

export interface FlannelDaemonSet extends DaemonSetLike {
  spec?: DaemonSetLike['spec'] & {
    selector?: { matchLabels?: Record<string, string> };
    template?: { spec?: { volumes?: { name: string; configMap?: { name?: string } }[] } };
  };
}

export interface ConfigMapLike extends KubeObject {
  data?: Record<string, string>;
  /** base64, as the API returns it. */
  binaryData?: Record<string, string>;
}

export interface FlannelInstall {
  readonly namespace: string;
  readonly daemonSet: FlannelDaemonSet;
  /** The ConfigMap the DaemonSet mounts (net-conf.json, cni-conf.json); absent if it was deleted. */
  readonly configMap?: ConfigMapLike;
  readonly configMapName: string;
}

/** The ConfigMap a flannel DaemonSet mounts, read from its volumes rather than assumed by name. */
export const mountedConfigMapName = (ds: FlannelDaemonSet): string =>
  ds.spec?.template?.spec?.volumes?.find((v) => v.configMap?.name)?.configMap?.name ?? CONFIGMAP_NAME;

const flannelDaemonSetsIn = (kube: KubeClient, namespace: string) =>
  kube.list<FlannelDaemonSet>('apps/v1', 'DaemonSet', { namespace, labelSelector: POD_LABEL_SELECTOR });

/**
 * Finds the flannel install by label (app=flannel) in the given namespace, or else in kube-flannel, then
 * the legacy kube-system. Returns undefined when there is none.
 */
export const discoverFlannel = async (
  kube: KubeClient,
  namespace?: string,
): Promise<FlannelInstall | undefined> => {
  for (const ns of namespace ? [namespace] : FLANNEL_NAMESPACES) {
    const daemonSets = await flannelDaemonSetsIn(kube, ns);
    if (daemonSets.length === 0) continue;
    if (daemonSets.length > 1) {
      const names = daemonSets.map((d) => d.metadata.name).join(', ');
      throw new OperationError(
        `found ${daemonSets.length} flannel DaemonSets in namespace ${ns} (${names})`,
        'per-architecture DaemonSets from flannel < v0.13 must be replaced by one kube-flannel-ds first',
      );
    }
    const daemonSet = daemonSets[0]!;
    const configMapName = mountedConfigMapName(daemonSet);
    const configMap = await kube.get<ConfigMapLike>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns,
      name: configMapName,
    });
    return { namespace: ns, daemonSet, configMapName, ...(configMap ? { configMap } : {}) };
  }
  return undefined;
};
