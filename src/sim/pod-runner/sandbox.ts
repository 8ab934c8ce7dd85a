// A pod's network namespace on a lab node, created as kubelet does it: the namespace, then CNI ADD
// through the node's conflist (flannel's step, then the real bridge and host-local plugins, see
// src/lab/cni.ts). The address is host-local's, the MTU the delegate's (FLANNEL_MTU), and a missing
// subnet.env fails the sandbox with flannel's own message, as FailedCreatePodSandBox shows it.
import { cniAdd, cniDel, podAttachment } from '../../lab/cni.ts';
import type { Lab, LabNode } from '../../lab/types.ts';
import { run, tryRun } from '../../lab/command.ts';

export interface Sandbox {
  readonly netns: string;
  readonly node: string;
  readonly address: string;
}

export const createSandbox = async (lab: Lab, node: LabNode, serial: number): Promise<Sandbox> => {
  const netns = `${lab.prefix}-${node.name}-run-${serial}`;
  await run('ip', ['netns', 'add', netns]);
  try {
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const { address } = await cniAdd(node, podAttachment(netns));
    return { netns, node: node.name, address };
  } catch (error) {
    await tryRun('ip', ['netns', 'del', netns]);
    throw error;
  }
};

/** Kills what still runs inside, CNI DEL (the address goes back to host-local), then the namespace. */
export const deleteSandbox = async (lab: Lab, sandbox: Sandbox): Promise<void> => {
  const pids = (await tryRun('ip', ['netns', 'pids', sandbox.netns])).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await cniDel(lab.node(sandbox.node), podAttachment(sandbox.netns)).catch(() => undefined);
  await tryRun('ip', ['netns', 'del', sandbox.netns]);
};

/** True once something listens on the TCP port inside the namespace (a tcpSocket readiness probe). */
export const listening = async (netns: string, port: number): Promise<boolean> => {
  const r = await tryRun('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`]);
  return r.code === 0 && r.stdout.trim() !== '';
};
