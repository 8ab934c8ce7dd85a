// Typed, JSON-serialisable facts about one node, gathered in one probe round trip. Checks are pure
// functions over these types, so every field a check needs lives here. Conventions:
// - null means "could not be determined" (section failed or absent); a check must skip, never guess;
// - 'missing' means the file/module is genuinely absent on the node, which is itself a fact;
// - `sources` records whether a value came from `ip -json` or the text fallback.

export type Source = 'json' | 'text';

export type Family = 'inet' | 'inet6';

/** A route from the main table, normalised: iproute2 omits defaults, the parser fills them in. */
export interface Route {
  readonly family: Family;
  /** CIDR (host routes get /32 or /128), or 'default'. */
  readonly dst: string;
  /** unicast, local, broadcast, blackhole, unreachable, prohibit, throw, ... */
  readonly type: string;
  readonly gateway: string | null;
  readonly dev: string | null;
  /** boot, kernel, static, dhcp, ... ('boot' when iproute2 omits it). */
  readonly protocol: string;
  /** global (universe), link, host, ... */
  readonly scope: string;
  readonly metric: number | null;
  /** e.g. ['onlink'] for flannel's vxlan routes, ['linkdown'] when the device has no carrier. */
  readonly flags: readonly string[];
  readonly table: string;
  readonly prefsrc: string | null;
  readonly mtu: number | null;
  /** Multipath routes; empty for a single next hop. */
  readonly nexthops: readonly NextHop[];
}

export interface NextHop {
  readonly gateway: string | null;
  readonly dev: string | null;
  readonly weight: number | null;
  readonly flags: readonly string[];
}

/** One route of `ip route get <peer>`, reduced to what checks read: flannel's L2 test wants exactly one, with no gateway. */
export interface RouteGetEntry {
  readonly dst: string;
  readonly type: string;
  readonly gateway: string | null;
  readonly dev: string | null;
  readonly prefsrc: string | null;
}

/**
 * The answer to `ip route get <peer>`. A success is its first route itself, flattened, plus any further
 * ones in `more`: one object per peer instead of a result, a list and a route (1M answers at 1,000
 * nodes). Read the routes with routeGetRoutes.
 */
export type RouteGetResult =
  | (RouteGetEntry & {
      readonly peer: string;
      readonly ok: true;
      readonly source: Source;
      /** Routes after the first, when ip printed more than one (usually null). */
      readonly more: readonly RouteGetEntry[] | null;
    })
  | { readonly peer: string; readonly ok: false; readonly error: string; readonly exitCode: number | null };

/** Every route of a successful route get, the first one first. */
export const routeGetRoutes = (g: RouteGetResult & { readonly ok: true }): readonly RouteGetEntry[] => [
  g,
  ...(g.more ?? []),
];

/** How many routes a successful route get returned (at least one). */
export const routeGetCount = (g: RouteGetResult & { readonly ok: true }): number => 1 + (g.more?.length ?? 0);

export interface VxlanInfo {
  readonly id: number | null;
  readonly local: string | null;
  /** The underlay device (`dev eth0`). */
  readonly dev: string | null;
  readonly port: number | null;
  readonly learning: boolean | null;
  readonly group: string | null;
  readonly ttl: number | null;
}

export interface Link {
  readonly index: number;
  readonly name: string;
  readonly mtu: number | null;
  /** operstate: UP, DOWN, UNKNOWN, LOWERLAYERDOWN, ... */
  readonly state: string | null;
  /** Interface flags, e.g. ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP']. */
  readonly flags: readonly string[];
  /** Administratively up (UP flag). */
  readonly up: boolean;
  readonly mac: string | null;
  /** ether, loopback, none, ... */
  readonly linkType: string | null;
  /** linkinfo kind: vxlan, bridge, veth, dummy, ...; null for plain devices. */
  readonly kind: string | null;
  /** Bridge (or bond) this device is enslaved to. */
  readonly master: string | null;
  /** Peer/parent of `name@parent`: a device name, or 'ifN' for one in another namespace. */
  readonly parent: string | null;
  readonly vxlan: VxlanInfo | null;
}

export interface Address {
  readonly ifname: string;
  readonly family: Family;
  readonly local: string;
  readonly prefixlen: number;
  readonly scope: string;
  readonly broadcast: string | null;
  readonly label: string | null;
}

export interface Neighbour {
  readonly dst: string;
  readonly dev: string | null;
  readonly lladdr: string | null;
  /** e.g. ['PERMANENT'], ['REACHABLE'], ['FAILED']. */
  readonly state: readonly string[];
  /** router, proxy, extern_learn, ... */
  readonly flags: readonly string[];
}

export interface FdbEntry {
  readonly mac: string;
  readonly dev: string;
  /** Remote VTEP for VXLAN entries. */
  readonly dst: string | null;
  readonly vni: number | null;
  readonly state: string | null;
  /** self, master, extern_learn, ... */
  readonly flags: readonly string[];
}

/**
 * An interface in a pod's network namespace whose veth peer is on the node: how a host-side veth on
 * cni0 is tied to a pod (its IP) without the container runtime.
 */
export interface PodInterface {
  /** The namespace's name under /run/netns (e.g. containerd's cni-<uuid>). */
  readonly netns: string;
  readonly name: string;
  readonly index: number;
  /** ifindex of its peer in the node's namespace (`link_index`): the host-side veth. */
  readonly peerIndex: number;
  readonly mtu: number | null;
  /** Non-link-local addresses, IPv4 first: the pod IPs. */
  readonly addresses: readonly string[];
}

/** A sysctl reading: the number, 'missing' when the file does not exist, null when it could not be read. */
export type SysctlNumber = number | 'missing' | null;
export type SysctlString = string | 'missing' | null;

export interface RpFilter {
  readonly all: SysctlNumber;
  readonly default: SysctlNumber;
  /** Per interface (excluding all/default). The kernel uses max(all, interface). */
  readonly interfaces: Readonly<Record<string, number>>;
}

export interface Sysctls {
  readonly rpFilter: RpFilter;
  readonly ipForward: SysctlNumber;
  /** 'missing' means br_netfilter is not loaded (flanneld refuses to start). */
  readonly bridgeNfCallIptables: SysctlNumber;
  readonly conntrackCount: SysctlNumber;
  readonly conntrackMax: SysctlNumber;
  readonly rmemMax: SysctlNumber;
  readonly wmemMax: SysctlNumber;
  readonly rmemDefault: SysctlNumber;
  readonly wmemDefault: SysctlNumber;
  readonly tcpCongestionControl: SysctlString;
  readonly tcpAvailableCongestionControl: readonly string[] | 'missing' | null;
  readonly tcpFastopen: SysctlNumber;
  readonly routeMaxSize: SysctlNumber;
  /** Every value read, by dotted name (rp_filter keys keep the interface name verbatim); null = missing. */
  readonly raw: Readonly<Record<string, string | null>>;
  /**
   * Dotted names the node cannot write, e.g. global keys seen from a container's network namespace
   * (absent when the probe reported none, or predates the check).
   */
  readonly readOnly?: readonly string[];
}

/** /run/flannel/subnet.env as flanneld writes it (WriteSubnetFile). */
export interface SubnetEnv {
  readonly network: string | null;
  readonly subnet: string | null;
  readonly ipv6Network: string | null;
  readonly ipv6Subnet: string | null;
  readonly mtu: number | null;
  readonly ipMasq: boolean | null;
  /** All keys as written, including ones flannelctl does not know. */
  readonly raw: Readonly<Record<string, string>>;
}

/** IP fragmentation and reassembly counters from /proc/net/snmp (null when absent). */
export interface IpFragCounters {
  readonly reasmTimeout: number | null;
  readonly reasmReqds: number | null;
  readonly reasmOKs: number | null;
  readonly reasmFails: number | null;
  readonly fragOKs: number | null;
  readonly fragFails: number | null;
  readonly fragCreates: number | null;
}

export interface Snmp {
  readonly ipFrag: IpFragCounters;
  /** Every table (Ip, Icmp, Tcp, Udp, ...) by field name. */
  readonly tables: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface IpVersion {
  readonly implementation: 'iproute2' | 'busybox' | 'unknown';
  /** e.g. '6.1.0' (iproute2) or '1.36.1' (BusyBox); null for snapshot-only versions. */
  readonly version: string | null;
  /** Old iproute2 prints a snapshot date instead, e.g. 'ss180129'. */
  readonly snapshot: string | null;
  readonly raw: string;
}

export interface Iptables {
  /** e.g. 'v1.8.9 (nf_tables)'. */
  readonly version: string | null;
  /** ACCEPT or DROP; null when the chain could not be listed. */
  readonly forwardPolicy: string | null;
  /** `iptables -S FORWARD` lines after the policy, in order (flannel appends FLANNEL-FWD). */
  readonly forwardRules: readonly string[];
}

/** Why a section yielded no (or only partial) facts. */
export interface SectionError {
  readonly section: string;
  /** absent: never printed; truncated: no END marker; failed: non-zero exit; unparsable: output not understood. */
  readonly kind: 'absent' | 'truncated' | 'failed' | 'unparsable';
  readonly exitCode: number | null;
  readonly message: string;
}

export interface NodeFacts {
  readonly name: string;
  /** The address the probe was sent to, when known. */
  readonly address: string | null;
  readonly ipVersion: IpVersion | null;
  readonly kernel: string | null;
  readonly hostname: string | null;
  readonly uid: number | null;
  readonly links: readonly Link[] | null;
  readonly addresses: readonly Address[] | null;
  /** IPv4 and IPv6 routes of the main table. */
  readonly routes: readonly Route[] | null;
  readonly neighbours: readonly Neighbour[] | null;
  /** FDB entries of each probed VXLAN device that exists. */
  readonly fdb: Readonly<Record<string, readonly FdbEntry[]>>;
  readonly routeGets: Readonly<Record<string, RouteGetResult>>;
  readonly sysctls: Sysctls | null;
  readonly subnetEnv: SubnetEnv | 'missing' | null;
  readonly snmp: Snmp | null;
  /** File names in /etc/cni/net.d; 'missing' when the directory does not exist. */
  readonly cniConfFiles: readonly string[] | 'missing' | null;
  /**
   * Pod-side interfaces found through named network namespaces; null when the section failed. Absent
   * from facts recorded before the probe had the section. Empty without named namespaces (dockershim)
   * or where /run/netns is not visible (kube-exec and daemonset node access).
   */
  readonly podInterfaces?: readonly PodInterface[] | null;
  /** 'not-installed' when iptables is absent on the node. */
  readonly iptables: Iptables | 'not-installed' | null;
  /** nftables table names (e.g. 'inet filter'); 'not-installed' when nft is absent. */
  readonly nftTables: readonly string[] | 'not-installed' | null;
  /** How each ip-derived value was parsed (links, addresses, routes, routes6, neighbours, fdb/<dev>). */
  readonly sources: Readonly<Record<string, Source>>;
  readonly warnings: readonly string[];
  readonly errors: readonly SectionError[];
}

export { parseProbeOutput } from './probe-output.ts';
export type { ParseProbeOptions } from './probe-output.ts';
