// MTU along the pod path: uplink MTUs agree across nodes, FLANNEL_MTU follows the backend rule,
// pod veths (those enslaved to cni0) match FLANNEL_MTU (pods created before a vxlan→host-gw
// migration keep 1450 until recreated), cni0 follows its ports as the kernel keeps it (never pinned
// by hand, see bridge-mtu.ts), mtu-probe's path MTU measurements reach the expected size, and IP
// fragmentation/reassembly counters did not grow during the probe.
import type { IpFragCounters, NodeFacts } from '../facts/node-facts.ts';
import {
  BRIDGE,
  bridgeMtu,
  bridgePorts,
  findPodsCommand,
  formatPort,
  mixedMtuEffect,
  podIps,
} from './bridge-mtu.ts';
import { formatLink } from './evidence.ts';
import { findingBuilder, listSome } from './finding.ts';
import { forEachProbedNode, sectionReason } from './per-node.ts';
import { comment, ifnameArg, ipArg, nameArg, quoted, sh, type Shell } from './shell-command.ts';
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
    'Uplink MTUs agree across nodes, FLANNEL_MTU follows the backend rule, pod veths match FLANNEL_MTU, cni0 follows its ports (not pinned by hand), path MTU probes reach the expected size, and no IP fragmentation grew',
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
              remediation: ifnameArg(uplink.name)
                ? sh`ip link set dev ${ifnameArg(uplink.name)!} mtu ${common}  # on ${comment(view.name)}, and in its network configuration`
                : undefined,
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
              remediation: sh`${flannelPodCommands(facts, view.name).restart}  # flanneld rewrites subnet.env at start`,
            }),
          );
        }
        // Pods follow FLANNEL_MTU when created; compare against what flannel hands out now.
        const target = flannelMtu ?? expected?.value ?? null;
        if (target !== null) {
          out.push(...bridgeFindings(nodeFacts, view.name, target));
          for (const dev of flannelVxlanDevices(nodeFacts)) {
            const link = nodeFacts.links.find((l) => l.name === dev)!;
            if (facts.expectedBackend.value === 'vxlan' && link.mtu && link.mtu !== target) {
              out.push(
                b('vxlan-device-mismatch', 'warn', {
                  node: view.name,
                  message: `${dev} on ${view.name} has MTU ${link.mtu}, FLANNEL_MTU is ${target}: flanneld reuses an existing ${dev} without changing its MTU`,
                  evidence: [formatLink(link), `FLANNEL_MTU=${target}`],
                  remediation: ifnameArg(dev)
                    ? sh`ip link del ${ifnameArg(dev)!} && ${flannelPodCommands(facts, view.name).restart}  # on ${comment(view.name)}`
                    : undefined,
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
            remediation: ipArg(r.address)
              ? sh`ping -c 3 ${ipArg(r.address)!}  # on ${comment(r.node)}`
              : undefined,
          }),
        );
      } else if (r.largestPassed < r.expected) {
        findings.push(
          b('path-mtu-too-small', 'fail', {
            ...at,
            message: `The path from ${r.node} to ${what} carries at most ${r.largestPassed} bytes, ${r.expected} expected: larger packets are dropped (a smaller MTU on the way)`,
            evidence: [...at.evidence, `largest passed ${r.largestPassed}, expected ${r.expected}`],
            remediation: ipArg(r.address)
              ? sh`ping -M do -s ${r.expected - 28} -c 3 ${ipArg(r.address)!}  # on ${comment(r.node)}; then lower FLANNEL_MTU (vxlan Backend.MTU) or raise the path MTU`
              : undefined,
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

/** Pods still at an old MTU, and cni0's MTU judged the way the kernel sets it (bridge-mtu.ts). */
const bridgeFindings = (facts: NodeFacts, node: string, target: number): Finding[] => {
  const out: Finding[] = [];
  const ports = bridgePorts(facts).filter((p) => p.link.kind === 'veth' || p.link.kind === null);
  const stale = ports.filter((p) => p.link.mtu !== null && p.link.mtu !== target);
  const name = nameArg(node);
  const recreate = (list: typeof stale): Shell => {
    const ips = podIps(list);
    const drain = sh`kubectl drain ${name} --ignore-daemonsets --delete-emptydir-data && kubectl uncordon ${name}`;
    return ips.length === list.length
      ? sh`${findPodsCommand(node, ips)}  # then delete each pod (or rollout restart its owner); or: ${drain}`
      : drain;
  };
  if (stale.length > 0) {
    const mtus = [...new Set(stale.map((p) => p.link.mtu!))];
    const smaller = Math.min(target, ...mtus);
    out.push(
      b('pod-veth-mismatch', 'warn', {
        node,
        message: `${stale.length} pod interface${stale.length === 1 ? '' : 's'} on ${node} still ha${stale.length === 1 ? 's' : 've'} MTU ${listSome(mtus.map(String))}, FLANNEL_MTU is ${target}: pods created before the change keep it until recreated. ${mixedMtuEffect(smaller)}`,
        evidence: stale.map(formatPort),
        remediation: recreate(stale),
      }),
    );
  }
  const state = bridgeMtu(facts);
  if (state.kind === 'follows-ports' && state.min !== target) {
    const smallest = state.ports.filter((p) => p.link.mtu === state.min);
    out.push(
      b('cni0-follows-old-pods', 'info', {
        node,
        message: `${BRIDGE} on ${node} has MTU ${state.bridge.mtu}, FLANNEL_MTU is ${target}: expected, a bridge takes the smallest MTU of its ports and ${smallest.length} pod${smallest.length === 1 ? ' is' : 's are'} still at ${state.min}; it changes by itself when ${smallest.length === 1 ? 'it is' : 'they are'} recreated. Do not set ${BRIDGE}'s MTU by hand: that pins it${state.min < target ? `, and packets from other nodes above ${state.min} bytes to those pods would then be dropped silently instead of answered with ICMP "fragmentation needed"` : ''}`,
        evidence: [
          `${BRIDGE} mtu ${state.bridge.mtu} (smallest port ${state.min})`,
          ...smallest.map(formatPort),
        ],
        remediation: recreate(smallest),
      }),
    );
  } else if (state.kind === 'pinned') {
    const low = state.ports.filter((p) => p.link.mtu !== null && p.link.mtu < state.bridge.mtu!);
    out.push(
      b('cni0-pinned', 'warn', {
        node,
        message:
          state.direction === 'above-min'
            ? `${BRIDGE} on ${node} has MTU ${state.bridge.mtu} above its smallest port (${state.min}): its MTU was set by hand and no longer follows its ports. Packets from other nodes above ${state.min} bytes to the ${low.length} pod${low.length === 1 ? '' : 's'} at a smaller MTU are dropped silently at the bridge instead of answered with ICMP "fragmentation needed"`
            : `${BRIDGE} on ${node} has MTU ${state.bridge.mtu} below every port (smallest ${state.min}): its MTU was set by hand and no longer follows its ports, so every pod on ${node} receives at most ${state.bridge.mtu} bytes per packet from other nodes`,
        evidence: [
          `${BRIDGE} mtu ${state.bridge.mtu}, FLANNEL_MTU ${target}`,
          ...state.ports.map(formatPort),
        ],
        // Nothing clears BROPT_MTU_SET_BY_USER: only a new cni0 follows its ports again.
        remediation: sh`kubectl drain ${name} --ignore-daemonsets --delete-emptydir-data; ip link del ${quoted(BRIDGE)}  # on ${name}: the bridge plugin recreates it, unpinned, with the next pod; then delete the pods still on ${name} that use the pod network (DaemonSet pods) and kubectl uncordon ${name}. Or reboot ${name}`,
      }),
    );
  }
  return out;
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
