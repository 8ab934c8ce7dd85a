// The kernel operations flanneld performs on a node (netlink calls in pkg/backend and pkg/ip), as a
// port with one adapter per node kind: LabDataplane (a real network namespace) and, later, a
// VirtualDataplane over src/sim/virtual-node. Refusals come back as results carrying the errno Go's
// netlink would return, because flanneld logs them and carries on rather than dying.

/** The interface carrying the node's public IP (flanneld's ExtIface). */
export interface ExternalInterface {
  readonly name: string;
  readonly index: number;
  readonly mtu: number;
  readonly address: string;
}

/** A main-table IPv4 route, as netlink.Route holds it (LinkIndex 0 = none given). */
export interface NlRoute {
  /** Canonical CIDR, e.g. "10.244.2.0/24". */
  readonly dst: string;
  readonly gw?: string;
  /** Device name, for adapters that speak names; linkIndex is what equality uses. */
  readonly dev?: string;
  readonly linkIndex: number;
  readonly onlink?: boolean;
  readonly src?: string;
  /** 254 (main) for listed routes, 0 for routes flanneld builds. */
  readonly table?: number;
}

/** Linux errnos flanneld can meet, with Go's syscall.Errno text. */
export const ERRNO_TEXT = {
  ENETUNREACH: 'network is unreachable',
  ENETDOWN: 'network is down',
  EEXIST: 'file exists',
  ESRCH: 'no such process',
  ENODEV: 'no such device',
  ENOENT: 'no such file or directory',
  EINVAL: 'invalid argument',
} as const;
export type Errno = keyof typeof ERRNO_TEXT;

export type KernelResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly errno: Errno;
      /** What `ip`/the model said, e.g. "Error: Nexthop has invalid gateway." */
      readonly detail: string;
    };

export const OK: KernelResult = { ok: true };

/** The errno behind what iproute2 printed or a kernel model answered (netlink returns the errno; `ip` adds extack text). */
export const errnoOf = (stderr: string): Errno => {
  if (/Nexthop has invalid gateway|Network is unreachable/i.test(stderr)) return 'ENETUNREACH';
  if (/Nexthop device is not up/i.test(stderr)) return 'ENETDOWN';
  if (/File exists/i.test(stderr)) return 'EEXIST';
  if (/No such process/i.test(stderr)) return 'ESRCH';
  if (/Cannot find device|No such device/i.test(stderr)) return 'ENODEV';
  if (/No such file or directory/i.test(stderr)) return 'ENOENT';
  return 'EINVAL';
};

/** The error text as Go prints a syscall.Errno ("network is unreachable"). */
export const errnoText = (result: KernelResult): string => (result.ok ? '' : ERRNO_TEXT[result.errno]);

export interface VxlanSpec {
  /** flannel.<VNI> */
  readonly name: string;
  readonly vni: number;
  /** The vtep address: the external interface's IP. */
  readonly local: string;
  readonly extIface: ExternalInterface;
  /** 0 = the kernel default, 8472. */
  readonly port: number;
  readonly gbp: boolean;
  readonly learning: boolean;
  /** Only applied when the device is created (flanneld never changes an existing device's MTU). */
  readonly mtu: number;
  /** The MAC to create it with (the one stored in backend-data), else the kernel picks one. */
  readonly mac?: string;
}

/** What the kernel reports about an existing vxlan device, for vxlanLinksIncompat. */
export interface VxlanLinkInfo {
  readonly name: string;
  readonly index: number;
  readonly mac: string;
  readonly mtu: number;
  /** 'vxlan' unless something else took the name. */
  readonly kind: string;
  readonly vni?: number;
  readonly local?: string;
  /** Index of the underlay device. */
  readonly vtepDevIndex?: number;
  readonly port?: number;
  readonly group?: string;
  readonly l2miss?: boolean;
  readonly gbp?: boolean;
}

export interface EnsuredVxlan extends VxlanLinkInfo {
  readonly created: boolean;
  /** Why an existing device was deleted and recreated. */
  readonly recreated?: string;
}

/** The answer of `ip route get`: the routes the kernel would use (flanneld's DirectRouting test). */
export type RouteGetResult =
  { readonly ok: true; readonly routes: readonly NlRoute[] } | Extract<KernelResult, { ok: false }>;

export interface Dataplane {
  /** The interface carrying `address`; undefined when none does. */
  externalInterface(address: string): Promise<ExternalInterface | undefined>;
  vxlanLink(name: string): Promise<VxlanLinkInfo | undefined>;
  /** ensureLink: reuse a compatible device (MTU untouched), else delete and recreate it. */
  ensureVxlan(spec: VxlanSpec): Promise<EnsuredVxlan>;
  /** ensureV4AddressOnLink + LinkSetUp: exactly this one IPv4 address, then up. Throws when >1. */
  configureVxlan(name: string, cidr: string): Promise<void>;
  /** IPv4 routes of the main table. */
  routeList(): Promise<NlRoute[]>;
  routeGet(ip: string): Promise<RouteGetResult>;
  routeAdd(route: NlRoute): Promise<KernelResult>;
  routeReplace(route: NlRoute): Promise<KernelResult>;
  routeDel(route: NlRoute): Promise<KernelResult>;
  /** NeighSet on the vxlan device: `ip neigh replace IP lladdr MAC dev DEV nud permanent`. */
  neighReplace(dev: string, ip: string, mac: string): Promise<KernelResult>;
  neighDel(dev: string, ip: string, mac: string): Promise<KernelResult>;
  /** NeighSet with AF_BRIDGE (flanneld's AddFDB): one permanent entry MAC -> dst, replacing its dst. */
  fdbReplace(dev: string, mac: string, dst: string): Promise<KernelResult>;
  fdbDel(dev: string, mac: string, dst: string): Promise<KernelResult>;
  /** Atomic write (temp + rename) of /run/flannel/subnet.env. */
  writeSubnetEnv(text: string): Promise<void>;
  /** install-cni's copy of cni-conf.json to /etc/cni/net.d/10-flannel.conflist (where pods use it). */
  installCniConf?(text: string): Promise<void>;
}

/** flanneld's routeEqual: Dst, Gw and LinkIndex. */
export const routeEqual = (a: NlRoute, b: NlRoute): boolean =>
  a.dst === b.dst && (a.gw ?? '') === (b.gw ?? '') && a.linkIndex === b.linkIndex;

/** netlink.Route.String(), as it appears inside flanneld's log lines. */
export const formatNlRoute = (r: NlRoute): string =>
  `{Ifindex: ${r.linkIndex} Dst: ${r.dst} Src: ${r.src ?? '<nil>'} Gw: ${r.gw ?? '<nil>'} Flags: [${r.onlink ? 'onlink' : ''}] Table: ${r.table ?? 0} Realm: 0}`;

/** vxlanLinksIncompat (pkg/backend/vxlan/device.go): "" when the existing device can be reused. */
export const vxlanLinksIncompat = (want: VxlanSpec, have: VxlanLinkInfo): string => {
  if (have.kind !== 'vxlan') return `type (${have.kind} vs vxlan)`;
  if (have.vni !== want.vni) return `vni (${have.vni ?? 0} vs ${want.vni})`;
  if (have.vtepDevIndex && want.extIface.index && have.vtepDevIndex !== want.extIface.index)
    return `vtep (external) interface (${have.vtepDevIndex} vs ${want.extIface.index})`;
  if (have.local && want.local && have.local !== want.local)
    return `vtep (external) IP (${have.local} vs ${want.local})`;
  if (have.group) return `group address (${have.group} vs <nil>)`;
  if (have.l2miss) return `l2miss (true vs false)`;
  const wantPort = want.port || 8472;
  if (have.port && have.port !== wantPort) return `port (${have.port} vs ${wantPort})`;
  if (Boolean(have.gbp) !== want.gbp) return `gbp (${Boolean(have.gbp)} vs ${want.gbp})`;
  return '';
};
