// The kernel state flanneld programs, per node, exactly as /work/shared/LAB.md lists it. A flannel agent
// emulator drives these; tests call them directly.
import { existsSync, writeFileSync } from 'node:fs';
import { cniPaths, installCniConf } from './cni.ts';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { LabCommandError, ipIn, tryRun } from './command.ts';
import type { LabNode } from './types.ts';

export interface Peer {
  readonly name: string;
  readonly address: string;
  readonly podCidr: string;
}

export interface VxlanPeer extends Peer {
  /** The peer's flannel.1 MAC (flanneld reads it from the node annotation backend-data). */
  readonly vtepMac: string;
}

export interface RouteOutcome {
  readonly peer: string;
  readonly ok: boolean;
  /** What `ip` said when it refused, e.g. "Error: Nexthop has invalid gateway." */
  readonly error?: string;
}

const network = (podCidr: string): string => podCidr.split('/')[0]!;
const vtepAddress = network;

/**
 * host-gw: one route per peer via its node IP. A peer that is not L2-adjacent is refused by the kernel
 * ("Nexthop has invalid gateway"), which is reported per peer as flanneld logs it, not thrown.
 */
export const programHostGw = async (node: LabNode, peers: readonly Peer[]): Promise<RouteOutcome[]> => {
  const outcomes: RouteOutcome[] = [];
  for (const peer of peers) {
    if (peer.name === node.name) continue;
    const r = await tryRun('ip', [
      '-n',
      node.netns,
      'route',
      'replace',
      peer.podCidr,
      'via',
      peer.address,
      'dev',
      'eth0',
    ]);
    outcomes.push(
      r.code === 0 ? { peer: peer.name, ok: true } : { peer: peer.name, ok: false, error: r.stderr.trim() },
    );
  }
  return outcomes;
};

/** Creates flannel.1 if needed (id 1, port 8472, MTU 1450, 10.244.N.0/32) and returns its MAC. */
export const ensureVxlanDevice = async (node: LabNode): Promise<string> => {
  const existing = await tryRun('ip', ['-n', node.netns, '-j', 'link', 'show', 'flannel.1']);
  if (existing.code !== 0) {
    await ipIn(node.netns, [
      'link',
      'add',
      'flannel.1',
      'type',
      'vxlan',
      'id',
      '1',
      'local',
      node.address,
      'dev',
      'eth0',
      'dstport',
      '8472',
      'nolearning',
    ]);
    await ipIn(node.netns, ['link', 'set', 'flannel.1', 'mtu', '1450']);
    await ipIn(node.netns, ['addr', 'add', `${vtepAddress(node.podCidr)}/32`, 'dev', 'flannel.1']);
    await ipIn(node.netns, ['link', 'set', 'flannel.1', 'up']);
  }
  const [link] = JSON.parse((await ipIn(node.netns, ['-j', 'link', 'show', 'flannel.1'])).stdout) as {
    address: string;
  }[];
  return link!.address;
};

const sameSubnet = (a: string, b: string, subnet: string): boolean => {
  const [net, bits] = ipaddr.parseCIDR(subnet);
  return ipaddr.parse(a).match(net, bits) && ipaddr.parse(b).match(net, bits);
};

/**
 * VXLAN: flannel.1 plus, per peer, the onlink route, the permanent neighbour and the FDB entry. With
 * directRouting, peers on the node's own subnet get host-gw routes instead (flanneld's DirectRouting).
 */
export const programVxlan = async (
  node: LabNode,
  peers: readonly VxlanPeer[],
  options: { directRouting?: boolean } = {},
): Promise<RouteOutcome[]> => {
  await ensureVxlanDevice(node);
  const outcomes: RouteOutcome[] = [];
  for (const peer of peers) {
    if (peer.name === node.name) continue;
    if (options.directRouting && sameSubnet(node.address, peer.address, node.subnet)) {
      outcomes.push(...(await programHostGw(node, [peer])));
      continue;
    }
    const vtep = vtepAddress(peer.podCidr);
    try {
      await ipIn(node.netns, ['route', 'replace', peer.podCidr, 'via', vtep, 'dev', 'flannel.1', 'onlink']);
      await ipIn(node.netns, [
        'neigh',
        'replace',
        vtep,
        'lladdr',
        peer.vtepMac,
        'dev',
        'flannel.1',
        'nud',
        'permanent',
      ]);
      await tryRun('bridge', [
        '-n',
        node.netns,
        'fdb',
        'del',
        peer.vtepMac,
        'dev',
        'flannel.1',
        'dst',
        peer.address,
      ]);
      const fdb = await tryRun('bridge', [
        '-n',
        node.netns,
        'fdb',
        'append',
        peer.vtepMac,
        'dev',
        'flannel.1',
        'dst',
        peer.address,
      ]);
      if (fdb.code !== 0) throw new LabCommandError(['bridge', 'fdb', 'append'], fdb);
      outcomes.push({ peer: peer.name, ok: true });
    } catch (error) {
      outcomes.push({ peer: peer.name, ok: false, error: (error as Error).message });
    }
  }
  return outcomes;
};

/** Removes flannel.1 (and with it every route through it), as a clean switch to host-gw does. */
export const removeVxlan = async (node: LabNode): Promise<void> => {
  await tryRun('ip', ['-n', node.netns, 'link', 'del', 'flannel.1']);
};

export interface SubnetEnv {
  readonly FLANNEL_NETWORK: string;
  readonly FLANNEL_SUBNET: string;
  readonly FLANNEL_MTU: number | string;
  readonly FLANNEL_IPMASQ: boolean | string;
  readonly [key: string]: string | number | boolean;
}

/**
 * /run/flannel/subnet.env as flanneld writes it; visible inside the node's sshd sessions. The node's
 * conflist is installed too when it has none, as install-cni does before flanneld starts.
 */
export const writeSubnetEnv = (node: LabNode, env: SubnetEnv): void => {
  if (!existsSync(cniPaths(node).conflist)) installCniConf(node);
  const text = Object.entries(env)
    .map(([key, value]) => `${key}=${String(value)}\n`)
    .join('');
  writeFileSync(join(node.runDir, 'subnet.env'), text);
};

export const defaultSubnetEnv = (node: LabNode, backend: 'host-gw' | 'vxlan'): SubnetEnv => ({
  FLANNEL_NETWORK: '10.244.0.0/16',
  FLANNEL_SUBNET: `${node.gateway}/24`,
  FLANNEL_MTU: backend === 'vxlan' ? 1450 : 1500,
  FLANNEL_IPMASQ: true,
});

/** Every node gets host-gw routes to every other node. */
export const programHostGwAll = async (nodes: readonly LabNode[]): Promise<Map<string, RouteOutcome[]>> => {
  const result = new Map<string, RouteOutcome[]>();
  for (const node of nodes) {
    result.set(node.name, await programHostGw(node, nodes));
    writeSubnetEnv(node, defaultSubnetEnv(node, 'host-gw'));
  }
  return result;
};

/** Every node gets flannel.1 and VXLAN state for every other node. */
export const programVxlanAll = async (
  nodes: readonly LabNode[],
  options: { directRouting?: boolean } = {},
): Promise<Map<string, RouteOutcome[]>> => {
  const macs = new Map<string, string>();
  for (const node of nodes) macs.set(node.name, await ensureVxlanDevice(node));
  const peers = nodes.map((n) => ({
    name: n.name,
    address: n.address,
    podCidr: n.podCidr,
    vtepMac: macs.get(n.name)!,
  }));
  const result = new Map<string, RouteOutcome[]>();
  for (const node of nodes) {
    result.set(node.name, await programVxlan(node, peers, options));
    writeSubnetEnv(node, defaultSubnetEnv(node, 'vxlan'));
  }
  return result;
};
