// Node podCIDRs against net-conf.json: with --kube-subnet-mgr each node's subnet is its
// spec.podCIDR(s), and flanneld refuses leases that do not fit (pkg/subnet/kube/kube.go).
import {
  commonSupernet,
  contains,
  overlaps,
  parseIp,
  tryParseCidr,
  type Cidr,
  type IpFamily,
} from './cidr.ts';
import { ipv4Enabled, ipv6Enabled, type NetConf } from './net-conf.ts';
import type { Problem } from './problem.ts';

export interface NodePodCidrs {
  name: string;
  /** spec.podCIDRs (or [spec.podCIDR]); empty when none is assigned. */
  podCIDRs: readonly string[];
}

export interface NodeCidrOptions {
  source: string;
  /** flanneld runs with --kube-subnet-mgr: SubnetLen/Min/Max are ignored. */
  kubeSubnetManager: boolean;
}

const NETWORK_KEY: Record<IpFamily, 'Network' | 'IPv6Network'> = { ipv4: 'Network', ipv6: 'IPv6Network' };

export const validateNodeCidrs = (
  conf: NetConf,
  nodes: readonly NodePodCidrs[],
  networks: ReadonlyMap<IpFamily, Cidr>,
  options: NodeCidrOptions,
): Problem[] => {
  const problems: Problem[] = [];
  const nodeField = (name: string): string => `node ${name}: spec.podCIDRs`;
  const parsed: Array<{ node: string; cidr: Cidr }> = [];
  for (const node of nodes) {
    if (node.podCIDRs.length === 0) {
      problems.push({
        severity: 'error',
        field: nodeField(node.name),
        message: `node "${node.name}" has no podCIDR: flanneld fails with "node \\"${node.name}\\" pod cidr not assigned"`,
        // Network is ConfigMap text: only a CIDR goes into the command; validateNetConf reports others.
        fix: `run kube-controller-manager with --allocate-node-cidrs=true --cluster-cidr=${conf.Network && tryParseCidr(conf.Network) ? conf.Network : '<Network>'}, or set spec.podCIDR on the node before it joins`,
      });
      continue;
    }
    if (node.podCIDRs.length > 2) {
      problems.push({
        severity: 'error',
        field: nodeField(node.name),
        message: `node "${node.name}" has ${node.podCIDRs.length} podCIDRs: flanneld fails with "pod cidrs should be IPv4/IPv6 only or dualstack"`,
        fix: 'give the node one IPv4 and/or one IPv6 podCIDR',
      });
    }
    for (const text of node.podCIDRs) {
      const cidr = tryParseCidr(text);
      if (!cidr) {
        problems.push({
          severity: 'error',
          field: nodeField(node.name),
          message: `node "${node.name}" has podCIDR "${text}", which is not a CIDR`,
          fix: 'fix spec.podCIDR (it is immutable: delete and re-register the node)',
        });
        continue;
      }
      parsed.push({ node: node.name, cidr });
    }
  }
  for (const family of ['ipv4', 'ipv6'] as const) {
    const enabled = family === 'ipv4' ? ipv4Enabled(conf) : ipv6Enabled(conf);
    const network = networks.get(family);
    if (!enabled || !network) continue;
    const outside = parsed.filter((p) => p.cidr.family === family && !contains(network, p.cidr));
    const suggestion = commonSupernet([network, ...outside.map((p) => p.cidr)]);
    for (const { node, cidr } of outside) {
      problems.push({
        severity: 'error',
        field: nodeField(node),
        message: `${NETWORK_KEY[family]} ${network.text} does not contain podCIDR ${cidr.text} of node "${node}": flanneld fails with "subnet \\"${network.text}\\" specified in the flannel net config doesn't contain \\"${cidr.text}\\" PodCIDR of the \\"${node}\\" node"`,
        fix: `set ${NETWORK_KEY[family]} to the cluster CIDR that holds every node's podCIDR (kube-controller-manager --cluster-cidr)${suggestion ? `, e.g. ${suggestion.text}` : ''}`,
      });
    }
  }
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const [a, b] = [parsed[i]!, parsed[j]!];
      if (a.node === b.node || !overlaps(a.cidr, b.cidr)) continue;
      problems.push({
        severity: 'error',
        field: nodeField(b.node),
        message: `podCIDR ${b.cidr.text} of node "${b.node}" overlaps podCIDR ${a.cidr.text} of node "${a.node}": pods on both get the same addresses`,
        fix: 'give each node its own podCIDR (delete and re-register one node so kube-controller-manager assigns a free one)',
      });
    }
  }
  if (options.kubeSubnetManager) problems.push(...ignoredSubnetSettings(conf, parsed, options.source));
  return problems;
};

/** SubnetLen/Min/Max do nothing with --kube-subnet-mgr: warn when they disagree with reality. */
const ignoredSubnetSettings = (
  conf: NetConf,
  parsed: ReadonlyArray<{ node: string; cidr: Cidr }>,
  source: string,
): Problem[] => {
  const problems: Problem[] = [];
  const settings = [
    { family: 'ipv4', len: 'SubnetLen', min: 'SubnetMin', max: 'SubnetMax' },
    { family: 'ipv6', len: 'IPv6SubnetLen', min: 'IPv6SubnetMin', max: 'IPv6SubnetMax' },
  ] as const;
  const why = 'with --kube-subnet-mgr kube-controller-manager assigns podCIDRs (--node-cidr-mask-size)';
  for (const s of settings) {
    const cidrs = parsed.filter((p) => p.cidr.family === s.family);
    const len = conf[s.len];
    const mismatch = len ? cidrs.find((p) => p.cidr.prefix !== len) : undefined;
    if (len && mismatch) {
      problems.push({
        severity: 'warning',
        field: `${source}: ${s.len}`,
        message: `${s.len} ${len} is ignored with --kube-subnet-mgr: node "${mismatch.node}" uses its podCIDR ${mismatch.cidr.text} (/${mismatch.cidr.prefix})`,
        fix: `remove ${s.len} (${why}), or set it to ${mismatch.cidr.prefix} to match`,
      });
    }
    const min = conf[s.min] === undefined ? undefined : parseIp(conf[s.min]!);
    const max = conf[s.max] === undefined ? undefined : parseIp(conf[s.max]!);
    const outside = cidrs.find(
      (p) =>
        (min && min.family === s.family && p.cidr.base < min.value) ||
        (max && max.family === s.family && p.cidr.base > max.value),
    );
    if (outside) {
      problems.push({
        severity: 'warning',
        field: `${source}: ${min && outside.cidr.base < min.value ? s.min : s.max}`,
        message: `${s.min}/${s.max} are ignored with --kube-subnet-mgr: node "${outside.node}" has podCIDR ${outside.cidr.text} outside that range`,
        fix: `remove ${s.min} and ${s.max} (${why})`,
      });
    }
  }
  return problems;
};
