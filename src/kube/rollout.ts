import type { KubeObject } from './kube-object.ts';

/** The DaemonSet fields the rollout logic reads. */
export interface DaemonSetLike extends KubeObject {
  spec?: { updateStrategy?: { type?: string } };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    numberReady?: number;
  };
}

export interface RolloutStatus {
  readonly done: boolean;
  readonly message: string;
}

/** Exactly kubectl's `rollout restart` patch: a timestamp annotation on the pod template. */
export const restartPatch = (now: Date) => ({
  spec: {
    template: {
      metadata: {
        annotations: { 'kubectl.kubernetes.io/restartedAt': now.toISOString().replace(/\.\d{3}Z$/, 'Z') },
      },
    },
  },
});

/** Mirrors kubectl's DaemonSetStatusViewer, so "done" means what `kubectl rollout status` means. */
export const daemonSetRolloutStatus = (ds: DaemonSetLike): RolloutStatus => {
  const name = ds.metadata.name;
  const strategy = ds.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate') {
    return {
      done: false,
      message: `rollout status is only available for RollingUpdate strategy type (${name} uses ${strategy})`,
    };
  }
  const status = ds.status ?? {};
  if (Number(ds.metadata.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return { done: false, message: 'Waiting for daemon set spec update to be observed...' };
  }
  const desired = status.desiredNumberScheduled ?? 0;
  const updated = status.updatedNumberScheduled ?? 0;
  const available = status.numberAvailable ?? 0;
  if (updated < desired) {
    return {
      done: false,
      message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
    };
  }
  if (available < desired) {
    return {
      done: false,
      message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`,
    };
  }
  return { done: true, message: `daemon set "${name}" successfully rolled out` };
};

export interface PodLike extends KubeObject {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { restartCount?: number; ready?: boolean }[];
  };
}

export const isPodReady = (pod: PodLike): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export interface NodeRolloutState {
  readonly node: string;
  readonly pod?: string;
  /** The pod runs the DaemonSet's current template. */
  readonly updated: boolean;
  readonly ready: boolean;
}

/**
 * Per node: is its pod from the current template generation and Ready? The DaemonSet controller labels
 * its pods with pod-template-generation, which is how kubectl's status and ours tell old pods from new.
 */
export const nodeRolloutStates = (ds: DaemonSetLike, pods: readonly PodLike[]): NodeRolloutState[] => {
  const generation = String(ds.metadata.generation ?? '');
  const byNode = new Map<string, NodeRolloutState>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node) continue;
    const updated = pod.metadata.labels?.['pod-template-generation'] === generation;
    const state = { node, pod: pod.metadata.name, updated, ready: isPodReady(pod) };
    const previous = byNode.get(node);
    // A node may briefly have an old and a new pod; the new one is what matters.
    if (!previous || (updated && !previous.updated)) byNode.set(node, state);
  }
  return [...byNode.values()].sort((a, b) => a.node.localeCompare(b.node));
};
