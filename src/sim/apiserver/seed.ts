// Turns a ClusterSeed into stored objects: the system namespaces, realistic nodes, given objects.
import type { ClusterSeed, KubeObject, NodeCondition, SeedNode } from '../cluster-seed.ts';
import { KUBERNETES_VERSION } from './discovery.ts';
import { now } from './managed-fields.ts';
import type { Registry } from './registry.ts';
import { findResourceByKind, resourceByName } from './resources.ts';
import type { ResourceType } from './resources.ts';

const NAMESPACES = resourceByName('namespaces');
const NODES = resourceByName('nodes');
export const SYSTEM_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

const defaultConditions = (t: string): NodeCondition[] =>
  [
    {
      type: 'MemoryPressure',
      status: 'False',
      reason: 'KubeletHasSufficientMemory',
      message: 'kubelet has sufficient memory available',
    },
    {
      type: 'DiskPressure',
      status: 'False',
      reason: 'KubeletHasNoDiskPressure',
      message: 'kubelet has no disk pressure',
    },
    {
      type: 'PIDPressure',
      status: 'False',
      reason: 'KubeletHasSufficientPID',
      message: 'kubelet has sufficient PID available',
    },
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
  ].map((c) => ({ ...c, lastHeartbeatTime: t, lastTransitionTime: t }) as NodeCondition);

export const nodeObject = (n: SeedNode): KubeObject => {
  const t = now();
  const conditions = defaultConditions(t).map((c) => {
    const override = n.conditions?.find((o) => o.type === c.type);
    return override ? { ...c, ...override } : c;
  });
  for (const extra of n.conditions ?? []) {
    if (!conditions.some((c) => c.type === extra.type))
      conditions.push({ lastHeartbeatTime: t, lastTransitionTime: t, ...extra } as NodeCondition);
  }
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        ...n.labels,
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        ...n.annotations,
      },
    },
    spec: {
      podCIDR: n.podCIDR,
      podCIDRs: [...(n.podCIDRs ?? [n.podCIDR])],
      ...(n.taints && n.taints.length > 0 ? { taints: n.taints.map((x) => ({ ...x })) } : {}),
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.internalIP },
        { type: 'Hostname', address: n.name },
      ],
      allocatable: { cpu: '2', 'ephemeral-storage': '19586931083', memory: '3920436Ki', pods: '110' },
      capacity: { cpu: '2', 'ephemeral-storage': '20134592Ki', memory: '4022836Ki', pods: '110' },
      conditions,
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: '00000000-0000-4000-8000-000000000000',
        containerRuntimeVersion: n.containerRuntimeVersion ?? 'containerd://1.7.24',
        kernelVersion: '6.1.0-31-amd64',
        kubeProxyVersion: KUBERNETES_VERSION,
        kubeletVersion: KUBERNETES_VERSION,
        machineID: n.name
          .replace(/[^a-z0-9]/g, '')
          .padEnd(32, '0')
          .slice(0, 32),
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: '00000000-0000-4000-8000-000000000000',
      },
    },
  };
};

const ensureNamespace = (registry: Registry, name: string): void => {
  if (!registry.store.get(NAMESPACES, undefined, name)) {
    registry.create(
      NAMESPACES,
      undefined,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      { manager: 'kube-apiserver' },
    );
  }
};

export const seedCluster = (registry: Registry, seed: ClusterSeed): void => {
  for (const ns of SYSTEM_NAMESPACES) ensureNamespace(registry, ns);
  for (const node of seed.nodes) registry.create(NODES, undefined, nodeObject(node), { manager: 'kubelet' });
  const objects = [...(seed.objects ?? [])];
  // Namespaces first, like `kubectl apply` orders them.
  objects.sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
  for (const obj of objects) {
    const t: ResourceType | undefined = findResourceByKind(obj.apiVersion ?? '', obj.kind ?? '');
    if (!t || t.virtual)
      throw new Error(`cannot seed ${obj.apiVersion}/${obj.kind}: not served by the emulator`);
    if (t.resource === 'namespaces' && registry.store.get(t, undefined, obj.metadata?.name ?? '')) continue;
    const ns = t.namespaced ? (obj.metadata?.namespace ?? 'default') : undefined;
    if (ns) ensureNamespace(registry, ns);
    registry.create(t, ns, obj, { manager: 'seed' });
  }
};
