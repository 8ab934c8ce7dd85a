// `ip [-j] [-d] addr show`: each link (as ip-link.ts prints it) followed by its addresses.
import type { VAddress, VirtualNode } from '../model.ts';
import { linkJson, linkText } from './ip-link.ts';
import { jsonLines, type JsonValue } from './json.ts';

const FOREVER = 4294967295;

const addrJson = (a: VAddress): JsonValue => ({
  family: a.family,
  local: a.local,
  prefixlen: a.prefixLen,
  broadcast: a.broadcast,
  scope: a.scope,
  label: a.family === 'inet' ? a.dev : undefined,
  valid_life_time: FOREVER,
  preferred_life_time: FOREVER,
});

const addrText = (a: VAddress): string =>
  `    ${a.family} ${a.local}/${a.prefixLen}${a.broadcast ? ` brd ${a.broadcast}` : ''} scope ${a.scope} ${a.family === 'inet' ? a.dev : ''}\n` +
  `       valid_lft forever preferred_lft forever\n`;

const byIndex = (node: VirtualNode) => [...node.links].sort((a, b) => a.index - b.index);

export const renderAddrJson = (node: VirtualNode, details: boolean): string =>
  jsonLines(
    byIndex(node).map((link) => ({
      ...linkJson(node, link, { details, forAddr: true }),
      addr_info: node.addresses.filter((a) => a.dev === link.name).map(addrJson),
    })),
  );

export const renderAddrText = (node: VirtualNode, details: boolean): string =>
  byIndex(node)
    .map(
      (link) =>
        linkText(node, link, { details, forAddr: true }) +
        node.addresses
          .filter((a) => a.dev === link.name)
          .map(addrText)
          .join(''),
    )
    .join('');
