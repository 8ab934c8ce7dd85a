// Backend option checks: flanneld only type-checks these when the backend starts on each node,
// so a typo there becomes a crash-looping DaemonSet; catch it before anything is applied.
import {
  BACKEND_OPTION_KEYS,
  BACKEND_TYPES,
  ipv6Enabled,
  isBackendType,
  type BackendType,
  type NetConf,
} from './net-conf.ts';
import type { Problem } from './problem.ts';

const REMOVED_BACKENDS = ['aws-vpc', 'gce', 'ali-vpc'];
const WIREGUARD_MODES = ['separate', 'auto', 'ipv4', 'ipv6'];
/** Backends whose options flannelctl does not model: their keys are not "unknown". */
const PASSTHROUGH: readonly string[] = ['alloc', 'extension', 'tencent-vpc'];

type OptionRule =
  | { kind: 'int'; min: number; max: number; zeroMeans?: string }
  | { kind: 'boolean' }
  | { kind: 'string'; pattern?: RegExp; patternText?: string; minLength?: number }
  | { kind: 'enum'; values: readonly string[] };

const PORT: OptionRule = { kind: 'int', min: 1, max: 65535 };
const MTU: OptionRule = { kind: 'int', min: 68, max: 65535, zeroMeans: 'the interface MTU' };
const BOOL: OptionRule = { kind: 'boolean' };

const RULES: Partial<Record<BackendType, Record<string, OptionRule>>> = {
  vxlan: {
    VNI: { kind: 'int', min: 1, max: 16777215 },
    Port: { ...PORT, zeroMeans: 'the kernel default 8472' },
    GBP: BOOL,
    DirectRouting: BOOL,
    MTU,
    Learning: BOOL,
    MacPrefix: {
      kind: 'string',
      pattern: /^[0-9A-Fa-f]{2}-[0-9A-Fa-f]{2}$/,
      patternText: 'two hex bytes like "0E-2A"',
    },
    Name: { kind: 'string' },
  },
  wireguard: {
    ListenPort: PORT,
    ListenPortV6: PORT,
    MTU,
    // A WireGuard pre-shared key: 32 bytes, base64 (`wg genpsk`).
    PSK: {
      kind: 'string',
      pattern: /^[A-Za-z0-9+/]{43}=$/,
      patternText: 'a 32-byte base64 key from `wg genpsk`',
    },
    PersistentKeepaliveInterval: { kind: 'int', min: 0, max: 2147483647 },
    Mode: { kind: 'enum', values: WIREGUARD_MODES },
  },
  udp: { Port: PORT },
  ipip: { DirectRouting: BOOL },
  ipsec: { PSK: { kind: 'string', minLength: 96 }, UDPEncap: BOOL, ESPProposal: { kind: 'string' } },
};

export const validateBackend = (conf: NetConf, source: string): Problem[] => {
  const problems: Problem[] = [];
  const field = (name: string): string => `${source}: ${name}`;
  const backend = conf.Backend;
  if (conf.backendOmitted) {
    problems.push({
      severity: 'warning',
      field: field('Backend'),
      message: 'Backend is missing, so flanneld silently uses the udp backend (the documentation says vxlan)',
      fix: 'set "Backend": {"Type": "host-gw"} (or the backend you mean) explicitly',
    });
  }
  if (backend.Type === '') {
    problems.push({
      severity: 'error',
      field: field('Backend.Type'),
      message: 'Backend.Type is missing: flanneld fails with "unknown backend type: "',
      fix: `set Backend.Type to one of: ${BACKEND_TYPES.join(', ')}`,
    });
    return problems;
  }
  if (!isBackendType(backend.Type)) {
    const removed = REMOVED_BACKENDS.includes(backend.Type);
    problems.push({
      severity: 'error',
      field: field('Backend.Type'),
      message: removed
        ? `backend type "${backend.Type}" was removed in flannel v0.20.0`
        : `unknown backend type "${backend.Type}"; valid types: ${BACKEND_TYPES.join(', ')}`,
      fix: `use one of: ${BACKEND_TYPES.join(', ')} (host-gw when all nodes share one L2 network)`,
    });
    return problems;
  }
  const type = backend.Type;
  const values = backend as unknown as Record<string, unknown>;
  for (const [name, rule] of Object.entries(RULES[type] ?? {})) {
    const value = values[name];
    if (value === undefined) continue;
    const problem = checkOption(`Backend.${name}`, value, rule);
    if (problem) problems.push({ severity: 'error', field: field(`Backend.${name}`), ...problem });
  }
  if (type === 'ipsec' && values.PSK === undefined) {
    problems.push({
      severity: 'error',
      field: field('Backend.PSK'),
      message:
        'the ipsec backend needs a PSK (at least 96 characters); flanneld refuses to start without one',
      fix: 'set Backend.PSK, e.g. from `dd if=/dev/urandom count=48 bs=1 | xxd -p -c 64`',
    });
  }
  if (type === 'ipip' && ipv6Enabled(conf)) {
    problems.push({
      severity: 'warning',
      field: field('Backend.Type'),
      message: 'the ipip backend carries IPv4 only; IPv6 pod traffic gets no route',
      fix: 'use host-gw, vxlan or wireguard for dual stack',
    });
  }
  if (!PASSTHROUGH.includes(type)) {
    const known = BACKEND_OPTION_KEYS[type];
    for (const key of Object.keys(backend.extra ?? {})) {
      problems.push({
        severity: 'warning',
        field: field(`Backend.${key}`),
        message:
          known.length === 0
            ? `${type} has no options; flanneld ignores Backend.${key}`
            : `Backend.${key} is not a ${type} option; flanneld ignores it`,
        fix:
          known.length === 0
            ? `remove "${key}"`
            : `remove it or fix the spelling (${type} options: ${known.join(', ')})`,
      });
    }
  }
  return problems;
};

const checkOption = (
  name: string,
  value: unknown,
  rule: OptionRule,
): Omit<Problem, 'severity' | 'field'> | undefined => {
  const got = JSON.stringify(value);
  switch (rule.kind) {
    case 'boolean':
      return typeof value === 'boolean'
        ? undefined
        : {
            message: `${name} must be true or false, got ${got}`,
            fix: `write ${name.slice(8)}: true or false, unquoted`,
          };
    case 'int': {
      if (rule.zeroMeans && value === 0) return undefined;
      const zero = rule.zeroMeans ? ` (0 or unset means ${rule.zeroMeans})` : '';
      const range = `${rule.min}..${rule.max}`;
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return {
          message: `${name} must be an integer in ${range}, got ${got}`,
          fix: `write a number in ${range}, unquoted${zero}`,
        };
      }
      if (value < rule.min || value > rule.max) {
        return {
          message: `${name} ${value} is out of range ${range}`,
          fix: `use a value in ${range}${zero}`,
        };
      }
      return undefined;
    }
    case 'enum':
      return typeof value === 'string' && rule.values.includes(value)
        ? undefined
        : {
            message: `${name} must be one of ${rule.values.join(', ')}, got ${got}`,
            fix: `use one of ${rule.values.join(', ')}`,
          };
    case 'string':
      if (typeof value !== 'string') {
        return { message: `${name} must be a string, got ${got}`, fix: `quote the value of ${name}` };
      }
      if (rule.minLength !== undefined && value.length < rule.minLength) {
        return {
          message: `${name} is ${value.length} characters long; it must be at least ${rule.minLength}`,
          fix: `use a key of at least ${rule.minLength} characters`,
        };
      }
      if (rule.pattern && !rule.pattern.test(value)) {
        return { message: `${name} ${got} is not ${rule.patternText}`, fix: `use ${rule.patternText}` };
      }
      return undefined;
  }
};
