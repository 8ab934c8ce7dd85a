// The API requests a migration sends, spelled exactly as the client sends them, so `--dry-run` can show
// them and an operator can replay or audit them with curl/kubectl.
import type { ConfigMapLike } from '../kube/discover.ts';

export interface PlannedRequest {
  /** What this request is for, in one line. */
  readonly purpose: string;
  readonly method: 'PUT' | 'PATCH';
  readonly path: string;
  readonly contentType: string;
  readonly body: unknown;
}

const FIELD_MANAGER_QUERY = '?fieldManager=flannelctl';

export const configMapPath = (namespace: string, name: string): string =>
  `/api/v1/namespaces/${namespace}/configmaps/${name}${FIELD_MANAGER_QUERY}`;

export const daemonSetPath = (namespace: string, name: string): string =>
  `/apis/apps/v1/namespaces/${namespace}/daemonsets/${name}${FIELD_MANAGER_QUERY}`;

/** A read-modify-PUT of the ConfigMap, with the resourceVersion it was read at (409 if it changed). */
export const putConfigMap = (purpose: string, configMap: ConfigMapLike): PlannedRequest => ({
  purpose,
  method: 'PUT',
  path: configMapPath(configMap.metadata.namespace ?? '', configMap.metadata.name),
  contentType: 'application/json',
  body: configMap,
});

/** `kubectl rollout restart`'s patch; the client sends apiVersion, kind and metadata along. */
export const restartRequest = (namespace: string, name: string, patch: object): PlannedRequest => ({
  purpose: `restart daemonset ${namespace}/${name} like \`kubectl rollout restart\``,
  method: 'PATCH',
  path: daemonSetPath(namespace, name),
  contentType: 'application/strategic-merge-patch+json',
  body: { ...patch, apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace } },
});

export const formatRequest = (r: PlannedRequest, index: number): string =>
  `${index}. ${r.purpose}\n   ${r.method} ${r.path}\n   Content-Type: ${r.contentType}\n${JSON.stringify(
    r.body,
    null,
    2,
  )
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n')}\n`;
