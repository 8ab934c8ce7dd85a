// net-conf.json as flanneld reads it: valid, an explicit Backend.Type, and a Network that holds
// every node's podCIDR with no two podCIDRs overlapping (flanneld's lease errors, caught up front).
import { contains, lastAddress, tryParseCidr, type Cidr } from '../flannel/cidr.ts';
import { validateNetConf } from '../flannel/validate-net-conf.ts';
import { findingBuilder } from './finding.ts';
import { cidrArg, comment, nameArg, sh } from './shell-command.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('config');

export const configCheck: Check = {
  id: 'config',
  title: 'net-conf.json',
  description:
    'net-conf.json parses and validates, Backend.Type is explicit, and every node podCIDR lies inside Network without overlapping another',
  needs: ['api', 'flannel'],
  evaluate(facts) {
    const flannel = facts.api?.flannel;
    if (!facts.api) return [b.skipped('no Kubernetes API facts (running from an inventory only)')];
    if (!flannel) return [b.skipped('flannel is not installed (no DaemonSet or ConfigMap found)')];
    const cm = `${flannel.namespace}/${flannel.configMapName}`;
    if (!flannel.configMapFound) {
      return [
        b('configmap-missing', 'fail', {
          message: `ConfigMap ${cm} does not exist: flanneld pods cannot start without net-conf.json`,
          remediation: sh`flannelctl install --backend host-gw`,
        }),
      ];
    }
    const conf = flannel.netConf;
    if (!conf) {
      return [
        b('net-conf-invalid', 'fail', {
          message: `net-conf.json in ConfigMap ${cm} is unusable: ${flannel.netConfError ?? 'unknown error'}`,
          evidence: flannel.netConfText ? flannel.netConfText.trimEnd().split('\n') : [],
          remediation: sh`kubectl -n ${nameArg(flannel.namespace)} edit configmap ${nameArg(flannel.configMapName)}`,
        }),
      ];
    }
    const findings: Finding[] = [];
    const edit = sh`kubectl -n ${nameArg(flannel.namespace)} edit configmap ${nameArg(flannel.configMapName)}`;
    if (conf.backendOmitted) {
      findings.push(
        b('backend-implicit', 'fail', {
          message: `net-conf.json in ConfigMap ${cm} has no Backend, so flanneld silently runs the udp backend`,
          evidence: [flannel.netConfText?.replace(/\s+/g, ' ').trim() ?? ''],
          remediation: sh`${edit}  # set "Backend": {"Type": "${comment((facts.expectedBackend.source === 'flag' ? facts.expectedBackend.value : null) ?? 'host-gw')}"}`,
        }),
      );
    }
    for (const problem of validateNetConf(conf, { source: `ConfigMap ${cm} net-conf.json` })) {
      if (conf.backendOmitted && /: Backend$/.test(problem.field)) continue;
      const typeMissing = /: Backend\.Type$/.test(problem.field) && conf.Backend.Type === '';
      findings.push(
        b(
          typeMissing
            ? 'backend-implicit'
            : problem.severity === 'error'
              ? 'net-conf-invalid'
              : 'net-conf-warning',
          problem.severity === 'error' ? 'fail' : 'warn',
          {
            message: problem.message,
            evidence: [problem.field],
            remediation: sh`${edit}  # ${comment(problem.fix)}`,
          },
        ),
      );
    }
    findings.push(...podCidrFindings(facts.api.nodes, conf.Network));
    if (findings.length === 0) {
      findings.push(
        b.pass({
          message: `net-conf.json is valid: Network ${conf.Network ?? '(none)'}, Backend ${conf.Backend.Type}`,
          evidence: [flannel.netConfText?.replace(/\s+/g, ' ').trim() ?? ''],
        }),
      );
    }
    return findings;
  },
};

const podCidrFindings = (
  nodes: readonly { name: string; podCIDRs: readonly string[] }[],
  networkText: string | undefined,
): Finding[] => {
  const findings: Finding[] = [];
  const network = networkText ? tryParseCidr(networkText) : undefined;
  const parsed: { node: string; cidr: Cidr }[] = [];
  for (const node of nodes) {
    if (node.podCIDRs.length === 0) {
      findings.push(
        b('podcidr-missing', 'fail', {
          node: node.name,
          message: `${node.name} has no podCIDR: flanneld fails there with "pod cidr not assigned"`,
          evidence: [`node ${node.name}: spec.podCIDRs []`],
          remediation: sh`run kube-controller-manager with --allocate-node-cidrs=true --cluster-cidr=${cidrArg(network?.text) ?? sh`<Network>`}`,
        }),
      );
      continue;
    }
    for (const text of node.podCIDRs) {
      const cidr = tryParseCidr(text);
      if (!cidr || cidr.family !== 'ipv4') continue;
      parsed.push({ node: node.name, cidr });
      if (network && !contains(network, cidr)) {
        findings.push(
          b('podcidr-outside-network', 'fail', {
            node: node.name,
            message: `podCIDR ${cidr.text} of ${node.name} is outside Network ${network.text}: flanneld fails with "doesn't contain … PodCIDR"`,
            evidence: [
              `node ${node.name}: spec.podCIDR ${cidr.text}`,
              `net-conf.json Network ${network.text}`,
            ],
            remediation: sh`set Network to the cluster CIDR (kube-controller-manager --cluster-cidr)`,
          }),
        );
      }
    }
  }
  // Sort by start address and sweep: overlaps are found in O(n log n), not by comparing every pair.
  parsed.sort((x, y) => (x.cidr.base < y.cidr.base ? -1 : x.cidr.base > y.cidr.base ? 1 : 0));
  let widest: { node: string; cidr: Cidr } | undefined;
  for (const entry of parsed) {
    if (widest && entry.cidr.base <= lastAddress(widest.cidr) && entry.node !== widest.node) {
      findings.push(
        b('podcidr-overlap', 'fail', {
          node: entry.node,
          peer: widest.node,
          message: `podCIDR ${entry.cidr.text} of ${entry.node} overlaps podCIDR ${widest.cidr.text} of ${widest.node}`,
          evidence: [
            `node ${widest.node}: spec.podCIDR ${widest.cidr.text}`,
            `node ${entry.node}: spec.podCIDR ${entry.cidr.text}`,
          ],
          remediation: sh`delete and re-register ${nameArg(entry.node)} so kube-controller-manager assigns a free podCIDR`,
        }),
      );
    }
    if (!widest || lastAddress(entry.cidr) > lastAddress(widest.cidr)) widest = entry;
  }
  return findings;
};
