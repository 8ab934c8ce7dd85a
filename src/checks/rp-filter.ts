// Reverse-path filtering on the interfaces pod traffic arrives on: the uplink (host-gw traffic from
// peers), cni0 (local pods) and flannel.N (decapsulated vxlan traffic). The kernel applies
// max(conf.all, conf.<iface>) (effectiveRpFilter). Strict mode (1) drops packets whose reply would
// leave through another interface, so it is only a failure when the node's paths are asymmetric.
//
// The kernel's reverse-path test looks up the BEST route back to the source and accepts when any next
// hop of that one route uses the arrival device (linux net/ipv4/fib_frontend.c __fib_validate_source:
// one fib_lookup, then fib_info_nh_uses_dev). A backup route with a higher metric is never consulted,
// and a multipath route through eth0 and eth1 accepts on both (proved in test/lab/rp-filter-lab.test.ts).
// A node's paths are ASYMMETRIC when any of these holds (each one is an evidence line):
//  1. its best IPv4 default route (lowest metric; the first listed on a tie) has no next hop via
//     flannel's uplink (flannel pinned to another NIC with --iface / node-public-ip);
//  2. the best route into (part of) the pod Network, other than those via cni0 or the flannel VXLAN
//     device, leaves through a device other than the uplink;
//  3. `ip route get <peer public IP>` leaves through a device other than the uplink.
// Otherwise the paths are symmetric: strict mode works today but breaks as soon as one of the above
// appears (a second NIC, a VPN), hence a warning.
import { effectiveRpFilter } from '../facts/parse/sysctl.ts';
import { routeGetRoutes, type NodeFacts, type Route, type RpFilter } from '../facts/node-facts.ts';
import { contains, tryParseCidr, type Cidr } from '../flannel/cidr.ts';
import { formatRoute, formatRouteGet } from './evidence.ts';
import { findingBuilder, sysctlRemediation } from './finding.ts';
import { forEachProbedNode, sectionReason } from './per-node.ts';
import { comment, sh } from './shell-command.ts';
import { flannelVxlanDevices, netConfOf, uplinkOf } from './topology.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('rp-filter');

export const RP_FILTER_SYSCTL_FILE = '90-flannelctl-rp-filter.conf';

/** The devices a route's next hops use: its own dev, or each multipath next hop's. */
const routeDevices = (r: Route): Set<string> =>
  new Set([r.dev, ...r.nexthops.map((h) => h.dev)].filter((d): d is string => !!d));

/**
 * The route the kernel picks for each destination: the lowest metric (none is 0), the first listed on
 * a tie (the kernel's own order, which `ip route` prints). The others are backups a lookup never sees.
 */
export const bestRoutes = (routes: readonly Route[]): Route[] => {
  const best = new Map<string, Route>();
  for (const r of routes) {
    const current = best.get(r.dst);
    if (!current || (r.metric ?? 0) < (current.metric ?? 0)) best.set(r.dst, r);
  }
  return [...best.values()];
};

/** The evidence lines that make a node's paths asymmetric (empty: symmetric). */
export const asymmetryEvidence = (
  nodeFacts: NodeFacts,
  uplink: string,
  network: Cidr | undefined,
  peerIps: readonly string[],
): string[] => {
  const evidence: string[] = [];
  const routes = bestRoutes((nodeFacts.routes ?? []).filter((r) => r.family === 'inet'));
  const bestDefault = routes.find((r) => r.dst === 'default');
  const defaultDevs = bestDefault ? routeDevices(bestDefault) : new Set<string>();
  if (bestDefault && defaultDevs.size > 0 && !defaultDevs.has(uplink)) {
    evidence.push(
      `best default route leaves via ${[...defaultDevs].join(', ')}, flannel uses ${uplink}: ${formatRoute(bestDefault)}`,
    );
  }
  const vxlan = new Set(flannelVxlanDevices(nodeFacts));
  if (network) {
    for (const r of routes) {
      if (r.dst === 'default' || !r.dev || r.dev === uplink || r.dev === 'cni0' || vxlan.has(r.dev)) continue;
      const cidr = tryParseCidr(r.dst);
      if (cidr && contains(network, cidr)) evidence.push(`pod network route via ${r.dev}: ${formatRoute(r)}`);
    }
  }
  for (const ip of peerIps) {
    const got = nodeFacts.routeGets[ip];
    if (got?.ok && routeGetRoutes(got).some((r) => r.dev && r.dev !== uplink)) {
      evidence.push(`peer reached via another interface: ${formatRouteGet(got)}`);
    }
  }
  return evidence;
};

/** Default routes via other devices that only back up the best one: why they are no asymmetry. */
export const backupDefaultNotes = (nodeFacts: NodeFacts, uplink: string): string[] => {
  const defaults = (nodeFacts.routes ?? []).filter((r) => r.family === 'inet' && r.dst === 'default');
  const [best] = bestRoutes(defaults);
  if (!best) return [];
  return defaults
    .filter((r) => r !== best && [...routeDevices(r)].some((d) => d !== uplink))
    .map((r) => `backup default route, not used by the reverse-path lookup: ${formatRoute(r)}`);
};

export interface RpFilterValue {
  readonly name: string;
  /** max(all, interface); null when unreadable. */
  readonly effective: number | null;
  readonly own: number | undefined;
}

/** The interfaces pod traffic arrives on (uplink, cni0, flannel.N) with their rp_filter. */
export const rpFilterInterfaces = (nodeFacts: NodeFacts, rp: RpFilter, uplink: string): RpFilterValue[] => {
  const ifaces = [uplink];
  if (nodeFacts.links?.some((l) => l.name === 'cni0')) ifaces.push('cni0');
  ifaces.push(...flannelVxlanDevices(nodeFacts));
  return ifaces.map((name) => ({ name, effective: effectiveRpFilter(rp, name), own: rp.interfaces[name] }));
};

/** Loose mode (2) on `all` and the given strict interfaces: the remediation and `check-rpfilter --fix`. */
export const looseRpFilterSettings = (strictInterfaces: readonly string[]): Array<[string, number]> => [
  ['net.ipv4.conf.all.rp_filter', 2],
  ...strictInterfaces.map((name): [string, number] => [`net.ipv4.conf.${name}.rp_filter`, 2]),
];

const MODE: Record<number, string> = { 0: 'off', 1: 'strict', 2: 'loose' };

export const rpFilterCheck: Check = {
  id: 'rp-filter',
  title: 'rp_filter',
  description:
    'Effective rp_filter (max of all and the interface) on the uplink, cni0 and flannel.1: strict on an asymmetric path fails, strict on a symmetric path warns, loose or off passes',
  needs: ['nodes'],
  evaluate(facts) {
    const conf = netConfOf(facts);
    const network = conf?.Network ? tryParseCidr(conf.Network) : undefined;
    return forEachProbedNode(facts, b, (view, nodeFacts, views) => {
      const rp = nodeFacts.sysctls?.rpFilter;
      if (!rp) return [b.skipped(sectionReason(nodeFacts, 'rp_filter sysctls', ['sysctl']), view.name)];
      const uplink = uplinkOf(nodeFacts, view.publicIp);
      if (!uplink)
        return [
          b.skipped(
            `flannel's interface on ${view.name} is unknown (no public IP, VXLAN device or default route)`,
            view.name,
          ),
        ];
      const values = rpFilterInterfaces(nodeFacts, rp, uplink.name);
      const known = values.filter((v) => v.effective !== null);
      if (known.length === 0)
        return [
          b.skipped(
            `rp_filter of ${values.map((v) => v.name).join(', ')} could not be read on ${view.name}`,
            view.name,
          ),
        ];
      const lines = [
        `net.ipv4.conf.all.rp_filter = ${rp.all}`,
        ...known.map(
          (v) =>
            `net.ipv4.conf.${v.name}.rp_filter = ${v.own} (effective ${v.effective}, ${MODE[v.effective!] ?? 'unknown'})`,
        ),
      ];
      const strict = known.filter((v) => v.effective === 1);
      if (strict.length === 0) {
        return [
          b.pass({
            node: view.name,
            message: `rp_filter on ${view.name} is loose or off on ${known.map((v) => v.name).join(', ')}`,
            evidence: lines,
          }),
        ];
      }
      const peerIps = views.filter((v) => v.name !== view.name && v.publicIp).map((v) => v.publicIp!);
      const asymmetry = asymmetryEvidence(nodeFacts, uplink.name, network, peerIps);
      const settings = looseRpFilterSettings(strict.map((v) => v.name));
      const remediation = sh`${sysctlRemediation(settings, RP_FILTER_SYSCTL_FILE)}  # on ${comment(view.name)}`;
      const names = strict.map((v) => v.name).join(', ');
      const findings: Finding[] = [];
      if (asymmetry.length > 0) {
        findings.push(
          b('strict-asymmetric', 'fail', {
            node: view.name,
            message: `Strict rp_filter on ${names} of ${view.name}, whose paths are asymmetric: packets whose reply leaves through another interface are dropped`,
            evidence: [...lines, ...asymmetry],
            remediation,
          }),
        );
      } else {
        findings.push(
          b('strict-symmetric', 'warn', {
            node: view.name,
            message: `Strict rp_filter on ${names} of ${view.name}: fine while its paths are symmetric, but a second NIC or VPN route will make it drop pod traffic`,
            evidence: [...lines, ...backupDefaultNotes(nodeFacts, uplink.name)],
            remediation,
          }),
        );
      }
      return findings;
    });
  },
};
