// The net-conf.json model, parsed the way flanneld does (pkg/subnet/config.go ParseConfig):
// keys match case-insensitively, unknown keys are ignored by flanneld (we keep them for round
// trips), a missing Backend means udp, and the backend type is lower-cased.
import { UsageError } from '../errors.ts';
import { isPlainObject, parseJsonText } from './json-text.ts';

/** Backend types flanneld registers (pkg/backend/manager.go); aws-vpc, gce, ali-vpc were removed in v0.20.0. */
export const BACKEND_TYPES = [
  'vxlan',
  'host-gw',
  'udp',
  'ipip',
  'ipsec',
  'wireguard',
  'alloc',
  'extension',
  'tencent-vpc',
] as const;
export type BackendType = (typeof BACKEND_TYPES)[number];

interface BackendCommon {
  /** Keys flanneld does not know for this backend, as written, kept for round trips. */
  extra?: Record<string, unknown>;
}

// Option fields hold the values as written: flanneld only type-checks them when the backend
// starts, so parseNetConf does not either; validateNetConf reports wrong types and ranges.
export interface VxlanBackend extends BackendCommon {
  Type: 'vxlan';
  /** Default 1; the device is flannel.<VNI>. */
  VNI?: number;
  /** UDP port; 0 = kernel default 8472. */
  Port?: number;
  GBP?: boolean;
  /** Plain routes to peers on the same L2, vxlan to the others. */
  DirectRouting?: boolean;
  /** Desired MTU of outgoing packets; flannel.1 gets MTU − 50. Default: the interface MTU. */
  MTU?: number;
  Learning?: boolean;
  /** Windows only, "xx-xx". */
  MacPrefix?: string;
  /** Windows only. */
  Name?: string;
}
export interface HostGwBackend extends BackendCommon {
  Type: 'host-gw';
}
export interface WireguardBackend extends BackendCommon {
  Type: 'wireguard';
  ListenPort?: number;
  ListenPortV6?: number;
  MTU?: number;
  PSK?: string;
  /** Seconds; 0 disables keepalives. */
  PersistentKeepaliveInterval?: number;
  /** separate (default) | auto | ipv4 | ipv6 */
  Mode?: string;
}
export interface UdpBackend extends BackendCommon {
  Type: 'udp';
  Port?: number;
}
export interface IpipBackend extends BackendCommon {
  Type: 'ipip';
  DirectRouting?: boolean;
}
export interface IpsecBackend extends BackendCommon {
  Type: 'ipsec';
  PSK?: string;
  UDPEncap?: boolean;
  ESPProposal?: string;
}
/** Backends whose options flannelctl passes through untouched (in `extra`). */
export interface PassthroughBackend extends BackendCommon {
  Type: 'alloc' | 'extension' | 'tencent-vpc';
}
export type Backend =
  | VxlanBackend
  | HostGwBackend
  | WireguardBackend
  | UdpBackend
  | IpipBackend
  | IpsecBackend
  | PassthroughBackend;

/** A type flanneld does not know ("" for `Backend: {}`): it refuses to start. Options are in `extra`. */
export interface UnknownBackend extends BackendCommon {
  Type: string;
}
export type AnyBackend = Backend | UnknownBackend;

/** Known option keys per backend, in the order serializeNetConf writes them. */
export const BACKEND_OPTION_KEYS: Readonly<Record<BackendType, readonly string[]>> = {
  vxlan: ['VNI', 'Port', 'GBP', 'DirectRouting', 'MTU', 'Learning', 'MacPrefix', 'Name'],
  'host-gw': [],
  udp: ['Port'],
  ipip: ['DirectRouting'],
  ipsec: ['PSK', 'UDPEncap', 'ESPProposal'],
  wireguard: ['ListenPort', 'ListenPortV6', 'MTU', 'PSK', 'PersistentKeepaliveInterval', 'Mode'],
  alloc: [],
  extension: [],
  'tencent-vpc': [],
};

export interface NetConf {
  /** IPv4 pod network; required when IPv4 is enabled. */
  Network?: string;
  /** Ignored with --kube-subnet-mgr (node.spec.podCIDR decides). */
  SubnetLen?: number;
  SubnetMin?: string;
  SubnetMax?: string;
  /** Default true (see ipv4Enabled). */
  EnableIPv4?: boolean;
  /** Default false. */
  EnableIPv6?: boolean;
  IPv6Network?: string;
  IPv6SubnetLen?: number;
  IPv6SubnetMin?: string;
  IPv6SubnetMax?: string;
  /** Experimental; default false (iptables). */
  EnableNFTables?: boolean;
  /** Always set: when the text had none, the effective `{Type: "udp"}` with backendOmitted. */
  Backend: AnyBackend;
  /** The text had no Backend, so flanneld silently uses udp (the docs claim vxlan). */
  backendOmitted?: boolean;
  /** Top-level keys flanneld ignores, as written, kept for round trips. */
  extra?: Record<string, unknown>;
}

type FieldKind = 'string' | 'boolean' | 'uint';
/** Top-level keys in the order serializeNetConf writes them (Network first, Backend last, like upstream). */
const TOP_LEVEL_FIELDS: ReadonlyArray<readonly [keyof NetConf & string, FieldKind]> = [
  ['Network', 'string'],
  ['SubnetLen', 'uint'],
  ['SubnetMin', 'string'],
  ['SubnetMax', 'string'],
  ['EnableIPv4', 'boolean'],
  ['EnableIPv6', 'boolean'],
  ['IPv6Network', 'string'],
  ['IPv6SubnetLen', 'uint'],
  ['IPv6SubnetMin', 'string'],
  ['IPv6SubnetMax', 'string'],
  ['EnableNFTables', 'boolean'],
];

const KIND_TEXT: Record<FieldKind, string> = {
  string: 'a string',
  boolean: 'true or false',
  uint: 'a non-negative integer',
};

const matchesKind = (value: unknown, kind: FieldKind): boolean =>
  kind === 'uint' ? Number.isInteger(value) && (value as number) >= 0 : typeof value === kind;

/** Finds the canonical spelling of `key` among `names`, ignoring case like Go's encoding/json. */
const canonicalKey = (key: string, names: readonly string[]): string | undefined =>
  names.find((name) => name.toLowerCase() === key.toLowerCase());

/**
 * Parses net-conf.json text as flanneld does. Throws a UsageError naming `source` for invalid
 * JSON and for top-level values of the wrong type (flanneld fails to start on those too).
 */
export const parseNetConf = (text: string, source = 'net-conf.json'): NetConf => {
  const raw = parseJsonText(text, source);
  if (!isPlainObject(raw)) {
    throw new UsageError(`${source}: expected a JSON object, got ${describeJson(raw)}`);
  }
  const conf: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  let backendRaw: unknown;
  let backendSeen = false;
  const names = TOP_LEVEL_FIELDS.map(([name]) => name);
  for (const [key, value] of Object.entries(raw)) {
    if (key.toLowerCase() === 'backend') {
      backendSeen = true;
      backendRaw = value;
      continue;
    }
    const name = canonicalKey(key, names);
    if (!name) {
      extra[key] = value;
      continue;
    }
    // Go leaves a field untouched when the JSON value is null.
    if (value === null) {
      delete conf[name];
      continue;
    }
    const kind = TOP_LEVEL_FIELDS.find(([n]) => n === name)![1];
    if (!matchesKind(value, kind)) {
      throw new UsageError(`${source}: ${name} must be ${KIND_TEXT[kind]}, got ${JSON.stringify(value)}`);
    }
    conf[name] = value;
  }
  const result = conf as unknown as NetConf;
  if (backendSeen) {
    result.Backend = parseBackend(backendRaw, source);
  } else {
    result.Backend = { Type: 'udp' };
    result.backendOmitted = true;
  }
  if (Object.keys(extra).length > 0) result.extra = extra;
  return result;
};

const parseBackend = (raw: unknown, source: string): AnyBackend => {
  // `"Backend": null` reaches flanneld as the raw text "null": no Type, so "".
  if (raw === null) return { Type: '' };
  if (!isPlainObject(raw)) {
    throw new UsageError(
      `${source}: Backend must be an object such as {"Type": "host-gw"}, got ${describeJson(raw)}`,
    );
  }
  let type = '';
  const options: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key.toLowerCase() !== 'type') {
      options.push([key, value]);
      continue;
    }
    if (value === null) continue;
    if (typeof value !== 'string') {
      throw new UsageError(`${source}: Backend.Type must be a string, got ${JSON.stringify(value)}`);
    }
    type = value.toLowerCase();
  }
  const known = isBackendType(type) ? BACKEND_OPTION_KEYS[type] : [];
  const backend: Record<string, unknown> = { Type: type };
  const extra: Record<string, unknown> = {};
  for (const [key, value] of options) {
    const name = canonicalKey(key, known);
    if (name) backend[name] = value;
    else extra[key] = value;
  }
  if (Object.keys(extra).length > 0) backend.extra = extra;
  return backend as unknown as AnyBackend;
};

const describeJson = (value: unknown): string =>
  Array.isArray(value) ? 'an array' : value === null ? 'null' : `${typeof value} ${JSON.stringify(value)}`;

export const isBackendType = (type: string): type is BackendType =>
  (BACKEND_TYPES as readonly string[]).includes(type);

/** Narrows a parsed backend to the typed union, so `switch (b.Type)` exposes its options. */
export const isKnownBackend = (backend: AnyBackend): backend is Backend => isBackendType(backend.Type);

/**
 * net-conf.json text: 2-space indent, upstream key order (Network … EnableNFTables, Backend with
 * Type first), unknown keys last, a trailing newline, and always an explicit Backend.Type.
 */
export const serializeNetConf = (conf: NetConf): string => {
  const out: Record<string, unknown> = {};
  for (const [name] of TOP_LEVEL_FIELDS) {
    if (conf[name] !== undefined) out[name] = conf[name];
  }
  out.Backend = backendJson(conf.Backend);
  Object.assign(out, conf.extra);
  return `${JSON.stringify(out, null, 2)}\n`;
};

const backendJson = (backend: AnyBackend): Record<string, unknown> => {
  const out: Record<string, unknown> = { Type: backend.Type };
  const keys = isKnownBackend(backend) ? BACKEND_OPTION_KEYS[backend.Type] : [];
  const values = backend as unknown as Record<string, unknown>;
  for (const key of keys) {
    if (values[key] !== undefined) out[key] = values[key];
  }
  Object.assign(out, backend.extra);
  return out;
};

/** The type flanneld runs: "udp" when Backend was omitted, "" when Backend.Type was. */
export const backendType = (conf: NetConf): string => conf.Backend.Type;

/** A copy of `conf` with another backend (now explicit). */
export const withBackend = (conf: NetConf, backend: AnyBackend): NetConf => {
  const { backendOmitted: _omitted, ...rest } = conf;
  return { ...rest, Backend: backend };
};

export const ipv4Enabled = (conf: NetConf): boolean => conf.EnableIPv4 !== false;
export const ipv6Enabled = (conf: NetConf): boolean => conf.EnableIPv6 === true;
