// iproute2 prints some numbers with fixed decimals ("hello_timer":0.00) that JSON.stringify cannot
// reproduce; Raw carries such a token verbatim. Key order is insertion order, as iproute2 prints.

export class Raw {
  constructor(readonly text: string) {}
}

export type JsonValue =
  string | number | boolean | null | Raw | JsonValue[] | { [key: string]: JsonValue | undefined };

/** Compact JSON like iproute2's json_writer; undefined members are left out. */
export const toJson = (value: JsonValue): string => {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v as JsonValue)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

/** `ip -j` prints the array followed by a newline. */
export const jsonLines = (items: readonly JsonValue[]): string => `${toJson([...items])}\n`;
