// The network's picture behind `status --topology`: nodes grouped into L2 segments (the same union of
// direct `ip route get` verdicts verify-l2 uses), their pod subnets, and how each pair is routed:
// a direct route to the peer (host-gw, or vxlan DirectRouting), through flannel.N (vxlan), or
// through a gateway. Pure; src/render/topology.ts draws it.
import { buildL2Matrix, l2Verdict } from '../checks/l2-adjacency.ts';
import { nodeViews, uplinkOf, type NodeView } from '../checks/topology.ts';
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import { isFlannelVxlanDevice } from '../facts/cluster-facts.ts';
import { contains, tryParseCidr } from '../flannel/cidr.ts';

/** direct: a route straight to the peer; vxlan: through flannel.N; gateway: through a router. */
export type PathKind = 'direct' | 'vxlan' | 'gateway' | 'unreachable' | 'unknown';

export interface TopologyNode {
  readonly name: string;
  readonly publicIp: string | null;
  readonly podCIDR: string | null;
  readonly reachable: boolean;
}

export interface TopologySegment {
  /** 1-based, largest segment first. */
  readonly index: number;
  readonly nodes: readonly TopologyNode[];
}

export interface PathLabel {
  readonly kind: PathKind;
  /** "direct", "via flannel.1", "via 192.168.77.1", "unreachable", "unknown". */
  readonly text: string;
}

/** One unordered pair; `back` is set only when the reverse direction differs. */
export interface TopologyEdge {
  readonly from: string;
  readonly to: string;
  readonly path: PathLabel;
  readonly back?: PathLabel;
}

/** Pairs between two segments (or within one), counted per path. */
export interface SegmentEdge {
  readonly from: number;
  readonly to: number;
  readonly paths: readonly { readonly path: PathLabel; readonly pairs: number }[];
}

export interface Topology {
  readonly segments: readonly TopologySegment[];
  /** 'node': one edge per pair; 'segment': edges between segments (large clusters). */
  readonly level: 'node' | 'segment';
  readonly edges: readonly TopologyEdge[];
  readonly segmentEdges: readonly SegmentEdge[];
}

/** Above this many nodes a pair-by-pair picture is unreadable: segments are drawn instead. */
export const MAX_NODE_LEVEL = 30;

const UNKNOWN: PathLabel = { kind: 'unknown', text: 'unknown' };

/** How `row` sends traffic to `peer`'s pods: its route to the peer's podCIDR, else the underlay. */
export const pathBetween = (row: NodeView, peer: NodeView): PathLabel => {
  const facts = row.facts;
  if (!facts) return UNKNOWN;
  const pods = peer.podCIDR ? tryParseCidr(peer.podCIDR) : undefined;
  const podRoute = pods
    ? facts.routes?.find((r) => {
        const dst = r.family === 'inet' && r.dst !== 'default' ? tryParseCidr(r.dst) : undefined;
        return dst !== undefined && contains(dst, pods) && dst.prefix >= pods.prefix;
      })
    : undefined;
  const vxlanDevs = new Set(
    (facts.links ?? []).filter((l) => isFlannelVxlanDevice(l.name, l.kind)).map((l) => l.name),
  );
  if (podRoute?.dev && vxlanDevs.has(podRoute.dev)) return { kind: 'vxlan', text: `via ${podRoute.dev}` };
  if (!peer.publicIp) return UNKNOWN;
  const uplink = uplinkOf(facts, row.publicIp)?.name ?? null;
  const verdict = l2Verdict(facts, uplink, peer.publicIp);
  const got = facts.routeGets[peer.publicIp];
  const gateway = got?.ok ? got.gateway : null;
  if (verdict === 'error') return { kind: 'unreachable', text: 'unreachable' };
  if (gateway) return { kind: 'gateway', text: `via ${gateway}` };
  if (podRoute?.gateway === peer.publicIp || verdict === 'adjacent')
    return { kind: 'direct', text: 'direct' };
  return UNKNOWN;
};

const same = (a: PathLabel, b: PathLabel): boolean => a.kind === b.kind && a.text === b.text;

export const buildTopology = (facts: ClusterFacts, maxNodeLevel = MAX_NODE_LEVEL): Topology => {
  const views = nodeViews(facts);
  const byName = new Map(views.map((v) => [v.name, v]));
  const matrix = buildL2Matrix(facts);
  const segments: TopologySegment[] = matrix.segments.map((names, i) => ({
    index: i + 1,
    nodes: names.map((name) => {
      const v = byName.get(name)!;
      return { name, publicIp: v.publicIp, podCIDR: v.podCIDR, reachable: !v.probe || v.facts !== null };
    }),
  }));
  const segmentOf = new Map(segments.flatMap((s) => s.nodes.map((n) => [n.name, s.index] as const)));
  const drawn = views.filter((v) => segmentOf.has(v.name));
  const edges: TopologyEdge[] = [];
  for (const [i, a] of drawn.entries()) {
    for (const b of drawn.slice(i + 1)) {
      const ab = pathBetween(a, b);
      const ba = pathBetween(b, a);
      // Seen from the one side that was probed, when the other could not be.
      const forward = ab.kind === 'unknown' && !a.facts ? ba : ab;
      const back = ba.kind === 'unknown' && !b.facts ? forward : ba;
      edges.push({ from: a.name, to: b.name, path: forward, ...(same(forward, back) ? {} : { back }) });
    }
  }
  const level = drawn.length > maxNodeLevel ? 'segment' : 'node';
  const counts = new Map<
    string,
    { from: number; to: number; paths: Map<string, { path: PathLabel; pairs: number }> }
  >();
  for (const e of edges) {
    const [from, to] = [segmentOf.get(e.from)!, segmentOf.get(e.to)!].sort((x, y) => x - y) as [
      number,
      number,
    ];
    const key = `${from}-${to}`;
    const entry = counts.get(key) ?? { from, to, paths: new Map() };
    for (const path of e.back ? [e.path, e.back] : [e.path]) {
      const p = entry.paths.get(path.text) ?? { path, pairs: 0 };
      p.pairs += e.back ? 0.5 : 1;
      entry.paths.set(path.text, p);
    }
    counts.set(key, entry);
  }
  const segmentEdges = [...counts.values()]
    .sort((x, y) => x.from - y.from || x.to - y.to)
    .map((c) => ({
      from: c.from,
      to: c.to,
      paths: [...c.paths.values()].map((p) => ({ path: p.path, pairs: Math.ceil(p.pairs) })),
    }));
  return { segments, level, edges: level === 'node' ? edges : [], segmentEdges };
};
