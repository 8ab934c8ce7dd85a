// After every node runs host-gw, flannel.1 carries nothing but still holds its address, neighbour and
// fdb entries and the UDP 8472 socket: `ip link del flannel.1` removes all of them. Pods created before
// the switch keep their old veth MTU until they are recreated; they are listed with the command to do so
// (by pod IP when the probe tied every old veth to its pod's netns, else by start time). cni0 follows
// the smallest of its ports by itself (see checks/bridge-mtu.ts): it is never set by hand.
import { bridgePorts } from '../checks/bridge-mtu.ts';
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import { isFlannelVxlanDevice } from '../facts/cluster-facts.ts';
import { assertInterfaceName } from '../facts/probe-input.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/kube-object.ts';
import type { NodeExec } from '../nodes/exec.ts';
import type { SelectedNode } from '../nodes/select.ts';

export interface NodeCleanup {
  readonly node: string;
  readonly removed: readonly string[];
  readonly error?: string;
}

/** Deletes each node's flannel VXLAN device(s) as the facts list them; names are validated first. */
export const deleteVxlanDevices = async (
  exec: NodeExec,
  nodes: readonly SelectedNode[],
  facts: ClusterFacts,
  timeoutMs: number,
): Promise<NodeCleanup[]> =>
  Promise.all(
    nodes.map(async (node): Promise<NodeCleanup> => {
      const links = facts.nodes.find((n) => n.name === node.name)?.facts?.links ?? [];
      const devices = links
        .filter((l) => isFlannelVxlanDevice(l.name, l.kind))
        .map((l) => assertInterfaceName(l.name));
      if (devices.length === 0) return { node: node.name, removed: [] };
      try {
        const out = await exec.run(node, devices.map((d) => `ip link del ${d}`).join('\n') + '\n', {
          timeoutMs,
        });
        if (out.exitCode !== 0)
          return {
            node: node.name,
            removed: [],
            error: (out.stderr || out.stdout).trim() || `exit ${out.exitCode}`,
          };
        return { node: node.name, removed: devices };
      } catch (error) {
        return { node: node.name, removed: [], error: (error as Error).message };
      }
    }),
  );

export interface StaleMtuNode {
  readonly node: string;
  /** FLANNEL_MTU now (subnet.env), what new pods get. */
  readonly mtu: number | null;
  readonly cni0Mtu: number | null;
  /** Host-side veths on cni0 at another MTU: pods created before the switch. */
  readonly staleVeths: readonly {
    readonly name: string;
    readonly mtu: number | null;
    /** The pod's IP read through its netns; null when the veth could not be tied to a pod. */
    readonly podIp: string | null;
  }[];
}

export interface StaleOwner {
  readonly namespace: string;
  /** e.g. deployment/web, daemonset/agent, pod/bare (no controller). */
  readonly owner: string;
  readonly pods: readonly string[];
  readonly nodes: readonly string[];
  readonly command: string;
}

export const staleMtuNodes = (facts: ClusterFacts): StaleMtuNode[] =>
  facts.nodes.flatMap((n) => {
    const f = n.facts;
    if (!f?.links) return [];
    const env = f.subnetEnv && f.subnetEnv !== 'missing' ? f.subnetEnv : null;
    const mtu = env?.mtu ?? null;
    const cni0 = f.links.find((l) => l.name === 'cni0');
    const staleVeths = bridgePorts(f)
      .filter((p) => mtu !== null && p.link.mtu !== mtu)
      .map((p) => ({ name: p.link.name, mtu: p.link.mtu, podIp: p.pod?.addresses[0] ?? null }));
    return [{ node: n.name, mtu, cni0Mtu: cni0?.mtu ?? null, staleVeths }];
  });

interface PodObject extends KubeObject {
  spec?: { nodeName?: string; hostNetwork?: boolean };
  status?: { podIP?: string };
}

const SHORT: Record<string, string> = {
  Deployment: 'deploy',
  DaemonSet: 'daemonset',
  StatefulSet: 'statefulset',
  ReplicaSet: 'replicaset',
};

/**
 * Pods on nodes with stale veths that started before their node switched (so their veth was made with
 * the old MTU), grouped by the controller that recreates them. ReplicaSets are followed to Deployments.
 */
export const staleOwners = async (
  kube: KubeClient,
  nodes: readonly StaleMtuNode[],
  switchedAt: ReadonlyMap<string, number>,
  excludeNamespace: string,
): Promise<StaleOwner[]> => {
  const stale = nodes.filter((n) => n.staleVeths.length > 0);
  const affected = new Set(stale.map((n) => n.node));
  if (affected.size === 0) return [];
  // Exact where every old veth was tied to its pod's IP; otherwise the pods started before the switch.
  const byIp = new Map(
    stale.map((n) => [
      n.node,
      n.staleVeths.every((v) => v.podIp !== null) ? new Set(n.staleVeths.map((v) => v.podIp)) : null,
    ]),
  );
  const pods = (await kube.list<PodObject>('v1', 'Pod')).filter((p) => {
    const node = p.spec?.nodeName ?? '';
    if (p.spec?.hostNetwork || p.metadata.namespace === excludeNamespace || !affected.has(node)) return false;
    const ips = byIp.get(node);
    if (ips) return ips.has(p.status?.podIP ?? '');
    return Date.parse(String(p.metadata.creationTimestamp ?? '')) <= (switchedAt.get(node) ?? Infinity);
  });
  const groups = new Map<string, StaleOwner & { pods: string[]; nodes: string[] }>();
  const rsOwner = new Map<string, string>();
  for (const pod of pods) {
    const ns = pod.metadata.namespace ?? 'default';
    const ref = (
      pod.metadata.ownerReferences as { kind: string; name: string; controller?: boolean }[] | undefined
    )?.find((r) => r.controller !== false);
    let owner = ref ? `${SHORT[ref.kind] ?? ref.kind.toLowerCase()}/${ref.name}` : `pod/${pod.metadata.name}`;
    if (ref?.kind === 'ReplicaSet') {
      const key = `${ns}/${ref.name}`;
      if (!rsOwner.has(key)) {
        const rs = await kube
          .get({ apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: ns, name: ref.name })
          .catch(() => undefined);
        const dep = (rs?.metadata.ownerReferences as { kind: string; name: string }[] | undefined)?.find(
          (r) => r.kind === 'Deployment',
        );
        rsOwner.set(key, dep ? `deploy/${dep.name}` : owner);
      }
      owner = rsOwner.get(key)!;
    }
    const key = `${ns}/${owner}`;
    const group = groups.get(key) ?? {
      namespace: ns,
      owner,
      pods: [],
      nodes: [],
      command: owner.startsWith('pod/')
        ? `kubectl -n ${ns} delete ${owner}  # no controller: recreate it yourself`
        : `kubectl -n ${ns} rollout restart ${owner}`,
    };
    group.pods.push(pod.metadata.name);
    if (!group.nodes.includes(pod.spec!.nodeName!)) group.nodes.push(pod.spec!.nodeName!);
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) =>
    `${a.namespace}/${a.owner}`.localeCompare(`${b.namespace}/${b.owner}`),
  );
};
