// One backend everywhere: the expected backend (ConfigMap, --backend or inferred), each node's
// backend-type annotation (what its flanneld registered) and the devices on the node. A flannel.N
// VXLAN device under host-gw is a leftover of a migration; none under vxlan means flanneld is broken.
import { findingBuilder, listSome } from './finding.ts';
import { formatLink } from './evidence.ts';
import { forEachProbedNode } from './per-node.ts';
import { comment, ifnameArg, joinShell, nameArg, sh } from './shell-command.ts';
import { flannelPodCommands, netConfOf, nodeViews, vxlanDeviceName } from './topology.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('backend-consistency');

export const backendConsistencyCheck: Check = {
  id: 'backend-consistency',
  title: 'Backend consistency',
  description:
    'The expected backend, each node’s backend-type annotation and the devices on each node agree (no flannel.1 left under host-gw, flannel.1 present under vxlan)',
  needs: [],
  evaluate(facts) {
    const expected = facts.expectedBackend.value;
    if (!expected) return [b.skipped(`the expected backend is unknown: ${facts.expectedBackend.reason}`)];
    const findings: Finding[] = [];
    const views = nodeViews(facts);
    const device = vxlanDeviceName(netConfOf(facts));
    const annotated = views.filter((v) => v.api);
    const types = new Map<string, string[]>();
    for (const v of annotated) {
      const t = v.backendType ?? '(none)';
      types.set(t, [...(types.get(t) ?? []), v.name]);
    }
    if (types.size > 1) {
      findings.push(
        b('mixed-backends', 'warn', {
          message: `Nodes run ${types.size} different backends: flanneld ignores peers of another type ("Ignoring non-${expected} subnet")`,
          evidence: [...types].map(
            ([t, names]) => `backend-type ${t}: ${names.length} nodes (${listSome(names, 3)})`,
          ),
          remediation: sh`kubectl -n ${nameArg(facts.api?.flannel?.namespace ?? 'kube-flannel')} rollout restart ${nameArg(`ds/${facts.api?.flannel?.daemonSet?.name ?? 'kube-flannel-ds'}`)}`,
        }),
      );
    }
    const annotationFindings = new Map<string, Finding>();
    for (const v of annotated) {
      const actual = v.backendType;
      if (actual === expected) continue;
      annotationFindings.set(
        v.name,
        actual === null
          ? b('annotation-missing', 'warn', {
              node: v.name,
              message: `${v.name} has no backend-type annotation: flanneld has not registered there (yet)`,
              evidence: ['annotation flannel.alpha.coreos.com/backend-type absent'],
              remediation: flannelPodCommands(facts, v.name).logs,
            })
          : b('annotation-mismatch', 'fail', {
              node: v.name,
              message: `${v.name} runs backend ${actual}, expected ${expected} (${facts.expectedBackend.reason}): its flanneld has not restarted since the change`,
              evidence: [`annotation flannel.alpha.coreos.com/backend-type: ${actual}`],
              remediation: flannelPodCommands(facts, v.name).restart,
            }),
      );
    }
    const probedFindings = forEachProbedNode(
      facts,
      b,
      (view, nodeFacts) => {
        const out: Finding[] = [];
        const annotation = annotationFindings.get(view.name);
        if (annotation) out.push(annotation);
        annotationFindings.delete(view.name);
        if (!nodeFacts.links) {
          out.push(b.skipped(`links could not be read on ${view.name}`, view.name));
          return out;
        }
        const vxlanLinks = nodeFacts.links.filter(
          (l) => l.kind === 'vxlan' && /^flannel(-v6)?\.\d+$/.test(l.name),
        );
        if (expected !== 'vxlan' && vxlanLinks.length > 0) {
          const names = vxlanLinks.map((l) => l.name);
          out.push(
            b('stale-vxlan-device', 'warn', {
              node: view.name,
              message: `${listSome(names)} still exists on ${view.name} under ${expected}: a leftover of the vxlan backend, with its routes, neighbours and UDP 8472 listener`,
              evidence: vxlanLinks.map(formatLink),
              remediation: sh`${joinShell(
                names.flatMap((n) => {
                  const dev = ifnameArg(n);
                  return dev ? [sh`ip link del ${dev}`] : [];
                }),
                sh` && `,
              )}  # on ${comment(view.name)}, once every node runs ${comment(expected ?? '')}`,
            }),
          );
        }
        if (expected === 'vxlan' && !nodeFacts.links.some((l) => l.name === device && l.kind === 'vxlan')) {
          out.push(
            b('vxlan-device-missing', 'fail', {
              node: view.name,
              message: `${device} is missing on ${view.name} under vxlan: pod traffic to and from other nodes cannot be encapsulated`,
              evidence: [`links: ${nodeFacts.links.map((l) => l.name).join(', ')}`],
              remediation: flannelPodCommands(facts, view.name).restart,
            }),
          );
        }
        if (out.length === 0) {
          out.push(
            b.pass({
              node: view.name,
              message: `${view.name} runs ${expected} with the matching devices`,
              evidence: view.backendType ? [`annotation backend-type: ${view.backendType}`] : [],
            }),
          );
        }
        return out;
      },
      views,
    );
    // Nodes known only to the API still get their annotation verdict.
    return [...findings, ...annotationFindings.values(), ...(facts.nodes.length > 0 ? probedFindings : [])];
  },
};
