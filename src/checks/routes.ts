// Every node has exactly one route of the right kind to every other node's podCIDR:
// - host-gw: `<podCIDR> via <peer public IP> dev <uplink>` (no onlink, never via flannel.1);
// - vxlan: `<podCIDR> via <subnet>.0 dev flannel.1 onlink`, with a PERMANENT neighbour
//   (<subnet>.0 lladdr <peer VtepMAC>) and an fdb entry (<VtepMAC> dst <peer public IP>);
// - vxlan with DirectRouting: a direct route where `ip route get <peer>` says the peer is adjacent.
// Under dual stack (EnableIPv6) the same again for IPv6, as flanneld programs it: host-gw
// `{Dst: lease.IPv6Subnet, Gw: PublicIPv6, LinkIndex: extIface}` (pkg/backend/hostgw/hostgw.go), vxlan
// via flannel-v6.<VNI> with the peer's backend-v6-data VtepMAC (pkg/backend/vxlan/vxlan_network.go).
// Built for 1,000 nodes (~1M routes): each node's routes, neighbours and fdb are indexed once, then
// each peer costs one lookup.
import type { Family, FdbEntry, Neighbour, NodeFacts, Route } from '../facts/node-facts.ts';
import { contains, tryParseCidr, type Cidr } from '../flannel/cidr.ts';
import { formatFdb, formatNeighbour, formatRoute } from './evidence.ts';
import { findingBuilder, listSome, type FindingBuilder } from './finding.ts';
import { forEachProbedNode, sectionReason } from './per-node.ts';
import { cidrArg, comment, ifnameArg, ipArg, macArg, sh, type Shell } from './shell-command.ts';
import {
  flannelPodCommands,
  isRouteGetAdjacent,
  netConfOf,
  networkAddress,
  nodeViews,
  routedFamilies,
  uplinkOf,
  vxlanDeviceName,
  vxlanV6DeviceName,
  type NodeView,
} from './topology.ts';
import type { Check, Finding } from './types.ts';

const b: FindingBuilder = findingBuilder('routes');

type Expectation = 'direct' | 'vxlan' | 'either';

interface NodeIndex {
  readonly routesByDst: Map<string, Route[]>;
  readonly neighbourByDst: Map<string, Neighbour>;
  readonly fdbByMac: Map<string, FdbEntry[]>;
}

/** One peer as one address family sees it: its podCIDR, next hop and VTEP MAC in that family. */
interface PeerAddress {
  readonly name: string;
  readonly cidr: string;
  readonly ip: string;
  readonly vtepMac: string | null;
}

/** What differs between the IPv4 and the IPv6 pass over a node; the IPv4 texts are the historic ones. */
interface FamilyPlan {
  readonly family: Family;
  /** '' or 'IPv6 ', before "podCIDR" and "route" in messages. */
  readonly label: string;
  /** `ip` or `ip -6` in remediations. */
  readonly ip: Shell;
  readonly device: string;
  readonly network: Cidr | undefined;
  readonly peers: readonly PeerAddress[];
  readonly known: ReadonlySet<string>;
}

const indexNode = (facts: NodeFacts, device: string, family: Family): NodeIndex => {
  const routesByDst = new Map<string, Route[]>();
  for (const r of facts.routes ?? []) {
    if (r.family !== family || r.type === 'local' || r.type === 'broadcast') continue;
    const list = routesByDst.get(r.dst);
    if (list) list.push(r);
    else routesByDst.set(r.dst, [r]);
  }
  const neighbourByDst = new Map<string, Neighbour>();
  for (const n of facts.neighbours ?? []) if (n.dev === device) neighbourByDst.set(n.dst, n);
  const fdbByMac = new Map<string, FdbEntry[]>();
  for (const f of facts.fdb[device] ?? []) {
    const mac = f.mac.toLowerCase();
    fdbByMac.set(mac, [...(fdbByMac.get(mac) ?? []), f]);
  }
  return { routesByDst, neighbourByDst, fdbByMac };
};

export const routesCheck: Check = {
  id: 'routes',
  title: 'Pod routes to peers',
  description:
    'Each node has exactly one route of the backend’s kind to every other node’s podCIDR (host-gw: via the peer’s public IP on the uplink; vxlan: via flannel.1 onlink with its neighbour and fdb entries); under dual stack the same for IPv6 (public-ipv6, flannel-v6.1)',
  needs: ['nodes'],
  evaluate(facts) {
    const backend = facts.expectedBackend.value;
    if (backend !== 'host-gw' && backend !== 'vxlan') {
      return [
        b.skipped(
          `routes are only checked for host-gw and vxlan (expected backend: ${backend ?? 'unknown'})`,
        ),
      ];
    }
    const conf = netConfOf(facts);
    const directRouting =
      backend === 'vxlan' && (conf?.Backend as { DirectRouting?: unknown })?.DirectRouting === true;
    const views = nodeViews(facts);
    const families = routedFamilies(facts);
    const findings: Finding[] = [];
    const plans: FamilyPlan[] = [];
    if (families.ipv4) {
      const peers = views.filter((v) => v.podCIDR && v.publicIp);
      const unknownPeers = views.filter((v) => !v.podCIDR || !v.publicIp).map((v) => v.name);
      if (unknownPeers.length > 0) {
        findings.push(
          b('peers-incomplete', 'info', {
            message: `Routes toward ${listSome(unknownPeers)} are not checked: their podCIDR or public IP is unknown`,
          }),
        );
      }
      plans.push({
        family: 'inet',
        label: '',
        ip: sh`ip`,
        device: vxlanDeviceName(conf),
        network: conf?.Network ? tryParseCidr(conf.Network) : undefined,
        peers: peers.map((p) => ({ name: p.name, cidr: p.podCIDR!, ip: p.publicIp!, vtepMac: p.vtepMac })),
        known: new Set(peers.map((p) => p.podCIDR!)),
      });
    }
    if (families.ipv6) {
      const peers = views.filter((v) => v.podCIDRv6 && v.publicIpv6);
      const unknownPeers = views.filter((v) => !v.podCIDRv6 || !v.publicIpv6).map((v) => v.name);
      if (unknownPeers.length > 0) {
        findings.push(
          b('peers-incomplete', 'info', {
            message: `IPv6 routes toward ${listSome(unknownPeers)} are not checked: their IPv6 podCIDR or public-ipv6 annotation is unknown`,
          }),
        );
      }
      plans.push({
        family: 'inet6',
        label: 'IPv6 ',
        ip: sh`ip -6`,
        device: vxlanV6DeviceName(conf),
        network: conf?.IPv6Network ? tryParseCidr(conf.IPv6Network) : undefined,
        peers: peers.map((p) => ({
          name: p.name,
          cidr: p.podCIDRv6!,
          ip: p.publicIpv6!,
          vtepMac: p.vtepMacV6,
        })),
        // Every owned subnet, also of peers not checked: a route to one is not stale, merely unjudged.
        known: new Set(views.flatMap((v) => (v.podCIDRv6 ? [v.podCIDRv6] : []))),
      });
    }
    findings.push(
      ...forEachProbedNode(
        facts,
        b,
        (view, nodeFacts) => {
          if (!nodeFacts.routes) return [b.skipped(sectionReason(nodeFacts, 'routes', ['route']), view.name)];
          // flanneld pins host-gw routes of both families to one external interface (hostgw.go LinkIndex).
          const uplink = uplinkOf(nodeFacts, view.publicIp ?? view.publicIpv6)?.name ?? null;
          const out: Finding[] = [];
          const checked: number[] = [];
          for (const plan of plans) {
            const index = indexNode(nodeFacts, plan.device, plan.family);
            let count = 0;
            for (const peer of plan.peers) {
              if (peer.name === view.name) continue;
              count++;
              let expect: Expectation = backend === 'host-gw' ? 'direct' : 'vxlan';
              if (directRouting) {
                const adjacent = isRouteGetAdjacent(nodeFacts, peer.ip);
                expect = adjacent === null ? 'either' : adjacent ? 'direct' : 'vxlan';
              }
              out.push(
                ...checkPeer(facts, view, peer, index, {
                  backend,
                  expect,
                  device: plan.device,
                  uplink,
                  label: plan.label,
                  ip: plan.ip,
                }),
              );
            }
            checked.push(count);
            out.push(...staleRoutes(view, nodeFacts, plan));
          }
          if (out.length === 0) {
            out.push(
              b.pass({
                node: view.name,
                message: `${view.name} has one correct ${backend}${directRouting ? ' (DirectRouting)' : ''} ${passText(plans, checked)}`,
              }),
            );
          }
          return out;
        },
        views,
      ),
    );
    return findings;
  },
};

/** "route to each of 3 peers"; dual stack adds ", and one IPv6 route to each of 3". */
const passText = (plans: readonly FamilyPlan[], checked: readonly number[]): string => {
  const [first, second] = plans;
  const head = `${first?.label ?? ''}route to each of ${checked[0] ?? 0} peers`;
  return second ? `${head}, and one ${second.label}route to each of ${checked[1] ?? 0}` : head;
};

interface PeerContext {
  readonly backend: 'host-gw' | 'vxlan';
  readonly expect: Expectation;
  readonly device: string;
  readonly uplink: string | null;
  /** FamilyPlan.label and .ip. */
  readonly label: string;
  readonly ip: Shell;
}

// Remediations and evidence are built only for a finding (~1M healthy pairs at 1,000 nodes), by
// module-level functions: closures per pair cost more than the strings they saved.
// Every value is validated where it enters (nodeViews, the probe's parsers) and again here: a value
// that is not what it claims yields no command.
const devPart = (uplink: string | null): Shell | null => {
  const dev = ifnameArg(uplink);
  return dev ? sh` dev ${dev}` : null;
};

const directFixFor = (cidr: string, peerIp: string, node: string, ctx: PeerContext): Shell | undefined => {
  const [dst, via] = [cidrArg(cidr), ipArg(peerIp)];
  if (!dst || !via) return undefined;
  return sh`${ctx.ip} route replace ${dst} via ${via}${devPart(ctx.uplink) ?? sh``}  # on ${comment(node)}`;
};

const vxlanFixFor = (facts: Parameters<Check['evaluate']>[0], node: string): Shell =>
  sh`${flannelPodCommands(facts, node).restart}  # flanneld re-adds vxlan routes, neighbours and fdb entries at start`;

const fixFor = (
  facts: Parameters<Check['evaluate']>[0],
  node: string,
  cidr: string,
  peerIp: string,
  ctx: PeerContext,
): Shell | undefined => {
  if (ctx.expect === 'vxlan') return vxlanFixFor(facts, node);
  const direct = directFixFor(cidr, peerIp, node, ctx);
  return ctx.backend === 'host-gw' && direct
    ? sh`${direct}; flanneld re-adds missing host-gw routes every 10 s, see ${comment(flannelPodCommands(facts, node).logs.text)}`
    : direct;
};

const neighFixFor = (
  gw: string,
  vtepMac: string | null,
  node: string,
  ctx: PeerContext,
): Shell | undefined => {
  const [ip, mac, dev] = [ipArg(gw), macArg(vtepMac), ifnameArg(ctx.device)];
  if (!ip || !mac || !dev) return undefined;
  return sh`${ctx.ip} neigh replace ${ip} dev ${dev} lladdr ${mac} nud permanent  # on ${comment(node)}`;
};

const fdbFixFor = (vtepMac: string, peerIp: string, node: string, ctx: PeerContext): Shell | undefined => {
  const [mac, dst, dev] = [macArg(vtepMac), ipArg(peerIp), ifnameArg(ctx.device)];
  if (!mac || !dst || !dev) return undefined;
  return sh`bridge fdb replace ${mac} dev ${dev} dst ${dst}  # on ${comment(node)}`;
};

const expectedTextFor = (cidr: string, peerIp: string, ctx: PeerContext): string =>
  ctx.expect === 'vxlan'
    ? `via ${networkAddress(cidr)} dev ${ctx.device} onlink`
    : `via ${peerIp}${ctx.uplink && ctx.backend === 'host-gw' ? ` dev ${ctx.uplink}` : ''}`;

const checkPeer = (
  facts: Parameters<Check['evaluate']>[0],
  view: NodeView,
  peer: PeerAddress,
  index: NodeIndex,
  ctx: PeerContext,
): Finding[] => {
  const cidr = peer.cidr;
  const peerIp = peer.ip;
  const label = ctx.label;
  const node = view.name;
  const routes = index.routesByDst.get(cidr) ?? [];
  const at = { node, peer: peer.name };
  if (routes.length === 0) {
    return [
      b('missing', 'fail', {
        ...at,
        message: `${node} has no ${label}route to ${peer.name}'s ${label}podCIDR ${cidr}: pods there are unreachable from ${node}`,
        evidence: [`no route for ${cidr} in the main table`],
        remediation: fixFor(facts, node, cidr, peerIp, ctx),
      }),
    ];
  }
  if (routes.length > 1) {
    return [
      b('duplicate', 'fail', {
        ...at,
        message: `${node} has ${routes.length} ${label}routes to ${peer.name}'s ${label}podCIDR ${cidr}: the lowest metric wins, the others are stale`,
        evidence: routes.map(formatRoute),
        remediation: cidrArg(cidr)
          ? sh`${ctx.ip} route del ${cidrArg(cidr)!} ...  # on ${comment(node)}: keep only "${comment(ctx.expect === 'vxlan' ? `via ${networkAddress(cidr)} dev ${ctx.device} onlink` : `via ${peerIp}${ctx.uplink ? ` dev ${ctx.uplink}` : ''}`)}"`
          : undefined,
      }),
    ];
  }
  const route = routes[0]!;
  const viaVxlan = route.dev === ctx.device;
  const isDirect = route.type === 'unicast' && !viaVxlan && route.gateway === peerIp;
  const isVxlan = route.type === 'unicast' && viaVxlan && route.gateway === networkAddress(cidr);
  if (ctx.expect === 'direct' && ctx.backend === 'host-gw' && viaVxlan) {
    return [
      b('stale-vxlan-route', 'fail', {
        ...at,
        message: `${node} still routes ${peer.name}'s ${label}podCIDR ${cidr} through ${ctx.device} (a vxlan leftover) instead of ${expectedTextFor(cidr, peerIp, ctx)}`,
        evidence: [formatRoute(route)],
        remediation: directFixFor(cidr, peerIp, node, ctx),
      }),
    ];
  }
  if (
    (ctx.expect === 'direct' && !isDirect) ||
    (ctx.expect === 'vxlan' && !isVxlan) ||
    (ctx.expect === 'either' && !isDirect && !isVxlan)
  ) {
    return [
      b('wrong-next-hop', 'fail', {
        ...at,
        message: `${node} routes ${peer.name}'s ${label}podCIDR ${cidr} ${route.gateway ? `via ${route.gateway}` : 'without a gateway'}${route.dev ? ` dev ${route.dev}` : ''}, expected ${ctx.expect === 'either' ? `via ${peerIp} or via ${networkAddress(cidr)} dev ${ctx.device} onlink` : expectedTextFor(cidr, peerIp, ctx)}`,
        evidence: [formatRoute(route)],
        remediation: fixFor(facts, node, cidr, peerIp, ctx),
      }),
    ];
  }
  if (isDirect) {
    if (ctx.backend === 'host-gw' && ctx.uplink && route.dev !== ctx.uplink) {
      return [
        b('wrong-device', 'fail', {
          ...at,
          message: `${node} routes ${peer.name}'s ${label}podCIDR ${cidr} via ${peerIp} out of ${route.dev ?? '?'}, not flannel's interface ${ctx.uplink}`,
          evidence: [formatRoute(route)],
          remediation: directFixFor(cidr, peerIp, node, ctx),
        }),
      ];
    }
    if (ctx.backend === 'host-gw' && route.flags.includes('onlink')) {
      return [
        b('onlink', 'warn', {
          ...at,
          message: `${node}'s route to ${peer.name}'s ${label}podCIDR ${cidr} is onlink: flanneld never sets that, so it was added by hand and may hide a missing L2 path`,
          evidence: [formatRoute(route)],
          remediation: directFixFor(cidr, peerIp, node, ctx),
        }),
      ];
    }
    return [];
  }
  // A vxlan route: it needs its neighbour and fdb entries to leave the node.
  if (!route.flags.includes('onlink')) {
    return [
      b('not-onlink', 'fail', {
        ...at,
        message: `${node}'s vxlan route to ${peer.name}'s ${label}podCIDR ${cidr} lacks onlink`,
        evidence: [formatRoute(route)],
        remediation: vxlanFixFor(facts, node),
      }),
    ];
  }
  const out: Finding[] = [];
  const gw = networkAddress(cidr);
  const neighbour = index.neighbourByDst.get(gw);
  if (!neighbour || !neighbour.lladdr) {
    out.push(
      b('neighbour-missing', 'fail', {
        ...at,
        message: `${node} has no ${ctx.device} neighbour entry for ${gw} (${peer.name}'s VTEP): packets to ${cidr} cannot be encapsulated`,
        evidence: [formatRoute(route), `no neighbour ${gw} dev ${ctx.device}`],
        remediation: neighFixFor(gw, peer.vtepMac, node, ctx) ?? vxlanFixFor(facts, node),
      }),
    );
  } else if (peer.vtepMac && neighbour.lladdr.toLowerCase() !== peer.vtepMac) {
    out.push(
      b('neighbour-wrong-mac', 'fail', {
        ...at,
        message: `${node}'s neighbour ${gw} on ${ctx.device} has lladdr ${neighbour.lladdr}, but ${peer.name}'s VtepMAC is ${peer.vtepMac}`,
        evidence: [
          formatNeighbour(neighbour),
          `annotation backend-${label ? 'v6-' : ''}data of ${peer.name}: VtepMAC ${peer.vtepMac}`,
        ],
        remediation: neighFixFor(gw, peer.vtepMac, node, ctx),
      }),
    );
  } else if (!neighbour.state.includes('PERMANENT')) {
    out.push(
      b('neighbour-not-permanent', 'warn', {
        ...at,
        message: `${node}'s neighbour ${gw} on ${ctx.device} is ${neighbour.state.join(',') || 'not permanent'}: flanneld installs it PERMANENT`,
        evidence: [formatNeighbour(neighbour)],
        remediation: vxlanFixFor(facts, node),
      }),
    );
  }
  const mac = peer.vtepMac ?? neighbour?.lladdr?.toLowerCase() ?? null;
  if (mac) {
    const entries = index.fdbByMac.get(mac) ?? [];
    if (entries.length === 0) {
      out.push(
        b('fdb-missing', 'fail', {
          ...at,
          message: `${node} has no ${ctx.device} fdb entry for ${mac} (${peer.name}'s VTEP): encapsulated packets have no destination`,
          evidence: [`bridge fdb show dev ${ctx.device}: no entry for ${mac}`],
          remediation: fdbFixFor(mac, peerIp, node, ctx),
        }),
      );
    } else if (!entries.some((e) => e.dst === peerIp)) {
      out.push(
        b('fdb-wrong-dst', 'fail', {
          ...at,
          message: `${node}'s fdb entry for ${peer.name}'s VTEP ${mac} points to ${entries.map((e) => e.dst ?? '?').join(', ')}, not ${peerIp}`,
          evidence: entries.map(formatFdb),
          remediation: fdbFixFor(mac, peerIp, node, ctx),
        }),
      );
    }
  }
  return out;
};

/** Routes into the pod Network (or via the VXLAN device) for subnets no node owns: left by deleted nodes. */
const staleRoutes = (view: NodeView, nodeFacts: NodeFacts, plan: FamilyPlan): Finding[] => {
  const { family, known, network, device } = plan;
  const out: Finding[] = [];
  for (const r of nodeFacts.routes ?? []) {
    if (r.family !== family || r.dst === 'default' || known.has(r.dst)) continue;
    if (r.type === 'local' || r.type === 'broadcast') continue;
    // IPv6 keeps address prefix routes in the main table (flannel-v6.N's own /128, fe80::/64 on every
    // device, `proto kernel`): the kernel's, never a flanneld leftover (seen with `ip -6 route` on 6.x).
    if (family === 'inet6' && (r.protocol === 'kernel' || r.type === 'multicast')) continue;
    // Only parse the few leftovers; the common case is a hit in `known`.
    const cidr = tryParseCidr(r.dst);
    const inNetwork = !!(network && cidr && contains(network, cidr) && r.dst !== network.text);
    if (!inNetwork && r.dev !== device) continue;
    if (r.dev === 'cni0') continue;
    out.push(
      b('stale', 'warn', {
        node: view.name,
        message: `${view.name} has a ${plan.label}route to ${r.dst}, which is no node's ${plan.label}podCIDR: left over from a deleted or re-addressed node`,
        evidence: [formatRoute(r)],
        remediation: cidrArg(r.dst)
          ? sh`${plan.ip} route del ${cidrArg(r.dst)!}${devPart(r.dev ?? null) ?? sh``}  # on ${comment(view.name)}`
          : undefined,
      }),
    );
  }
  return out;
};
