// Links as `ip [-j] [-d] link show` and the link part of `ip addr show` print them (iproute2 6.1).
import type { VLink, VirtualNode } from '../model.ts';
import { Raw, jsonLines, type JsonValue } from './json.ts';

const TX_QUEUES: Readonly<Record<VLink['kind'], number>> = {
  loopback: 1,
  ether: 1,
  veth: 2,
  bridge: 1,
  vxlan: 1,
  dummy: 1,
};

const GSO = {
  gso_max_size: 65536,
  gso_max_segs: 65535,
  tso_max_size: 524280,
  tso_max_segs: 65535,
  gro_max_size: 65536,
};
const GSO_TEXT = Object.entries(GSO)
  .map(([k, v]) => `${k} ${v}`)
  .join(' ');

export const linkFlags = (node: VirtualNode, link: VLink): string[] => {
  if (link.kind === 'loopback') return link.up ? ['LOOPBACK', 'UP', 'LOWER_UP'] : ['LOOPBACK'];
  const carrier = node.carrier(link);
  return [
    ...(link.up && !carrier ? ['NO-CARRIER'] : []),
    'BROADCAST',
    'MULTICAST',
    ...(link.up ? ['UP'] : []),
    ...(carrier ? ['LOWER_UP'] : []),
  ];
};

export const operstate = (node: VirtualNode, link: VLink): string =>
  link.kind === 'loopback' || (link.kind === 'vxlan' && link.up)
    ? 'UNKNOWN'
    : node.carrier(link)
      ? 'UP'
      : 'DOWN';

/** "8000.a:58:a:f4:1:1": the bridge id the kernel derives from the bridge MAC, printed without zero padding. */
const bridgeId = (mac: string): string =>
  `8000.${mac
    .split(':')
    .map((b) => parseInt(b, 16).toString(16))
    .join(':')}`;

const bridgeData = (link: VLink): Record<string, JsonValue> => ({
  forward_delay: 1500,
  hello_time: 200,
  max_age: 2000,
  ageing_time: 30000,
  stp_state: 0,
  priority: 32768,
  vlan_filtering: 0,
  bridge_id: bridgeId(link.mac),
  root_id: bridgeId(link.mac),
  root_port: 0,
  root_path_cost: 0,
  topology_change: 0,
  topology_change_detected: 0,
  hello_timer: new Raw('0.00'),
  tcn_timer: new Raw('0.00'),
  topology_change_timer: new Raw('0.00'),
  gc_timer: new Raw('299.64'),
  group_fwd_mask: '0',
  group_addr: '01:80:c2:00:00:00',
  mcast_snooping: 1,
  no_linklocal_learn: 0,
  mcast_vlan_snooping: 0,
  mcast_router: 1,
  mcast_query_use_ifaddr: 0,
  mcast_querier: 0,
  mcast_hash_elasticity: 16,
  mcast_hash_max: 4096,
  mcast_last_member_cnt: 2,
  mcast_startup_query_cnt: 2,
  mcast_last_member_intvl: 100,
  mcast_membership_intvl: 26000,
  mcast_querier_intvl: 25500,
  mcast_query_intvl: 12500,
  mcast_query_response_intvl: 1000,
  mcast_startup_query_intvl: 3124,
  mcast_stats_enabled: 0,
  mcast_igmp_version: 2,
  mcast_mld_version: 1,
  nf_call_iptables: 0,
  nf_call_ip6tables: 0,
  nf_call_arptables: 0,
});

const bridgeText = (link: VLink): string =>
  `bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 vlan_filtering 0 bridge_id ${bridgeId(link.mac)} designated_root ${bridgeId(link.mac)} root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0 hello_timer    0.00 tcn_timer    0.00 topology_change_timer    0.00 gc_timer  299.64 group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0 mcast_router 1 mcast_query_use_ifaddr 0 mcast_querier 0 mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2 mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000 mcast_querier_interval 25500 mcast_query_interval 12500 mcast_query_response_interval 1000 mcast_startup_query_interval 3124 mcast_stats_enabled 0 mcast_igmp_version 2 mcast_mld_version 1 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 `;

const slaveData = (master: VLink, port: number): Record<string, JsonValue> => ({
  state: 'forwarding',
  priority: 32,
  cost: 2,
  hairpin: false,
  guard: false,
  root_block: false,
  fastleave: false,
  learning: true,
  flood: true,
  id: `0x${(0x8000 + port).toString(16)}`,
  no: `0x${port.toString(16)}`,
  designated_port: 0x8000 + port,
  designated_cost: 0,
  bridge_id: bridgeId(master.mac),
  root_id: bridgeId(master.mac),
  hold_timer: new Raw('0.00'),
  message_age_timer: new Raw('0.00'),
  forward_delay_timer: new Raw('14.64'),
  topology_change_ack: 0,
  config_pending: 0,
  proxy_arp: false,
  proxy_arp_wifi: false,
  multicast_router: 1,
  mcast_flood: true,
  bcast_flood: true,
  mcast_to_unicast: false,
  neigh_suppress: false,
  group_fwd_mask: '0',
  group_fwd_mask_str: '0x0',
  vlan_tunnel: false,
  isolated: false,
  locked: false,
});

const slaveText = (master: VLink, port: number): string =>
  `bridge_slave state forwarding priority 32 cost 2 hairpin off guard off root_block off fastleave off learning on flood on port_id 0x${(0x8000 + port).toString(16)} port_no 0x${port.toString(16)} designated_port ${0x8000 + port} designated_cost 0 designated_bridge ${bridgeId(master.mac)} designated_root ${bridgeId(master.mac)} hold_timer    0.00 message_age_timer    0.00 forward_delay_timer   14.64 topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off locked off `;

const vxlanData = (link: VLink): Record<string, JsonValue> => {
  const v = link.vxlan!;
  return {
    id: v.id,
    local: v.local,
    link: v.dev,
    port_range: { low: 0, high: 0 },
    port: v.port,
    learning: v.learning,
    ttl: 0,
    df: 'unset',
    ageing: 300,
    udp_csum: true,
    udp_zero_csum6_tx: false,
    udp_zero_csum6_rx: false,
  };
};

const vxlanText = (link: VLink): string => {
  const v = link.vxlan!;
  return `vxlan id ${v.id} local ${v.local} dev ${v.dev} srcport 0 0 dstport ${v.port} ${v.learning ? '' : 'no'}learning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx `;
};

/** Port number of a bridge slave: its position among the bridge's ports. */
const portOf = (node: VirtualNode, link: VLink): number =>
  node.links.filter((l) => l.master === link.master).indexOf(link) + 1;

const peerOf = (node: VirtualNode, link: VLink): VLink | undefined =>
  link.kind === 'veth' && link.peerNetnsId === null
    ? node.links.find((l) => l.index === link.peerIndex)
    : undefined;

export interface LinkRenderOptions {
  readonly details: boolean;
  /** `ip addr` leaves out linkmode and addrgenmode. */
  readonly forAddr: boolean;
}

export const linkJson = (node: VirtualNode, link: VLink, o: LinkRenderOptions): Record<string, JsonValue> => {
  const lo = link.kind === 'loopback';
  const peer = peerOf(node, link);
  const master = link.master ? node.link(link.master) : undefined;
  const out: Record<string, JsonValue> = { ifindex: link.index };
  if (peer) out.link = peer.name;
  else if (link.peerIndex !== null) out.link_index = link.peerIndex;
  Object.assign(out, {
    ifname: link.name,
    flags: linkFlags(node, link),
    mtu: link.mtu,
    qdisc: 'noqueue',
    master: link.master ?? undefined,
    operstate: operstate(node, link),
    linkmode: o.forAddr ? undefined : 'DEFAULT',
    group: 'default',
    txqlen: 1000,
    link_type: lo ? 'loopback' : 'ether',
    address: link.mac,
    broadcast: lo ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff',
    link_netnsid: link.peerNetnsId ?? undefined,
  });
  if (!o.details) return out;
  const slave = master !== undefined;
  let linkinfo: JsonValue | undefined;
  if (link.kind === 'bridge') linkinfo = { info_kind: 'bridge', info_data: bridgeData(link) };
  else if (link.kind === 'vxlan') linkinfo = { info_kind: 'vxlan', info_data: vxlanData(link) };
  else if (link.kind === 'veth' || link.kind === 'dummy') {
    linkinfo = slave
      ? {
          info_kind: link.kind,
          info_slave_kind: 'bridge',
          info_slave_data: slaveData(master, portOf(node, link)),
        }
      : { info_kind: link.kind };
  }
  Object.assign(out, {
    promiscuity: slave ? 1 : 0,
    allmulti: slave ? 1 : 0,
    min_mtu: lo ? 0 : 68,
    max_mtu: lo ? 0 : 65535,
    linkinfo,
    inet6_addr_gen_mode: o.forAddr ? undefined : 'eui64',
    num_tx_queues: TX_QUEUES[link.kind],
    num_rx_queues: TX_QUEUES[link.kind],
    ...GSO,
  });
  return out;
};

/** The link header and link/ether lines of one block, newline-terminated. */
export const linkText = (node: VirtualNode, link: VLink, o: LinkRenderOptions): string => {
  const lo = link.kind === 'loopback';
  const peer = peerOf(node, link);
  const master = link.master ? node.link(link.master) : undefined;
  const at = peer ? `@${peer.name}` : link.peerIndex !== null ? `@if${link.peerIndex}` : '';
  const head =
    `${link.index}: ${link.name}${at}: <${linkFlags(node, link).join(',')}> mtu ${link.mtu} qdisc noqueue ` +
    `${master ? `master ${master.name} ` : ''}state ${operstate(node, link)} ${o.forAddr ? '' : 'mode DEFAULT '}group default qlen 1000\n`;
  const brd = lo ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff';
  const netns = link.peerNetnsId !== null ? ` link-netnsid ${link.peerNetnsId}` : '';
  const ether = `    link/${lo ? 'loopback' : 'ether'} ${link.mac} brd ${brd}${netns}`;
  if (!o.details) return `${head}${ether}\n`;
  const slave = master !== undefined;
  const tail = `${o.forAddr ? '' : 'addrgenmode eui64 '}numtxqueues ${TX_QUEUES[link.kind]} numrxqueues ${TX_QUEUES[link.kind]} ${GSO_TEXT} `;
  const common = `${ether} promiscuity ${slave ? 1 : 0}  allmulti ${slave ? 1 : 0} minmtu ${lo ? 0 : 68} maxmtu ${lo ? 0 : 65535} `;
  let kindLine = '';
  if (link.kind === 'bridge') kindLine = bridgeText(link);
  else if (link.kind === 'vxlan') kindLine = vxlanText(link);
  else if (link.kind === 'veth' || link.kind === 'dummy') kindLine = `${link.kind} `;
  if (lo) return `${head}${common}${tail}\n`;
  if (slave)
    return `${head}${common}\n    ${kindLine}\n    ${slaveText(master, portOf(node, link))}${tail}\n`;
  return `${head}${common}\n    ${kindLine}${tail}\n`;
};

const sorted = (node: VirtualNode): VLink[] => [...node.links].sort((a, b) => a.index - b.index);

export const renderLinksJson = (node: VirtualNode, details: boolean): string =>
  jsonLines(sorted(node).map((l) => linkJson(node, l, { details, forAddr: false })));

export const renderLinksText = (node: VirtualNode, details: boolean): string =>
  sorted(node)
    .map((l) => linkText(node, l, { details, forAddr: false }))
    .join('');
