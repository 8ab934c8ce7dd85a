// `ip -j neigh show` / `ip neigh show` into Neighbour. States are upper case in both forms.
import type { Neighbour } from '../node-facts.ts';
import type { JsonObject, Parsed } from './common.ts';
import { logicalLines, str, strings, words } from './common.ts';

export const parseNeighboursJson = (items: JsonObject[]): Parsed<Neighbour[]> => ({
  value: items.map((o) => ({
    dst: str(o, 'dst') ?? '',
    dev: str(o, 'dev'),
    lladdr: str(o, 'lladdr'),
    state: strings(o, 'state'),
    // Boolean attributes (router, proxy, extern_learn) are printed as null-valued keys.
    flags: Object.keys(o).filter((key) => o[key] === null),
  })),
  source: 'json',
  warnings: [],
});

const WITH_VALUE = new Set(['dev', 'lladdr', 'used', 'probes', 'vrf', 'protocol', 'nud']);

export const parseNeighboursText = (text: string): Parsed<Neighbour[]> => {
  const warnings: string[] = [];
  const value = logicalLines(text).map((line) => {
    const w = words(line);
    const n = {
      dst: w[0] ?? '',
      dev: null as string | null,
      lladdr: null as string | null,
      state: [] as string[],
      flags: [] as string[],
    };
    for (let i = 1; i < w.length; i++) {
      const word = w[i] as string;
      if (word === 'dev') n.dev = w[++i] ?? null;
      else if (word === 'lladdr') n.lladdr = w[++i] ?? null;
      else if (WITH_VALUE.has(word)) i++;
      else if (/^[A-Z_]+$/.test(word)) n.state.push(word);
      else if (/^[a-z_]+$/.test(word)) n.flags.push(word);
      else warnings.push(`neighbour: unknown word '${word}' in '${line}'`);
    }
    return n;
  });
  return { value, source: 'text', warnings };
};
