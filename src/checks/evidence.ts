// Facts rendered back the way `ip` prints them, so evidence lines read like what the operator would see.
import {
  routeGetRoutes,
  type FdbEntry,
  type Link,
  type Neighbour,
  type Route,
  type RouteGetResult,
} from '../facts/node-facts.ts';

export const formatRoute = (r: Route): string => {
  const parts = [r.type !== 'unicast' ? `${r.type} ${r.dst}` : r.dst];
  if (r.gateway) parts.push(`via ${r.gateway}`);
  if (r.dev) parts.push(`dev ${r.dev}`);
  for (const hop of r.nexthops) parts.push(`nexthop via ${hop.gateway ?? '?'} dev ${hop.dev ?? '?'}`);
  if (r.protocol !== 'boot') parts.push(`proto ${r.protocol}`);
  if (r.scope !== 'global' && r.scope !== 'universe') parts.push(`scope ${r.scope}`);
  if (r.prefsrc) parts.push(`src ${r.prefsrc}`);
  if (r.metric !== null) parts.push(`metric ${r.metric}`);
  if (r.mtu !== null) parts.push(`mtu ${r.mtu}`);
  parts.push(...r.flags);
  return parts.join(' ');
};

export const formatRouteGet = (g: RouteGetResult): string => {
  if (!g.ok) return `ip route get ${g.peer}: ${g.error}`;
  return routeGetRoutes(g)
    .map((r) =>
      [
        `ip route get ${g.peer}: ${r.dst}`,
        r.gateway ? `via ${r.gateway}` : null,
        r.dev ? `dev ${r.dev}` : null,
        r.prefsrc ? `src ${r.prefsrc}` : null,
      ]
        .filter(Boolean)
        .join(' '),
    )
    .join('; ');
};

export const formatNeighbour = (n: Neighbour): string =>
  [n.dst, n.dev ? `dev ${n.dev}` : null, n.lladdr ? `lladdr ${n.lladdr}` : null, ...n.state]
    .filter(Boolean)
    .join(' ');

export const formatFdb = (f: FdbEntry): string =>
  [f.mac, `dev ${f.dev}`, f.dst ? `dst ${f.dst}` : null, ...f.flags, f.state].filter(Boolean).join(' ');

export const formatLink = (l: Link): string =>
  `${l.name}${l.kind ? ` (${l.kind})` : ''} mtu ${l.mtu ?? '?'}${l.master ? ` master ${l.master}` : ''}`;
