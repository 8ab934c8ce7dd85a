// Pod mode: an iperf3 server pod on the server node for the whole run, and a short-lived client pod per
// measurement on the client node; the client's output is read from its log once it has finished.
import { OperationError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import type { PathDriver, ToolRun } from './driver.ts';
import type { CpuSampler } from './node-cpu.ts';
import { readIperf3 } from './measure.ts';
import type { BenchOptions } from './options.ts';
import { FIELD_MANAGER, podObject, type BenchPodSpec } from './pods.ts';
import { waitForPod } from './wait-pod.ts';

export interface PodDriverDeps {
  readonly kube: KubeClient;
  readonly options: BenchOptions;
  readonly runId: string;
  readonly clientNode: string;
  readonly serverNode: string;
  /** How long pods may take to start (image pulls): --timeout. */
  readonly startTimeoutMs: number;
  readonly cpu?: CpuSampler;
  readonly signal?: AbortSignal;
}

export const podDriver = (deps: PodDriverDeps): PathDriver => {
  const { kube, options, runId, signal } = deps;
  const ns = options.namespace;
  let serial = 0;
  let clientIP: string | null = null;

  const create = (spec: BenchPodSpec) =>
    kube.apply(podObject(runId, options, spec), { fieldManager: FIELD_MANAGER, force: true });

  const remove = (name: string) =>
    kube.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name }).catch(() => undefined);

  /** Runs a client pod to completion and returns its log; it is deleted right after. */
  const runClient = async (
    kind: string,
    image: string,
    command: readonly string[],
    what: string,
    parsesIperf3: boolean,
  ): Promise<ToolRun> => {
    const name = `bench-${runId}-${kind}-${++serial}`;
    await create({ name, role: 'client', node: deps.clientNode, image, command });
    try {
      const running = await waitForPod(kube, ns, name, 'running', deps.startTimeoutMs, signal);
      clientIP ??= running.status?.podIP ?? null;
      const before = await deps.cpu?.snapshot();
      const runTimeout = (options.durationSeconds + 60) * 1000;
      const pod = await waitForPod(kube, ns, name, 'done', runTimeout, signal);
      const after = await deps.cpu?.snapshot();
      const output = await kube.podLog(ns, name);
      if (pod.status?.phase === 'Failed') {
        // iperf3 explains its own failures in its JSON; prefer that message.
        if (parsesIperf3) readIperf3(output, what);
        const code = pod.status.containerStatuses?.[0]?.state?.terminated?.exitCode;
        throw new OperationError(
          `${what}: pod ${ns}/${name} failed${code !== undefined ? ` (exit ${code})` : ''}: ${output.trim().split('\n').slice(-3).join(' | ') || '(no output)'}`,
        );
      }
      return {
        output,
        ...(deps.cpu && before && after ? { nodeCpu: deps.cpu.between(before, after) } : {}),
      };
    } finally {
      await remove(name);
    }
  };

  return {
    path: 'pod',
    setup: async () => {
      const name = `bench-${runId}-server`;
      await create({
        name,
        role: 'server',
        node: deps.serverNode,
        image: options.image,
        command: ['iperf3', '-s', '-p', String(options.port)],
        readyPort: options.port,
      });
      const server = await waitForPod(kube, ns, name, 'ready', deps.startTimeoutMs, signal);
      const serverIP = server.status?.podIP;
      if (!serverIP) throw new OperationError(`server pod ${ns}/${name} is Ready but has no podIP`);
      return serverIP;
    },
    clientIP: () => clientIP,
    iperf3: (args, what) => runClient(what.includes('UDP') ? 'udp' : 'tcp', options.image, args, what, true),
    ping: (args, what) => runClient('ping', options.pingImage, args, what, false),
  };
};
