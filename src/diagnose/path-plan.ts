// Which paths `mtu-probe` measures: for each sender and chosen peer, the peer's node address (flannel's
// public IP) and its pod network (the cni0 gateway, podCIDR .1), each with the size that must pass:
// the sender's uplink MTU for the node path, the sender's FLANNEL_MTU (what its pods send) for the pod path.
// A peer no pod ever ran on has no cni0 (containernetworking/plugins plugins/main/bridge/bridge.go
// creates it on the first ADD): its pod path is skipped with that reason, never counted as a failure.
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import { isIpLiteral } from '../facts/probe-input.ts';
import { expectedMtuFor } from '../checks/subnet-env.ts';
import { flannelSubnetFor, nodeViews, uplinkOf, type NodeView } from '../checks/topology.ts';

/** Up to this many nodes every ordered pair is measured by default; above, a ring sample. */
export const ALL_PAIRS_MAX_NODES = 50;
/** Peers per node in the ring sample: its next N nodes in name order. */
export const SAMPLE_PEERS = 5;

/** --pairs: auto (all up to ALL_PAIRS_MAX_NODES nodes, else the ring sample), all, or N peers per node. */
export type PairsSetting = 'auto' | 'all' | number;

export interface PathTarget {
  readonly node: string;
  readonly peer: string;
  readonly target: 'node' | 'pod';
  readonly address: string;
  readonly expected: number;
}

export interface PathPlan {
  readonly targets: readonly PathTarget[];
  /** One line per path that cannot be measured, and why. */
  readonly notes: readonly string[];
  /** How the pairs were chosen, for the progress line and the table. */
  readonly description: string;
}

/**
 * Peers per sender, in name order. A ring (each node → its next k) keeps every node a receiver of k
 * senders, so a node with a smaller MTU is still caught by k of its peers.
 */
export const choosePeers = (names: readonly string[], setting: PairsSetting): Map<string, string[]> => {
  const n = names.length;
  const k =
    setting === 'all' || (setting === 'auto' && n <= ALL_PAIRS_MAX_NODES)
      ? n - 1
      : Math.min(n - 1, setting === 'auto' ? SAMPLE_PEERS : setting);
  return new Map(
    names.map((name, i) => [name, Array.from({ length: k }, (_, j) => names[(i + 1 + j) % n]!)]),
  );
};

const podGateway = (view: NodeView): string | null => {
  const subnet = view.podCIDR ? flannelSubnetFor(view.podCIDR) : null;
  return subnet ? subnet.split('/')[0]! : null;
};

export const planPaths = (facts: ClusterFacts, setting: PairsSetting): PathPlan => {
  const views = nodeViews(facts).filter((v) => v.facts);
  const byName = new Map(views.map((v) => [v.name, v]));
  const peers = choosePeers(
    views.map((v) => v.name),
    setting,
  );
  const notes: string[] = [];
  const targets: PathTarget[] = [];
  for (const sender of views) {
    const senderFacts = sender.facts!;
    const uplink = uplinkOf(senderFacts, sender.publicIp);
    const uplinkMtu = uplink ? (senderFacts.links?.find((l) => l.name === uplink.name)?.mtu ?? null) : null;
    const env = senderFacts.subnetEnv;
    const flannelMtu =
      (env && env !== 'missing' ? env.mtu : null) ??
      expectedMtuFor(facts, sender, senderFacts)?.value ??
      null;
    if (uplinkMtu === null) notes.push(`${sender.name}: uplink MTU unknown, node paths not measured`);
    if (flannelMtu === null) notes.push(`${sender.name}: FLANNEL_MTU unknown, pod paths not measured`);
    for (const peerName of peers.get(sender.name) ?? []) {
      const peer = byName.get(peerName)!;
      const address = peer.publicIp;
      if (uplinkMtu !== null) {
        // Addresses come from the API: only plain IP literals ever reach the ping command line.
        if (address && isIpLiteral(address))
          targets.push({ node: sender.name, peer: peer.name, target: 'node', address, expected: uplinkMtu });
        else notes.push(`${sender.name} → ${peer.name}: no usable node address`);
      }
      if (flannelMtu === null) continue;
      const gateway = podGateway(peer);
      const present = peer.facts?.addresses?.some((a) => a.local === gateway) ?? true;
      if (!gateway || !isIpLiteral(gateway)) notes.push(`${sender.name} → ${peer.name}: no podCIDR`);
      else if (!present)
        notes.push(
          `${sender.name} → ${peer.name}: no pods on ${peer.name} (${gateway} absent: the bridge CNI plugin creates cni0 with the first pod), so its pod path is not measured; the node path is`,
        );
      else
        targets.push({
          node: sender.name,
          peer: peer.name,
          target: 'pod',
          address: gateway,
          expected: flannelMtu,
        });
    }
  }
  const n = views.length;
  const perNode = peers.values().next().value?.length ?? 0;
  const description =
    perNode >= n - 1
      ? `every pair of ${n} nodes`
      : `${n} nodes, each to its next ${perNode} in name order (--pairs all for every pair)`;
  return { targets, notes: [...new Set(notes)], description };
};
