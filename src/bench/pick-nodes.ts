// Which two nodes to measure between: --from/--to, or two Ready, schedulable nodes on the same L2
// segment (same /24 of their flannel public-ip or InternalIP), workers before control-plane nodes and
// nodes whose NoSchedule/NoExecute taints the bench pods tolerate before the others. Whether a node has
// pods (or cni0) yet does not matter: the bench pods are the pods, and the bridge CNI plugin creates
// cni0 with the first of them (containernetworking/plugins plugins/main/bridge/bridge.go cmdAdd).
import { UsageError } from '../errors.ts';
import { ANNOTATIONS } from '../flannel/names.ts';
import type { Toleration } from './options.ts';

export interface PickableNode {
  readonly metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  readonly spec?: {
    unschedulable?: boolean;
    podCIDR?: string;
    taints?: { key: string; value?: string; effect: string }[];
  };
  readonly status?: {
    conditions?: { type: string; status: string }[];
    addresses?: { type: string; address: string }[];
    nodeInfo?: { kernelVersion?: string; containerRuntimeVersion?: string };
  };
}

export const nodeAddress = (node: PickableNode): string | null =>
  node.metadata?.annotations?.[ANNOTATIONS.publicIp] ??
  node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ??
  null;

const ready = (node: PickableNode): boolean =>
  node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

const controlPlane = (node: PickableNode): boolean =>
  Object.keys(node.metadata?.labels ?? {}).some((l) =>
    /node-role\.kubernetes\.io\/(control-plane|master)/.test(l),
  );

/** The scheduler's rule (k8s.io/api/core/v1 toleration.go ToleratesTaint), for the effects that keep pods off. */
const tolerates = (t: Toleration, taint: { key: string; value?: string; effect: string }): boolean =>
  (t.effect === undefined || t.effect === taint.effect) &&
  (t.key === undefined || t.key === taint.key) &&
  (t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? ''));

/** The first taint that keeps the bench pods off the node, or undefined. */
export const blockingTaint = (node: PickableNode, tolerations: readonly Toleration[]): string | undefined => {
  const taint = node.spec?.taints?.find(
    (x) =>
      (x.effect === 'NoSchedule' || x.effect === 'NoExecute') && !tolerations.some((t) => tolerates(t, x)),
  );
  return taint && `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
};

const segment = (address: string | null): string | null =>
  address && /^\d+\.\d+\.\d+\.\d+$/.test(address) ? address.split('.').slice(0, 3).join('.') : address;

export const pickNodes = (
  nodes: readonly PickableNode[],
  from?: string,
  to?: string,
  tolerations: readonly Toleration[] = [],
): { client: PickableNode; server: PickableNode; reason: string } => {
  const byName = new Map(nodes.map((n) => [n.metadata?.name ?? '', n]));
  const named = (flag: string, name: string): PickableNode => {
    const node = byName.get(name);
    if (!node)
      throw new UsageError(`${flag} ${name}: no such node`, `nodes: ${[...byName.keys()].sort().join(', ')}`);
    if (!ready(node)) throw new UsageError(`${flag} ${name}: the node is not Ready`);
    return node;
  };
  const client = from !== undefined ? named('--from', from) : undefined;
  const server = to !== undefined ? named('--to', to) : undefined;
  if (client && server) return { client, server, reason: 'chosen with --from/--to' };

  const candidates = nodes
    .filter((n) => ready(n) && !n.spec?.unschedulable && n !== client && n !== server)
    .sort(
      (a, b) =>
        Number(blockingTaint(a, tolerations) !== undefined) -
          Number(blockingTaint(b, tolerations) !== undefined) ||
        Number(controlPlane(a)) - Number(controlPlane(b)) ||
        (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '', 'en', { numeric: true }),
    );
  const fixed = client ?? server;
  if (fixed) {
    const peer =
      candidates.find((n) => segment(nodeAddress(n)) === segment(nodeAddress(fixed))) ?? candidates[0];
    if (!peer) throw new UsageError('no second Ready node to measure against', 'bench needs two nodes');
    return client
      ? { client, server: peer, reason: `${peer.metadata?.name} picked: Ready, same segment` }
      : { client: peer, server: server!, reason: `${peer.metadata?.name} picked: Ready, same segment` };
  }
  const groups = new Map<string | null, PickableNode[]>();
  for (const n of candidates) {
    const key = segment(nodeAddress(n));
    groups.set(key, [...(groups.get(key) ?? []), n]);
  }
  const open = (g: PickableNode[]) => g.filter((n) => blockingTaint(n, tolerations) === undefined);
  const pair =
    [...groups.values()].map(open).find((g) => g.length >= 2) ??
    [...groups.values()].find((g) => g.length >= 2);
  if (!pair) {
    throw new UsageError(
      candidates.length < 2
        ? 'bench needs two Ready, schedulable nodes'
        : 'no two Ready nodes share a network segment',
      'pick them with --from NODE --to NODE',
    );
  }
  const tainted = pair.slice(0, 2).flatMap((n) => {
    const taint = blockingTaint(n, tolerations);
    return taint
      ? [`${n.metadata?.name} has taint ${taint}: pass --toleration or pick with --from/--to`]
      : [];
  });
  return {
    client: pair[0]!,
    server: pair[1]!,
    reason: ['two Ready nodes on the same segment', ...tainted].join('; '),
  };
};
