// The cluster as the per-node checks walk it: API nodes and probed nodes merged by name, with the
// values flanneld itself would use (public-ip annotation as next hop, podCIDR as lease).
import type { ApiNode, ClusterFacts, ClusterNode } from '../facts/cluster-facts.ts';
import { byName, isFlannelVxlanDevice } from '../facts/cluster-facts.ts';
import { routeGetCount, type NodeFacts } from '../facts/node-facts.ts';
import { parseIp, tryParseCidr } from '../flannel/cidr.ts';
import { ipv4Enabled, ipv6Enabled, type NetConf } from '../flannel/net-conf.ts';
import { macArg, nameArg, sh, type Shell } from './shell-command.ts';

export interface NodeView {
  readonly name: string;
  readonly api: ApiNode | null;
  /** null when the node was not in the probe set at all. */
  readonly probe: ClusterNode | null;
  readonly facts: NodeFacts | null;
  /** flannel's public IP: the public-ip annotation, else InternalIP, else the probed address. */
  readonly publicIp: string | null;
  /** Canonical IPv4 podCIDR: the node's spec, else the network of FLANNEL_SUBNET. */
  readonly podCIDR: string | null;
  readonly vtepMac: string | null;
  readonly backendType: string | null;
  /** Dual stack: the `public-ipv6` annotation (flanneld's IPv6 next hop and VTEP address, nothing else). */
  readonly publicIpv6: string | null;
  /** Canonical IPv6 podCIDR: the node's spec, else the network of FLANNEL_IPV6_SUBNET. */
  readonly podCIDRv6: string | null;
  /** VtepMAC of flannel-v6.<VNI>, from `backend-v6-data`. */
  readonly vtepMacV6: string | null;
}

const subnetEnvCidr = (facts: NodeFacts | null, key: 'subnet' | 'ipv6Subnet' = 'subnet'): string | null => {
  const env = facts?.subnetEnv;
  const value = env && env !== 'missing' ? env[key] : null;
  return value ? (tryParseCidr(value)?.text ?? null) : null;
};

// flanneld takes the first podCIDR of each family (pkg/subnet/kube/kube.go nodeToLease).
const cidrOfFamily = (cidrs: readonly string[], family: 'ipv4' | 'ipv6'): string | null => {
  for (const c of cidrs) {
    const parsed = tryParseCidr(c);
    if (parsed?.family === family) return parsed.text;
  }
  return null;
};

const ipv6Literal = (value: string | null | undefined): string | null =>
  value ? (parseIp(value)?.family === 'ipv6' ? value : null) : null;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

// flanneld parses public-ip with ip.ParseIP4 and drops a node whose value fails, as it drops one whose
// backend-data has no valid VtepMAC (pkg/subnet/kube/kube.go nodeToLease, handleAddLeaseEvent;
// pkg/backend/vxlan/vxlan_network.go handleSubnetEvents): such a peer has no next hop, and no
// remediation may carry the text (the annotations check reports it as invalid).
const ipv4Literal = (value: string | null | undefined): string | null =>
  value ? (parseIp(value)?.family === 'ipv4' ? value : null) : null;
const macOf = (value: string | null | undefined): string | null => (macArg(value) ? value! : null);

/** API nodes and probed nodes by name, sorted; each view says what is known about that node. */
export const nodeViews = (facts: ClusterFacts): NodeView[] => {
  const apiByName = new Map((facts.api?.nodes ?? []).map((n) => [n.name, n]));
  const probeByName = new Map(facts.nodes.map((n) => [n.name, n]));
  const names = [...new Set([...apiByName.keys(), ...probeByName.keys()])].sort(byName);
  return names.map((name) => {
    const api = apiByName.get(name) ?? null;
    const probe = probeByName.get(name) ?? null;
    const nodeFacts = probe?.facts ?? null;
    const probed = probe?.address ?? nodeFacts?.address ?? null;
    return {
      name,
      api,
      probe,
      facts: nodeFacts,
      publicIp:
        api?.flannel.publicIp != null
          ? ipv4Literal(api.flannel.publicIp)
          : (ipv4Literal(api?.internalIP) ?? (probed && IPV4.test(probed) ? probed : null) ?? null),
      podCIDR: (api ? cidrOfFamily(api.podCIDRs, 'ipv4') : null) ?? subnetEnvCidr(nodeFacts),
      vtepMac: macOf(api?.flannel.vtepMac),
      backendType: api?.flannel.backendType ?? null,
      publicIpv6: ipv6Literal(api?.flannel.publicIpv6),
      podCIDRv6: (api ? cidrOfFamily(api.podCIDRs, 'ipv6') : null) ?? subnetEnvCidr(nodeFacts, 'ipv6Subnet'),
      vtepMacV6: macOf(api?.flannel.vtepMacV6),
    };
  });
};

/** The net-conf.json flannel runs with, when the API gave one. */
export const netConfOf = (facts: ClusterFacts): NetConf | null => facts.api?.flannel?.netConf ?? null;

/**
 * The address families flanneld routes: net-conf.json's EnableIPv4 (default true) and EnableIPv6
 * (default false); IPv4 alone when there is no net-conf.json to say.
 */
export const routedFamilies = (facts: ClusterFacts): { readonly ipv4: boolean; readonly ipv6: boolean } => {
  const conf = netConfOf(facts);
  return conf ? { ipv4: ipv4Enabled(conf), ipv6: ipv6Enabled(conf) } : { ipv4: true, ipv6: false };
};

/** flannel.<VNI> (VNI defaults to 1). */
export const vxlanDeviceName = (conf: NetConf | null): string => {
  const vni = conf?.Backend.Type === 'vxlan' ? (conf.Backend as { VNI?: unknown }).VNI : undefined;
  return `flannel.${typeof vni === 'number' && vni > 0 ? vni : 1}`;
};

/** flannel-v6.<VNI>: the IPv6 VXLAN device of a dual-stack vxlan node (pkg/backend/vxlan/vxlan.go). */
export const vxlanV6DeviceName = (conf: NetConf | null): string =>
  vxlanDeviceName(conf).replace('flannel.', 'flannel-v6.');

/** The VXLAN devices flanneld created on this node (flannel.1, ...). */
export const flannelVxlanDevices = (facts: NodeFacts): string[] =>
  (facts.links ?? []).filter((l) => isFlannelVxlanDevice(l.name, l.kind)).map((l) => l.name);

export interface Uplink {
  readonly name: string;
  /** How it was found, for evidence. */
  readonly how: string;
}

/**
 * The interface flanneld uses (its "external interface"): the one carrying the node's public IP; else
 * the underlay of the flannel VXLAN device; else the IPv4 default route's device.
 */
export const uplinkOf = (facts: NodeFacts, publicIp: string | null): Uplink | null => {
  const byAddress = publicIp ? facts.addresses?.find((a) => a.local === publicIp) : undefined;
  if (byAddress) return { name: byAddress.ifname, how: `${publicIp} is on ${byAddress.ifname}` };
  const vxlan = facts.links?.find((l) => isFlannelVxlanDevice(l.name, l.kind) && l.vxlan?.dev);
  if (vxlan?.vxlan?.dev) return { name: vxlan.vxlan.dev, how: `${vxlan.name} uses dev ${vxlan.vxlan.dev}` };
  const def = facts.routes?.find((r) => r.family === 'inet' && r.dst === 'default' && r.dev);
  if (def?.dev) return { name: def.dev, how: `default route via dev ${def.dev}` };
  return null;
};

/** The network address of a CIDR ("10.244.2.0/24" → "10.244.2.0"): vxlan's next hop for that subnet. */
export const networkAddress = (cidr: string): string => cidr.split('/')[0]!;

/** FLANNEL_SUBNET for a podCIDR: the first host address with the prefix ("10.244.1.1/24"). */
export const flannelSubnetFor = (cidr: string): string | null => {
  const parsed = tryParseCidr(cidr);
  if (!parsed || parsed.family !== 'ipv4') return null;
  const n = parsed.base + 1n;
  const ip = [24n, 16n, 8n, 0n].map((s) => Number((n >> s) & 255n)).join('.');
  return `${ip}/${parsed.prefix}`;
};

/** The routed/adjacent verdict of `ip route get <peer>` (flannel's own DirectRouting test). */
export const isRouteGetAdjacent = (facts: NodeFacts, peerIp: string): boolean | null => {
  const result = facts.routeGets[peerIp];
  if (!result || !result.ok) return null;
  return routeGetCount(result) === 1 && !result.gateway;
};

/** The flannel namespace for commands in remediations (kube-flannel when unknown). */
export const flannelNamespace = (facts: ClusterFacts): string =>
  facts.api?.flannel?.namespace ?? 'kube-flannel';

/** `kubectl` commands addressing the flanneld pod on a node, by name when the API told us. */
export const flannelPodCommands = (facts: ClusterFacts, node: string): { logs: Shell; restart: Shell } => {
  const ns = nameArg(flannelNamespace(facts));
  const pod = facts.api?.flannel?.pods.find((p) => p.node === node);
  if (pod) {
    const name = nameArg(pod.name);
    return {
      logs: sh`kubectl -n ${ns} logs ${name} -c kube-flannel --tail=100`,
      restart: sh`kubectl -n ${ns} delete pod ${name}`,
    };
  }
  const select = sh`-l app=flannel --field-selector ${nameArg(`spec.nodeName=${node}`)}`;
  return {
    logs: sh`kubectl -n ${ns} logs $(kubectl -n ${ns} get pod ${select} -o name) -c kube-flannel --tail=100`,
    restart: sh`kubectl -n ${ns} delete pod ${select}`,
  };
};
