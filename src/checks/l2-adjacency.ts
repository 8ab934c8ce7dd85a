// host-gw needs every node to reach every peer's public IP directly on flannel's interface. This is
// flannel's own DirectRouting test: `ip route get <peer>` returns exactly one route, with no gateway,
// leaving through the flannel interface. A routed pair cannot use host-gw (the kernel refuses the
// route with "network is unreachable"); vxlan with DirectRouting handles such clusters.
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import { routeGetCount, type NodeFacts, type RouteGetResult } from '../facts/node-facts.ts';
import { formatRouteGet } from './evidence.ts';
import { findingBuilder, listSome } from './finding.ts';
import { forEachProbedNode } from './per-node.ts';
import { comment, ifnameArg, ipArg, sh } from './shell-command.ts';
import { nodeViews, routedFamilies, uplinkOf, type NodeView } from './topology.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('l2-adjacency');

/** adjacent: one route, no gateway, flannel's interface; the rest say why host-gw cannot use the pair. */
export type L2Verdict =
  'adjacent' | 'routed' | 'other-interface' | 'ambiguous' | 'error' | 'unknown' | 'self';

/** Every verdict, in declaration order (the Report schema's enum for `l2Matrix.cells`). */
export const L2_VERDICTS = Object.keys({
  adjacent: 0,
  routed: 0,
  'other-interface': 0,
  ambiguous: 0,
  error: 0,
  unknown: 0,
  self: 0,
} satisfies Record<L2Verdict, 0>) as readonly L2Verdict[];

export const l2Verdict = (nodeFacts: NodeFacts, uplink: string | null, peerIp: string): L2Verdict => {
  const result: RouteGetResult | undefined = nodeFacts.routeGets[peerIp];
  if (!result) return 'unknown';
  if (!result.ok) return 'error';
  if (routeGetCount(result) !== 1) return 'ambiguous';
  if (result.gateway) return 'routed';
  if (uplink && result.dev !== uplink) return 'other-interface';
  return 'adjacent';
};

const VXLAN_DR = '{"Backend": {"Type": "vxlan", "DirectRouting": true}}';

export const l2AdjacencyCheck: Check = {
  id: 'l2-adjacency',
  title: 'L2 adjacency',
  description:
    'Every node reaches every peer’s public IP directly (ip route get: one route, no gateway, flannel’s interface), as host-gw requires; under dual stack also each peer’s public-ipv6',
  needs: ['nodes'],
  evaluate(facts) {
    const views = nodeViews(facts);
    const families = routedFamilies(facts);
    // Under dual stack flanneld tests IPv6 peers the same way (ip.DirectRouting on PublicIPv6 in
    // pkg/backend/vxlan/vxlan_network.go) and host-gw needs them on-link too (hostgw.go GetV6Route).
    const plans: L2Plan[] = [
      ...(families.ipv4 ? [{ v6: false, peers: peerIps(views, (v) => v.publicIp) }] : []),
      ...(families.ipv6 ? [{ v6: true, peers: peerIps(views, (v) => v.publicIpv6) }] : []),
    ];
    // Under vxlan a routed pair is expected (DirectRouting falls back to vxlan for it): info, not fail.
    const hostGw = facts.expectedBackend.value === 'host-gw';
    const routedSeverity = hostGw ? 'fail' : 'info';
    return forEachProbedNode(
      facts,
      b,
      (view, nodeFacts) => {
        const uplink = uplinkOf(nodeFacts, view.publicIp ?? view.publicIpv6);
        const out: Finding[] = [];
        const unknownByPlan: string[][] = [];
        const adjacentByPlan: number[] = [];
        for (const { v6, peers } of plans) {
          const unknown: string[] = [];
          let adjacent = 0;
          // "IPv6 " in messages only for the IPv6 pass: IPv4 reports stay as they were.
          const fam = v6 ? 'IPv6 ' : '';
          for (const { peer, ip } of peers) {
            if (peer.name === view.name) continue;
            const verdict = l2Verdict(nodeFacts, uplink?.name ?? null, ip);
            if (verdict === 'adjacent') {
              adjacent++;
              continue;
            }
            if (verdict === 'unknown') {
              unknown.push(peer.name);
              continue;
            }
            // Evidence only for pairs that get a finding: formatting it for every adjacent pair cost ~1M
            // strings at 1,000 nodes.
            const result = nodeFacts.routeGets[ip];
            const evidence = result ? [formatRouteGet(result)] : [];
            const at = { node: view.name, peer: peer.name, evidence };
            switch (verdict) {
              case 'error':
                out.push(
                  b('no-route', 'fail', {
                    ...at,
                    message: `${view.name} has no ${fam}route to ${peer.name} (${ip}): the nodes cannot reach each other at all`,
                    remediation: ipArg(ip)
                      ? sh`ip route get ${ipArg(ip)!}  # on ${comment(view.name)}; check the node network`
                      : undefined,
                  }),
                );
                break;
              case 'ambiguous':
                out.push(
                  b('ambiguous', routedSeverity, {
                    ...at,
                    message: `ip route get ${ip} on ${view.name} returns ${result && result.ok ? routeGetCount(result) : 0} routes, flannel needs exactly one without a gateway`,
                  }),
                );
                break;
              case 'routed': {
                const gw = result && result.ok ? result.gateway : null;
                out.push(
                  b('routed', routedSeverity, {
                    ...at,
                    message: hostGw
                      ? `${view.name} reaches ${peer.name} (${ip}) through router ${gw}: host-gw cannot work for this pair ("Error adding route … ${v6 ? UNREACHABLE_V6 : UNREACHABLE_V4}"); use vxlan with DirectRouting`
                      : `${view.name} reaches ${peer.name} (${ip}) through router ${gw}: not L2-adjacent, so host-gw would not work for this pair`,
                    ...(hostGw
                      ? {
                          remediation: sh`flannelctl migrate --to vxlan --direct-routing  # net-conf.json ${comment(VXLAN_DR)}; or put both nodes on one L2 segment`,
                        }
                      : {}),
                  }),
                );
                break;
              }
              case 'other-interface': {
                const dev = result && result.ok ? result.dev : null;
                out.push(
                  b('other-interface', routedSeverity, {
                    ...at,
                    message: `${view.name} reaches ${peer.name} (${ip}) through ${dev}, not flannel's interface ${uplink?.name}: host-gw routes pinned to ${uplink?.name} will not reach it`,
                    evidence: [...evidence, uplink ? `flannel interface: ${uplink.how}` : ''],
                    remediation: ifnameArg(dev)
                      ? sh`flanneld --iface=${ifnameArg(dev)!}  # or the node-public-ip annotation, so flannel uses the interface that reaches its peers`
                      : undefined,
                  }),
                );
                break;
              }
            }
          }
          unknownByPlan.push(unknown);
          adjacentByPlan.push(adjacent);
        }
        const adjacent = adjacentByPlan.reduce((sum, n) => sum + n, 0);
        plans.forEach(({ v6 }, i) => {
          const unknown = unknownByPlan[i]!;
          if (unknown.length === 0) return;
          out.push(
            b('not-probed', adjacent === 0 && out.length === 0 ? 'skipped' : 'info', {
              node: view.name,
              message: `ip route get was not run on ${view.name} for ${unknown.length} ${v6 ? 'IPv6 ' : ''}peers: ${listSome(unknown)}`,
            }),
          );
        });
        if (out.length === 0 || (adjacent > 0 && out.every((f) => f.severity === 'info'))) {
          out.push(
            b.pass({
              node: view.name,
              message: `${view.name} is L2-adjacent ${adjacencyText(plans, adjacentByPlan)}`,
              evidence: uplink ? [`flannel interface: ${uplink.how}`] : [],
            }),
          );
        }
        return out;
      },
      views,
    );
  },
};

interface L2Plan {
  readonly v6: boolean;
  readonly peers: readonly { readonly peer: NodeView; readonly ip: string }[];
}

const peerIps = (views: readonly NodeView[], ipOf: (v: NodeView) => string | null): L2Plan['peers'] =>
  views.flatMap((peer) => {
    const ip = ipOf(peer);
    return ip ? [{ peer, ip }] : [];
  });

// The errno the kernel gives a gateway route whose next hop is not on-link: ENETUNREACH for IPv4,
// EHOSTUNREACH for IPv6 (`ip -6 route add … via <off-link>`: "No route to host", Linux 6.x).
const UNREACHABLE_V4 = 'network is unreachable';
const UNREACHABLE_V6 = 'no route to host';

/** "to 3 peers"; dual stack adds ", and over IPv6 to 3". */
const adjacencyText = (plans: readonly L2Plan[], adjacent: readonly number[]): string => {
  const [first, second] = plans;
  const head = `${first?.v6 ? 'over IPv6 ' : ''}to ${adjacent[0] ?? 0} peers`;
  return second ? `${head}, and over IPv6 to ${adjacent[1] ?? 0}` : head;
};

export interface L2Matrix {
  /** Probed nodes in order: the rows. */
  readonly nodes: readonly string[];
  /** All nodes with a public IP: the columns. */
  readonly peers: readonly string[];
  /** cells[row][column]. */
  readonly cells: readonly (readonly L2Verdict[])[];
  readonly counts: Readonly<Record<L2Verdict, number>>;
  /** Groups of nodes joined by adjacency in either direction: one L2 segment each, largest first. */
  readonly segments: readonly (readonly string[])[];
}

/** The node×node verdicts behind `verify-l2`. */
export const buildL2Matrix = (facts: ClusterFacts): L2Matrix => {
  const views = nodeViews(facts);
  const rows = views.filter((v) => v.facts);
  const columns = views.filter((v) => v.publicIp);
  const counts: Record<L2Verdict, number> = {
    adjacent: 0,
    routed: 0,
    'other-interface': 0,
    ambiguous: 0,
    error: 0,
    unknown: 0,
    self: 0,
  };
  const parent = new Map(views.map((v) => [v.name, v.name]));
  const find = (n: string): string => {
    let root = n;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(n, root);
    return root;
  };
  const cells = rows.map((row: NodeView) => {
    const uplink = uplinkOf(row.facts!, row.publicIp)?.name ?? null;
    return columns.map((col) => {
      const verdict: L2Verdict =
        col.name === row.name ? 'self' : l2Verdict(row.facts!, uplink, col.publicIp!);
      counts[verdict]++;
      if (verdict === 'adjacent') parent.set(find(row.name), find(col.name));
      return verdict;
    });
  });
  const groups = new Map<string, string[]>();
  for (const v of views) {
    if (!v.facts && !v.publicIp) continue;
    const root = find(v.name);
    groups.set(root, [...(groups.get(root) ?? []), v.name]);
  }
  const segments = [...groups.values()].sort((x, y) => y.length - x.length || x[0]!.localeCompare(y[0]!));
  return { nodes: rows.map((r) => r.name), peers: columns.map((c) => c.name), cells, counts, segments };
};

const SYMBOL: Record<L2Verdict, string> = {
  adjacent: 'L2',
  routed: 'R',
  'other-interface': 'IF',
  ambiguous: '?2',
  error: 'X',
  unknown: '-',
  self: '·',
};

/**
 * Text lines for `verify-l2`: the full matrix up to `maxNodes` columns, else the segments and the
 * counts (a 1,000×1,000 grid helps nobody).
 */
export const summarizeL2Matrix = (matrix: L2Matrix, maxNodes = 20): string[] => {
  const counts = Object.entries(matrix.counts)
    .filter(([k, n]) => n > 0 && k !== 'self')
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lines: string[] = [];
  if (matrix.peers.length <= maxNodes) {
    const width = Math.max(4, ...matrix.nodes.map((n) => n.length));
    lines.push(`${''.padEnd(width)}  ${matrix.peers.map((_, i) => String(i + 1).padStart(3)).join('')}`);
    matrix.nodes.forEach((node, r) => {
      lines.push(`${node.padEnd(width)}  ${matrix.cells[r]!.map((c) => SYMBOL[c].padStart(3)).join('')}`);
    });
    lines.push(`columns: ${matrix.peers.map((p, i) => `${i + 1}=${p}`).join(' ')}`);
    lines.push('L2 adjacent, R routed, IF other interface, ?2 several routes, X no route, - not probed');
  }
  lines.push(
    `${matrix.segments.length} L2 segment${matrix.segments.length === 1 ? '' : 's'}: ${matrix.segments
      .map((s) => `[${s.length} nodes: ${listSome(s, 3)}]`)
      .join(' ')}`,
  );
  lines.push(`pairs: ${counts || 'none'}`);
  return lines;
};
