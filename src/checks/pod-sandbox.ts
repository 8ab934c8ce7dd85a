// Flannel's CNI plugin runs under the container runtime when a pod is created, not in flanneld, so its
// errors never reach flanneld's log: kubelet records them as FailedCreatePodSandBox events
// ("Failed to create pod sandbox: rpc error: … plugin type="flannel" failed (add): …"). The plugin's
// own messages (flannel-io/cni-plugin flannel.go cmdAdd; before 2025 "loadFlannelSubnetEnv failed: …"):
//   failed to load flannel 'subnet.env' file: open /run/flannel/subnet.env: no such file or directory.
//   Check the flannel pod log for this node.
// Events outlive their cause (kube-apiserver keeps them an hour by default), so a missing-subnet.env
// event on a node whose subnet.env exists now is history, not a failure.
import { byName, type ClusterFacts, type PodSandboxEvent } from '../facts/cluster-facts.ts';
import { SUBNET_ENV_PATH } from '../flannel/names.ts';
import { findingBuilder, listSome } from './finding.ts';
import { comment, nameArg, sh } from './shell-command.ts';
import { flannelPodCommands } from './topology.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('pod-sandbox');

/** The plugin could not open subnet.env: flanneld has not (yet) written it on that node. */
const SUBNET_ENV_MISSING =
  /(failed to load flannel 'subnet\.env' file|loadFlannelSubnetEnv failed): open \S+: no such file or directory/i;
/** Any other failure of the flannel plugin's ADD (a delegate error, an incomplete subnet.env, …). */
const FLANNEL_PLUGIN_FAILED = /plugin type="flannel"[^:]*failed \(add\)/i;

const MAX_EVIDENCE = 3;

const evidenceOf = (events: readonly PodSandboxEvent[]): string[] => {
  const lines = events
    .slice(0, MAX_EVIDENCE)
    .map(
      (e) =>
        `${e.namespace}/${e.pod}: ${e.count} × FailedCreatePodSandBox${e.lastSeen ? `, last ${e.lastSeen}` : ''}: ${e.message}`,
    );
  if (events.length > MAX_EVIDENCE) lines.push(`(${events.length - MAX_EVIDENCE} more pods)`);
  return lines;
};

/** Newest first, by lastSeen (RFC 3339 text sorts by time). */
const newestFirst = (a: PodSandboxEvent, b: PodSandboxEvent): number =>
  (b.lastSeen ?? '').localeCompare(a.lastSeen ?? '');

const podsOf = (events: readonly PodSandboxEvent[]): string =>
  listSome([...new Set(events.map((e) => `${e.namespace}/${e.pod}`))], 3);

const nodeFindings = (facts: ClusterFacts, node: string, events: PodSandboxEvent[]): Finding[] => {
  const findings: Finding[] = [];
  const missing = events.filter((e) => SUBNET_ENV_MISSING.test(e.message)).sort(newestFirst);
  const other = events
    .filter((e) => !SUBNET_ENV_MISSING.test(e.message) && FLANNEL_PLUGIN_FAILED.test(e.message))
    .sort(newestFirst);
  if (missing.length > 0) {
    const env = facts.nodes.find((n) => n.name === node)?.facts?.subnetEnv;
    const existsNow = env != null && env !== 'missing';
    findings.push(
      b('subnet-env-missing', existsNow ? 'info' : 'fail', {
        node,
        message: existsNow
          ? `Pods on ${node} failed to start earlier because ${SUBNET_ENV_PATH} was missing (${podsOf(missing)}); it exists now`
          : `Pods on ${node} cannot start: flannel's CNI plugin finds no ${SUBNET_ENV_PATH} (${podsOf(missing)}), which flanneld writes once it runs there`,
        evidence: evidenceOf(missing),
        ...(existsNow
          ? {}
          : {
              remediation: sh`${flannelPodCommands(facts, node).logs}  # why flanneld on ${comment(node)} has not written subnet.env`,
            }),
      }),
    );
  }
  if (other.length > 0) {
    findings.push(
      b('flannel-cni-failed', 'warn', {
        node,
        message: `flannel's CNI plugin failed to set up pods on ${node} (${podsOf(other)}); the event says why`,
        evidence: evidenceOf(other),
        remediation: sh`kubectl get events -A --field-selector reason=FailedCreatePodSandBox,source=kubelet | grep -F -- ${nameArg(node)}`,
      }),
    );
  }
  return findings;
};

export const podSandboxCheck: Check = {
  id: 'pod-sandbox',
  title: 'Pod sandbox events',
  description:
    "FailedCreatePodSandBox events kubelet recorded for pods on the nodes: flannel's CNI plugin missing subnet.env, or failing otherwise",
  needs: ['api'],
  evaluate(facts) {
    const events = facts.api?.sandboxEvents;
    if (!facts.api || !events) return [b.skipped('FailedCreatePodSandBox events were not read')];
    const nodes = new Set(facts.api.nodes.map((n) => n.name));
    const byNode = new Map<string, PodSandboxEvent[]>();
    for (const e of events) {
      if (!e.node || !nodes.has(e.node)) continue;
      const list = byNode.get(e.node);
      if (list) list.push(e);
      else byNode.set(e.node, [e]);
    }
    const findings = [...byNode.entries()]
      .sort(([x], [y]) => byName(x, y))
      .flatMap(([node, list]) => nodeFindings(facts, node, list));
    if (findings.length === 0) {
      findings.push(
        b.pass({
          message: `No pod on the ${nodes.size} nodes failed in flannel's CNI plugin (${events.length} FailedCreatePodSandBox events read)`,
        }),
      );
    }
    return findings;
  },
};
