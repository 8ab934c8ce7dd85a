// `ip -j -d route show` / `ip -d route show` and `ip [-j] route get` into Route / RouteGetEntry.
// The text parser is keyword-driven: jc's text parser silently dropped `onlink`, `table` and `type`,
// exactly what flannel checks need, so every unknown word becomes a warning instead.
import type { Family, NextHop, Route, RouteGetEntry } from '../node-facts.ts';
import type { JsonObject, Parsed } from './common.ts';
import {
  intern,
  isObject,
  jsonArray,
  logicalLines,
  num,
  str,
  strings,
  toCidr,
  toNumber,
  words,
} from './common.ts';

const ROUTE_TYPES = new Set([
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'nat',
  'anycast',
]);
const ROUTE_FLAGS = new Set([
  'onlink',
  'pervasive',
  'linkdown',
  'dead',
  'offload',
  'trap',
  'notify',
  'unresolved',
  'rt_offload',
  'rt_trap',
  'rt_offload_failed',
  'offload_failed',
]);
// Keywords followed by one value that the facts do not keep.
const IGNORED_WITH_VALUE = new Set([
  'expires',
  'pref',
  'uid',
  'realms',
  'realm',
  'from',
  'tos',
  'dsfield',
  'hoplimit',
  'initcwnd',
  'initrwnd',
  'rtt',
  'rttvar',
  'ssthresh',
  'cwnd',
  'window',
  'reordering',
  'features',
  'quickack',
  'congctl',
  'rto_min',
  'fastopen_no_cookie',
  'advmss',
  'nhid',
  'iif',
  'oif',
  'error',
  'mark',
  'ttl-propagate',
  'used',
  'age',
]);

interface MutableRoute {
  type: string;
  dst: string;
  gateway: string | null;
  dev: string | null;
  protocol: string;
  scope: string;
  metric: number | null;
  flags: string[];
  table: string;
  prefsrc: string | null;
  mtu: number | null;
  nexthops: NextHop[];
}

// --- JSON ---------------------------------------------------------------------------------------

const gatewayOf = (o: JsonObject): string | null => {
  const via = o.via;
  return str(o, 'gateway') ?? (isObject(via) ? str(via, 'host') : null);
};

const mtuOf = (o: JsonObject): number | null => {
  const metrics = o.metrics;
  const list = Array.isArray(metrics) ? metrics : isObject(metrics) ? [metrics] : [];
  for (const m of list) {
    if (!isObject(m)) continue;
    const mtu = m.mtu;
    if (typeof mtu === 'number') return mtu;
    if (isObject(mtu)) return num(mtu, 'value') ?? num(mtu, 'mtu');
  }
  return null;
};

const NO_NEXTHOPS: readonly NextHop[] = Object.freeze([]);

const nexthopsOf = (o: JsonObject): NextHop[] => {
  const list = o.nexthops;
  if (!Array.isArray(list)) return NO_NEXTHOPS as NextHop[];
  return list.filter(isObject).map((h) => ({
    gateway: gatewayOf(h),
    dev: str(h, 'dev'),
    weight: num(h, 'weight'),
    flags: strings(h, 'flags'),
  }));
};

export const routeFromJson = (o: JsonObject, family: Family): Route => ({
  family,
  dst: toCidr(str(o, 'dst') ?? 'default', family),
  type: intern(str(o, 'type')) ?? 'unicast',
  gateway: gatewayOf(o),
  dev: intern(str(o, 'dev')),
  protocol: intern(str(o, 'protocol')) ?? 'boot',
  scope: intern(str(o, 'scope')) ?? 'global',
  metric: num(o, 'metric'),
  flags: strings(o, 'flags'),
  table: intern(str(o, 'table')) ?? 'main',
  prefsrc: intern(str(o, 'prefsrc')),
  mtu: mtuOf(o),
  nexthops: nexthopsOf(o),
});

export const parseRoutesJson = (items: JsonObject[], family: Family = 'inet'): Parsed<Route[]> => ({
  value: items.map((o) => routeFromJson(o, family)),
  source: 'json',
  warnings: [],
});

// --- text ---------------------------------------------------------------------------------------

const parseRouteLine = (line: string, family: Family, warnings: string[]): MutableRoute => {
  const w = words(line);
  const route: MutableRoute = {
    type: 'unicast',
    dst: 'default',
    gateway: null,
    dev: null,
    protocol: 'boot',
    scope: 'global',
    metric: null,
    flags: [],
    table: 'main',
    prefsrc: null,
    mtu: null,
    nexthops: [],
  };
  let i = 0;
  if (ROUTE_TYPES.has(w[0] ?? '')) route.type = w[i++] as string;
  route.dst = w[i++] ?? 'default';
  let hop: { gateway: string | null; dev: string | null; weight: number | null; flags: string[] } | undefined;
  const target = (): { gateway: string | null; dev: string | null; flags: string[] } => hop ?? route;
  while (i < w.length) {
    const word = w[i++] as string;
    const next = (): string | undefined => w[i++];
    switch (word) {
      case 'via': {
        let gw = next();
        if (gw === 'inet' || gw === 'inet6') gw = next();
        target().gateway = gw ?? null;
        break;
      }
      case 'dev':
        target().dev = next() ?? null;
        break;
      case 'proto':
        route.protocol = next() ?? route.protocol;
        break;
      case 'scope':
        route.scope = next() ?? route.scope;
        break;
      case 'metric':
        route.metric = toNumber(next());
        break;
      case 'src':
        route.prefsrc = next() ?? null;
        break;
      case 'table':
        route.table = next() ?? route.table;
        break;
      case 'mtu': {
        let value = next();
        if (value === 'lock') value = next();
        route.mtu = toNumber(value);
        break;
      }
      case 'weight':
        if (hop) hop.weight = toNumber(next());
        else next();
        break;
      case 'nexthop':
        hop = { gateway: null, dev: null, weight: null, flags: [] };
        route.nexthops.push(hop);
        break;
      case 'cache':
        // `ip route get` appends the route cache (`cache expires 300sec mtu 1400`): not the route itself.
        i = w.length;
        break;
      default:
        if (ROUTE_FLAGS.has(word)) target().flags.push(word);
        else if (IGNORED_WITH_VALUE.has(word)) next();
        else warnings.push(`route: unknown word '${word}' in '${line}'`);
    }
  }
  route.dst = toCidr(route.dst, family);
  return route;
};

export const parseRoutesText = (text: string, family: Family = 'inet'): Parsed<Route[]> => {
  const warnings: string[] = [];
  const value = logicalLines(text).map((line) => ({ family, ...parseRouteLine(line, family, warnings) }));
  return { value, source: 'text', warnings };
};

// --- route get ----------------------------------------------------------------------------------

const routeGetFromJson = (o: JsonObject, peer: string | undefined): RouteGetEntry => ({
  dst: sameAs(str(o, 'dst') ?? '', peer),
  type: intern(str(o, 'type')) ?? 'unicast',
  gateway: gatewayOf(o),
  dev: intern(str(o, 'dev')),
  prefsrc: intern(str(o, 'prefsrc')),
});

// The answer's dst is usually the peer asked about: one string for both (1M answers at 1,000 nodes).
const sameAs = (value: string, peer: string | undefined): string => (value === peer ? peer : value);

/** `ip [-j] route get <peer>` output; undefined when the text is neither JSON nor a route line. */
export const parseRouteGet = (
  json: string | undefined,
  text: string | undefined,
  peer?: string,
): Parsed<RouteGetEntry[]> | undefined => {
  const items = json === undefined ? undefined : jsonArray(json);
  if (items !== undefined)
    return { value: items.map((o) => routeGetFromJson(o, peer)), source: 'json', warnings: [] };
  if (text === undefined) return undefined;
  const warnings: string[] = [];
  const lines = logicalLines(text).filter((line) => !/^(RTNETLINK|Error|ip:)/i.test(line));
  if (lines.length === 0) return undefined;
  const value = lines.map((line) => {
    const dst = words(line).find((word) => !ROUTE_TYPES.has(word)) ?? '';
    const family: Family = dst.includes(':') ? 'inet6' : 'inet';
    const r = parseRouteLine(line, family, warnings);
    return { dst: sameAs(dst, peer), type: r.type, gateway: r.gateway, dev: r.dev, prefsrc: r.prefsrc };
  });
  return { value, source: 'text', warnings };
};
