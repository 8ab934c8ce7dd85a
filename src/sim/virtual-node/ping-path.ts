// Where a simulated echo request ends up, by the rules a lab of veths shows on a real kernel:
// - a pod address is reached only through its own node (host-gw next hop, vxlan tunnel, or on-link);
//   a router that is not a node knows no pod networks and drops it;
// - the receiving veth accepts frames up to its MTU + 4 (VLAN_HLEN slack in is_skb_forwardable), so
//   a 1404-byte packet still reaches an eth0 with MTU 1400 and larger ones vanish without an ICMP error;
// - a reply larger than the route back is fragmented by the replier and reassembled by the sender,
//   which /proc/net/snmp counts (FragOKs/FragCreates there, ReasmReqds/ReasmOKs here).
import { contains, parseIp, type Cidr } from '../../flannel/cidr.ts';
import type { PingPacket, VirtualNode, VLink } from './model.ts';

/** Bytes a VXLAN tunnel adds (outer IPv4 + UDP + VXLAN + inner Ethernet). */
const VXLAN_OVERHEAD = 50;
/** veth_xmit → is_skb_forwardable: dev->mtu + hard_header_len + VLAN_HLEN. */
const VETH_RX_SLACK = 4;

export interface PingFleet {
  readonly nodes: readonly VirtualNode[];
  /** Pod CIDR per node, same order as nodes. */
  readonly podCidrs: readonly Cidr[];
}

const ownerOf = (fleet: PingFleet, address: string): VirtualNode | undefined => {
  const ip = parseIp(address);
  if (!ip) return undefined;
  return fleet.nodes.find((n) => n.addresses.some((a) => a.local === ip.text && a.dev !== 'lo'));
};

const podOwnerOf = (fleet: PingFleet, address: string): VirtualNode | undefined => {
  const ip = parseIp(address);
  const i = ip ? fleet.podCidrs.findIndex((c) => contains(c, ip)) : -1;
  return i >= 0 ? fleet.nodes[i] : undefined;
};

const bump = (node: VirtualNode, field: string, by: number): void => {
  const ip = node.snmp.get('Ip');
  if (ip?.has(field)) ip.set(field, ip.get(field)! + by);
};

const accepts = (link: VLink | undefined, size: number): boolean =>
  !link || size <= link.mtu + (link.kind === 'veth' ? VETH_RX_SLACK : 0);

/** True when the echo request reaches its destination and the reply makes it back. */
export const deliverPing = (fleet: PingFleet, dst: string, packet: PingPacket): boolean => {
  const { from, route, size } = packet;
  const to = ownerOf(fleet, dst) ?? podOwnerOf(fleet, dst);
  if (!to) return false;
  if (to === from || route.type === 'local') return true;
  const isPodAddress = podOwnerOf(fleet, dst) === to;
  // A pod address lives behind cni0; a node no pod ever ran on has none (bridge.go creates it on ADD).
  if (isPodAddress && !to.link('cni0')) return false;
  const outLink = from.link(route.dev);
  let inLink: VLink | undefined;
  let wire = size;
  if (outLink?.kind === 'vxlan') {
    // The tunnel lands on the node owning the VTEP next hop, on its underlay device.
    const vtepOwner = route.gateway ? ownerOf(fleet, route.gateway) : to;
    if (vtepOwner !== to) return false;
    wire = size + VXLAN_OVERHEAD;
    inLink = to.link(to.links.find((l) => l.kind === 'vxlan')?.vxlan?.dev ?? 'eth0');
  } else {
    const hop = route.gateway ?? dst;
    const hopOwner = ownerOf(fleet, hop);
    if (hopOwner === to) {
      const dev = to.addresses.find((a) => a.local === parseIp(hop)?.text)?.dev;
      inLink = to.link(dev === 'cni0' ? 'eth0' : (dev ?? 'eth0'));
    } else if (isPodAddress) {
      return false;
    } else {
      inLink = to.link('eth0');
    }
  }
  if (!accepts(inLink, wire)) return false;
  // The reply goes back to the source address the sender used.
  const back = route.prefsrc ? to.routeGet(route.prefsrc) : undefined;
  if (!back || !('mtu' in back)) return false;
  if (size > back.mtu) {
    const perFragment = Math.floor((back.mtu - 20) / 8) * 8;
    const fragments = Math.ceil((size - 20) / perFragment);
    bump(to, 'FragOKs', 1);
    bump(to, 'FragCreates', fragments);
    bump(from, 'ReasmReqds', fragments);
    bump(from, 'ReasmOKs', 1);
  }
  return true;
};
