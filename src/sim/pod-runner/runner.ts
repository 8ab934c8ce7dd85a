// Runs the API emulator's pods for real in a lab: a non-hostNetwork pod bound to a lab node becomes a
// network namespace on that node's cni0 running the container's command (`ip netns exec`), with its
// output served by pods/log, its address in status.podIP, its exit as the pod's final phase, and
// everything killed and deleted with the pod. A hostNetwork pod (bench's host path) runs its command in
// the node's own namespace with only the capabilities its securityContext grants (container-caps.ts),
// its podIP the node's address as kubelet reports it; flannel's and the node-access pods are left to
// their own emulators (src/sim/flannel-agent, src/sim/node-access-pods.ts and kube-exec's pods/exec).
// A sandbox whose CNI ADD fails (PodSandboxError) is left to the emulator's kubelet: it records
// FailedCreatePodSandBox on the pod and calls this hook again after its backoff.
// A tcpSocket readiness probe is run for real in the pod's namespace, for the emulator's kubelet to
// call every periodSeconds: Ready when something listens, else an Unhealthy event worded as kubelet's
// TCP prober reports a refused connection (pkg/probe/tcp/tcp.go: the dial error itself).
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { ApiServer } from '../apiserver/index.ts';
import type { KubeObject } from '../cluster-seed.ts';
import type { Lab } from '../../lab/types.ts';
import { APP_LABEL } from '../../flannel/names.ts';
import { NODE_ACCESS_LABEL } from '../../nodes/kube-exec-pod.ts';
import { containerPrivArgs } from '../container-caps.ts';
import { LineBuffer } from './line-buffer.ts';
import { createSandbox, deleteSandbox, listening, type Sandbox } from './sandbox.ts';

export interface PodRunnerOptions {
  readonly api: ApiServer;
  readonly lab: Lab;
}

export interface RunningPod {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly netns: string;
  readonly podIP: string;
  /** Runs in the node's own namespace (netns is the node's). */
  readonly hostNetwork: boolean;
}

export interface PodRunner {
  /** Pods that have a sandbox right now. */
  pods(): RunningPod[];
  /** Stops running pods: kills every process and deletes every sandbox. */
  close(): Promise<void>;
}

interface PodSpec {
  nodeName?: string;
  hostNetwork?: boolean;
  containers?: {
    name?: string;
    command?: string[];
    args?: string[];
    readinessProbe?: { tcpSocket?: { port?: number | string } };
  }[];
}

interface Entry {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  sandbox?: Sandbox;
  /** A hostNetwork pod: its process runs in the node's namespace, in a process group of its own. */
  host?: { readonly node: string; readonly netns: string; readonly address: string };
  child?: ChildProcess;
  exited: boolean;
  deleted: boolean;
  removal?: Promise<void>;
}

/**
 * flannel's DaemonSet pods (the flannel agent emulator runs them) and node-access pods (kube-exec's are
 * exec'd into, daemonset's run by node-access-pods.ts): both hostNetwork, neither for this runner.
 */
const hasOwnEmulator = (pod: KubeObject): boolean => {
  const labels = pod.metadata?.labels ?? {};
  return labels.app === APP_LABEL.app || labels[NODE_ACCESS_LABEL] !== undefined;
};

/** The (only) container, its argv and the port its tcpSocket readiness probe checks. */
const containerOf = (spec: PodSpec) => {
  const container = spec.containers?.[0];
  const argv = [...(container?.command ?? []), ...(container?.args ?? [])];
  const port = Number(container?.readinessProbe?.tcpSocket?.port);
  return { container, argv, port: Number.isInteger(port) && port > 0 ? port : undefined };
};

/** The container's process, or on the host network its whole process group. */
const signalContainer = (entry: Entry, child: ChildProcess, signal: NodeJS.Signals): void => {
  try {
    if (entry.host && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    /* already gone */
  }
};

const exitCodeOf = (code: number | null, signal: NodeJS.Signals | null): number =>
  code ?? 128 + (signal ? (constants.signals[signal] ?? 9) : 9);

export const startPodRunner = (options: PodRunnerOptions): PodRunner => {
  const { api, lab } = options;
  const entries = new Map<string, Entry>();
  let serial = 0;
  let closed = false;

  const remove = (entry: Entry): Promise<void> => {
    entry.deleted = true;
    entry.removal ??= (async () => {
      const child = entry.child;
      if (child && !entry.exited) {
        // What the runtime does on pod deletion: TERM, then KILL after a short grace period.
        signalContainer(entry, child, 'SIGTERM');
        const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
        await Promise.race([gone, new Promise((r) => setTimeout(r, 2000).unref())]);
        // No sandbox to tear down on the host network: whatever the container left runs on the node.
        if (entry.host) signalContainer(entry, child, 'SIGKILL');
      }
      if (entry.sandbox) await deleteSandbox(lab, entry.sandbox);
      entries.delete(entry.uid);
    })();
    return entry.removal;
  };

  const runContainer = (entry: Entry, netns: string, argv: readonly string[]): ChildProcess => {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // On the host network its process group is what the pod's deletion kills.
      detached: entry.host !== undefined,
    });
    const log = new LineBuffer((text) => {
      if (entry.deleted) return;
      try {
        api.appendPodLog(entry.namespace, entry.name, text);
      } catch {
        /* the pod is gone */
      }
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
    child.on('error', (error) => log.push(`${error.message}\n`));
    child.once('close', (code, signal) => {
      entry.exited = true;
      log.flush();
      if (entry.deleted || closed) return;
      void api.podExited(entry.namespace, entry.name, entry.uid, { exitCode: exitCodeOf(code, signal) });
    });
    return child;
  };

  /** The tcpSocket probe: undefined when the port accepts connections, else the dial error. */
  const tcpProbe = (netns: string, address: string, port: number) => async (): Promise<string | undefined> =>
    (await listening(netns, port)) ? undefined : `dial tcp ${address}:${port}: connect: connection refused`;

  const offStarted = api.onPodStarted(async (pod: KubeObject) => {
    const spec = (pod.spec ?? {}) as PodSpec;
    const node = lab.nodes.find((n) => n.name === spec.nodeName);
    if (closed || !node || hasOwnEmulator(pod)) return;
    const entry: Entry = {
      namespace: pod.metadata!.namespace!,
      name: pod.metadata!.name!,
      uid: pod.metadata!.uid!,
      exited: false,
      deleted: false,
    };
    if (spec.hostNetwork) {
      entry.host = { node: node.name, netns: node.netns, address: node.address };
      entries.set(entry.uid, entry);
      const { container, argv, port } = containerOf(spec);
      if (argv.length > 0)
        entry.child = runContainer(entry, node.netns, [
          ...containerPrivArgs(pod, container?.name ?? ''),
          ...argv,
        ]);
      return {
        podIP: node.address,
        ...(port !== undefined ? { probe: tcpProbe(node.netns, node.address, port) } : {}),
      };
    }
    entries.set(entry.uid, entry);
    let sandbox: Sandbox;
    try {
      sandbox = await createSandbox(lab, node, ++serial);
    } catch (error) {
      entries.delete(entry.uid);
      throw error;
    }
    if (entry.deleted || closed) {
      // Deleted while the sandbox was being created: its removal ran without it.
      await deleteSandbox(lab, sandbox);
      entries.delete(entry.uid);
      throw new Error('pod deleted while its sandbox was created');
    }
    entry.sandbox = sandbox;
    const { argv, port } = containerOf(spec);
    // No command: a pause container, the namespace alone.
    if (argv.length > 0) entry.child = runContainer(entry, sandbox.netns, argv);
    return {
      podIP: sandbox.address,
      ...(port !== undefined ? { probe: tcpProbe(sandbox.netns, sandbox.address, port) } : {}),
    };
  });

  const offDeleted = api.onPodDeleted(async (pod: KubeObject) => {
    const entry = entries.get(pod.metadata!.uid!);
    if (entry) await remove(entry);
  });

  return {
    pods: () =>
      [...entries.values()]
        .filter((e) => (e.sandbox || e.host) && !e.deleted)
        .map((e) => {
          const where = e.sandbox ?? e.host!;
          return {
            namespace: e.namespace,
            name: e.name,
            node: where.node,
            netns: where.netns,
            podIP: where.address,
            hostNetwork: e.host !== undefined,
          };
        }),
    close: async () => {
      closed = true;
      offStarted();
      offDeleted();
      await Promise.all([...entries.values()].map((e) => remove(e)));
    },
  };
};
