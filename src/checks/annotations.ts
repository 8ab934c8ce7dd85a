// The addresses and MACs in flannel's node annotations, as flanneld parses them. Anyone who can annotate
// a node can write any text there, and operators paste our fixes as root: a value that is not what
// flanneld would accept is reported here, and no check builds a command from it (topology.ts drops it).
// flanneld: public-ip via ip.ParseIP4 and public-ipv6 via ip.ParseIP6, a failure drops the node's lease
// ("Error turning node … to lease", pkg/subnet/kube/kube.go nodeToLease); public-ip-overwrite is copied
// verbatim into public-ip (kube.go AcquireLease); node-public-ip replaces --public-ip at start (main.go
// GetStoredPublicIP), an unparsable one makes flanneld exit; VtepMAC goes through net.ParseMAC
// (pkg/backend/vxlan/vxlan.go hardwareAddr.UnmarshalJSON), a failure skips the peer ("error decoding
// subnet lease JSON", vxlan_network.go handleSubnetEvents).
import { parseIp } from '../flannel/cidr.ts';
import { ANNOTATIONS } from '../flannel/names.ts';
import type { ApiNode } from '../facts/cluster-facts.ts';
import { findingBuilder } from './finding.ts';
import { macArg, nameArg, sh, type Shell } from './shell-command.ts';
import { flannelPodCommands } from './topology.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('annotations');

type Family = 'ipv4' | 'ipv6';

const isAddress = (value: string, family: Family): boolean => parseIp(value)?.family === family;

/** VtepMAC of a backend-data JSON text: the MAC text, or why there is none. */
const vtepMacProblem = (text: string): string | null => {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  // host-gw writes `null`; only vxlan's object carries a VtepMAC.
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  const mac = (data as Record<string, unknown>).VtepMAC;
  if (mac === undefined) return null;
  if (typeof mac !== 'string' || !macArg(mac)) return 'has a VtepMAC that is not a MAC address';
  return null;
};

/** `kubectl annotate node N key-`: drop a value an operator (or an attacker) set. */
const removeAnnotation = (node: string, key: string): Shell =>
  sh`kubectl annotate node ${nameArg(node)} ${nameArg(`${key}-`)}`;

interface Rule {
  readonly code: string;
  readonly key: string;
  /** The problem with the value, or null when flanneld accepts it. */
  problem(value: string): string | null;
  readonly effect: string;
  /** Who writes it decides the fix: flanneld rewrites its own at start, others are removed. */
  readonly writtenBy: 'flanneld' | 'operator';
}

const address = (family: Family) => (value: string) =>
  isAddress(value, family) ? null : `is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`;

const RULES: readonly Rule[] = [
  {
    code: 'invalid-public-ip',
    key: ANNOTATIONS.publicIp,
    problem: address('ipv4'),
    effect:
      'flanneld on every peer drops this node ("Error turning node to lease"): no routes lead to its pods',
    writtenBy: 'flanneld',
  },
  {
    code: 'invalid-public-ip-overwrite',
    key: ANNOTATIONS.publicIpOverwrite,
    problem: address('ipv4'),
    effect: 'flanneld copies it into public-ip, so every peer drops this node',
    writtenBy: 'operator',
  },
  {
    code: 'invalid-node-public-ip',
    key: ANNOTATIONS.nodePublicIp,
    problem: address('ipv4'),
    effect: 'flanneld takes it as --public-ip at start and finds no interface for it',
    writtenBy: 'operator',
  },
  {
    code: 'invalid-public-ipv6',
    key: ANNOTATIONS.publicIpv6,
    problem: address('ipv6'),
    effect: 'flanneld on every peer drops this node under dual stack: no IPv6 routes lead to its pods',
    writtenBy: 'flanneld',
  },
  {
    code: 'invalid-vtep-mac',
    key: ANNOTATIONS.backendData,
    problem: vtepMacProblem,
    effect:
      'vxlan peers skip this node ("error decoding subnet lease JSON"): no neighbour or fdb entry for it',
    writtenBy: 'flanneld',
  },
  {
    code: 'invalid-vtep-mac',
    key: ANNOTATIONS.backendV6Data,
    problem: vtepMacProblem,
    effect: 'vxlan peers skip this node for IPv6: no neighbour or fdb entry on flannel-v6',
    writtenBy: 'flanneld',
  },
];

/** The raw annotation text, as the API returned it (null when absent or empty). */
const rawValue = (node: ApiNode, key: string): string | null => {
  const f = node.flannel;
  const byKey: Record<string, string | null> = {
    [ANNOTATIONS.publicIp]: f.publicIp,
    [ANNOTATIONS.publicIpOverwrite]: f.publicIpOverwrite,
    [ANNOTATIONS.nodePublicIp]: f.nodePublicIp,
    [ANNOTATIONS.publicIpv6]: f.publicIpv6,
    [ANNOTATIONS.backendData]: f.backendData,
    [ANNOTATIONS.backendV6Data]: f.backendV6Data,
  };
  const value = byKey[key] ?? null;
  return value === '' ? null : value;
};

export const annotationsCheck: Check = {
  id: 'annotations',
  title: 'Flannel node annotations',
  description:
    'public-ip, public-ip-overwrite, node-public-ip, public-ipv6 hold an address of their family and backend-data’s VtepMAC a MAC, as flanneld parses them; no fix is ever built from a value that fails',
  needs: ['api'],
  evaluate(facts) {
    if (!facts.api) return [b.skipped('no Kubernetes API facts (running from an inventory only)')];
    const findings: Finding[] = [];
    for (const node of facts.api.nodes) {
      for (const rule of RULES) {
        const value = rawValue(node, rule.key);
        const problem = value === null ? null : rule.problem(value);
        if (!problem) continue;
        const fix =
          rule.writtenBy === 'flanneld'
            ? sh`${flannelPodCommands(facts, node.name).restart}  # flanneld rewrites it at start; if public-ip-overwrite is set, fix that first`
            : sh`${removeAnnotation(node.name, rule.key)}  # or set it to an address of the node, then restart its flannel pod`;
        findings.push(
          b(rule.code, 'fail', {
            node: node.name,
            message: `${rule.key} on ${node.name} ${problem}: ${rule.effect}. flannelctl prints no command with this value`,
            // JSON quoting shows the exact text, control characters included, on one line.
            evidence: [`${rule.key} = ${JSON.stringify(value)}`],
            remediation: fix,
          }),
        );
      }
    }
    if (findings.length === 0) {
      findings.push(
        b.pass({
          message: `flannel's address and MAC annotations of ${facts.api.nodes.length} node${facts.api.nodes.length === 1 ? '' : 's'} are valid`,
        }),
      );
    }
    return findings;
  },
};
