// Faults doctor must find, injected into a lab node. Each returns an undo function.
import { ipIn, run, sysctlIn, tryRun } from './command.ts';
import { ensureVxlanDevice, type Peer } from './backends.ts';
import { hostIn } from './lab.ts';
import { linkName, names } from './naming.ts';
import type { Lab, LabNode } from './types.ts';

export type Undo = () => Promise<void>;

const sysctlValue = async (netns: string, key: string): Promise<string> =>
  (await run('ip', ['netns', 'exec', netns, 'sysctl', '-n', key])).stdout.trim();

/**
 * A second NIC, eth1, on the same switch as eth0, with its own address but no connected route
 * (noprefixroute), so only the routes a fault adds use it.
 */
const addSecondNic = async (lab: Lab, node: LabNode): Promise<void> => {
  if (node.remote) throw new Error('lab: a second NIC needs a node on the main switch');
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
};

/** Strict rp_filter (1) on all, eth0 and eth1; the undo restores all and eth0 (eth1 goes with its link). */
const strictRpFilter = async (node: LabNode): Promise<Undo> => {
  const before = {
    all: await sysctlValue(node.netns, 'net.ipv4.conf.all.rp_filter'),
    eth0: await sysctlValue(node.netns, 'net.ipv4.conf.eth0.rp_filter'),
  };
  await sysctlIn(node.netns, 'net.ipv4.conf.all.rp_filter', 1);
  await sysctlIn(node.netns, 'net.ipv4.conf.eth0.rp_filter', 1);
  await sysctlIn(node.netns, 'net.ipv4.conf.eth1.rp_filter', 1);
  return async () => {
    await sysctlIn(node.netns, 'net.ipv4.conf.all.rp_filter', before.all);
    await sysctlIn(node.netns, 'net.ipv4.conf.eth0.rp_filter', before.eth0);
  };
};

/**
 * Strict rp_filter with asymmetric routing: a second NIC (eth1, on the same switch) carries the route back
 * to `peer`'s pods while their packets arrive on eth0, so strict reverse-path filtering drops them.
 * Loose mode (2) or 0 makes the same routing work.
 */
export const injectStrictRpFilterAsymmetric = async (lab: Lab, node: LabNode, peer: Peer): Promise<Undo> => {
  await addSecondNic(lab, node);
  const restoreRpFilter = await strictRpFilter(node);
  await ipIn(node.netns, ['route', 'replace', peer.podCidr, 'via', peer.address, 'dev', 'eth1', 'onlink']);
  return async () => {
    await ipIn(node.netns, ['route', 'replace', peer.podCidr, 'via', peer.address, 'dev', 'eth0']);
    await tryRun('ip', ['-n', node.netns, 'link', 'del', 'eth1']);
    await restoreRpFilter();
  };
};

export interface DefaultRoutesFault {
  /** An address outside every lab subnet, on the root namespace: only `node`'s default routes reach it. */
  readonly client: string;
  readonly undo: Undo;
}

/**
 * Strict rp_filter on a node with two default routes, both to the management address: via eth0 with
 * metric 100 and via a second NIC, eth1, with `eth1Metric`. Above 100 eth1's is a backup the kernel's
 * reverse-path lookup never consults; below, it is the best route and packets from `client` arriving on
 * eth0 are dropped.
 */
export const injectDefaultRoutes = async (
  lab: Lab,
  node: LabNode,
  eth1Metric: number,
): Promise<DefaultRoutesFault> => {
  await addSecondNic(lab, node);
  const restoreRpFilter = await strictRpFilter(node);
  const gateway = lab.managementAddress;
  await ipIn(node.netns, ['route', 'add', 'default', 'via', gateway, 'dev', 'eth0', 'metric', '100']);
  await ipIn(node.netns, [
    'route',
    'add',
    'default',
    'via',
    gateway,
    'dev',
    'eth1',
    'metric',
    String(eth1Metric),
    'onlink',
  ]);
  // The lab's subnet lock makes its third octet unique among concurrent labs.
  const client = `198.18.${lab.subnet.split('.')[2]}.${node.index}`;
  const mgmt = names(lab.prefix).mgmtRoot;
  await run('ip', ['addr', 'add', `${client}/32`, 'dev', mgmt]);
  return {
    client,
    undo: async () => {
      await tryRun('ip', ['addr', 'del', `${client}/32`, 'dev', mgmt]);
      await tryRun('ip', ['-n', node.netns, 'route', 'del', 'default', 'via', gateway, 'dev', 'eth0']);
      await tryRun('ip', ['-n', node.netns, 'link', 'del', 'eth1']);
      await restoreRpFilter();
    },
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
