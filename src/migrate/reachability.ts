// Judges one round of pod-IP pings: per pair (a node toward the pods of a peer) and per node. A node
// with pods is verified at pod level once its pods answered from a peer; a node without pods has nothing
// to reach over the pod network (and no cni0: the bridge CNI plugin creates it with the first pod), so it
// is verified at node level (annotation, routes) and its own pings toward peers' pods still count.
import type { PodTarget } from '../kube/pod-targets.ts';
import type { PingPeer, RoundResult } from './connectivity.ts';

export type Reachability = 'verified' | 'node-level' | 'failed';

export interface NodeReachability {
  readonly level: Reachability;
  readonly message: string;
}

export interface ReachabilityVerdict {
  /** One line per pair that got no reply from any of the peer's pods. */
  readonly failures: readonly string[];
  readonly nodes: ReadonlyMap<string, NodeReachability>;
  /** Nodes that could not run their pings (connection problems): neither proven nor failed. */
  readonly unmeasured: readonly string[];
}

const list = (names: readonly string[]) => names.join(', ');

export const judgeReachability = (
  nodes: readonly string[],
  pods: ReadonlyMap<string, readonly PodTarget[]>,
  targets: readonly { readonly node: { readonly name: string }; readonly peers: readonly PingPeer[] }[],
  rounds: readonly RoundResult[],
): ReachabilityVerdict => {
  const ok: { from: string; to: string }[] = [];
  const failed: { from: string; to: string; detail: string }[] = [];
  const unmeasured: string[] = [];
  for (const round of rounds) {
    const peers = targets.find((t) => t.node.name === round.node)?.peers ?? [];
    if (!round.replies) {
      if (peers.length > 0) unmeasured.push(round.node);
      continue;
    }
    for (const peer of new Set(peers.map((p) => p.name))) {
      const tried = peers.filter((p) => p.name === peer);
      if (tried.some((p) => (round.replies!.get(p.address) ?? 0) > 0))
        ok.push({ from: round.node, to: peer });
      else
        failed.push({
          from: round.node,
          to: peer,
          detail: tried.map((p) => `${p.address}${p.pod ? ` (${p.pod})` : ''}`).join(', '),
        });
    }
  }
  const verdicts = new Map<string, NodeReachability>();
  for (const node of nodes) {
    const out = failed.filter((f) => f.from === node);
    const into = failed.filter((f) => f.to === node);
    const own = pods.get(node) ?? [];
    if (out.length > 0 || into.length > 0) {
      verdicts.set(node, {
        level: 'failed',
        message: [
          ...out.map((f) => `no reply from pods on ${f.to}: ${f.detail}`),
          ...(into.length > 0 ? [`its pods got no ping reply to ${list(into.map((f) => f.from))}`] : []),
        ].join('; '),
      });
      continue;
    }
    const reachedFrom = ok.filter((p) => p.to === node).map((p) => p.from);
    const reached = ok.filter((p) => p.from === node).map((p) => p.to);
    const outgoing = reached.length > 0 ? `; reached pods on ${list(reached)}` : '';
    if (own.length === 0)
      verdicts.set(node, {
        level: 'node-level',
        message: `no pods (nothing to reach over the pod network): verified at node level (annotation, routes)${outgoing}`,
      });
    else if (reachedFrom.length === 0)
      verdicts.set(node, {
        level: 'node-level',
        message: `its pods were not pinged (no peer could ping them): verified at node level${outgoing}`,
      });
    else
      verdicts.set(node, {
        level: 'verified',
        message: `its pods (${own.map((t) => t.ip).join(', ')}) reached from ${list(reachedFrom)}${outgoing}`,
      });
  }
  return {
    failures: failed.map((f) => `${f.from} -> ${f.to}: no reply from its pods ${f.detail}`),
    nodes: verdicts,
    unmeasured,
  };
};
