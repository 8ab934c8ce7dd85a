// `ip -j -d link show` / `ip -d link show` into Link, including the linkinfo kind and VXLAN details.
import type { Link, VxlanInfo } from '../node-facts.ts';
import type { JsonObject, Parsed } from './common.ts';
import { bool, isObject, num, str, strings, toNumber, words } from './common.ts';

// Kinds printed as the first word of a `-d` details line; slave lines (bridge_slave ...) are not kinds.
const LINK_KINDS = new Set([
  'vxlan',
  'bridge',
  'veth',
  'dummy',
  'bond',
  'vlan',
  'macvlan',
  'macvtap',
  'ipvlan',
  'ipvtap',
  'ipip',
  'gre',
  'gretap',
  'ip6gre',
  'ip6gretap',
  'sit',
  'ip6tnl',
  'vti',
  'vti6',
  'wireguard',
  'tun',
  'geneve',
  'vrf',
  'team',
  'ifb',
  'nlmon',
  'bareudp',
  'netkit',
  'xfrm',
  'hsr',
  'erspan',
  'ip6erspan',
  'can',
  'vcan',
  'vxcan',
  'gtp',
]);

const vxlanFromJson = (data: JsonObject): VxlanInfo => ({
  id: num(data, 'id'),
  local: str(data, 'local') ?? str(data, 'local6'),
  dev: str(data, 'link'),
  port: num(data, 'port'),
  learning: bool(data, 'learning'),
  group: str(data, 'group') ?? str(data, 'group6') ?? str(data, 'remote') ?? str(data, 'remote6'),
  ttl: num(data, 'ttl'),
});

export const linkFromJson = (o: JsonObject): Link => {
  const info = isObject(o.linkinfo) ? o.linkinfo : undefined;
  const kind = info ? str(info, 'info_kind') : null;
  const data = info && isObject(info.info_data) ? info.info_data : undefined;
  const flags = strings(o, 'flags');
  const linkIndex = num(o, 'link_index');
  return {
    index: num(o, 'ifindex') ?? 0,
    name: str(o, 'ifname') ?? '',
    mtu: num(o, 'mtu'),
    state: str(o, 'operstate'),
    flags,
    up: flags.includes('UP'),
    mac: str(o, 'link_type') === 'none' ? null : str(o, 'address'),
    linkType: str(o, 'link_type'),
    kind,
    master: str(o, 'master'),
    parent: str(o, 'link') ?? (linkIndex === null ? null : `if${linkIndex}`),
    vxlan: kind === 'vxlan' && data ? vxlanFromJson(data) : kind === 'vxlan' ? emptyVxlan() : null,
  };
};

export const parseLinksJson = (items: JsonObject[]): Parsed<Link[]> => ({
  value: items.map(linkFromJson),
  source: 'json',
  warnings: [],
});

const emptyVxlan = (): VxlanInfo => ({
  id: null,
  local: null,
  dev: null,
  port: null,
  learning: null,
  group: null,
  ttl: null,
});

const vxlanFromText = (w: string[]): VxlanInfo => {
  const after = (key: string): string | undefined => {
    const at = w.indexOf(key);
    return at < 0 ? undefined : w[at + 1];
  };
  const ttl = after('ttl');
  return {
    id: toNumber(after('id')),
    local: after('local') ?? null,
    dev: after('dev') ?? null,
    port: toNumber(after('dstport')),
    learning: w.includes('nolearning') ? false : w.includes('learning') ? true : null,
    group: after('group') ?? after('remote') ?? null,
    // JSON reports `ttl auto` as 0.
    ttl: ttl === 'auto' || ttl === 'inherit' ? 0 : toNumber(ttl),
  };
};

/** Header: `6: eth0@if5: <FLAGS> mtu 1500 qdisc noqueue master cni0 state UP mode DEFAULT ...`. */
export const LINK_HEADER = /^(\d+):\s+([^\s@:]+)(?:@([^\s:]+))?:\s+<([^>]*)>(.*)$/;

interface MutableLink {
  index: number;
  name: string;
  mtu: number | null;
  state: string | null;
  flags: string[];
  up: boolean;
  mac: string | null;
  linkType: string | null;
  kind: string | null;
  master: string | null;
  parent: string | null;
  vxlan: VxlanInfo | null;
}

/** Parses link blocks; shared with the address parser, whose blocks start with the same header. */
export const parseLinkBlocks = (text: string, onLine?: (link: MutableLink, line: string) => void): Link[] => {
  const links: MutableLink[] = [];
  let current: MutableLink | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const header = LINK_HEADER.exec(line);
    if (header) {
      const w = words(header[5] ?? '');
      const after = (key: string): string | undefined => {
        const at = w.indexOf(key);
        return at < 0 ? undefined : w[at + 1];
      };
      const flags = (header[4] ?? '').split(',').filter((f) => f !== '');
      current = {
        index: Number(header[1]),
        name: header[2] ?? '',
        parent: header[3] ?? null,
        flags,
        up: flags.includes('UP'),
        mtu: toNumber(after('mtu')),
        state: after('state') ?? null,
        master: after('master') ?? null,
        mac: null,
        linkType: null,
        kind: null,
        vxlan: null,
      };
      links.push(current);
      continue;
    }
    if (!current) continue;
    const w = words(line);
    const first = w[0] ?? '';
    if (first.startsWith('link/')) {
      current.linkType = first.slice('link/'.length);
      current.mac = current.linkType === 'none' ? null : (w[1] ?? null);
    } else if (current.kind === null && LINK_KINDS.has(first)) {
      current.kind = first;
      if (first === 'vxlan') current.vxlan = vxlanFromText(w);
    }
    onLine?.(current, line);
  }
  return links;
};

export const parseLinksText = (text: string): Parsed<Link[]> => ({
  value: parseLinkBlocks(text),
  source: 'text',
  warnings: [],
});
