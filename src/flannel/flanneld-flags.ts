// Whether a flanneld container runs with --ip-masq, read the way flanneld itself reads it:
// flannel main.go parses os.Args[1:] with Go's standard `flag` package (stops at the first
// non-flag or "--", accepts -name and --name, bool values via strconv.ParseBool, the last one
// wins), then coreos/pkg flagutil.SetFlagsFromEnv sets every flag *not* given on the command line
// from FLANNELD_<NAME> (upper case, dashes to underscores).
import { FLANNEL_CONTAINER_NAME } from './names.ts';

/** A container of a pod spec as JSON from the API: nothing is trusted to have its type. */
export interface ContainerSpecLike {
  readonly name?: unknown;
  readonly command?: unknown;
  readonly args?: unknown;
  readonly env?: unknown;
}

const list = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);

/** strconv.ParseBool; undefined for anything else (flanneld exits with "invalid boolean value"). */
const parseGoBool = (text: string): boolean | undefined =>
  ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)
    ? true
    : ['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)
      ? false
      : undefined;

/**
 * argv[1:] of flanneld: the image's ENTRYPOINT is /opt/bin/flanneld, so with no `command` the args
 * are its arguments; a `command` naming another program (a shell wrapper) hides them: null.
 */
const flanneldArgv = (container: ContainerSpecLike): string[] | null => {
  const command = list(container.command).map(String);
  const args = list(container.args).map(String);
  if (command.length === 0) return args;
  if (!/(^|\/)flanneld$/.test(command[0]!)) return null;
  return [...command.slice(1), ...args];
};

type FlagValue = { set: true; value: boolean | undefined } | { set: false };

/** The last value a bool flag gets on the command line, parsed like Go's flag.FlagSet.Parse. */
const boolFlagFromArgv = (argv: readonly string[], name: string): FlagValue => {
  let result: FlagValue = { set: false };
  for (const arg of argv) {
    if (arg === '--' || !arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const flag = eq === -1 ? body : body.slice(0, eq);
    if (flag !== name) continue;
    result = { set: true, value: eq === -1 ? true : parseGoBool(body.slice(eq + 1)) };
  }
  return result;
};

/** A literal env value of the container; undefined when unset, null when it comes from elsewhere. */
const envValue = (container: ContainerSpecLike, key: string): string | null | undefined => {
  const entry = list(container.env).find(
    (e): e is { name: string; value?: unknown } =>
      typeof e === 'object' && e !== null && (e as { name?: unknown }).name === key,
  );
  if (!entry) return undefined;
  return typeof entry.value === 'string' ? entry.value : 'valueFrom' in entry ? null : '';
};

/**
 * Whether flanneld in this container runs with --ip-masq (default false, main.go). null when the
 * container's command or env hides it (a wrapper script, FLANNELD_IP_MASQ from a ConfigMap/Secret,
 * an unparsable value).
 */
export const flanneldIpMasq = (container: ContainerSpecLike): boolean | null => {
  const argv = flanneldArgv(container);
  if (argv === null) return null;
  const flag = boolFlagFromArgv(argv, 'ip-masq');
  if (flag.set) return flag.value ?? null;
  const env = envValue(container, 'FLANNELD_IP_MASQ');
  // flagutil skips empty values, as if unset.
  if (env === undefined || env === '') return false;
  if (env === null) return null;
  return parseGoBool(env) ?? null;
};

/** The flanneld container of a pod spec: kube-flannel by name, else the first one. */
export const flanneldContainer = (containers: unknown): ContainerSpecLike | undefined => {
  const all = list(containers).filter((c): c is ContainerSpecLike => typeof c === 'object' && c !== null);
  return all.find((c) => c.name === FLANNEL_CONTAINER_NAME) ?? all[0];
};

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
