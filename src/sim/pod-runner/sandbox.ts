// A pod's network namespace on a lab node, wired the way the bridge CNI plugin does it: a veth whose
// host end is a port of the node's cni0, eth0 inside with an address from the node's podCIDR and a
// default route via cni0's address, and the MTU flannel's CNI plugin passes on from subnet.env
// (FLANNEL_MTU: 1450 on vxlan), so pods never send what the overlay cannot carry.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { linkName } from '../../lab/naming.ts';
import type { Lab, LabNode } from '../../lab/types.ts';
import { run, tryRun } from '../../lab/command.ts';

export interface Sandbox {
  readonly netns: string;
  readonly node: string;
  readonly address: string;
  /** The address's last octet, handed back when the sandbox is deleted. */
  readonly host: number;
}

/** The lab's own pods use .2 upwards; runner pods take .100–.250 so they never collide. */
export const FIRST_HOST = 100;
export const LAST_HOST = 250;

/** FLANNEL_MTU of the node's subnet.env, as the flannel CNI plugin reads it; undefined before flanneld wrote it. */
export const flannelMtu = (node: LabNode): number | undefined => {
  try {
    const m = /^FLANNEL_MTU=(\d+)$/m.exec(readFileSync(join(node.runDir, 'subnet.env'), 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
};

export const createSandbox = async (
  lab: Lab,
  node: LabNode,
  host: number,
  serial: number,
): Promise<Sandbox> => {
  const netns = `${lab.prefix}-${node.name}-run-${serial}`;
  const hostEnd = linkName(lab.prefix, `${node.index}r${serial}`);
  const podEnd = linkName(lab.prefix, `${node.index}k${serial}`);
  const [base, bits] = node.podCidr.split('/');
  const address = [...base!.split('.').slice(0, 3), String(host)].join('.');
  await run('ip', ['netns', 'add', netns]);
  try {
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    await run('ip', [
      'link',
      'add',
      hostEnd,
      'netns',
      node.netns,
      'type',
      'veth',
      'peer',
      'name',
      podEnd,
      'netns',
      netns,
    ]);
    const mtu = flannelMtu(node);
    if (mtu !== undefined) {
      await run('ip', ['-n', node.netns, 'link', 'set', hostEnd, 'mtu', String(mtu)]);
      await run('ip', ['-n', netns, 'link', 'set', podEnd, 'mtu', String(mtu)]);
    }
    await run('ip', ['-n', node.netns, 'link', 'set', hostEnd, 'master', 'cni0', 'up']);
    await run('ip', ['-n', netns, 'link', 'set', podEnd, 'name', 'eth0']);
    await run('ip', ['-n', netns, 'addr', 'add', `${address}/${bits}`, 'dev', 'eth0']);
    await run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', netns, 'route', 'add', 'default', 'via', node.gateway]);
  } catch (error) {
    await deleteSandbox({ netns, node: node.name, address, host });
    throw error;
  }
  return { netns, node: node.name, address, host };
};

/** Kills what still runs inside and deletes the namespace (its veth goes with it). */
export const deleteSandbox = async (sandbox: Sandbox): Promise<void> => {
  const pids = (await tryRun('ip', ['netns', 'pids', sandbox.netns])).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await tryRun('ip', ['netns', 'del', sandbox.netns]);
};

/** True once something listens on the TCP port inside the namespace (a tcpSocket readiness probe). */
export const listening = async (netns: string, port: number): Promise<boolean> => {
  const r = await tryRun('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`]);
  return r.code === 0 && r.stdout.trim() !== '';
};
