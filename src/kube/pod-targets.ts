// Pods whose addresses prove pod-network reachability: Running, not hostNetwork, not terminating, with an
// IPv4 status.podIP inside their node's podCIDR (an address flannel routes). A node without such a pod
// has nothing to reach over the pod network — and often no cni0 at all, since the bridge CNI plugin
// creates it with the first pod (containernetworking/plugins plugins/main/bridge/bridge.go cmdAdd).
import { isIPv4 } from 'node:net';
import { contains, parseIp, tryParseCidr } from '../flannel/cidr.ts';
import type { KubeClient } from './client.ts';
import type { KubeObject } from './kube-object.ts';

export interface PodTarget {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly ip: string;
}

interface PodObject extends KubeObject {
  spec?: { nodeName?: string; hostNetwork?: boolean };
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

/** A few per node: one pod may refuse ping (a NetworkPolicy), so a pair passes when any of them answers. */
export const POD_TARGETS_PER_NODE = 3;

const isReady = (pod: PodObject): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

const inPodCidr = (ip: string, podCIDRs: readonly string[]): boolean => {
  const address = parseIp(ip);
  return (
    address !== undefined &&
    podCIDRs.some((c) => {
      const cidr = tryParseCidr(c);
      return cidr !== undefined && cidr.family === 'ipv4' && contains(cidr, address);
    })
  );
};

/** Pod targets per node name (Ready pods first, then by name); nodes without one are absent. */
export const podTargetsByNode = (
  pods: readonly PodObject[],
  nodes: readonly { readonly name: string; readonly podCIDRs: readonly string[] }[],
  perNode = POD_TARGETS_PER_NODE,
): Map<string, PodTarget[]> => {
  const cidrs = new Map(nodes.map((n) => [n.name, n.podCIDRs]));
  const candidates = pods
    .filter((p) => {
      const node = p.spec?.nodeName;
      const ip = p.status?.podIP;
      // The IP comes from the API and later reaches a ping command: it must be a plain IPv4 literal.
      return (
        node !== undefined &&
        cidrs.has(node) &&
        !p.spec?.hostNetwork &&
        !p.metadata.deletionTimestamp &&
        p.status?.phase === 'Running' &&
        typeof ip === 'string' &&
        isIPv4(ip) &&
        inPodCidr(ip, cidrs.get(node)!)
      );
    })
    .sort(
      (a, b) =>
        Number(isReady(b)) - Number(isReady(a)) ||
        `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace}/${b.metadata.name}`,
        ),
    );
  const byNode = new Map<string, PodTarget[]>();
  for (const p of candidates) {
    const node = p.spec!.nodeName!;
    const list = byNode.get(node) ?? [];
    if (list.length >= perNode || list.some((t) => t.ip === p.status!.podIP)) continue;
    list.push({
      namespace: p.metadata.namespace ?? 'default',
      name: p.metadata.name,
      node,
      ip: p.status!.podIP!,
    });
    byNode.set(node, list);
  }
  return byNode;
};

/** Reads every pod once (cluster-wide list) and picks the targets for these nodes. */
export const listPodTargets = async (
  kube: KubeClient,
  nodes: readonly { readonly name: string; readonly podCIDRs: readonly string[] }[],
  perNode = POD_TARGETS_PER_NODE,
): Promise<Map<string, PodTarget[]>> =>
  podTargetsByNode(await kube.list<PodObject>('v1', 'Pod'), nodes, perNode);
