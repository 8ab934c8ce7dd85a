// The flanneld flags that choose its external interface and address, read from the DaemonSet's
// container the way flanneld reads them (main.go): Go's flag package (`-f v`, `--f=v`, repeatable
// --iface/--iface-regex), then FLANNELD_<FLAG> environment variables for flags not given on the command
// line (github.com/coreos/pkg/flagutil SetFlagsFromEnv). Values are kept as text: nothing here runs.

export interface FlanneldInterfaceFlags {
  /** --iface, in order (each an interface name or an IPv4 address). */
  readonly iface: readonly string[];
  /** --iface-regex, in order. */
  readonly ifaceRegex: readonly string[];
  readonly ifaceCanReach: string | null;
  readonly publicIp: string | null;
}

const NAMES = ['iface', 'iface-regex', 'iface-can-reach', 'public-ip'] as const;
type Name = (typeof NAMES)[number];

const envName = (flag: Name): string => `FLANNELD_${flag.toUpperCase().replace(/-/g, '_')}`;

/** Literal env values of the container (valueFrom cannot be resolved from the template). */
const literalEnv = (env: unknown): Map<string, string> => {
  const out = new Map<string, string>();
  if (!Array.isArray(env)) return out;
  for (const e of env as unknown[]) {
    if (typeof e !== 'object' || e === null) continue;
    const { name, value } = e as { name?: unknown; value?: unknown };
    if (typeof name === 'string' && typeof value === 'string') out.set(name, value);
  }
  return out;
};

/** Parses flanneld's interface flags from its argv (command + args) and env. */
export const flanneldInterfaceFlags = (argv: readonly string[], env?: unknown): FlanneldInterfaceFlags => {
  const values = new Map<Name, string[]>(NAMES.map((n) => [n, []]));
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z-]+)(?:=(.*))?$/s.exec(argv[i]!);
    if (!m || !(NAMES as readonly string[]).includes(m[1]!)) continue;
    const value = m[2] ?? argv[++i];
    if (value !== undefined) values.get(m[1] as Name)!.push(value);
  }
  const vars = literalEnv(env);
  for (const name of NAMES) {
    const fromEnv = vars.get(envName(name));
    if (values.get(name)!.length === 0 && fromEnv) values.get(name)!.push(fromEnv);
  }
  // A string flag given twice keeps the last value, as Go's flag package does.
  const last = (name: Name): string | null => values.get(name)!.at(-1) ?? null;
  return {
    iface: values.get('iface')!,
    ifaceRegex: values.get('iface-regex')!,
    ifaceCanReach: last('iface-can-reach'),
    publicIp: last('public-ip'),
  };
};
