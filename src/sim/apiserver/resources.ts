// The resource types the emulator serves, with what discovery, URL routing and storage need to know.

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  /** Plural, as in URLs. */
  readonly resource: string;
  readonly kind: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly verbs: readonly string[];
  /** Subresources beyond the main one, e.g. status, log. */
  readonly subresources?: readonly string[];
  /** metadata.generation is tracked and bumped on spec changes. */
  readonly hasGeneration?: boolean;
  /** A create-only virtual resource (reviews): nothing is stored. */
  readonly virtual?: boolean;
}

const crud = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

export const RESOURCE_TYPES: readonly ResourceType[] = [
  {
    group: '',
    version: 'v1',
    resource: 'nodes',
    kind: 'Node',
    singular: 'node',
    namespaced: false,
    shortNames: ['no'],
    verbs: crud,
    subresources: ['status'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: ['status'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    singular: 'configmap',
    namespaced: true,
    shortNames: ['cm'],
    verbs: crud,
  },
  {
    group: '',
    version: 'v1',
    resource: 'serviceaccounts',
    kind: 'ServiceAccount',
    singular: 'serviceaccount',
    namespaced: true,
    shortNames: ['sa'],
    verbs: crud,
  },
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    kind: 'Pod',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    verbs: crud,
    subresources: ['status', 'log', 'exec'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'events',
    kind: 'Event',
    singular: 'event',
    namespaced: true,
    shortNames: ['ev'],
    verbs: crud,
  },
  {
    group: 'apps',
    version: 'v1',
    resource: 'daemonsets',
    kind: 'DaemonSet',
    singular: 'daemonset',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    verbs: crud,
    subresources: ['status'],
    hasGeneration: true,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterroles',
    kind: 'ClusterRole',
    singular: 'clusterrole',
    namespaced: false,
    verbs: crud,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterrolebindings',
    kind: 'ClusterRoleBinding',
    singular: 'clusterrolebinding',
    namespaced: false,
    verbs: crud,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'roles',
    kind: 'Role',
    singular: 'role',
    namespaced: true,
    verbs: crud,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'rolebindings',
    kind: 'RoleBinding',
    singular: 'rolebinding',
    namespaced: true,
    verbs: crud,
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    resource: 'leases',
    kind: 'Lease',
    singular: 'lease',
    namespaced: true,
    verbs: crud,
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resource: 'selfsubjectaccessreviews',
    kind: 'SelfSubjectAccessReview',
    singular: 'selfsubjectaccessreview',
    namespaced: false,
    verbs: ['create'],
    virtual: true,
  },
];

export const groupVersion = (t: Pick<ResourceType, 'group' | 'version'>): string =>
  t.group === '' ? t.version : `${t.group}/${t.version}`;

/** "daemonsets.apps" or "pods": how the real server names a resource in messages. */
export const qualifiedResource = (t: ResourceType): string =>
  t.group === '' ? t.resource : `${t.resource}.${t.group}`;

const byPath = new Map(RESOURCE_TYPES.map((t) => [`${groupVersion(t)}/${t.resource}`, t]));
const byKind = new Map(RESOURCE_TYPES.map((t) => [`${groupVersion(t)}/${t.kind}`, t]));

export const findResource = (groupVersionText: string, resource: string): ResourceType | undefined =>
  byPath.get(`${groupVersionText}/${resource}`);

export const findResourceByKind = (apiVersion: string, kind: string): ResourceType | undefined =>
  byKind.get(`${apiVersion}/${kind}`);

export const resourceByName = (resource: string): ResourceType => {
  const t = RESOURCE_TYPES.find((r) => r.resource === resource);
  if (!t) throw new Error(`unknown resource ${resource}`);
  return t;
};
