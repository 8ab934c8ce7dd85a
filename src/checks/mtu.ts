// MTU along the pod path: uplink MTUs agree across nodes, FLANNEL_MTU follows the backend rule,
// cni0 and pod veths (those enslaved to cni0) match FLANNEL_MTU (pods created before a vxlan→host-gw
// migration keep 1450 until recreated), mtu-probe's path MTU measurements reach the expected size,
// and IP fragmentation/reassembly counters did not grow during the probe.
import type { IpFragCounters } from '../facts/node-facts.ts';
import { formatLink } from './evidence.ts';
import { findingBuilder, listSome } from './finding.ts';
import { forEachProbedNode, sectionReason } from './per-node.ts';
import { expectedMtuFor } from './subnet-env.ts';
import { flannelPodCommands, flannelVxlanDevices, nodeViews, uplinkOf } from './topology.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('mtu');

const FRAG_KEYS: ReadonlyArray<keyof IpFragCounters> = [
  'fragCreates',
  'fragFails',
  'reasmReqds',
  'reasmFails',
];

export const mtuCheck: Check = {
  id: 'mtu',
  title: 'MTU',
  description:
    'Uplink MTUs agree across nodes, FLANNEL_MTU follows the backend rule, cni0 and pod veths match FLANNEL_MTU, path MTU probes reach the expected size, and no IP fragmentation grew',
  needs: ['nodes'],
  evaluate(facts) {
    const views = nodeViews(facts);
    // The most common uplink MTU is the cluster's; nodes below it drop or fragment big packets from peers.
    const uplinkMtus = new Map<string, number>();
    for (const v of views) {
      if (!v.facts) continue;
      const uplink = uplinkOf(v.facts, v.publicIp);
      const mtu = uplink ? v.facts.links?.find((l) => l.name === uplink.name)?.mtu : null;
      if (uplink && mtu) uplinkMtus.set(v.name, mtu);
    }
    const tally = new Map<number, number>();
    for (const m of uplinkMtus.values()) tally.set(m, (tally.get(m) ?? 0) + 1);
    const common = [...tally].sort((x, y) => y[1] - x[1] || y[0] - x[0])[0]?.[0];
    const findings = forEachProbedNode(
      facts,
      b,
      (view, nodeFacts) => {
        if (!nodeFacts.links) return [b.skipped(sectionReason(nodeFacts, 'links', ['link']), view.name)];
        const out: Finding[] = [];
        const uplink = uplinkOf(nodeFacts, view.publicIp);
        const mtu = uplinkMtus.get(view.name);
        if (uplink && mtu !== undefined && common !== undefined && mtu !== common) {
          out.push(
            b('uplink-mismatch', mtu < common ? 'fail' : 'warn', {
              node: view.name,
              message: `${uplink.name} on ${view.name} has MTU ${mtu}, ${tally.get(common)} other nodes use ${common}: ${mtu < common ? 'full-size packets from peers are dropped or fragmented' : 'its pods send packets larger than peers accept'}`,
              evidence: [
                `${uplink.how}, mtu ${mtu}`,
                `cluster: ${[...tally].map(([m, n]) => `${n} nodes at ${m}`).join(', ')}`,
              ],
              remediation: `ip link set dev ${uplink.name} mtu ${common}  # on ${view.name}, and in its network configuration`,
            }),
          );
        }
        const env = nodeFacts.subnetEnv;
        const flannelMtu = env && env !== 'missing' ? env.mtu : null;
        const expected = expectedMtuFor(facts, view, nodeFacts);
        if (expected && flannelMtu !== null && flannelMtu !== expected.value) {
          out.push(
            b('flannel-mtu-mismatch', 'fail', {
              node: view.name,
              message: `FLANNEL_MTU on ${view.name} is ${flannelMtu}, the backend rule gives ${expected.value}`,
              evidence: [`FLANNEL_MTU=${flannelMtu}`, expected.evidence],
              remediation: `${flannelPodCommands(facts, view.name).restart}  # flanneld rewrites subnet.env at start`,
            }),
          );
        }
        // Pods follow FLANNEL_MTU when created; compare against what flannel hands out now.
        const target = flannelMtu ?? expected?.value ?? null;
        if (target !== null) {
          const cni0 = nodeFacts.links.find((l) => l.name === 'cni0');
          if (cni0?.mtu && cni0.mtu !== target) {
            out.push(
              b('cni0-mismatch', 'warn', {
                node: view.name,
                message: `cni0 on ${view.name} has MTU ${cni0.mtu}, FLANNEL_MTU is ${target}: the bridge keeps the MTU it was created with`,
                evidence: [formatLink(cni0), `FLANNEL_MTU=${target}`],
                remediation: `ip link set dev cni0 mtu ${target}  # on ${view.name}; or drain it, ip link del cni0, and uncordon`,
              }),
            );
          }
          const stale = nodeFacts.links.filter(
            (l) => l.master === 'cni0' && l.kind === 'veth' && l.mtu !== null && l.mtu !== target,
          );
          if (stale.length > 0) {
            out.push(
              b('pod-veth-mismatch', 'warn', {
                node: view.name,
                message: `${stale.length} pod interface${stale.length === 1 ? '' : 's'} on ${view.name} still ha${stale.length === 1 ? 's' : 've'} MTU ${listSome([...new Set(stale.map((l) => String(l.mtu)))])}, FLANNEL_MTU is ${target}: pods created before the change keep it until recreated`,
                evidence: stale.map(formatLink),
                remediation: `kubectl drain ${view.name} --ignore-daemonsets --delete-emptydir-data && kubectl uncordon ${view.name}`,
              }),
            );
          }
          for (const dev of flannelVxlanDevices(nodeFacts)) {
            const link = nodeFacts.links.find((l) => l.name === dev)!;
            if (facts.expectedBackend.value === 'vxlan' && link.mtu && link.mtu !== target) {
              out.push(
                b('vxlan-device-mismatch', 'warn', {
                  node: view.name,
                  message: `${dev} on ${view.name} has MTU ${link.mtu}, FLANNEL_MTU is ${target}: flanneld reuses an existing ${dev} without changing its MTU`,
                  evidence: [formatLink(link), `FLANNEL_MTU=${target}`],
                  remediation: `ip link del ${dev} && ${flannelPodCommands(facts, view.name).restart}  # on ${view.name}`,
                }),
              );
            }
          }
        }
        out.push(...fragFindings(facts.mtuProbe?.fragCounters?.[view.name], view.name));
        if (out.length === 0) {
          out.push(
            b.pass({
              node: view.name,
              message: `MTUs on ${view.name} are consistent${target !== null ? ` (FLANNEL_MTU ${target})` : ''}`,
              evidence: [
                ...(uplink && mtu ? [`${uplink.how}, mtu ${mtu}`] : []),
                ...(expected ? [expected.evidence] : []),
              ],
            }),
          );
        }
        return out;
      },
      views,
    );
    for (const r of facts.mtuProbe?.results ?? []) {
      const at = { node: r.node, peer: r.peer, evidence: [...(r.evidence ?? [])] };
      const what = `${r.target === 'pod' ? 'a pod on ' : ''}${r.peer} (${r.address})`;
      if (r.largestPassed === null) {
        findings.push(
          b('path-no-reply', 'fail', {
            ...at,
            message: `No don't-fragment packet from ${r.node} reached ${what}, not even small ones`,
            remediation: `ping -c 3 ${r.address}  # on ${r.node}`,
          }),
        );
      } else if (r.largestPassed < r.expected) {
        findings.push(
          b('path-mtu-too-small', 'fail', {
            ...at,
            message: `The path from ${r.node} to ${what} carries at most ${r.largestPassed} bytes, ${r.expected} expected: larger packets are dropped (a smaller MTU on the way)`,
            evidence: [...at.evidence, `largest passed ${r.largestPassed}, expected ${r.expected}`],
            remediation: `ping -M do -s ${r.expected - 28} -c 3 ${r.address}  # on ${r.node}; then lower FLANNEL_MTU (vxlan Backend.MTU) or raise the path MTU`,
          }),
        );
      } else {
        findings.push(
          b('path-ok', 'pass', {
            ...at,
            message: `The path from ${r.node} to ${what} carries ${r.largestPassed} bytes (expected ${r.expected})`,
          }),
        );
      }
    }
    return findings;
  },
};

const fragFindings = (
  counters: { before: IpFragCounters; after: IpFragCounters } | undefined,
  node: string,
): Finding[] => {
  if (!counters) return [];
  const grew = FRAG_KEYS.map((k) => {
    const before = counters.before[k];
    const after = counters.after[k];
    return { k, delta: before !== null && after !== null ? after - before : 0, before, after };
  }).filter((d) => d.delta > 0);
  if (grew.length === 0) return [];
  const failed = grew.some((d) => d.k === 'fragFails' || d.k === 'reasmFails');
  const label: Record<string, string> = {
    fragCreates: 'FragCreates',
    fragFails: 'FragFails',
    reasmReqds: 'ReasmReqds',
    reasmFails: 'ReasmFails',
  };
  return [
    b(failed ? 'fragmentation-failed' : 'fragmentation', failed ? 'fail' : 'warn', {
      node,
      message: `IP ${failed ? 'fragmentation or reassembly failed' : 'packets were fragmented'} on ${node} during the probe: an MTU is smaller somewhere on the path`,
      evidence: grew.map((d) => `/proc/net/snmp Ip ${label[d.k]}: ${d.before} → ${d.after} (+${d.delta})`),
    }),
  ];
};
