// /proc/net/snmp: pairs of `Proto: Field ...` / `Proto: value ...` lines, matched by name, not position.
import type { IpFragCounters, Snmp } from '../node-facts.ts';
import { toNumber } from './common.ts';

export const parseSnmp = (text: string): Snmp => {
  const tables: Record<string, Record<string, number>> = {};
  const headers = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, proto = '', rest = ''] = m;
    const fields = rest.split(/\s+/);
    const header = headers.get(proto);
    if (header === undefined || fields.some((f) => toNumber(f) === null)) {
      headers.set(proto, fields);
      continue;
    }
    const table: Record<string, number> = {};
    header.forEach((name, i) => {
      const value = toNumber(fields[i]);
      if (value !== null) table[name] = value;
    });
    tables[proto] = table;
    headers.delete(proto);
  }
  const ip = tables.Ip ?? {};
  const get = (name: string): number | null => ip[name] ?? null;
  const ipFrag: IpFragCounters = {
    reasmTimeout: get('ReasmTimeout'),
    reasmReqds: get('ReasmReqds'),
    reasmOKs: get('ReasmOKs'),
    reasmFails: get('ReasmFails'),
    fragOKs: get('FragOKs'),
    fragFails: get('FragFails'),
    fragCreates: get('FragCreates'),
  };
  return { ipFrag, tables };
};
