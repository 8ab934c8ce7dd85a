// Pod mode: an iperf3 server pod on the server node for the whole run, and a short-lived client pod per
// measurement on the client node; the client's output is read from its log once it has finished.
import { OperationError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import type { PathDriver, ToolRun } from './driver.ts';
import type { CpuSampler } from './node-cpu.ts';
import { readIperf3 } from './measure.ts';
import type { BenchOptions } from './options.ts';
import { FIELD_MANAGER, podObject, type BenchPodSpec } from './pods.ts';
import { podEvidence } from './pod-evidence.ts';
import { waitForPod } from './wait-pod.ts';
import { isIpLiteral } from '../nodes/exec.ts';

/**
 * How long the server container may run before its port must accept connections. iperf3 -s listens
 * milliseconds after it starts and kubelet probes every second (pods.ts periodSeconds), so Ready
 * follows within about 2 s; 10 s leaves a slow node room, while a server that does not listen at all
 * (wrong command or port, a crashing image) is reported long before --timeout.
 */
export const LISTEN_WINDOW_MS = 10_000;
/**
 * How long past its own deadline a client may take: iperf3 -t N ends N s after it connected, ping at
 * its -w deadline; connecting, the final result exchange and kubelet noticing the exit (a PLEG relist
 * every second, then a status write) take a few seconds at most.
 */
export const CLIENT_MARGIN_SECONDS = 10;

/** ping's -w deadline from its arguments (pods.ts pingArgs), in seconds. */
const pingDeadline = (args: readonly string[]): number | undefined => {
  const i = args.indexOf('-w');
  const n = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

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
  /** Host mode through the API: hostNetwork pods in `namespace`, measuring between the nodes' addresses. */
  readonly hostNetwork?: HostNetworkPods;
}

export interface HostNetworkPods {
  /** Flannel's namespace: its Pod Security admits hostNetwork pods. */
  readonly namespace: string;
  /** The addresses the nodes reach each other at (flannel's public-ip), as host mode over SSH uses. */
  readonly clientIP: string;
  readonly serverIP: string;
}

/** Node addresses from the API go into pod commands: plain IP literals only. */
const checkedIP = (what: string, address: string): string => {
  if (!isIpLiteral(address))
    throw new OperationError(`${what} ${JSON.stringify(address)} is not an IP address`);
  return address;
};

export const podDriver = (deps: PodDriverDeps): PathDriver => {
  const { kube, options, runId, signal } = deps;
  const host = deps.hostNetwork;
  const ns = host?.namespace ?? options.namespace;
  // Both paths may run in one bench: the host path's pods are told apart by name too.
  const prefix = host ? `bench-${runId}-host` : `bench-${runId}`;
  let serial = 0;
  let clientIP: string | null = host ? checkedIP('client node address', host.clientIP) : null;
  const serverAddress = host ? checkedIP('server node address', host.serverIP) : undefined;

  const create = (spec: BenchPodSpec) =>
    kube.apply(podObject(runId, options, host ? { ...spec, namespace: ns, hostNetwork: true } : spec), {
      fieldManager: FIELD_MANAGER,
      force: true,
    });

  const remove = (name: string) =>
    kube.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name }).catch(() => undefined);

  /** Runs a client pod to completion and returns its log; it is deleted right after. */
  const runClient = async (
    kind: string,
    image: string,
    command: readonly string[],
    what: string,
    parsesIperf3: boolean,
    expectedSeconds: number,
  ): Promise<ToolRun> => {
    const name = `${prefix}-${kind}-${++serial}`;
    // On the host network ping needs NET_RAW for its raw socket (hostPodSecurityContext); iperf3 nothing.
    const capabilities = kind === 'ping' ? ['NET_RAW'] : [];
    await create({ name, role: 'client', node: deps.clientNode, image, command, capabilities });
    try {
      const running = await waitForPod(kube, ns, name, 'running', deps.startTimeoutMs, signal);
      clientIP ??= running.status?.podIP ?? null;
      const before = await deps.cpu?.snapshot();
      const limit = expectedSeconds + CLIENT_MARGIN_SECONDS;
      const tool = command[0] ?? 'the client';
      const pod = await waitForPod(kube, ns, name, 'done', limit * 1000, signal, {
        onTimeout: async (last) => {
          const log = (await kube.podLog(ns, name).catch(() => '')).trim();
          const phase = last.status?.phase ?? 'Pending';
          return new OperationError(
            `${what}: pod ${ns}/${name} on ${deps.clientNode}: ${log ? `${tool} did not finish` : `no output from ${tool}`} after ${limit}s (phase ${phase}, expected to end after ${expectedSeconds}s)` +
              (await podEvidence(kube, ns, name)),
            `is the server pod reachable from ${deps.clientNode}? \`flannelctl doctor\` checks the pod network between the nodes`,
          );
        },
      });
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
    path: host ? 'host' : 'pod',
    setup: async () => {
      const name = `${prefix}-server`;
      await create({
        name,
        role: 'server',
        node: deps.serverNode,
        image: options.image,
        // --forceflush: iperf3 block-buffers a pipe, so without it `kubectl logs` (and the failure
        // message quoting the log) shows nothing until the server exits.
        command: ['iperf3', '-s', '-p', String(options.port), '--forceflush'],
        readyPort: options.port,
      });
      await waitForPod(kube, ns, name, 'running', deps.startTimeoutMs, signal);
      // Running: the container has started, so its port must open soon (capped by a shorter --timeout).
      const windowMs = Math.min(LISTEN_WINDOW_MS, deps.startTimeoutMs);
      const server = await waitForPod(kube, ns, name, 'ready', windowMs, signal, {
        onTimeout: async () =>
          new OperationError(
            `server pod ${ns}/${name} on ${deps.serverNode} is running but nothing listens on :${options.port} after ${Math.round(windowMs / 1000)}s` +
              (await podEvidence(kube, ns, name)),
            `the image (${options.image}) must run \`iperf3 -s -p ${options.port}\`; see its log and events above`,
          ),
      });
      // A hostNetwork pod's podIP is the node's InternalIP; flannel's public-ip is the path measured.
      if (serverAddress) return serverAddress;
      const serverIP = server.status?.podIP;
      if (!serverIP) throw new OperationError(`server pod ${ns}/${name} is Ready but has no podIP`);
      return serverIP;
    },
    clientIP: () => clientIP,
    iperf3: (args, what) =>
      runClient(
        what.includes('UDP') ? 'udp' : 'tcp',
        options.image,
        args,
        what,
        true,
        options.durationSeconds,
      ),
    ping: (args, what) =>
      runClient('ping', options.pingImage, args, what, false, pingDeadline(args) ?? options.durationSeconds),
  };
};
