// Legacy (unaggregated) discovery documents. Answering aggregated-discovery requests with plain
// application/json makes kubectl and client-go fall back to these, as against an older server.
import type { ResourceType } from './resources.ts';
import { RESOURCE_TYPES, groupVersion } from './resources.ts';

export const KUBERNETES_VERSION = 'v1.32.4';

export const versionInfo = () => ({
  major: '1',
  minor: '32',
  gitVersion: KUBERNETES_VERSION,
  gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:27Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
});

const groups = (): Map<string, string[]> => {
  const out = new Map<string, string[]>();
  for (const t of RESOURCE_TYPES) {
    if (t.group === '') continue;
    const versions = out.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    out.set(t.group, versions);
  }
  return out;
};

const groupDoc = (name: string, versions: string[]) => ({
  name,
  versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
  preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
});

export const apiVersions = (serverAddress: string) => ({
  kind: 'APIVersions',
  versions: ['v1'],
  serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
});

export const apiGroupList = () => ({
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [...groups()].map(([name, versions]) => groupDoc(name, versions)),
});

export const apiGroup = (name: string) => {
  const versions = groups().get(name);
  return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(name, versions) } : undefined;
};

const resourceEntries = (t: ResourceType) => [
  {
    name: t.resource,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: t.verbs,
    ...(t.shortNames ? { shortNames: t.shortNames } : {}),
    ...(t.categories ? { categories: t.categories } : {}),
  },
  ...(t.subresources ?? []).map((sub) => ({
    name: `${t.resource}/${sub}`,
    singularName: '',
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: sub === 'log' ? ['get'] : sub === 'exec' ? ['create', 'get'] : ['get', 'patch', 'update'],
  })),
];

export const apiResourceList = (gv: string) => {
  const types = RESOURCE_TYPES.filter((t) => groupVersion(t) === gv);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv,
    resources: types.flatMap(resourceEntries),
  };
};
