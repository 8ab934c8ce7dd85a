// Validation of net-conf.json before it reaches a cluster. Mirrors flanneld's own checks
// (CheckNetworkConfig, which runs only in etcd mode, and the kube subnet manager's lease errors),
// and adds the mistakes flanneld accepts silently (host bits, missing Backend).
// With --kube-subnet-mgr flanneld only parses the file (pkg/subnet/kube/kube.go calls ParseConfig, not
// CheckNetworkConfig of pkg/subnet/config.go): SubnetLen/Min/Max and the network size are then warnings.
// A value that does not parse (SubnetMin "10.244.x.0") fails ParseConfig and stays an error.
import {
  blockSize,
  cidrText,
  isAligned,
  lastAddress,
  parseIp,
  tryParseCidr,
  type Cidr,
  type IpFamily,
} from './cidr.ts';
import { ipv4Enabled, ipv6Enabled, type NetConf } from './net-conf.ts';
import type { Problem } from './problem.ts';
import { validateBackend } from './validate-backend.ts';
import { validateNodeCidrs, type NodePodCidrs } from './validate-node-cidrs.ts';

export type { Problem } from './problem.ts';
export type { NodePodCidrs } from './validate-node-cidrs.ts';

export interface ValidateNetConfOptions {
  /** The cluster's nodes: their podCIDRs are checked against Network and each other. */
  nodes?: readonly NodePodCidrs[];
  /** How many nodes the network must hold when `nodes` is not given (a planned cluster). */
  nodeCount?: number;
  /**
   * 'kube' (default): flanneld runs with --kube-subnet-mgr, as the manifest does; SubnetLen/Min/Max
   * are then ignored. 'etcd': flanneld allocates subnets itself and enforces them.
   */
  subnetManager?: 'kube' | 'etcd';
  /** Name used in Problem.field; default "net-conf.json". */
  source?: string;
}

/**
 * How a rule of CheckNetworkConfig is reported: an error where flanneld enforces it (etcd mode), a
 * warning saying it is ignored with --kube-subnet-mgr.
 */
interface SubnetRules {
  readonly severity: Problem['severity'];
  readonly note: string;
}

const subnetRulesFor = (options: ValidateNetConfOptions): SubnetRules =>
  (options.subnetManager ?? 'kube') === 'etcd'
    ? { severity: 'error', note: '' }
    : {
        severity: 'warning',
        note: '; flanneld ignores this with --kube-subnet-mgr (only etcd mode checks it)',
      };

/** Per-family key names and limits (pkg/subnet/config.go). */
export interface FamilyRules {
  family: IpFamily;
  label: 'IPv4' | 'IPv6';
  network: 'Network' | 'IPv6Network';
  enable: 'EnableIPv4' | 'EnableIPv6';
  subnetLen: 'SubnetLen' | 'IPv6SubnetLen';
  subnetMin: 'SubnetMin' | 'IPv6SubnetMin';
  subnetMax: 'SubnetMax' | 'IPv6SubnetMax';
  /** Longest allowed SubnetLen. */
  maxSubnetLen: number;
  /** Longest Network prefix that still fits four default subnets. */
  maxNetworkPrefix: number;
  /** Networks up to this prefix get defaultSubnetLen; longer ones prefix + 2. */
  defaultThreshold: number;
  defaultSubnetLen: number;
  example: string;
}

export const IPV4_RULES: FamilyRules = {
  family: 'ipv4',
  label: 'IPv4',
  network: 'Network',
  enable: 'EnableIPv4',
  subnetLen: 'SubnetLen',
  subnetMin: 'SubnetMin',
  subnetMax: 'SubnetMax',
  maxSubnetLen: 30,
  maxNetworkPrefix: 28,
  defaultThreshold: 22,
  defaultSubnetLen: 24,
  example: '10.244.0.0/16',
};

export const IPV6_RULES: FamilyRules = {
  family: 'ipv6',
  label: 'IPv6',
  network: 'IPv6Network',
  enable: 'EnableIPv6',
  subnetLen: 'IPv6SubnetLen',
  subnetMin: 'IPv6SubnetMin',
  subnetMax: 'IPv6SubnetMax',
  maxSubnetLen: 126,
  maxNetworkPrefix: 124,
  defaultThreshold: 62,
  defaultSubnetLen: 64,
  example: 'fd00:10:244::/56',
};

/** SubnetLen as flanneld computes it when unset. */
export const effectiveSubnetLen = (conf: NetConf, network: Cidr, rules: FamilyRules): number => {
  const configured = conf[rules.subnetLen];
  if (configured) return configured;
  return network.prefix <= rules.defaultThreshold ? rules.defaultSubnetLen : network.prefix + 2;
};

const KNOWN_KEYS =
  'Network, SubnetLen, SubnetMin, SubnetMax, EnableIPv4, EnableIPv6, IPv6Network, IPv6SubnetLen, IPv6SubnetMin, IPv6SubnetMax, EnableNFTables, Backend';

/** Every problem in `conf`, errors first in field order; an empty list means flanneld will accept it. */
export const validateNetConf = (conf: NetConf, options: ValidateNetConfOptions = {}): Problem[] => {
  const source = options.source ?? 'net-conf.json';
  const field = (name: string): string => `${source}: ${name}`;
  const problems: Problem[] = [];
  if (!ipv4Enabled(conf) && !ipv6Enabled(conf)) {
    problems.push({
      severity: 'error',
      field: field('EnableIPv4'),
      message: 'EnableIPv4 is false and EnableIPv6 is not true: flanneld has no network to manage',
      fix: 'set "EnableIPv6": true with an IPv6Network for an IPv6-only cluster, or remove "EnableIPv4": false',
    });
  }
  const networks = new Map<IpFamily, Cidr>();
  for (const rules of [IPV4_RULES, IPV6_RULES]) {
    const network = validateFamily(conf, rules, options, field, problems);
    if (network) networks.set(rules.family, network);
  }
  problems.push(...validateBackend(conf, source));
  for (const key of Object.keys(conf.extra ?? {})) {
    problems.push({
      severity: 'warning',
      field: field(key),
      message: `unknown key "${key}"; flanneld ignores it`,
      fix: `remove it or fix the spelling (keys: ${KNOWN_KEYS})`,
    });
  }
  if (options.nodes) {
    problems.push(
      ...validateNodeCidrs(conf, options.nodes, networks, {
        source,
        kubeSubnetManager: (options.subnetManager ?? 'kube') === 'kube',
      }),
    );
  }
  return problems.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
};

/** Checks one address family; returns its parsed Network when that is usable for further checks. */
const validateFamily = (
  conf: NetConf,
  rules: FamilyRules,
  options: ValidateNetConfOptions,
  field: (name: string) => string,
  problems: Problem[],
): Cidr | undefined => {
  const enabled = rules.family === 'ipv4' ? ipv4Enabled(conf) : ipv6Enabled(conf);
  const text = conf[rules.network];
  const enableText = rules.family === 'ipv4' ? 'EnableIPv4 is true (the default)' : 'EnableIPv6 is true';
  if (text === undefined) {
    if (enabled) {
      problems.push({
        severity: 'error',
        field: field(rules.network),
        message: `${rules.network} is missing; it is required when ${enableText}`,
        fix: `set "${rules.network}" to the cluster CIDR (kube-controller-manager --cluster-cidr), e.g. "${rules.example}"`,
      });
    }
    return undefined;
  }
  if (!enabled) {
    problems.push({
      severity: 'warning',
      field: field(rules.network),
      message: `${rules.network} is set but ${rules.enable} is ${rules.family === 'ipv4' ? 'false' : 'not true'}, so flanneld ignores it`,
      fix:
        rules.family === 'ipv6'
          ? 'set "EnableIPv6": true for dual stack, or remove IPv6Network'
          : 'remove "EnableIPv4": false, or remove Network',
    });
    return undefined;
  }
  const network = tryParseCidr(text);
  if (!network || network.family !== rules.family) {
    const other = network ? (network.family === 'ipv4' ? 'Network' : 'IPv6Network') : undefined;
    problems.push({
      severity: 'error',
      field: field(rules.network),
      message:
        network && other
          ? `${rules.network} "${text}" is an ${network.family === 'ipv4' ? 'IPv4' : 'IPv6'} CIDR, not ${rules.label}`
          : `${rules.network} "${text}" is not a valid ${rules.label} CIDR (flanneld: invalid ${rules.label} CIDR format)`,
      fix:
        network && other
          ? `put it in ${other}${other === 'IPv6Network' ? ' and set "EnableIPv6": true' : ''}`
          : `write an ${rules.label} CIDR such as "${rules.example}"`,
    });
    return undefined;
  }
  if (network.hostBitsSet) {
    problems.push({
      severity: 'warning',
      field: field(rules.network),
      message: `${rules.network} "${text}" has host bits set; flanneld silently uses ${network.text}`,
      fix: `write "${network.text}"`,
    });
  }
  const enforced = subnetRulesFor(options);
  const subnetLen = validateSubnetLen(conf, network, rules, enforced, field, problems);
  if (subnetLen === undefined) return network;
  const range = validateSubnetRange(conf, network, subnetLen, rules, enforced, field, problems);
  const nodeCount = options.nodes?.length ?? options.nodeCount;
  if (range && nodeCount !== undefined) {
    const capacity = Number((range.last - range.first) / blockSize(subnetLen, network.bits) + 1n);
    if (capacity < nodeCount) {
      const kube = (options.subnetManager ?? 'kube') === 'kube';
      const skipped = conf[rules.subnetMin] === undefined ? ' (the first is skipped)' : '';
      const needed = subnetLen - Math.ceil(Math.log2(nodeCount + 1));
      problems.push({
        severity: kube ? 'warning' : 'error',
        field: field(rules.network),
        message:
          `${rules.network} ${network.text} holds ${capacity} subnets of /${subnetLen}${skipped}, fewer than the ${nodeCount} nodes` +
          (kube
            ? '; with --kube-subnet-mgr the podCIDRs decide, but kube-controller-manager runs out the same way'
            : ''),
        fix:
          needed >= 0
            ? `use a ${rules.network} of /${needed} or shorter, or a longer ${rules.subnetLen}`
            : `use a longer ${rules.subnetLen}`,
      });
    }
  }
  return network;
};

const validateSubnetLen = (
  conf: NetConf,
  network: Cidr,
  rules: FamilyRules,
  enforced: SubnetRules,
  field: (name: string) => string,
  problems: Problem[],
): number | undefined => {
  const configured = conf[rules.subnetLen];
  if (!configured) {
    if (network.prefix > rules.maxNetworkPrefix) {
      problems.push({
        severity: enforced.severity,
        field: field(rules.network),
        message: `${rules.network} ${network.text} is too small: the minimum useful prefix is /${rules.maxNetworkPrefix}${enforced.note}`,
        fix: `use a ${rules.network} of /${rules.maxNetworkPrefix} or shorter, such as ${rules.example}`,
      });
      return undefined;
    }
    return effectiveSubnetLen(conf, network, rules);
  }
  if (configured > rules.maxSubnetLen) {
    problems.push({
      severity: enforced.severity,
      field: field(rules.subnetLen),
      message: `${rules.subnetLen} ${configured} is too long: it must be /${rules.maxSubnetLen} or shorter (flanneld: "${rules.subnetLen} must be less than /${rules.maxSubnetLen + 1}")${enforced.note}`,
      fix: `use ${rules.subnetLen} ${Math.min(rules.defaultSubnetLen, rules.maxSubnetLen)} or another value up to ${rules.maxSubnetLen}`,
    });
    return undefined;
  }
  if (configured < network.prefix + 2) {
    problems.push({
      severity: enforced.severity,
      field: field(rules.subnetLen),
      message: `${rules.subnetLen} ${configured} leaves room for fewer than four subnets in ${network.text}; it must be at least /${network.prefix + 2}${enforced.note}`,
      fix: `use a ${rules.subnetLen} from ${network.prefix + 2} to ${rules.maxSubnetLen}, or a larger ${rules.network}`,
    });
    return undefined;
  }
  return configured;
};

/** Checks SubnetMin/SubnetMax; returns the first and last subnet start when they are usable. */
const validateSubnetRange = (
  conf: NetConf,
  network: Cidr,
  subnetLen: number,
  rules: FamilyRules,
  enforced: SubnetRules,
  field: (name: string) => string,
  problems: Problem[],
): { first: bigint; last: bigint } | undefined => {
  const size = blockSize(subnetLen, network.bits);
  // flanneld's defaults: skip the first subnet (its .0 would look like the network address).
  const defaults = { first: network.base + size, last: lastAddress(network) - size + 1n };
  const bounds: { first: bigint; last: bigint } = { ...defaults };
  let usable = true;
  for (const [key, end] of [
    [rules.subnetMin, 'first'],
    [rules.subnetMax, 'last'],
  ] as const) {
    const text = conf[key];
    if (text === undefined) continue;
    const ip = parseIp(text);
    if (!ip || ip.family !== rules.family) {
      problems.push({
        severity: 'error',
        field: field(key),
        message: `${key} "${text}" is not an ${rules.label} address`,
        fix: `write the first address of a /${subnetLen} subnet inside ${network.text}, e.g. "${cidrText(defaults[end], subnetLen, rules.family).split('/')[0]}"`,
      });
      usable = false;
      continue;
    }
    if (ip.value < network.base || ip.value > lastAddress(network)) {
      problems.push({
        severity: enforced.severity,
        field: field(key),
        message: `${key} ${ip.text} is not inside ${rules.network} ${network.text}${enforced.note}`,
        fix: `use an address inside ${network.text}, or remove ${key} to get ${cidrText(defaults[end], subnetLen, rules.family).split('/')[0]}`,
      });
      usable = false;
      continue;
    }
    if (!isAligned(ip, subnetLen)) {
      const aligned = ip.value - (ip.value % size);
      problems.push({
        severity: enforced.severity,
        field: field(key),
        message: `${key} ${ip.text} is not on a ${rules.subnetLen} boundary (/${subnetLen})${enforced.note}`,
        fix: `use ${cidrText(aligned, subnetLen, rules.family).split('/')[0]}, the start of the /${subnetLen} it falls in`,
      });
      usable = false;
      continue;
    }
    bounds[end] = ip.value;
  }
  if (usable && bounds.first > bounds.last) {
    problems.push({
      severity: enforced.severity,
      field: field(rules.subnetMin),
      message: `${rules.subnetMin} is above ${rules.subnetMax}: there is no subnet to allocate${enforced.note}`,
      fix: `swap ${rules.subnetMin} and ${rules.subnetMax}`,
    });
    return undefined;
  }
  return usable ? bounds : undefined;
};
