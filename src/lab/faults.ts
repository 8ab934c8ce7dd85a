// Faults doctor must find, injected into a lab node. Each returns an undo function.
import { ipIn, run, sysctlIn, tryRun } from './command.ts';
import { ensureVxlanDevice, type Peer } from './backends.ts';
import { hostIn } from './lab.ts';
import { linkName } from './naming.ts';
import type { Lab, LabNode } from './types.ts';

export type Undo = () => Promise<void>;

const sysctlValue = async (netns: string, key: string): Promise<string> =>
  (await run('ip', ['netns', 'exec', netns, 'sysctl', '-n', key])).stdout.trim();

/**
 * Strict rp_filter with asymmetric routing: a second NIC (eth1, on the same switch) carries the route back
 * to `peer`'s pods while their packets arrive on eth0, so strict reverse-path filtering drops them.
 * Loose mode (2) or 0 makes the same routing work.
 */
export const injectStrictRpFilterAsymmetric = async (lab: Lab, node: LabNode, peer: Peer): Promise<Undo> => {
  if (node.remote) throw new Error('lab: rp_filter fault needs a node on the main switch');
  const sw = `${lab.prefix}-sw`;
  const tmp = linkName(lab.prefix, `x${node.index}`);
  const port = linkName(lab.prefix, `y${node.index}`);
  await run('ip', [
    'link',
    'add',
    tmp,
    'netns',
    node.netns,
    'type',
    'veth',
    'peer',
    'name',
    port,
    'netns',
    sw,
  ]);
  await ipIn(node.netns, ['link', 'set', tmp, 'name', 'eth1']);
  await ipIn(sw, ['link', 'set', port, 'master', linkName(lab.prefix, 'br'), 'up']);
  // Only eth0 may answer ARP for the node IP, so peers keep sending to eth0 (no "ARP flux").
  await sysctlIn(node.netns, 'net.ipv4.conf.eth1.arp_ignore', 1);
  await ipIn(node.netns, [
    'addr',
    'add',
    `${hostIn(lab.subnet, 100 + node.index)}/24`,
    'dev',
    'eth1',
    'noprefixroute',
  ]);
  await ipIn(node.netns, ['link', 'set', 'eth1', 'up']);
  const before = {
    all: await sysctlValue(node.netns, 'net.ipv4.conf.all.rp_filter'),
    eth0: await sysctlValue(node.netns, 'net.ipv4.conf.eth0.rp_filter'),
  };
  await sysctlIn(node.netns, 'net.ipv4.conf.all.rp_filter', 1);
  await sysctlIn(node.netns, 'net.ipv4.conf.eth0.rp_filter', 1);
  await sysctlIn(node.netns, 'net.ipv4.conf.eth1.rp_filter', 1);
  await ipIn(node.netns, ['route', 'replace', peer.podCidr, 'via', peer.address, 'dev', 'eth1', 'onlink']);
  return async () => {
    await ipIn(node.netns, ['route', 'replace', peer.podCidr, 'via', peer.address, 'dev', 'eth0']);
    await tryRun('ip', ['-n', node.netns, 'link', 'del', 'eth1']);
    await sysctlIn(node.netns, 'net.ipv4.conf.all.rp_filter', before.all);
    await sysctlIn(node.netns, 'net.ipv4.conf.eth0.rp_filter', before.eth0);
  };
};

/** One node's link MTU below the others (e.g. 1400 where the path is 1500). */
export const injectLowerMtu = async (node: LabNode, mtu: number): Promise<Undo> => {
  const [link] = JSON.parse((await ipIn(node.netns, ['-j', 'link', 'show', 'eth0'])).stdout) as {
    mtu: number;
  }[];
  await ipIn(node.netns, ['link', 'set', 'eth0', 'mtu', String(mtu)]);
  return async () => {
    await ipIn(node.netns, ['link', 'set', 'eth0', 'mtu', String(link!.mtu)]);
  };
};

/** A peer's pod route missing on one node. */
export const injectDeletedRoute = async (node: LabNode, podCidr: string): Promise<Undo> => {
  const [route] = JSON.parse((await ipIn(node.netns, ['-j', 'route', 'show', podCidr])).stdout) as {
    gateway?: string;
    dev?: string;
    flags?: string[];
  }[];
  await ipIn(node.netns, ['route', 'del', podCidr]);
  return async () => {
    if (!route?.gateway || !route.dev) return;
    await ipIn(node.netns, [
      'route',
      'replace',
      podCidr,
      'via',
      route.gateway,
      'dev',
      route.dev,
      ...(route.flags?.includes('onlink') ? ['onlink'] : []),
    ]);
  };
};

/** net.ipv4.ip_forward=0: the node stops routing for its pods. */
export const injectIpForwardOff = async (node: LabNode): Promise<Undo> => {
  await sysctlIn(node.netns, 'net.ipv4.ip_forward', 0);
  return async () => {
    await sysctlIn(node.netns, 'net.ipv4.ip_forward', 1);
  };
};

/** A flannel.1 left behind under host-gw (as after a migration that did not clean up). */
export const injectStaleFlannelVxlan = async (node: LabNode): Promise<Undo> => {
  await ensureVxlanDevice(node);
  return async () => {
    await tryRun('ip', ['-n', node.netns, 'link', 'del', 'flannel.1']);
  };
};
