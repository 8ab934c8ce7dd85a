// A pod's network namespace on a lab node, created as kubelet and containerd do it: the namespace, then
// CNI ADD through the node's conflist (flannel's step, then the real bridge and host-local plugins, see
// src/lab/cni.ts) under a fresh sandbox ID. The address is host-local's, the MTU the delegate's
// (FLANNEL_MTU). A failed ADD (e.g. no subnet.env yet) is a PodSandboxError worded as kubelet receives
// it over CRI: containerd's "failed to setup network for sandbox %q: %w" (internal/cri/server/
// sandbox_run.go) around libcni's "plugin type=%q failed (add): %w" (libcni/api.go AddNetworkList),
// as the gRPC status `rpc error: code = Unknown desc = …` of an untyped error.
import { randomBytes } from 'node:crypto';
import { CniError, cniAdd, cniDel, podAttachment } from '../../lab/cni.ts';
import type { Lab, LabNode } from '../../lab/types.ts';
import { run, tryRun } from '../../lab/command.ts';
import { PodSandboxError } from '../apiserver/index.ts';

export interface Sandbox {
  /** The sandbox ID (CNI_CONTAINERID): 64 hex digits, new for every attempt, as containerd's. */
  readonly id: string;
  readonly netns: string;
  readonly node: string;
  readonly address: string;
}

export const createSandbox = async (lab: Lab, node: LabNode, serial: number): Promise<Sandbox> => {
  const id = randomBytes(32).toString('hex');
  const netns = `${lab.prefix}-${node.name}-run-${serial}`;
  await run('ip', ['netns', 'add', netns]);
  try {
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const { address } = await cniAdd(node, podAttachment(netns, id));
    return { id, netns, node: node.name, address };
  } catch (error) {
    await tryRun('ip', ['netns', 'del', netns]);
    if (error instanceof CniError)
      throw new PodSandboxError(
        `rpc error: code = Unknown desc = failed to setup network for sandbox "${id}": ${error.message}`,
      );
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
  await cniDel(lab.node(sandbox.node), podAttachment(sandbox.netns, sandbox.id)).catch(() => undefined);
  await tryRun('ip', ['netns', 'del', sandbox.netns]);
};

/** True once something listens on the TCP port inside the namespace (a tcpSocket readiness probe). */
export const listening = async (netns: string, port: number): Promise<boolean> => {
  const r = await tryRun('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`]);
  return r.code === 0 && r.stdout.trim() !== '';
};
