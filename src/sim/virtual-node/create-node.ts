// Builds a realistic node: lo, eth0 with its address, cni0 with the pod gateway (only with pods), a pod veth per pod,
// a default route, the sysctls a distribution kernel ships, and optionally flannel's state.
import { parseCidr, formatIp, lastAddress } from '../../flannel/cidr.ts';
import { VirtualNode, rpFilterKey } from './model.ts';

export interface VirtualNodeOptions {
  readonly name: string;
  /** eth0's IPv4 address. */
  readonly address: string;
  readonly prefixLen?: number;
  /** The node's pod CIDR (a /24 usually); cni0 gets its .1. */
  readonly podCIDR: string;
  /** Flannel network; default 10.244.0.0/16. */
  readonly clusterCIDR?: string;
  /** eth0 MTU. Default 1500. */
  readonly mtu?: number;
  /** Default route via this address; default the .1 of eth0's subnet; null for none. */
  readonly gateway?: string | null;
  /** Pods attached to cni0 (one veth each). Default 1; 0: no cni0, as on a node no pod ever ran on. */
  readonly pods?: number;
  /** cni0 exists; default: when there are pods. With pods 0: pods ran and went (bridge.go never deletes it). */
  readonly cni0?: boolean;
  /** Flannel state as flanneld leaves it: subnet.env, CNI conf and (vxlan) flannel.1. None by default. */
  readonly backend?: 'host-gw' | 'vxlan';
  /** rp_filter for all, default and every interface. Default 0. */
  readonly rpFilter?: number;
  readonly kernel?: string;
  readonly macs?: Readonly<Record<string, string>>;
}

export const SUBNET_ENV_PATH = '/run/flannel/subnet.env';
export const CNI_CONF_DIR = '/etc/cni/net.d';

const SNMP_TABLES: readonly [string, string][] = [
  [
    'Ip',
    'Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits',
  ],
  [
    'Icmp',
    'InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks OutAddrMaskReps',
  ],
  [
    'Tcp',
    'RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors',
  ],
  [
    'Udp',
    'InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors',
  ],
  [
    'UdpLite',
    'InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors',
  ],
];
const SNMP_DEFAULTS: Readonly<Record<string, number>> = {
  'Ip.Forwarding': 1,
  'Ip.DefaultTTL': 64,
  'Tcp.RtoAlgorithm': 1,
  'Tcp.RtoMin': 200,
  'Tcp.RtoMax': 120000,
  'Tcp.MaxConn': -1,
};

/** The sysctls a stock kernel with br_netfilter and nf_conntrack loaded shows (route/max_size is gone since 6.x). */
export const DEFAULT_SYSCTLS: Readonly<Record<string, string>> = {
  'net/ipv4/ip_forward': '1',
  'net/bridge/bridge-nf-call-iptables': '1',
  'net/netfilter/nf_conntrack_count': '0',
  'net/netfilter/nf_conntrack_max': '262144',
  'net/core/rmem_max': '212992',
  'net/core/wmem_max': '212992',
  'net/core/rmem_default': '212992',
  'net/core/wmem_default': '212992',
  'net/ipv4/tcp_congestion_control': 'cubic',
  'net/ipv4/tcp_available_congestion_control': 'reno cubic',
  'net/ipv4/tcp_fastopen': '1',
};

/** An empty node: just lo, the default sysctls and /proc/net/snmp. */
export const createBareNode = (hostname: string, rpFilter = 0): VirtualNode => {
  const node = new VirtualNode(hostname);
  for (const [key, value] of Object.entries(DEFAULT_SYSCTLS)) node.setSysctl(key, value);
  node.setSysctl(rpFilterKey('all'), String(rpFilter));
  node.setSysctl(rpFilterKey('default'), String(rpFilter));
  for (const [table, fields] of SNMP_TABLES) {
    node.snmp.set(table, new Map(fields.split(' ').map((f) => [f, SNMP_DEFAULTS[`${table}.${f}`] ?? 0])));
  }
  // Drop-ins written by `check-rpfilter --fix` and `tune --apply` go here, as on every systemd distribution.
  node.dirs.add('/etc/sysctl.d');
  node.addLink({ name: 'lo', kind: 'loopback' });
  node.addrAdd('lo', '127.0.0.1/8', 'host');
  node.addresses.push({ dev: 'lo', family: 'inet6', local: '::1', prefixLen: 128, scope: 'host' });
  return node;
};

/** flannel's bridge MAC: 0a:58 followed by the gateway address (as the bridge CNI plugin sets it). */
const bridgeMac = (gateway: string): string =>
  ['0a', '58', ...gateway.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');

const must = (result: ReturnType<VirtualNode['addrAdd']>, what: string): void => {
  if (!result.ok) throw new Error(`createVirtualNode: ${what}: ${result.message}`);
};

export const createVirtualNode = (options: VirtualNodeOptions): VirtualNode => {
  const prefixLen = options.prefixLen ?? 24;
  const mtu = options.mtu ?? 1500;
  const pod = parseCidr(options.podCIDR);
  const podGateway = formatIp(pod.base + 1n, 'ipv4');
  const subnet = parseCidr(`${options.address}/${prefixLen}`);
  const gateway = options.gateway === undefined ? formatIp(subnet.base + 1n, 'ipv4') : options.gateway;
  const flannelMtu = options.backend === 'vxlan' ? mtu - 50 : mtu;
  const mac = (name: string): { mac?: string } => (options.macs?.[name] ? { mac: options.macs[name] } : {});

  const node = createBareNode(options.name, options.rpFilter ?? 0);
  if (options.kernel) node.kernel = options.kernel;
  node.podCIDR = pod.text;
  node.addLink({ name: 'eth0', kind: 'veth', mtu, peerIndex: 1000, peerNetnsId: 0, ...mac('eth0') });
  must(node.addrAdd('eth0', `${options.address}/${prefixLen}`), 'eth0 address');
  // cni0 exists only once a pod ran: the bridge CNI plugin creates it with the first pod and never
  // deletes it (containernetworking/plugins plugins/main/bridge/bridge.go cmdAdd -> setupBridge).
  const pods = options.pods ?? 1;
  if (options.cni0 ?? pods > 0) {
    node.addLink({
      name: 'cni0',
      kind: 'bridge',
      mtu: flannelMtu,
      mac: bridgeMac(podGateway),
      ...mac('cni0'),
    });
    const podBroadcast = formatIp(lastAddress(pod), 'ipv4');
    must(
      node.addrAdd('cni0', `${podGateway}/${pod.prefix}`, 'global', { broadcast: podBroadcast }),
      'cni0 address',
    );
    for (let p = 1; p <= pods; p++) {
      node.addLink({
        name: `vethpod${p}`,
        kind: 'veth',
        mtu: flannelMtu,
        master: 'cni0',
        peerIndex: 2,
        peerNetnsId: p,
        ...mac(`vethpod${p}`),
      });
    }
  }
  if (options.backend === 'vxlan') {
    node.addLink({
      name: 'flannel.1',
      kind: 'vxlan',
      mtu: flannelMtu,
      vxlan: { id: 1, local: options.address, dev: 'eth0', port: 8472, learning: false },
      ...mac('flannel.1'),
    });
    must(node.addrAdd('flannel.1', `${pod.text.split('/')[0]}/32`), 'flannel.1 address');
  }
  if (gateway !== null) must(node.routeAdd({ dst: 'default', gateway, dev: 'eth0' }), 'default route');
  if (options.backend) {
    node.files.set(
      SUBNET_ENV_PATH,
      `FLANNEL_NETWORK=${options.clusterCIDR ?? '10.244.0.0/16'}\nFLANNEL_SUBNET=${podGateway}/${pod.prefix}\nFLANNEL_MTU=${flannelMtu}\nFLANNEL_IPMASQ=true\n`,
    );
    node.files.set(`${CNI_CONF_DIR}/10-flannel.conflist`, CNI_CONFLIST);
  }
  node.dirs.add(CNI_CONF_DIR);
  return node;
};

const CNI_CONFLIST = `{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    { "type": "flannel", "delegate": { "hairpinMode": true, "isDefaultGateway": true } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
`;
