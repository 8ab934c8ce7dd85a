// A kubelet for every node at once: a pod bound to a node goes Pending -> Running and becomes Ready
// after a delay, once every onPodStarted hook has resolved, and never on a "never ready" node. A hook
// that runs the pod for real (the lab's pod runner) may give its IP and later report its exit. A hook
// whose sandbox failed (PodSandboxError, e.g. CNI ADD) leaves the pod Pending in ContainerCreating, is
// recorded as kubelet records it (kuberuntime_manager.go SyncPod: FailedCreatePodSandBox, "Failed to
// create pod sandbox: %v") and is tried again after the pod worker's backoff (pod_workers.go: an error
// requeues the pod after wait.Jitter(backOffPeriod, 0.5), backOffPeriod = 10 s in kubelet.go).
import type { KubeObject } from '../cluster-seed.ts';
import type { Registry } from './registry.ts';
import { resourceByName } from './resources.ts';
import type { Store } from './store.ts';
import { now } from './managed-fields.ts';
import { isIP } from 'node:net';
import { EventRecorder } from './event-recorder.ts';

/**
 * RunPodSandbox failed; the message is the runtime's gRPC error as kubelet sees it, e.g.
 * `rpc error: code = Unknown desc = failed to setup network for sandbox "<id>": plugin type="flannel" failed (add): …`.
 */
export class PodSandboxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PodSandboxError';
  }
}

/** What a hook that really runs the pod knows about it: the address of the sandbox it created. */
export interface PodStarted {
  readonly podIP?: string;
}

export type PodHook = (pod: KubeObject) => void | PodStarted | Promise<void | PodStarted>;

/** How the (only) container ended, as the runtime reports it. */
export interface ContainerExit {
  readonly exitCode: number;
  /** "Completed" / "Error" by default, as containerd reports them. */
  readonly reason?: string;
  readonly message?: string;
}

export interface KubeletOptions {
  readonly readyDelayMs: number;
  readonly neverReady: (nodeName: string) => boolean;
  /** The pod worker's backoff before a failed sandbox is tried again (jittered by up to half). */
  readonly sandboxRetryMs: number;
}

const PODS = resourceByName('pods');
const NODES = resourceByName('nodes');

interface Container {
  name: string;
  image?: string;
}

export class Kubelet {
  readonly startedHooks = new Set<PodHook>();
  readonly deletedHooks = new Set<PodHook>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly nextPodIP = new Map<string, number>();
  /** By pod uid: settles once the Running status is written, so an exit is never reported before it. */
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;
  private readonly unsubscribe: () => void;
  private readonly events: EventRecorder;

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly options: KubeletOptions,
  ) {
    this.events = new EventRecorder(registry);
    this.unsubscribe = store.subscribe((event) => {
      if (event.resource !== PODS) return;
      const node = (event.object.spec as { nodeName?: string } | undefined)?.nodeName;
      if (event.type === 'DELETED') {
        this.running.delete(event.object.metadata!.uid!);
        for (const hook of this.deletedHooks)
          void Promise.resolve()
            .then(() => hook(event.object))
            .catch(() => undefined);
        return;
      }
      const wasBound = (event.previous?.spec as { nodeName?: string } | undefined)?.nodeName;
      // Deferred: a listener must not write while the store is still telling other listeners.
      if (node && !wasBound) setImmediate(() => !this.stopped && this.start(event.object, node));
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
  }

  private later(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** Runs a started hook; a failed sandbox is an event on the pod and another try after the backoff. */
  private async runHook(hook: PodHook, pod: KubeObject, nodeName: string, alive: () => boolean) {
    for (;;) {
      try {
        return await hook(pod);
      } catch (error) {
        if (!(error instanceof PodSandboxError) || !alive()) throw error;
        const live = this.store.get(PODS, pod.metadata!.namespace!, pod.metadata!.name!) ?? pod;
        this.events.record({ component: 'kubelet', host: nodeName }, live, {
          type: 'Warning',
          reason: 'FailedCreatePodSandBox',
          message: `Failed to create pod sandbox: ${error.message}`,
        });
        await this.later(this.options.sandboxRetryMs * (1 + 0.5 * Math.random()));
        if (!alive()) throw error;
      }
    }
  }

  private start(pod: KubeObject, nodeName: string): void {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const uid = pod.metadata!.uid!;
    const node = this.store.get(NODES, undefined, nodeName);
    const hostIP = internalIP(node);
    const spec = pod.spec as { containers?: Container[]; hostNetwork?: boolean };
    let podIP = spec.hostNetwork ? hostIP : this.allocatePodIP(node);
    const startTime = now();
    const current = () => {
      const p = this.store.get(PODS, ns, name);
      return p && p.metadata?.uid === uid && !this.stopped ? p : undefined;
    };
    const writeStatus = (status: Record<string, unknown>) => {
      if (!current()) return;
      try {
        this.registry.writeStatus(PODS, ns, name, status, 'kubelet');
      } catch {
        /* the pod went away meanwhile */
      }
    };
    const containers = spec.containers ?? [];
    writeStatus({
      phase: 'Pending',
      conditions: conditions({
        sandboxReady: false,
        scheduled: true,
        initialized: true,
        ready: false,
        reason: 'ContainersNotReady',
        names: containers,
      }),
      ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
      startTime,
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason: 'ContainerCreating' } },
      })),
      qosClass: 'BestEffort',
    });
    const hooks = [...this.startedHooks].map((hook) =>
      Promise.resolve().then(() => this.runHook(hook, pod, nodeName, () => current() !== undefined)),
    );
    const wrote = Promise.allSettled([this.later(this.options.readyDelayMs), ...hooks]).then((results) => {
      const live = current();
      if (!live) return;
      const failed = results.some((r) => r.status === 'rejected');
      // The sandbox a hook created has the pod's address; otherwise one is handed out as a bridge CNI would.
      const given = results
        .map((r) => (r.status === 'fulfilled' ? (r.value as PodStarted | undefined)?.podIP : undefined))
        .find((ip) => ip !== undefined);
      if (!spec.hostNetwork && given) podIP = given;
      const ready = !failed && !this.options.neverReady(nodeName);
      const started = now();
      writeStatus({
        phase: 'Running',
        conditions: conditions({
          sandboxReady: true,
          scheduled: true,
          initialized: true,
          ready,
          reason: 'ContainersNotReady',
          names: containers,
        }),
        ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
        ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
        startTime,
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: `${c.image ?? ''}@sha256:${'0'.repeat(64)}`,
          containerID: `containerd://${uid.replace(/-/g, '')}${c.name.length}`,
          ready,
          restartCount: failed ? 1 : 0,
          started: !failed,
          state: failed
            ? {
                waiting: {
                  reason: 'CrashLoopBackOff',
                  message: `back-off 10s restarting failed container=${c.name} pod=${name}_${ns}(${uid})`,
                },
              }
            : { running: { startedAt: started } },
        })),
        qosClass: 'BestEffort',
      });
    });
    this.running.set(uid, wrote);
  }

  /**
   * The container of a running pod exited: with restartPolicy Never/OnFailure (after success) the pod
   * ends Succeeded or Failed; with Always it stays Running, not ready, as in a crash loop.
   */
  async containerExited(namespace: string, name: string, uid: string, exit: ContainerExit): Promise<void> {
    await this.running.get(uid);
    const pod = this.store.get(PODS, namespace, name);
    if (!pod || pod.metadata?.uid !== uid || this.stopped) return;
    const spec = pod.spec as { containers?: Container[]; restartPolicy?: string };
    const status = (pod.status ?? {}) as Record<string, unknown> & {
      containerStatuses?: Record<string, unknown>[];
    };
    const policy = spec.restartPolicy ?? 'Always';
    const final = policy === 'Never' || (policy === 'OnFailure' && exit.exitCode === 0);
    const phase = !final ? 'Running' : exit.exitCode === 0 ? 'Succeeded' : 'Failed';
    const finishedAt = now();
    const startedAt = (status.startTime as string | undefined) ?? finishedAt;
    const terminated = {
      exitCode: exit.exitCode,
      reason: exit.reason ?? (exit.exitCode === 0 ? 'Completed' : 'Error'),
      ...(exit.message ? { message: exit.message } : {}),
      startedAt,
      finishedAt,
      containerID: `containerd://${uid.replace(/-/g, '')}`,
    };
    const containers = spec.containers ?? [];
    try {
      this.registry.writeStatus(
        PODS,
        namespace,
        name,
        {
          ...status,
          phase,
          conditions: conditions({
            scheduled: true,
            initialized: true,
            ready: false,
            reason: final ? 'PodCompleted' : 'ContainersNotReady',
            names: containers,
          }),
          containerStatuses: (status.containerStatuses ?? []).map((c) => ({
            ...c,
            ready: false,
            started: false,
            state: final
              ? { terminated }
              : {
                  waiting: {
                    reason: 'CrashLoopBackOff',
                    message: `back-off 10s restarting failed container`,
                  },
                },
            ...(final ? {} : { lastState: { terminated } }),
          })),
        },
        'kubelet',
      );
    } catch {
      /* the pod went away meanwhile */
    }
  }

  /** Pod IPs from the node's podCIDR, .2 upwards, as a bridge CNI would hand them out. */
  private allocatePodIP(node: KubeObject | undefined): string | undefined {
    const cidr = (node?.spec as { podCIDR?: string } | undefined)?.podCIDR;
    if (!node || !cidr || !cidr.includes('.')) return undefined;
    const [base] = cidr.split('/');
    const octets = base!.split('.').map(Number);
    const n = (this.nextPodIP.get(node.metadata!.name!) ?? 1) + 1;
    this.nextPodIP.set(node.metadata!.name!, n > 250 ? 1 : n);
    return [octets[0], octets[1], octets[2], (octets[3] ?? 0) + n].join('.');
  }
}

export const internalIP = (node: KubeObject | undefined): string | undefined => {
  const addresses =
    (node?.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? [];
  const ip = addresses.find((a) => a.type === 'InternalIP')?.address;
  return ip && isIP(ip) ? ip : undefined;
};

const conditions = (o: {
  /** PodReadyToStartContainers: the sandbox exists with its network (status/generate.go). */
  sandboxReady?: boolean;
  scheduled: boolean;
  initialized: boolean;
  ready: boolean;
  reason: string;
  names: Container[];
}) => {
  const t = now();
  const notReady = (type: string) => ({
    type,
    status: 'False',
    lastProbeTime: null,
    lastTransitionTime: t,
    reason: o.reason,
    message: `containers with unready status: [${o.names.map((c) => c.name).join(' ')}]`,
  });
  return [
    {
      type: 'PodReadyToStartContainers',
      status: o.sandboxReady === false ? 'False' : 'True',
      lastProbeTime: null,
      lastTransitionTime: t,
    },
    {
      type: 'Initialized',
      status: o.initialized ? 'True' : 'False',
      lastProbeTime: null,
      lastTransitionTime: t,
    },
    o.ready
      ? { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: t }
      : notReady('Ready'),
    o.ready
      ? { type: 'ContainersReady', status: 'True', lastProbeTime: null, lastTransitionTime: t }
      : notReady('ContainersReady'),
    {
      type: 'PodScheduled',
      status: o.scheduled ? 'True' : 'False',
      lastProbeTime: null,
      lastTransitionTime: t,
    },
  ];
};
