// A kubelet for every node at once: a pod bound to a node goes Pending -> Running and becomes Ready
// after a delay, once every onPodStarted hook has resolved, and never on a "never ready" node. A hook
// that runs the pod for real (the lab's pod runner) may give its IP and later report its exit. A hook
// whose sandbox failed (PodSandboxError, e.g. CNI ADD) leaves the pod Pending in ContainerCreating, is
// recorded as kubelet records it (kuberuntime_manager.go SyncPod: FailedCreatePodSandBox, "Failed to
// create pod sandbox: %v") and is tried again after the pod worker's backoff (pod_workers.go: an error
// requeues the pod after wait.Jitter(backOffPeriod, 0.5), backOffPeriod = 10 s in kubelet.go).
// Before that, as kubelet does: a node whose kubelet stopped posting status (Ready Unknown) picks up no
// pod until it is back; a NoExecute taint the pod does not tolerate rejects it (kubelet-admission.ts);
// an image that cannot be pulled keeps it in ErrImagePull / ImagePullBackOff (image-pull.ts). A
// tcpSocket readiness probe is run through the hook's probe when it gives one, every periodSeconds,
// each failure an Unhealthy event as pkg/kubelet/prober/prober.go records it ("Readiness probe
// failed: <output>"); on a "never ready" node it is refused like a port nobody listens on.
import type { KubeObject } from '../cluster-seed.ts';
import type { Registry } from './registry.ts';
import { resourceByName } from './resources.ts';
import type { Store } from './store.ts';
import { now } from './managed-fields.ts';
import { isIP } from 'node:net';
import { EventRecorder } from './event-recorder.ts';
import { admissionRejection, type Rejection } from './kubelet-admission.ts';
import { imagePullFailure, type ImageFailure } from './image-pull.ts';

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
  /** Runs the container's tcpSocket readiness probe for real: undefined when it passed, else its output. */
  readonly probe?: () => Promise<string | undefined>;
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
  readinessProbe?: { tcpSocket?: { port?: number | string }; periodSeconds?: number };
}

/** kubelet.go: the image pull backoff starts at backOffPeriod (10 s) and doubles up to 300 s. */
const IMAGE_BACKOFF_MAX_MS = 300_000;

/** A node whose Ready condition is Unknown: the node lifecycle controller's word for a silent kubelet. */
const kubeletSilent = (node: KubeObject | undefined): boolean =>
  (node?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some(
    (c) => c.type === 'Ready' && c.status === 'Unknown',
  ) === true;

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
      if (event.resource === NODES && event.type !== 'DELETED') {
        // A kubelet that posts status again syncs the pods bound to it meanwhile.
        if (kubeletSilent(event.previous) && !kubeletSilent(event.object))
          setImmediate(() => !this.stopped && this.pickUp(event.object.metadata!.name!));
        return;
      }
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

  /** The pods bound to a node that its kubelet never started (no status of kubelet's yet). */
  private pickUp(nodeName: string): void {
    for (const pod of this.store.list(PODS)) {
      const spec = pod.spec as { nodeName?: string } | undefined;
      if (spec?.nodeName === nodeName && !(pod.status as { startTime?: string } | undefined)?.startTime)
        this.start(pod, nodeName);
    }
  }

  /** kubelet.go rejectPod: the event, then the pod Failed with the predicate's reason. */
  private reject(pod: KubeObject, nodeName: string, rejection: Rejection): void {
    this.events.record({ component: 'kubelet', host: nodeName }, pod, {
      type: 'Warning',
      reason: rejection.reason,
      message: rejection.message,
    });
    try {
      this.registry.writeStatus(
        PODS,
        pod.metadata!.namespace!,
        pod.metadata!.name!,
        {
          phase: 'Failed',
          reason: rejection.reason,
          message: `Pod was rejected: ${rejection.message}`,
          qosClass: 'BestEffort',
        },
        'kubelet',
      );
    } catch {
      /* the pod went away meanwhile */
    }
  }

  private start(pod: KubeObject, nodeName: string): void {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const uid = pod.metadata!.uid!;
    const node = this.store.get(NODES, undefined, nodeName);
    if (kubeletSilent(node)) return;
    const rejection = admissionRejection(pod, node);
    if (rejection) return this.reject(pod, nodeName, rejection);
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
    const unpullable = containers
      .map((c) => ({ container: c, failure: imagePullFailure(c.image ?? '') }))
      .find((x) => x.failure !== undefined);
    if (unpullable) {
      // The sandbox exists (its address too); the runtime never gets a container to run.
      const base = {
        phase: 'Pending',
        conditions: conditions({
          scheduled: true,
          initialized: true,
          ready: false,
          reason: 'ContainersNotReady',
          names: containers,
        }),
        ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
        ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
        startTime,
        qosClass: 'BestEffort',
      };
      void this.pullLoop(
        pod,
        nodeName,
        unpullable.container,
        unpullable.failure!,
        (waiting) =>
          writeStatus({
            ...base,
            containerStatuses: containers.map((c) => ({
              name: c.name,
              image: c.image ?? '',
              imageID: '',
              ready: false,
              restartCount: 0,
              started: false,
              state: { waiting: c === unpullable.container ? waiting : { reason: 'PodInitializing' } },
            })),
          }),
        () => current() !== undefined,
      );
      return;
    }
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
      const probe = results
        .map((r) => (r.status === 'fulfilled' ? (r.value as PodStarted | undefined)?.probe : undefined))
        .find((p) => p !== undefined);
      const probed = containers[0]?.readinessProbe?.tcpSocket?.port;
      const neverReady = this.options.neverReady(nodeName);
      // A probe to run decides readiness from now on; a hook that gave none vouched for the container.
      const probing = !failed && probed !== undefined && (probe !== undefined || neverReady);
      const ready = !failed && !neverReady && !probing;
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
      if (probing) {
        const refused = async () => `dial tcp ${podIP ?? ''}:${probed}: connect: connection refused`;
        void this.probeLoop(ns, name, uid, nodeName, containers, neverReady ? refused : probe!);
      }
    });
    this.running.set(uid, wrote);
  }

  /**
   * kubelet's pull attempts for an image that cannot be pulled: Pulling, Failed and ErrImagePull; then,
   * at each pod worker resync while the image backoff runs, BackOff and ImagePullBackOff; the backoff
   * doubles after every failed pull.
   */
  private async pullLoop(
    pod: KubeObject,
    nodeName: string,
    container: Container,
    failure: ImageFailure,
    setWaiting: (waiting: { reason: string; message: string }) => void,
    alive: () => boolean,
  ): Promise<void> {
    const source = { component: 'kubelet', host: nodeName };
    const image = container.image ?? '';
    const live = () => this.store.get(PODS, pod.metadata!.namespace!, pod.metadata!.name!) ?? pod;
    const record = (type: 'Normal' | 'Warning', reason: string, message: string) =>
      this.events.record(source, live(), { type, reason, message });
    if (failure.reason === 'InvalidImageName') {
      record('Warning', 'InspectFailed', failure.message);
      record('Warning', 'Failed', 'Error: InvalidImageName');
      setWaiting({ reason: 'InvalidImageName', message: failure.message });
      return;
    }
    let backoff = this.options.sandboxRetryMs;
    let retryAt = 0;
    while (alive()) {
      if (Date.now() < retryAt) {
        const message = `Back-off pulling image "${image}"`;
        record('Normal', 'BackOff', message);
        record('Warning', 'Failed', 'Error: ImagePullBackOff');
        setWaiting({ reason: 'ImagePullBackOff', message });
      } else {
        record('Normal', 'Pulling', `Pulling image "${image}"`);
        record('Warning', 'Failed', `Failed to pull image "${image}": ${failure.message}`);
        record('Warning', 'Failed', 'Error: ErrImagePull');
        setWaiting({ reason: 'ErrImagePull', message: failure.message });
        retryAt = Date.now() + backoff;
        backoff = Math.min(backoff * 2, IMAGE_BACKOFF_MAX_MS);
      }
      await this.later(this.options.sandboxRetryMs * (1 + 0.5 * Math.random()));
    }
  }

  /** The readiness prober's worker: probe every periodSeconds until it passes or the container is gone. */
  private async probeLoop(
    namespace: string,
    name: string,
    uid: string,
    nodeName: string,
    containers: Container[],
    probe: () => Promise<string | undefined>,
  ): Promise<void> {
    const periodMs = Math.max(1, Number(containers[0]?.readinessProbe?.periodSeconds ?? 10)) * 1000;
    const running = () => {
      const pod = this.store.get(PODS, namespace, name);
      const status = pod?.status as { phase?: string; containerStatuses?: { state?: object }[] } | undefined;
      const state = status?.containerStatuses?.[0]?.state as { running?: unknown } | undefined;
      return pod?.metadata?.uid === uid && !this.stopped && status?.phase === 'Running' && state?.running
        ? pod
        : undefined;
    };
    while (running()) {
      const output = await probe().catch((error: Error) => error.message);
      const pod = running();
      if (!pod) return;
      if (output === undefined) {
        const status = pod.status as Record<string, unknown> & { containerStatuses?: object[] };
        try {
          this.registry.writeStatus(
            PODS,
            namespace,
            name,
            {
              ...status,
              conditions: conditions({
                scheduled: true,
                initialized: true,
                ready: true,
                reason: 'ContainersNotReady',
                names: containers,
              }),
              containerStatuses: (status.containerStatuses ?? []).map((c) => ({ ...c, ready: true })),
            },
            'kubelet',
          );
        } catch {
          /* the pod went away meanwhile */
        }
        return;
      }
      this.events.record({ component: 'kubelet', host: nodeName }, pod, {
        type: 'Warning',
        reason: 'Unhealthy',
        message: `Readiness probe failed: ${output}`,
      });
      await this.later(periodMs);
    }
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
