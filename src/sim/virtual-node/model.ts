// An in-process Linux node: the network state flannel touches, mutated the way the kernel does it
// (connected routes follow addresses, a deleted link takes its addresses, routes and neighbours along,
// a gateway must be on a connected subnet unless `onlink`). Renderers print it as iproute2 6.1 would.
import { contains, parseIp, tryParseCidr, type Cidr, type IpAddress } from '../../flannel/cidr.ts';

export type Family = 'inet' | 'inet6';
export type LinkKind = 'loopback' | 'ether' | 'veth' | 'bridge' | 'vxlan' | 'dummy';

export interface VxlanConfig {
  readonly id: number;
  readonly local: string;
  /** Underlay device. */
  readonly dev: string;
  readonly port: number;
  readonly learning: boolean;
}

export interface VLink {
  readonly index: number;
  name: string;
  readonly kind: LinkKind;
  mtu: number;
  mac: string;
  up: boolean;
  /** Bridge this link is enslaved to. */
  master: string | null;
  /** veth: the peer's ifindex (in `peerNetnsId`, or in this node when that is null). */
  peerIndex: number | null;
  peerNetnsId: number | null;
  vxlan: VxlanConfig | null;
}

export interface VAddress {
  readonly dev: string;
  readonly family: Family;
  readonly local: string;
  readonly prefixLen: number;
  /** `brd`: the bridge plugin sets the subnet's broadcast on cni0 (bridge.go ensureAddr). */
  readonly broadcast?: string;
  readonly scope: 'host' | 'link' | 'global';
}

export interface VRoute {
  readonly family: Family;
  /** 'default' or a canonical CIDR. */
  readonly dst: string;
  readonly type: 'unicast' | 'blackhole' | 'unreachable';
  readonly gateway: string | null;
  readonly dev: string | null;
  readonly protocol: string;
  readonly scope: 'global' | 'link' | 'host';
  readonly prefsrc: string | null;
  readonly metric: number | null;
  readonly onlink: boolean;
  /** `mtu N` route metric. */
  readonly mtu: number | null;
}

export interface VNeighbour {
  readonly dst: string;
  readonly dev: string;
  readonly lladdr: string | null;
  readonly state: string;
}

export interface VFdbEntry {
  readonly mac: string;
  readonly dev: string;
  readonly dst: string | null;
  readonly state: 'permanent';
}

/** What a kernel call returns: ok, or the message and exit code `ip` prints/returns. */
export type KernelResult =
  { readonly ok: true } | { readonly ok: false; readonly message: string; readonly code: number };

export interface RouteGetAnswer {
  readonly type: 'unicast' | 'local';
  readonly dst: string;
  readonly gateway: string | null;
  readonly dev: string;
  readonly prefsrc: string | null;
  /** Path MTU: the route's mtu metric or the device MTU. */
  readonly mtu: number;
}

/** An echo request leaving a node: who sends it, the route it takes, and its IP packet size. */
export interface PingPacket {
  readonly from: VirtualNode;
  readonly route: RouteGetAnswer;
  readonly size: number;
}

export interface RouteSpec {
  readonly dst: string;
  readonly gateway?: string | null;
  readonly dev?: string | null;
  readonly protocol?: string;
  readonly scope?: VRoute['scope'];
  readonly prefsrc?: string | null;
  readonly metric?: number | null;
  readonly onlink?: boolean;
  readonly mtu?: number | null;
  readonly type?: VRoute['type'];
}

export interface LinkSpec {
  readonly name: string;
  readonly kind: LinkKind;
  readonly mtu?: number;
  readonly mac?: string;
  readonly up?: boolean;
  readonly master?: string | null;
  readonly peerIndex?: number | null;
  readonly peerNetnsId?: number | null;
  readonly vxlan?: VxlanConfig | null;
}

const ok: KernelResult = { ok: true };
const fail = (message: string, code = 2): KernelResult => ({ ok: false, message, code });
const noDevice = (dev: string): KernelResult => fail(`Cannot find device "${dev}"`, 1);

/** Canonical destination text ('default', 'a.b.c.d/n'); undefined when not a prefix. */
export const canonicalDst = (
  dst: string,
  family: Family = dst.includes(':') ? 'inet6' : 'inet',
): string | undefined => {
  if (dst === 'default') return 'default';
  const cidr = tryParseCidr(dst.includes('/') ? dst : `${dst}/${family === 'inet' ? 32 : 128}`);
  return cidr ? cidr.text : undefined;
};

// Routes are immutable (a change replaces the object), so each one's parsed destination is kept.
const cidrs = new WeakMap<VRoute, Cidr>();
const cidrOf = (route: VRoute): Cidr => {
  let c = cidrs.get(route);
  if (!c) {
    c = tryParseCidr(route.dst === 'default' ? (route.family === 'inet' ? '0.0.0.0/0' : '::/0') : route.dst)!;
    cidrs.set(route, c);
  }
  return c;
};

/** Unicast routes with a device, by network address, per prefix length (longest first). */
type RouteIndex = { readonly mask: bigint; readonly routes: Map<bigint, VRoute[]> }[];

const indexRoutes = (routes: readonly VRoute[], family: Family): RouteIndex => {
  const byPrefix = new Map<number, Map<bigint, VRoute[]>>();
  for (const r of routes) {
    if (r.family !== family || r.type !== 'unicast' || !r.dev) continue;
    const c = cidrOf(r);
    let table = byPrefix.get(c.prefix);
    if (!table) byPrefix.set(c.prefix, (table = new Map()));
    const same = table.get(c.base);
    if (same) same.push(r);
    else table.set(c.base, [r]);
  }
  const bits = family === 'inet' ? 32 : 128;
  const all = (1n << BigInt(bits)) - 1n;
  return [...byPrefix]
    .sort((a, b) => b[0] - a[0])
    .map(([prefix, table]) => ({ mask: all ^ ((1n << BigInt(bits - prefix)) - 1n), routes: table }));
};

const sameKey = (a: VRoute, dst: string, metric: number | null): boolean =>
  a.dst === dst && (a.metric ?? 0) === (metric ?? 0);

/** fe80:: address the kernel derives from the MAC (EUI-64). */
export const linkLocalFor = (mac: string): string => {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  const groups = [
    ((b[0]! ^ 0x02) << 8) | b[1]!,
    (b[2]! << 8) | 0xff,
    (0xfe << 8) | b[3]!,
    (b[4]! << 8) | b[5]!,
  ];
  return parseIp(`fe80::${groups.map((g) => g.toString(16)).join(':')}`)!.text;
};

/** PROBE_SYSCTLS-style path of an interface's rp_filter. */
export const rpFilterKey = (dev: string): string => `net/ipv4/conf/${dev}/rp_filter`;

export class VirtualNode {
  hostname: string;
  /** The node's podCIDR as the API assigned it (cni0, when it exists, holds its .1). */
  podCIDR: string | null = null;
  kernel = '6.1.0-virtual';
  ipVersion = 'ip utility, iproute2-6.1.0, libbpf 1.1.2';
  iptablesVersion: string | null = 'iptables v1.8.9 (nf_tables)';
  forwardPolicy: 'ACCEPT' | 'DROP' = 'ACCEPT';
  /** `iptables -S FORWARD` lines after the policy. */
  forwardRules: string[] = [];
  /** nft is not installed unless tables are given. */
  nftTables: string[] | null = null;
  uid = 0;
  /** Sysctls by /proc/sys path; a missing key is a missing file (module not loaded). */
  readonly sysctls = new Map<string, string>();
  /** Regular files by absolute path. */
  readonly files = new Map<string, string>();
  /** Directories that exist even when empty. */
  readonly dirs = new Set<string>();
  /** /proc/net/snmp, as table -> field -> value, in print order. */
  readonly snmp = new Map<string, Map<string, number>>();
  /**
   * Decides whether an echo request to `dst` is answered once routing succeeded (fleet wiring); with
   * `packet`, the fleet also follows its size across the path (MTUs, fragmented replies).
   */
  answersPing: (dst: string, packet?: PingPacket) => boolean = () => true;

  readonly links: VLink[] = [];
  readonly addresses: VAddress[] = [];
  /** Insertion order; renderers sort IPv4 like the kernel's FIB trie dump. */
  readonly routes: VRoute[] = [];
  /** Newest first, as the neighbour and FDB dumps list them. */
  readonly neighbours: VNeighbour[] = [];
  readonly fdb: VFdbEntry[] = [];
  private nextIndex = 1;

  constructor(hostname: string) {
    this.hostname = hostname;
  }

  link(name: string): VLink | undefined {
    return this.links.find((l) => l.name === name);
  }

  /** Adds a link; non-loopback links get their fe80:: address and route, like the kernel on link up. */
  addLink(spec: LinkSpec): VLink {
    if (this.link(spec.name)) throw new Error(`link ${spec.name} exists`);
    const index = this.nextIndex++;
    const link: VLink = {
      index,
      name: spec.name,
      kind: spec.kind,
      mtu: spec.mtu ?? (spec.kind === 'loopback' ? 65536 : 1500),
      mac: spec.mac ?? (spec.kind === 'loopback' ? '00:00:00:00:00:00' : macFor(this.hostname, index)),
      up: spec.up ?? true,
      master: spec.master ?? null,
      peerIndex: spec.peerIndex ?? null,
      peerNetnsId: spec.peerNetnsId ?? null,
      vxlan: spec.vxlan ?? null,
    };
    this.links.push(link);
    // A new device copies conf/default, as the kernel does.
    const fallback = this.sysctls.get(rpFilterKey('default'));
    if (fallback !== undefined) this.sysctls.set(rpFilterKey(link.name), fallback);
    if (link.kind !== 'loopback') {
      this.addresses.push({
        dev: link.name,
        family: 'inet6',
        local: linkLocalFor(link.mac),
        prefixLen: 64,
        scope: 'link',
      });
      this.routes.push(
        route({
          family: 'inet6',
          dst: 'fe80::/64',
          dev: link.name,
          protocol: 'kernel',
          scope: 'global',
          metric: 256,
        }),
      );
    }
    return link;
  }

  /** `ip addr add`: also adds the connected route (`proto kernel scope link src`) unless /32. */
  addrAdd(
    dev: string,
    cidr: string,
    scope: VAddress['scope'] = 'global',
    options: { broadcast?: string } = {},
  ): KernelResult {
    const link = this.link(dev);
    if (!link) return noDevice(dev);
    const parsed = tryParseCidr(cidr);
    if (!parsed) return fail(`Error: any valid prefix is expected rather than "${cidr}".`, 1);
    const family: Family = parsed.family === 'ipv4' ? 'inet' : 'inet6';
    if (this.addresses.some((a) => a.dev === dev && a.local === parsed.ip.text))
      return fail('Error: ipv4: Address already assigned.');
    const address: VAddress = {
      dev,
      family,
      local: parsed.ip.text,
      prefixLen: parsed.prefix,
      ...(options.broadcast ? { broadcast: options.broadcast } : {}),
      scope,
    };
    // IPv4 before IPv6 per link, in the order added: how the dump lists them.
    const at = this.addresses.findIndex((a) => a.dev === dev && a.family === 'inet6');
    if (family === 'inet' && at >= 0) this.addresses.splice(at, 0, address);
    else this.addresses.push(address);
    if (family === 'inet' && parsed.prefix < 32 && dev !== 'lo') {
      this.routes.push(
        route({ family, dst: parsed.text, dev, protocol: 'kernel', scope: 'link', prefsrc: parsed.ip.text }),
      );
    }
    return ok;
  }

  /** True when `gateway` lies in a connected (kernel, scope link) subnet of `dev`. */
  private onConnectedSubnet(gateway: string, dev: string | null): boolean {
    const ip = parseIp(gateway);
    if (!ip) return false;
    return this.routes.some(
      (r) => r.scope === 'link' && (dev === null || r.dev === dev) && contains(cidrOf(r), ip),
    );
  }

  private validate(spec: RouteSpec): KernelResult | VRoute {
    const family: Family = spec.dst.includes(':') || spec.gateway?.includes(':') ? 'inet6' : 'inet';
    const dst = canonicalDst(spec.dst, family);
    if (!dst) return fail(`Error: ${family} prefix is expected rather than "${spec.dst}".`, 1);
    if (spec.dev && !this.link(spec.dev)) return noDevice(spec.dev);
    let dev = spec.dev ?? null;
    const gateway = spec.gateway ? (parseIp(spec.gateway)?.text ?? null) : null;
    if (spec.gateway && !gateway)
      return fail(`Error: inet address is expected rather than "${spec.gateway}".`, 1);
    if (gateway && !spec.onlink && !this.onConnectedSubnet(gateway, dev))
      return fail('Error: Nexthop has invalid gateway.');
    if (gateway && !dev)
      dev =
        this.routes.find((r) => r.scope === 'link' && contains(cidrOf(r), parseIp(gateway)!))?.dev ?? null;
    if (!gateway && !dev && (spec.type ?? 'unicast') === 'unicast')
      return fail('Error: Device for nexthop is not up.');
    return route({
      family,
      dst,
      gateway,
      dev,
      protocol: spec.protocol ?? 'boot',
      scope: spec.scope ?? (gateway ? 'global' : 'link'),
      prefsrc: spec.prefsrc ?? null,
      metric: spec.metric ?? (family === 'inet6' ? 1024 : null),
      onlink: spec.onlink ?? false,
      mtu: spec.mtu ?? null,
      type: spec.type ?? 'unicast',
    });
  }

  routeAdd(spec: RouteSpec): KernelResult {
    const r = this.validate(spec);
    if ('ok' in r) return r;
    if (this.routes.some((x) => x.family === r.family && sameKey(x, r.dst, r.metric)))
      return fail('RTNETLINK answers: File exists');
    this.routes.push(r);
    return ok;
  }

  routeReplace(spec: RouteSpec): KernelResult {
    const r = this.validate(spec);
    if ('ok' in r) return r;
    const at = this.routes.findIndex((x) => x.family === r.family && sameKey(x, r.dst, r.metric));
    if (at >= 0) this.routes[at] = r;
    else this.routes.push(r);
    return ok;
  }

  /** `ip route del DST [via GW] [dev DEV]`: the first route matching every given selector. */
  routeDel(spec: { dst: string; gateway?: string; dev?: string }): KernelResult {
    const dst = canonicalDst(spec.dst);
    if (!dst) return fail(`Error: inet prefix is expected rather than "${spec.dst}".`, 1);
    if (spec.dev && !this.link(spec.dev)) return noDevice(spec.dev);
    const gw = spec.gateway ? parseIp(spec.gateway)?.text : undefined;
    const at = this.routes.findIndex(
      (r) =>
        r.dst === dst &&
        (gw === undefined || r.gateway === gw) &&
        (spec.dev === undefined || r.dev === spec.dev),
    );
    if (at < 0) return fail('RTNETLINK answers: No such process');
    this.routes.splice(at, 1);
    return ok;
  }

  /** Deletes a link with everything that referenced it, as the kernel does (a veth takes its peer along). */
  linkDel(name: string): KernelResult {
    const link = this.link(name);
    if (!link) return noDevice(name);
    const gone = new Set([name]);
    if (link.kind === 'veth' && link.peerNetnsId === null && link.peerIndex !== null) {
      const peer = this.links.find((l) => l.index === link.peerIndex);
      if (peer) gone.add(peer.name);
    }
    for (const dev of gone) {
      this.links.splice(
        this.links.findIndex((l) => l.name === dev),
        1,
      );
      this.sysctls.delete(rpFilterKey(dev));
      for (const l of this.links) if (l.master === dev) l.master = null;
    }
    const keep = <T>(list: T[], dev: (item: T) => string | null): void => {
      const left = list.filter((item) => !gone.has(dev(item) ?? ''));
      list.splice(0, list.length, ...left);
    };
    keep(this.addresses, (a) => a.dev);
    keep(this.routes, (r) => r.dev);
    keep(this.neighbours, (n) => n.dev);
    keep(this.fdb, (f) => f.dev);
    return ok;
  }

  linkSetMtu(name: string, mtu: number): KernelResult {
    const link = this.link(name);
    if (!link) return noDevice(name);
    const max = link.kind === 'loopback' ? Infinity : 65535;
    if (mtu > max) return fail('Error: mtu greater than device maximum.');
    if (mtu < 68) return fail('Error: mtu less than device minimum.');
    link.mtu = mtu;
    return ok;
  }

  neighReplace(n: VNeighbour): KernelResult {
    if (!this.link(n.dev)) return noDevice(n.dev);
    const dst = parseIp(n.dst)?.text;
    if (!dst) return fail(`Error: any valid address is expected rather than "${n.dst}".`, 1);
    this.neighDelQuiet(dst, n.dev);
    this.neighbours.unshift({ ...n, dst });
    return ok;
  }

  neighDel(dst: string, dev: string): KernelResult {
    if (!this.link(dev)) return noDevice(dev);
    return this.neighDelQuiet(parseIp(dst)?.text ?? dst, dev)
      ? ok
      : fail('RTNETLINK answers: No such file or directory');
  }

  private neighDelQuiet(dst: string, dev: string): boolean {
    const at = this.neighbours.findIndex((x) => x.dst === dst && x.dev === dev);
    if (at >= 0) this.neighbours.splice(at, 1);
    return at >= 0;
  }

  /** `bridge fdb append`: several destinations per MAC are allowed (flooding entries). */
  fdbAppend(entry: Omit<VFdbEntry, 'state'>): KernelResult {
    if (!this.link(entry.dev)) return noDevice(entry.dev);
    if (this.fdb.some((f) => f.mac === entry.mac && f.dev === entry.dev && f.dst === entry.dst))
      return fail('RTNETLINK answers: File exists');
    this.fdb.unshift({ ...entry, state: 'permanent' });
    return ok;
  }

  fdbDel(mac: string, dev: string, dst?: string): KernelResult {
    if (!this.link(dev)) return noDevice(dev);
    const at = this.fdb.findIndex(
      (f) => f.mac === mac && f.dev === dev && (dst === undefined || f.dst === dst),
    );
    if (at < 0) return fail('RTNETLINK answers: No such file or directory');
    this.fdb.splice(at, 1);
    return ok;
  }

  /** A link is "carrier up" when up and, for a bridge, when one of its ports is. */
  carrier(link: VLink): boolean {
    if (!link.up) return false;
    if (link.kind === 'bridge') return this.links.some((l) => l.master === link.name && l.up);
    return true;
  }

  private routeIndex: Map<Family, RouteIndex> | undefined;

  /**
   * Runs `fn` with the main table indexed by prefix, for many `ip route get`s in a row (a probe asks for
   * every peer: 999 lookups over ~1,000 routes at 1,000 nodes). `fn` must not change the routes.
   */
  withRouteIndex<T>(fn: () => T): T {
    this.routeIndex = new Map([
      ['inet', indexRoutes(this.routes, 'inet')],
      ['inet6', indexRoutes(this.routes, 'inet6')],
    ]);
    try {
      return fn();
    } finally {
      this.routeIndex = undefined;
    }
  }

  /** Longest prefix first; among equal prefixes the first in table order; only via carrier-up links. */
  private bestRoute(ip: IpAddress, family: Family): VRoute | undefined {
    const index = this.routeIndex?.get(family);
    if (index) {
      for (const { mask, routes } of index) {
        const hit = routes.get(ip.value & mask)?.find((r) => this.carrier(this.link(r.dev!)!));
        if (hit) return hit;
      }
      return undefined;
    }
    let best: VRoute | undefined;
    let bestLen = -1;
    for (const r of this.routes) {
      if (r.family !== family || r.type !== 'unicast' || !r.dev) continue;
      const c = cidrOf(r);
      if (c.prefix > bestLen && contains(c, ip) && this.carrier(this.link(r.dev)!)) {
        best = r;
        bestLen = c.prefix;
      }
    }
    return best;
  }

  /** `ip route get`: local addresses, then longest-prefix match over the main table. */
  routeGet(dst: string): RouteGetAnswer | KernelResult {
    const ip = parseIp(dst);
    if (!ip) return fail(`Error: any valid prefix is expected rather than "${dst}".`, 1);
    const family: Family = ip.family === 'ipv4' ? 'inet' : 'inet6';
    const local = this.addresses.find((a) => a.local === ip.text);
    if (local)
      return {
        type: 'local',
        dst: ip.text,
        gateway: null,
        dev: 'lo',
        prefsrc: ip.text,
        mtu: this.link('lo')?.mtu ?? 65536,
      };
    const best = this.bestRoute(ip, family);
    if (!best?.dev) return fail('RTNETLINK answers: Network is unreachable');
    const link = this.link(best.dev)!;
    const prefsrc = best.prefsrc ?? this.sourceFor(best.dev, family);
    return {
      type: 'unicast',
      dst: ip.text,
      gateway: best.gateway,
      dev: best.dev,
      prefsrc,
      mtu: best.mtu ?? link.mtu,
    };
  }

  /** The source address the kernel picks: the device's first global address, else any global one. */
  private sourceFor(dev: string, family: Family): string | null {
    const global = (a: VAddress): boolean => a.family === family && a.scope === 'global';
    return (
      (this.addresses.find((a) => a.dev === dev && global(a)) ?? this.addresses.find(global))?.local ?? null
    );
  }

  setSysctl(path: string, value: string): void {
    this.sysctls.set(path, value);
  }
}

const route = (r: Partial<VRoute> & Pick<VRoute, 'family' | 'dst'>): VRoute => ({
  type: 'unicast',
  gateway: null,
  dev: null,
  protocol: 'boot',
  scope: 'global',
  prefsrc: null,
  metric: null,
  onlink: false,
  mtu: null,
  ...r,
});

/** A stable, locally administered MAC per node and link. */
export const macFor = (seed: string, index: number): string => {
  let h = 2166136261;
  for (const ch of `${seed}/${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const bytes = [0x02, (h >>> 24) & 0xff, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff, index & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
};
