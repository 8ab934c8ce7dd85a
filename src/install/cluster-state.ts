import type { KubeClient } from '../kube/client.ts';
import { discoverFlannel, type FlannelInstall } from '../kube/discover.ts';
import type { KubeObject } from '../kube/kube-object.ts';

export interface NodeSummary {
  readonly name: string;
  readonly podCIDRs: readonly string[];
  readonly os: string;
}

export interface ClusterState {
  readonly nodes: readonly NodeSummary[];
  readonly install?: FlannelInstall;
}

interface NodeObject extends KubeObject {
  spec?: { podCIDR?: string; podCIDRs?: string[] };
}

export const nodeSummary = (node: NodeObject): NodeSummary => ({
  name: node.metadata.name,
  podCIDRs: node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []),
  os: node.metadata.labels?.['kubernetes.io/os'] ?? 'linux',
});

/** The cluster facts `install` needs: nodes with their podCIDRs and any flannel already there. */
export const inspectCluster = async (kube: KubeClient, namespace?: string): Promise<ClusterState> => {
  const [nodes, install] = await Promise.all([
    kube.list<NodeObject>('v1', 'Node'),
    discoverFlannel(kube, namespace),
  ]);
  return { nodes: nodes.map(nodeSummary), ...(install ? { install } : {}) };
};
