// cni0's MTU as the kernel sets it. Since Linux 4.17 a bridge takes the smallest MTU of its ports
// whenever a port is added, removed or changes MTU, and falls back to 1500 when its last port goes
// (br_mtu_auto_adjust and br_mtu_min in net/bridge/br_if.c), unless its MTU was set by hand: `ip link
// set cni0 mtu X` (to another value) goes through br_change_mtu (net/bridge/br_device.c), which sets
// BROPT_MTU_SET_BY_USER, and nothing clears it until cni0 is deleted. The MTU the bridge plugin gives
// cni0 when it creates it (ensureBridge in containernetworking plugins/main/bridge/bridge.go: netlink
// LinkAdd with the MTU) does not pin it. Reproduced on Linux 6.18 with the bridge plugin 1.1.1.
import { isIpLiteral } from '../facts/probe-input.ts';
import type { Link, NodeFacts, PodInterface } from '../facts/node-facts.ts';
import { ipArg, joinShell, nameArg, sh, type Shell } from './shell-command.ts';

export const BRIDGE = 'cni0';

export interface BridgePort {
  readonly link: Link;
  /** The pod on the other end of the veth, when its network namespace could be read. */
  readonly pod: PodInterface | null;
}

export type BridgeMtu =
  /** No cni0 (no pod has started on the node yet), or links unknown. */
  | { readonly kind: 'absent' }
  /** No port: the kernel resets an unpinned bridge to 1500, the next pod's veth sets it again. */
  | { readonly kind: 'no-ports'; readonly bridge: Link; readonly ports: readonly BridgePort[] }
  /** cni0 equals its smallest port, as the kernel keeps it (or pinned to that very value: harmless). */
  | {
      readonly kind: 'follows-ports';
      readonly bridge: Link;
      readonly ports: readonly BridgePort[];
      readonly min: number;
    }
  /** cni0 differs from its smallest port: its MTU was set by hand and no longer follows them. */
  | {
      readonly kind: 'pinned';
      readonly bridge: Link;
      readonly ports: readonly BridgePort[];
      readonly min: number;
      readonly direction: 'above-min' | 'below-min';
    }
  /** Kernel older than 4.17 (no auto-adjust) or MTUs unknown: no conclusion. */
  | { readonly kind: 'unknown'; readonly bridge: Link; readonly ports: readonly BridgePort[] };

/** The pod-side interface whose veth peer is `link` (both ifindexes agree), if exactly one is. */
const podOf = (link: Link, pods: readonly PodInterface[]): PodInterface | null => {
  const matches = pods.filter((p) => p.peerIndex === link.index && link.parent === `if${p.index}`);
  return matches.length === 1 ? matches[0]! : null;
};

export const bridgePorts = (facts: NodeFacts): BridgePort[] =>
  (facts.links ?? [])
    .filter((l) => l.master === BRIDGE)
    .map((link) => ({ link, pod: podOf(link, facts.podInterfaces ?? []) }));

/** Linux 4.17 introduced br_mtu_auto_adjust; unknown versions are assumed newer. */
const autoAdjusts = (kernel: string | null): boolean => {
  const m = /^(\d+)\.(\d+)/.exec(kernel ?? '');
  if (!m) return true;
  const major = Number(m[1]);
  return major > 4 || (major === 4 && Number(m[2]) >= 17);
};

export const bridgeMtu = (facts: NodeFacts): BridgeMtu => {
  const bridge = facts.links?.find((l) => l.name === BRIDGE);
  if (!bridge) return { kind: 'absent' };
  const ports = bridgePorts(facts);
  if (ports.length === 0) return { kind: 'no-ports', bridge, ports };
  const mtus = ports.map((p) => p.link.mtu);
  if (bridge.mtu === null || mtus.some((m) => m === null) || !autoAdjusts(facts.kernel))
    return { kind: 'unknown', bridge, ports };
  const min = Math.min(...(mtus as number[]));
  if (bridge.mtu === min) return { kind: 'follows-ports', bridge, ports, min };
  return { kind: 'pinned', bridge, ports, min, direction: bridge.mtu > min ? 'above-min' : 'below-min' };
};

/** `vethpod1 mtu 1450: pod 10.244.1.2 (netns cni-…)`, or the veth alone when no pod was found. */
export const formatPort = (p: BridgePort): string =>
  `${p.link.name} mtu ${p.link.mtu ?? '?'}: ${
    p.pod
      ? `pod ${p.pod.addresses.join(', ') || '(no address)'} (netns ${p.pod.netns})`
      : 'pod not identified (no named network namespace with its peer)'
  }`;

/** The pod IPs of `ports` that are safe to put on a command line. */
export const podIps = (ports: readonly BridgePort[]): Shell[] =>
  ports.flatMap((p) => {
    const ip = p.pod?.addresses[0] && isIpLiteral(p.pod.addresses[0]) ? ipArg(p.pod.addresses[0]) : null;
    return ip ? [ip] : [];
  });

/** A command listing the pods with these IPs on `node` (IPs already validated). */
export const findPodsCommand = (node: string, ips: readonly Shell[]): Shell =>
  sh`kubectl get pods -A -o wide --field-selector ${nameArg(`spec.nodeName=${node}`)} | grep -wF ${joinShell(
    ips.map((ip) => sh`-e ${ip}`),
    sh` `,
  )}`;

/**
 * What an MTU difference between old and new pods breaks, as reproduced on the real kernel (bridge
 * plugin pods at 1450 and 1500 on one cni0, a routed peer): TCP is unaffected because each side's MSS
 * follows its own MTU; UDP datagrams above the smaller MTU sent to the smaller pod are dropped without
 * an ICMP error when they are bridged from a pod on the same node (br_dev_queue_push_xmit:
 * is_skb_forwardable), and from other nodes the first one is answered with "fragmentation needed" and
 * the next ones arrive as IP fragments.
 */
export const mixedMtuEffect = (smaller: number): string =>
  `TCP between old and new pods is unaffected (each side's MSS follows its own MTU); UDP datagrams above ${smaller} bytes to a pod at ${smaller} are dropped silently when they come from a pod on the same node (bridged: no ICMP), and from other nodes the first is answered with ICMP "fragmentation needed" and later ones arrive as IP fragments (lost wherever fragments are filtered)`;
