// `ip -j -d addr show` / `ip -d addr show` into Address (one per interface address).
import type { Address, Family } from '../node-facts.ts';
import type { JsonObject, Parsed } from './common.ts';
import { isObject, num, str, words } from './common.ts';
import { parseLinkBlocks } from './ip-link.ts';

export const parseAddressesJson = (items: JsonObject[]): Parsed<Address[]> => {
  const value: Address[] = [];
  for (const link of items) {
    const ifname = str(link, 'ifname') ?? '';
    const infos = Array.isArray(link.addr_info) ? link.addr_info.filter(isObject) : [];
    for (const a of infos) {
      const family = str(a, 'family');
      const local = str(a, 'local');
      const prefixlen = num(a, 'prefixlen');
      if ((family !== 'inet' && family !== 'inet6') || local === null || prefixlen === null) continue;
      value.push({
        ifname,
        family,
        local,
        prefixlen,
        scope: str(a, 'scope') ?? 'global',
        broadcast: str(a, 'broadcast'),
        label: str(a, 'label'),
      });
    }
  }
  return { value, source: 'json', warnings: [] };
};

// Words after `inet A/P` that are flags, not the trailing label.
const ADDRESS_FLAGS = new Set([
  'secondary',
  'temporary',
  'dynamic',
  'noprefixroute',
  'tentative',
  'deprecated',
  'dadfailed',
  'nodad',
  'optimistic',
  'home',
  'mngtmpaddr',
  'autojoin',
  'stable-privacy',
  'permanent',
]);
const WITH_VALUE = new Set(['brd', 'peer', 'scope', 'metric', 'proto', 'valid_lft', 'preferred_lft', 'any']);

const addressFromLine = (ifname: string, line: string): Address | undefined => {
  const w = words(line);
  const family: Family | undefined = w[0] === 'inet' || w[0] === 'inet6' ? w[0] : undefined;
  if (family === undefined) return undefined;
  const [local = '', prefix] = (w[1] ?? '').split('/');
  const address = {
    ifname,
    family,
    local,
    prefixlen: Number(prefix ?? (family === 'inet' ? 32 : 128)),
    scope: 'global',
    broadcast: null as string | null,
    label: null as string | null,
  };
  for (let i = 2; i < w.length; i++) {
    const word = w[i] as string;
    if (word === 'scope') address.scope = w[++i] ?? address.scope;
    else if (word === 'brd') address.broadcast = w[++i] ?? null;
    else if (WITH_VALUE.has(word)) i++;
    else if (!ADDRESS_FLAGS.has(word) && family === 'inet' && i === w.length - 1) address.label = word;
  }
  return local === '' || Number.isNaN(address.prefixlen) ? undefined : address;
};

export const parseAddressesText = (text: string): Parsed<Address[]> => {
  const value: Address[] = [];
  parseLinkBlocks(text, (link, line) => {
    const address = addressFromLine(link.name, line);
    if (address) value.push(address);
  });
  return { value, source: 'text', warnings: [] };
};
