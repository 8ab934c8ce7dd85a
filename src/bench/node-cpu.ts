// Whole-node CPU of the client and server nodes over a run, from /proc/stat over the node connection.
// Missing numbers are a note, never a failed benchmark: the throughput is still valid.
import type { NodeExec, NodeTarget } from '../nodes/exec.ts';
import type { NodeCpu } from './measure.ts';
import { busyPercent, parseProcStat, type CpuTimes } from './proc-stat.ts';

export interface CpuSnapshot {
  readonly sender: CpuTimes | null;
  readonly receiver: CpuTimes | null;
}

export interface CpuSampler {
  snapshot(): Promise<CpuSnapshot>;
  between(before: CpuSnapshot, after: CpuSnapshot): NodeCpu;
}

export const nodeCpuSampler = (
  exec: NodeExec,
  nodes: { readonly sender: NodeTarget; readonly receiver: NodeTarget },
  timeoutMs: number,
  signal?: AbortSignal,
): CpuSampler => {
  const read = async (node: NodeTarget): Promise<CpuTimes | null> => {
    try {
      const r = await exec.run(node, 'head -n 1 /proc/stat', { timeoutMs, ...(signal ? { signal } : {}) });
      return r.exitCode === 0 ? parseProcStat(r.stdout) : null;
    } catch {
      return null;
    }
  };
  return {
    snapshot: async () => {
      const [sender, receiver] = await Promise.all([read(nodes.sender), read(nodes.receiver)]);
      return { sender, receiver };
    },
    between: (before, after) => ({
      sender: before.sender && after.sender ? busyPercent(before.sender, after.sender) : null,
      receiver: before.receiver && after.receiver ? busyPercent(before.receiver, after.receiver) : null,
    }),
  };
};
