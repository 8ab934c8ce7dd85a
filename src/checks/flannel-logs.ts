// Known failure signatures in each flanneld pod's recent log (flannel-facts §3, §4, §7), each with
// what it means and the fix. The evidence is the matching lines themselves. The CNI plugin's errors
// (a missing subnet.env) are not flanneld's: they are in FailedCreatePodSandBox events (pod-sandbox.ts).
import { findingBuilder } from './finding.ts';
import { nameArg, sh, type Shell } from './shell-command.ts';
import { flannelNamespace } from './topology.ts';
import type { Check, Finding, Severity } from './types.ts';

const b = findingBuilder('flannel-logs');

export interface LogSignature {
  /** Becomes the finding code `flannel-logs/<id>`. */
  readonly id: string;
  readonly pattern: RegExp;
  readonly severity: Severity;
  readonly explanation: string;
  /** `{node}` and `{ns}` are filled in. */
  /** The command, from the node and namespace as validated words; null: nothing to fix. */
  readonly fix: ((at: { readonly node: Shell; readonly ns: Shell }) => Shell) | null;
}

export const LOG_SIGNATURES: readonly LogSignature[] = [
  {
    id: 'route-network-unreachable',
    pattern: /Error adding route .*network is unreachable/i,
    severity: 'fail',
    explanation:
      "a peer's public IP is not on a directly connected network, so the kernel refuses the host-gw route (flanneld retries silently every 10 s)",
    fix: () =>
      sh`flannelctl verify-l2; put the nodes on one L2 segment or use vxlan with "DirectRouting": true`,
  },
  {
    id: 'public-ip-nat',
    pattern: /PublicIP differs from interface IP/i,
    severity: 'fail',
    explanation:
      'the public IP (--public-ip or node-public-ip annotation) is not on the interface: host-gw cannot work behind NAT',
    fix: ({ node }) =>
      sh`kubectl annotate node ${node} flannel.alpha.coreos.com/node-public-ip-  # or use vxlan/wireguard`,
  },
  {
    id: 'br-netfilter-missing',
    pattern: /Failed to check br_netfilter/i,
    severity: 'fail',
    explanation:
      'br_netfilter is not loaded (/proc/sys/net/bridge/bridge-nf-call-iptables is missing), so flanneld exits',
    fix: ({ node }) =>
      sh`modprobe br_netfilter && echo br_netfilter > /etc/modules-load.d/br_netfilter.conf  # on ${node}`,
  },
  {
    id: 'pod-cidr-not-assigned',
    pattern: /pod cidr not assigned/i,
    severity: 'fail',
    explanation: 'the node has no spec.podCIDR, so flanneld cannot acquire a lease',
    fix: () => sh`run kube-controller-manager with --allocate-node-cidrs=true --cluster-cidr=<Network>`,
  },
  {
    id: 'podcidr-outside-network',
    pattern: /doesn't contain .*PodCIDR/i,
    severity: 'fail',
    explanation: "the node's podCIDR is outside net-conf.json Network, so flanneld refuses the lease",
    fix: ({ ns }) =>
      sh`kubectl -n ${ns} edit configmap kube-flannel-cfg  # set Network to the cluster CIDR (--cluster-cidr)`,
  },
  {
    id: 'too-many-podcidrs',
    pattern: /pod cidrs should be IPv4\/IPv6 only or dualstack/i,
    severity: 'fail',
    explanation: 'the node has more than one podCIDR per family',
    fix: () => sh`give the node one IPv4 and/or one IPv6 podCIDR (delete and re-register it)`,
  },
  {
    id: 'mixed-backends',
    pattern: /Ignoring non-host-gw subnet|ignoring non-vxlan/i,
    severity: 'warn',
    explanation:
      'peers run another backend type: flanneld ignores them, so traffic to them rides on leftover routes (a migration in progress)',
    fix: ({ ns }) =>
      sh`kubectl -n ${ns} rollout status ds/kube-flannel-ds  # finish the rollout so every node runs one backend`,
  },
  {
    id: 'unknown-backend',
    pattern: /unknown backend type/i,
    severity: 'fail',
    explanation: 'net-conf.json names a backend flanneld does not know (or no Backend.Type at all)',
    fix: ({ ns }) =>
      sh`kubectl -n ${ns} edit configmap kube-flannel-cfg  # set Backend.Type to host-gw or vxlan`,
  },
  {
    id: 'route-file-exists',
    pattern: /Error adding route .*file exists/i,
    severity: 'warn',
    explanation: 'a conflicting route for a peer subnet already exists (added by hand or by another tool)',
    fix: ({ node }) => sh`ip route show | grep <subnet>  # on ${node}; delete the conflicting route`,
  },
  {
    id: 'route-invalid-argument',
    pattern: /Error adding route .*invalid argument/i,
    severity: 'fail',
    explanation:
      'the kernel rejected a route: usually a subnet not aligned to its prefix (SubnetMin/SubnetLen)',
    fix: () => sh`flannelctl doctor --checks config`,
  },
  {
    id: 'pod-env-missing',
    pattern: /env variables POD_NAME and POD_NAMESPACE must be set/i,
    severity: 'fail',
    explanation:
      'the DaemonSet does not pass POD_NAME/POD_NAMESPACE (or NODE_NAME), so flanneld cannot find its node',
    fix: () => sh`flannelctl install --backend host-gw  # re-render the DaemonSet from the upstream manifest`,
  },
  {
    id: 'lease-failed',
    pattern: /failed to acquire lease/i,
    severity: 'fail',
    explanation: 'flanneld could not get its subnet lease from the API',
    fix: ({ node }) =>
      sh`kubectl get node ${node} -o jsonpath={.spec.podCIDR}; check flannel RBAC (nodes get/list/watch, nodes/status patch)`,
  },
  {
    id: 'route-replaced',
    pattern: /Replacing existing route to/i,
    severity: 'info',
    explanation:
      'host-gw replaced an older route to a peer (normally the vxlan route via flannel.1 after a migration)',
    fix: null,
  },
];

const MAX_EVIDENCE = 3;

export const flannelLogsCheck: Check = {
  id: 'flannel-logs',
  title: 'flanneld logs',
  description:
    'Each flanneld pod’s recent log is matched against known failure signatures, each with an explanation and a fix',
  needs: ['api', 'logs'],
  evaluate(facts) {
    const flannel = facts.api?.flannel;
    if (!facts.api) return [b.skipped('no Kubernetes API facts (running from an inventory only)')];
    if (!flannel || flannel.pods.length === 0) return [b.skipped('no flanneld pods to read logs from')];
    const ns = flannelNamespace(facts);
    // "Ignoring non-host-gw subnet" lines stay in the log after a rollout has finished; they only
    // matter while nodes still disagree on the backend.
    const backends = new Set(facts.api.nodes.map((n) => n.flannel.backendType));
    const settled = backends.size === 1 && !backends.has(null) ? [...backends][0] : undefined;
    const findings: Finding[] = [];
    for (const pod of flannel.pods) {
      const node = pod.node ?? pod.name;
      if (!pod.logLines) {
        findings.push(b.skipped(`logs of ${pod.name} were not gathered`, node));
        continue;
      }
      const before = findings.length;
      for (const sig of LOG_SIGNATURES) {
        const hits = pod.logLines.filter((l) => sig.pattern.test(l));
        if (hits.length === 0) continue;
        const past = sig.id === 'mixed-backends' && settled !== undefined;
        const fix = past || !sig.fix ? null : sig.fix({ node: nameArg(node), ns: nameArg(ns) });
        findings.push(
          b(sig.id, past ? 'info' : sig.severity, {
            node,
            message: `${pod.name} logged ${hits.length} × "${sig.pattern.source
              .replace(/\\/g, '')
              .replace(/\s*\.\*\s*/g, ' … ')
              .replace(/\|/g, '" or "')}": ${
              past ? `seen while a rollout was under way; every node now runs ${settled}` : sig.explanation
            }`,
            evidence: [
              ...hits.slice(-MAX_EVIDENCE),
              ...(hits.length > MAX_EVIDENCE
                ? [`(${hits.length - MAX_EVIDENCE} earlier matching lines)`]
                : []),
            ],
            ...(fix ? { remediation: fix } : {}),
          }),
        );
      }
      if (findings.length === before) {
        findings.push(
          b.pass({
            node,
            message: `No known failure in the last ${pod.logLines.length} log lines of ${pod.name}`,
          }),
        );
      }
    }
    return findings;
  },
};
