// Which interface and addresses flanneld would pick on a node, computed from the probed addresses and
// routes the way flanneld does it at start (flannel main.go "Work out which interface to use" and
// pkg/ipmatch/match.go LookupExtIface):
// - the node-public-ip annotation, else --public-ip, is opts.PublicIP;
// - no --iface/--iface-regex/--iface-can-reach: the interface holding PublicIP (IfaceAddr = PublicIP),
//   or without one the IPv4 default route's interface and its first IPv4 address;
// - else each --iface in order (an IP: the interface holding it, IfaceAddr = that IP; a name: its first
//   IPv4), then each --iface-regex (addresses first, then names), then --iface-can-reach (the device
//   and src of `ip route get`); the first match wins;
// - ExtAddr = PublicIP when given, else IfaceAddr. host-gw's New() refuses ExtAddr != IfaceAddr.
// IPv4 only, like the rest of the host-gw checks.
import type { FlanneldInterfaceFlags } from '../facts/cluster-facts.ts';
import type { Address, NodeFacts } from '../facts/node-facts.ts';

export interface ExternalInterface {
  readonly iface: string;
  readonly ifaceAddr: string;
  readonly extAddr: string;
  /** Lines saying how flanneld got there, for evidence. */
  readonly how: readonly string[];
}

export type ExternalInterfaceResult =
  | ({ readonly kind: 'found' } & ExternalInterface)
  /** flanneld exits at start with this log line. */
  | { readonly kind: 'exits'; readonly log: string; readonly how: readonly string[] }
  /** The probe lacks what the answer depends on. */
  | { readonly kind: 'unknown'; readonly reason: string };

export interface PublicIpSetting {
  readonly value: string;
  /** For messages: `annotation flannel.alpha.coreos.com/node-public-ip` or `--public-ip`. */
  readonly source: string;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** IPv4 addresses flanneld may use, in its preference order (match.go GetInterfaceIP4Addrs). */
const usableIpv4 = (addresses: readonly Address[], ifname: string): string[] => {
  const own = addresses.filter(
    (a) => a.ifname === ifname && a.family === 'inet' && a.scope !== 'host' && !a.local.startsWith('127.'),
  );
  // Global unicast before link-local (pkg/ip/iface.go compareAddrs); otherwise the kernel's order.
  const linkLocal = (a: Address) => a.local.startsWith('169.254.');
  return [...own.filter((a) => !linkLocal(a)), ...own.filter(linkLocal)].map((a) => a.local);
};

const holderOf = (addresses: readonly Address[], ip: string): string | undefined =>
  addresses.find((a) => a.family === 'inet' && a.local === ip)?.ifname;

/** Go's regexp and JavaScript's agree on the simple patterns used here; a pattern JS rejects is unknown. */
const compile = (pattern: string): RegExp | null => {
  try {
    return new RegExp(pattern);
  } catch {
    return null;
  }
};

export const externalInterface = (
  facts: NodeFacts,
  flags: FlanneldInterfaceFlags | null,
  publicIp: PublicIpSetting | null,
): ExternalInterfaceResult => {
  const { addresses, links, routes } = facts;
  if (!addresses || !links || !routes)
    return { kind: 'unknown', reason: `the addresses, links or routes of ${facts.name} were not read` };
  const how: string[] = [];
  if (publicIp) how.push(`PublicIP ${publicIp.value} from ${publicIp.source}`);
  const withExt = (iface: string, ifaceAddr: string): ExternalInterfaceResult => ({
    kind: 'found',
    iface,
    ifaceAddr,
    extAddr: publicIp?.value ?? ifaceAddr,
    how: [...how, `flanneld uses ${iface} with interface address ${ifaceAddr}`],
  });
  const firstIpv4 = (iface: string): ExternalInterfaceResult | null => {
    const ip = usableIpv4(addresses, iface)[0];
    return ip ? withExt(iface, ip) : null;
  };
  const f = flags ?? { iface: [], ifaceRegex: [], ifaceCanReach: null, publicIp: null };

  if (f.iface.length === 0 && f.ifaceRegex.length === 0 && !f.ifaceCanReach) {
    if (publicIp) {
      const holder = IPV4.test(publicIp.value) ? holderOf(addresses, publicIp.value) : undefined;
      if (holder) return withExt(holder, publicIp.value);
      return {
        kind: 'exits',
        log: `Failed to find any valid interface to use: error looking up interface ${publicIp.value}: no interface with given IP found`,
        how: [...how, `no interface of ${facts.name} has the address ${publicIp.value}`],
      };
    }
    const def = routes.find((r) => r.family === 'inet' && r.dst === 'default' && r.dev);
    if (!def?.dev)
      return {
        kind: 'exits',
        log: 'Failed to find any valid interface to use: failed to get default interface: unable to find default route',
        how,
      };
    how.push(`no --iface: the default route's device ${def.dev}`);
    return (
      firstIpv4(def.dev) ?? {
        kind: 'exits',
        log: `Failed to find any valid interface to use: failed to find IPv4 address for interface ${def.dev}`,
        how,
      }
    );
  }

  for (const iface of f.iface) {
    if (IPV4.test(iface)) {
      const holder = holderOf(addresses, iface);
      if (holder) return withExt(holder, iface);
      how.push(`--iface=${iface}: no interface has this address`);
      continue;
    }
    const found = links.some((l) => l.name === iface) ? firstIpv4(iface) : null;
    if (found) return found;
    how.push(`--iface=${iface}: no such interface with an IPv4 address`);
  }
  const ordered = [...links].sort((a, b) => a.index - b.index);
  for (const pattern of f.ifaceRegex) {
    const re = compile(pattern);
    if (!re)
      return { kind: 'unknown', reason: `--iface-regex ${pattern} is not a pattern flannelctl can evaluate` };
    for (const link of ordered) {
      const ip = usableIpv4(addresses, link.name).find((a) => re.test(a));
      if (ip) return withExt(link.name, ip);
    }
    const byName = ordered.find((l) => re.test(l.name));
    const found = byName ? firstIpv4(byName.name) : null;
    if (found) return found;
    how.push(`--iface-regex=${pattern}: no interface matches`);
  }
  if (f.ifaceCanReach) {
    const got = facts.routeGets[f.ifaceCanReach];
    if (!got)
      return {
        kind: 'unknown',
        reason: `ip route get ${f.ifaceCanReach} (--iface-can-reach) was not run on ${facts.name}`,
      };
    if (got.ok && got.dev && got.prefsrc) {
      how.push(`--iface-can-reach=${f.ifaceCanReach}: ip route get leaves via ${got.dev} src ${got.prefsrc}`);
      return withExt(got.dev, got.prefsrc);
    }
    how.push(`--iface-can-reach=${f.ifaceCanReach}: no route`);
  }
  return {
    kind: 'exits',
    log: 'Failed to find interface to use that matches the interfaces and/or regexes provided',
    how,
  };
};
