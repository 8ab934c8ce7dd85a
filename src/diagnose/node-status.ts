// One row per node for `flannelctl status`: what `kubectl get nodes` would show with flannel's
// columns. Pure over ClusterFacts; the API gives podCIDR, public IP, backend and the flannel pod,
// the probe gives the routes to the peers' pod subnets and whether the node answered at all.
import { nodeViews, type NodeView } from '../checks/topology.ts';
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import { contains, tryParseCidr } from '../flannel/cidr.ts';

export interface NodeStatus {
  readonly name: string;
  readonly podCIDR: string | null;
  readonly publicIp: string | null;
  /** flannel's backend-type annotation. */
  readonly backend: string | null;
  /** Peers with a podCIDR this node has a route to; null when the node was not probed. */
  readonly peerRoutes: number | null;
  readonly peers: number;
  readonly flannelPod: {
    readonly name: string;
    readonly ready: boolean;
    readonly phase: string | null;
    readonly restarts: number;
  } | null;
  /** reachable: probed; unreachable: the probe failed (see `issue`); not-probed: not selected. */
  readonly reachability: 'reachable' | 'unreachable' | 'not-probed';
  readonly issue?: string;
}

const routesToPeers = (view: NodeView, peers: readonly NodeView[]): number | null => {
  const routes = view.facts?.routes;
  if (!routes) return null;
  const dsts = routes
    .filter((r) => r.family === 'inet' && r.dst !== 'default' && r.type === 'unicast')
    .map((r) => tryParseCidr(r.dst))
    .filter((c) => c !== undefined);
  return peers.filter((p) => {
    const pods = tryParseCidr(p.podCIDR!);
    return pods && dsts.some((d) => d.prefix <= pods.prefix && d.prefix > 0 && contains(d, pods));
  }).length;
};

export const nodeStatuses = (facts: ClusterFacts): NodeStatus[] => {
  const views = nodeViews(facts);
  const pods = facts.api?.flannel?.pods ?? [];
  return views.map((view) => {
    const peers = views.filter((p) => p.name !== view.name && p.podCIDR);
    const pod = pods.find((p) => p.node === view.name);
    const reachability = !view.probe ? 'not-probed' : view.facts ? 'reachable' : 'unreachable';
    return {
      name: view.name,
      podCIDR: view.podCIDR,
      publicIp: view.publicIp,
      backend: view.backendType,
      peerRoutes: routesToPeers(view, peers),
      peers: peers.length,
      flannelPod: pod
        ? { name: pod.name, ready: pod.ready, phase: pod.phase, restarts: pod.restartCount }
        : null,
      reachability,
      ...(view.probe?.issue ? { issue: `${view.probe.issue.kind}: ${view.probe.issue.message}` } : {}),
    };
  });
};
