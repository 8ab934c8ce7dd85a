// A kubelet for every node at once: a pod bound to a node goes Pending -> Running and becomes Ready
// after a delay, once every onPodStarted hook has resolved, and never on a "never ready" node.
import type { KubeObject } from '../cluster-seed.ts';
import type { Registry } from './registry.ts';
import { resourceByName } from './resources.ts';
import type { Store } from './store.ts';
import { now } from './managed-fields.ts';
import { isIP } from 'node:net';

export type PodHook = (pod: KubeObject) => void | Promise<void>;

export interface KubeletOptions {
  readonly readyDelayMs: number;
  readonly neverReady: (nodeName: string) => boolean;
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
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly options: KubeletOptions,
  ) {
    this.unsubscribe = store.subscribe((event) => {
      if (event.resource !== PODS) return;
      const node = (event.object.spec as { nodeName?: string } | undefined)?.nodeName;
      if (event.type === 'DELETED') {
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

  private start(pod: KubeObject, nodeName: string): void {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const uid = pod.metadata!.uid!;
    const node = this.store.get(NODES, undefined, nodeName);
    const hostIP = internalIP(node);
    const spec = pod.spec as { containers?: Container[]; hostNetwork?: boolean };
    const podIP = spec.hostNetwork ? hostIP : this.allocatePodIP(node);
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
    const hooks = [...this.startedHooks].map((hook) => Promise.resolve().then(() => hook(pod)));
    void Promise.allSettled([this.later(this.options.readyDelayMs), ...hooks]).then((results) => {
      const live = current();
      if (!live) return;
      const failed = results.some((r) => r.status === 'rejected');
      const ready = !failed && !this.options.neverReady(nodeName);
      const started = now();
      writeStatus({
        phase: 'Running',
        conditions: conditions({
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
    { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: t },
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
