// `ip [-j] [-d] [-6] route show table main` and `ip [-j] route get X`, as iproute2 6.1 prints them.
import { tryParseCidr } from '../../../flannel/cidr.ts';
import type { Family, RouteGetAnswer, VRoute, VirtualNode } from '../model.ts';
import { jsonLines, type JsonValue } from './json.ts';

const keyOf = (r: VRoute): [bigint, number] => {
  if (r.dst === 'default') return [0n, 0];
  const c = tryParseCidr(r.dst)!;
  return [c.base, c.prefix];
};

/**
 * The FIB trie dumps IPv4 routes by network address (longer prefixes of the same address first);
 * IPv6 routes come in the order they were added.
 */
export const routesInDumpOrder = (node: VirtualNode, family: Family): VRoute[] => {
  const routes = node.routes.filter((r) => r.family === family);
  if (family === 'inet6') return routes;
  return routes
    .map((r, i) => ({ r, i, k: keyOf(r) }))
    .sort((a, b) => (a.k[0] < b.k[0] ? -1 : a.k[0] > b.k[0] ? 1 : b.k[1] - a.k[1] || a.i - b.i))
    .map((x) => x.r);
};

const flagsOf = (node: VirtualNode, r: VRoute): string[] => {
  const link = r.dev ? node.link(r.dev) : undefined;
  return [...(r.onlink ? ['onlink'] : []), ...(link && !node.carrier(link) ? ['linkdown'] : [])];
};

const routeJson = (node: VirtualNode, r: VRoute, details: boolean): JsonValue => ({
  type: details || r.type !== 'unicast' ? r.type : undefined,
  dst: r.dst,
  gateway: r.gateway ?? undefined,
  dev: r.dev ?? undefined,
  protocol: details || r.protocol !== 'boot' ? r.protocol : undefined,
  scope: details || r.scope !== 'global' ? r.scope : undefined,
  metric: r.metric ?? undefined,
  prefsrc: r.prefsrc ?? undefined,
  flags: flagsOf(node, r),
  pref: r.family === 'inet6' ? 'medium' : undefined,
  metrics: r.mtu !== null ? [{ mtu: r.mtu }] : undefined,
});

const routeText = (node: VirtualNode, r: VRoute, details: boolean): string => {
  const parts: string[] = [];
  if (details || r.type !== 'unicast') parts.push(r.type);
  parts.push(r.dst);
  if (r.gateway) parts.push('via', r.gateway);
  if (r.dev) parts.push('dev', r.dev);
  if (details || r.protocol !== 'boot') parts.push('proto', r.protocol);
  if (details || r.scope !== 'global') parts.push('scope', r.scope);
  if (r.prefsrc) parts.push('src', r.prefsrc);
  if (r.metric !== null) parts.push('metric', String(r.metric));
  parts.push(...flagsOf(node, r));
  if (r.mtu !== null) parts.push('mtu', String(r.mtu));
  if (r.family === 'inet6') parts.push('pref', 'medium');
  return `${parts.join(' ')} \n`;
};

export const renderRoutesJson = (node: VirtualNode, family: Family, details: boolean): string =>
  jsonLines(routesInDumpOrder(node, family).map((r) => routeJson(node, r, details)));

export const renderRoutesText = (node: VirtualNode, family: Family, details: boolean): string =>
  routesInDumpOrder(node, family)
    .map((r) => routeText(node, r, details))
    .join('');

export const routeGetJson = (a: RouteGetAnswer): string =>
  jsonLines([
    {
      type: a.type === 'local' ? 'local' : undefined,
      dst: a.dst,
      gateway: a.gateway ?? undefined,
      dev: a.dev,
      prefsrc: a.prefsrc ?? undefined,
      flags: [],
      uid: 0,
      cache: a.type === 'local' ? ['local'] : [],
    },
  ]);

export const routeGetText = (a: RouteGetAnswer): string => {
  const parts = [...(a.type === 'local' ? ['local'] : []), a.dst];
  if (a.gateway) parts.push('via', a.gateway);
  parts.push('dev', a.dev);
  if (a.prefsrc) parts.push('src', a.prefsrc);
  parts.push('uid', '0');
  return `${parts.join(' ')} \n    cache ${a.type === 'local' ? '<local> ' : ''}\n`;
};
