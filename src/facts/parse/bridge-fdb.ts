// `bridge -j fdb show dev X` / `bridge fdb show dev X` into FdbEntry. With a dev filter iproute2
// omits the device, so the caller passes it in.
import type { FdbEntry } from '../node-facts.ts';
import type { JsonObject, Parsed } from './common.ts';
import { logicalLines, num, str, strings, toNumber, words } from './common.ts';

const STATES = new Set([
  'permanent',
  'static',
  'stale',
  'noarp',
  'reachable',
  'delay',
  'probe',
  'failed',
  'incomplete',
]);
const WITH_VALUE = new Set(['vlan', 'port', 'src_vni', 'via', 'nhid', 'used', 'updated']);

export const parseFdbJson = (items: JsonObject[], dev: string): Parsed<FdbEntry[]> => ({
  value: items.map((o) => ({
    mac: str(o, 'mac') ?? '',
    dev: str(o, 'ifname') ?? str(o, 'dev') ?? dev,
    dst: str(o, 'dst'),
    vni: num(o, 'vni'),
    state: str(o, 'state'),
    flags: [...strings(o, 'flags'), ...(str(o, 'master') === null ? [] : ['master'])],
  })),
  source: 'json',
  warnings: [],
});

export const parseFdbText = (text: string, dev: string): Parsed<FdbEntry[]> => {
  const warnings: string[] = [];
  const value = logicalLines(text).map((line) => {
    const w = words(line);
    const e = {
      mac: w[0] ?? '',
      dev,
      dst: null as string | null,
      vni: null as number | null,
      state: null as string | null,
      flags: [] as string[],
    };
    for (let i = 1; i < w.length; i++) {
      const word = w[i] as string;
      if (word === 'dev') e.dev = w[++i] ?? dev;
      else if (word === 'dst') e.dst = w[++i] ?? null;
      else if (word === 'vni') e.vni = toNumber(w[++i]);
      else if (word === 'master') {
        e.flags.push('master');
        i++;
      } else if (WITH_VALUE.has(word)) i++;
      else if (STATES.has(word)) e.state = word;
      else if (/^[a-z_]+$/.test(word)) e.flags.push(word);
      else warnings.push(`fdb: unknown word '${word}' in '${line}'`);
    }
    return e;
  });
  return { value, source: 'text', warnings };
};
