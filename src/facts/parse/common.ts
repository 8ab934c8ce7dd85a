// Shared pieces of the ip/bridge parsers: JSON-first with a text fallback, and small accessors that
// validate untrusted JSON at the boundary instead of casting it.
import type { Family, Source } from '../node-facts.ts';
import { detach } from '../sections.ts';

export interface Parsed<T> {
  readonly value: T;
  readonly source: Source;
  readonly warnings: readonly string[];
}

export type JsonObject = Readonly<Record<string, unknown>>;

/** The objects of a JSON array, or undefined when the text is not one (old iproute2, BusyBox, bad JSON). */
export const jsonArray = (text: string): JsonObject[] | undefined => {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return Array.isArray(value) ? value.filter(isObject) : undefined;
  } catch {
    return undefined;
  }
};

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const str = (o: JsonObject, key: string): string | null => {
  const v = o[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
};

export const num = (o: JsonObject, key: string): number | null => {
  const v = o[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return typeof v === 'string' ? toNumber(v) : null;
};

export const bool = (o: JsonObject, key: string): boolean | null => {
  const v = o[key];
  return typeof v === 'boolean' ? v : null;
};

// At 1,000 nodes the facts hold ~2M routes and route-get answers: their empty flag lists and their
// few distinct device, protocol, scope and source strings are shared instead of repeated.
const EMPTY: readonly string[] = Object.freeze([]);
const interned = new Map<string, string>();

/** The one copy of a low-cardinality string (device names, protocols, source addresses). */
export const intern = (value: string | null): string | null => {
  if (value === null) return null;
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size >= 10_000) interned.clear();
  interned.set(value, value);
  return value;
};

export const strings = (o: JsonObject, key: string): string[] => {
  const v = o[key];
  if (!Array.isArray(v) || v.length === 0) return EMPTY as string[];
  return v.filter((x): x is string => typeof x === 'string');
};

export const toNumber = (text: string | undefined | null): number | null => {
  if (text === undefined || text === null || !/^-?\d+(\.\d+)?$/.test(text.trim())) return null;
  return Number(text.trim());
};

export const words = (line: string): string[] =>
  line
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');

/** Lines with continuation lines (leading whitespace, e.g. `    cache`, `\tnexthop ...`) joined on. */
export const logicalLines = (text: string): string[] => {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line) && out.length > 0) out[out.length - 1] += ` ${line.trim()}`;
    else out.push(line.trim());
  }
  return out;
};

export const familyOf = (address: string): Family => (address.includes(':') ? 'inet6' : 'inet');

/** iproute2 prints host routes without a prefix length; facts always carry one. */
export const toCidr = (dst: string, family: Family): string =>
  dst === 'default' || dst.includes('/') ? dst : `${dst}/${family === 'inet6' ? 128 : 32}`;

export const firstLine = (text: string): string => text.trim().split('\n')[0]?.trim() ?? '';

/**
 * JSON when the JSON section holds a JSON array, else the text section. Support is detected by
 * parsing: iproute2 4.14-4.16 ignores -j for routes and neighbours (text, exit 0), 4.17-5.2 can print
 * invalid JSON, BusyBox prints its usage.
 */
export const jsonOrText = <T>(
  what: string,
  json: string | undefined,
  text: string | undefined,
  fromJson: (items: JsonObject[]) => Parsed<T>,
  fromText: (text: string) => Parsed<T>,
): Parsed<T> | undefined => {
  if (json !== undefined) {
    const items = jsonArray(json);
    if (items !== undefined) return fromJson(items);
  }
  if (text === undefined) return undefined;
  const parsed = fromText(text);
  const why =
    json === undefined
      ? 'no JSON output was collected'
      : json.trim().startsWith('[')
        ? 'its JSON was invalid (iproute2 4.17-5.2 bug)'
        : `-j printed no JSON (${firstLine(json).slice(0, 80) || 'empty output'})`;
  return { ...parsed, warnings: [detach(`${what}: used the text form because ${why}`), ...parsed.warnings] };
};
