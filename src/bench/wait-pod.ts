// Waits for a bench pod by polling the API, and fails fast with the real cause instead of sitting out
// the timeout — the complaint users have with peer tools: kubelet's admission rejection (a NoExecute
// taint), image pull and config errors, a node whose kubelet does not start pods. Each error quotes the
// pod's own status and Events (pod-evidence.ts).
import { InterruptedError, OperationError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/kube-object.ts';
import { podEvidence } from './pod-evidence.ts';

export interface PodStatus {
  phase?: string;
  /** Written by kubelet with its first status of the pod. */
  startTime?: string;
  reason?: string;
  message?: string;
  podIP?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  containerStatuses?: {
    state?: {
      waiting?: { reason?: string; message?: string };
      running?: { startedAt?: string };
      terminated?: { exitCode?: number; reason?: string };
    };
  }[];
}

export type BenchPod = KubeObject & { status?: PodStatus; spec?: { nodeName?: string } };

/** ready: Ready condition; running: started or already finished; done: Succeeded or Failed. */
export type PodGoal = 'ready' | 'running' | 'done';

interface NodeLike extends KubeObject {
  spec?: { taints?: { key: string; value?: string; effect: string }[] };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);
const IMAGE_HINT =
  "check the image and the nodes' access to its registry (--image, --ping-image, --image-pull-secret)";
/**
 * How long a pod may stay Pending before bench asks whether its node's kubelet runs at all: a healthy
 * kubelet writes the pod's first status within a second of seeing it.
 */
export const NODE_CHECK_AFTER_MS = 3000;
const NODE_CHECK_EVERY_MS = 2000;
const POLL_MS = 200;

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** A cause the pod can never get past, with what to do about it. */
interface Blocker {
  readonly message: string;
  readonly hint: string;
}

/** kubelet.go rejectPod: phase Failed with the admission predicate's reason, before any container. */
const rejection = (status: PodStatus): boolean =>
  status.phase === 'Failed' && status.reason !== undefined && !(status.containerStatuses?.length ?? 0);

/** Why this pod can never reach its goal, or undefined while it still may. */
export const podBlocker = (pod: BenchPod, goal: PodGoal): Blocker | undefined => {
  const status = pod.status ?? {};
  if (rejection(status)) {
    return {
      message: `rejected by the kubelet (${status.reason}): ${status.message ?? 'no message'}`,
      hint:
        status.reason === 'TaintToleration'
          ? 'tolerate the NoExecute taint with --toleration KEY[=VALUE]:NoExecute, or pick other nodes with --from/--to'
          : 'pick other nodes with --from/--to',
    };
  }
  const unschedulable = status.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
  if (unschedulable)
    return {
      message: `unschedulable: ${unschedulable.message ?? 'no message'}`,
      hint: 'check taints (--toleration) or pick other nodes with --from/--to',
    };
  for (const c of status.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && FATAL_WAITING.has(waiting.reason))
      return {
        message: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`,
        hint: /Image/.test(waiting.reason) ? IMAGE_HINT : 'see the events above',
      };
    if (goal === 'ready' && waiting?.reason === 'CrashLoopBackOff')
      return { message: 'CrashLoopBackOff: the container keeps exiting', hint: 'see its log above' };
  }
  if (goal === 'ready' && (status.phase === 'Failed' || status.phase === 'Succeeded'))
    return { message: `the pod ended (${status.phase}) before it became Ready`, hint: 'see its log above' };
  return undefined;
};

const reached = (pod: BenchPod, goal: PodGoal): boolean => {
  const phase = pod.status?.phase;
  if (goal === 'done') return phase === 'Succeeded' || phase === 'Failed';
  if (goal === 'running') return phase === 'Running' || phase === 'Succeeded' || phase === 'Failed';
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
};

/** The node's NoExecute taints as --toleration takes them (key[=value]:effect). */
const noExecuteTaints = (node: NodeLike | undefined): string[] =>
  (node?.spec?.taints ?? [])
    .filter((t) => t.effect === 'NoExecute')
    .map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);

/** The node's Ready condition when it is not True: its kubelet does not start pods then. */
export const nodeNotReady = async (kube: KubeClient, nodeName: string): Promise<string | undefined> => {
  const nodes = await kube.list<NodeLike>('v1', 'Node');
  const node = nodes.find((n) => n.metadata.name === nodeName);
  if (!node) return 'the node no longer exists';
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return undefined;
  if (!ready) return 'no Ready condition';
  return `Ready=${ready.status}${ready.reason ? `, ${ready.reason}` : ''}${ready.message ? `: ${ready.message}` : ''}`;
};

export interface WaitOptions {
  /** Builds the error when the time is up (the pod as last seen); a generic one by default. */
  readonly onTimeout?: (pod: BenchPod) => Promise<OperationError>;
}

export const waitForPod = async (
  kube: KubeClient,
  namespace: string,
  name: string,
  goal: PodGoal,
  timeoutMs: number,
  signal?: AbortSignal,
  options: WaitOptions = {},
): Promise<BenchPod> => {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let nextNodeCheck = started + NODE_CHECK_AFTER_MS;
  for (;;) {
    if (signal?.aborted) throw new InterruptedError();
    const pod = await kube.get<BenchPod>({ apiVersion: 'v1', kind: 'Pod', namespace, name });
    if (!pod) throw new OperationError(`pod ${namespace}/${name} disappeared`);
    const node = pod.spec?.nodeName ?? '?';
    const where = `pod ${namespace}/${name} on ${node}`;
    const blocker = rejection(pod.status ?? {}) || !reached(pod, goal) ? podBlocker(pod, goal) : undefined;
    if (blocker) {
      let message = `${where}: ${blocker.message}`;
      let hint = blocker.hint;
      if (pod.status?.reason === 'TaintToleration') {
        const taints = await kube
          .list<NodeLike>('v1', 'Node')
          .then((nodes) => noExecuteTaints(nodes.find((n) => n.metadata.name === node)))
          .catch(() => []);
        if (taints.length > 0) {
          message += ` (${node} has taint ${taints.join(', ')})`;
          hint = `${taints.map((t) => `--toleration ${t}`).join(' ')} lets the bench pods run there, or pick other nodes with --from/--to`;
        }
      }
      throw new OperationError(message + (await podEvidence(kube, namespace, name, { log: false })), hint);
    }
    if (reached(pod, goal)) return pod;
    const phase = pod.status?.phase ?? 'Pending';
    if (phase === 'Pending' && Date.now() >= nextNodeCheck) {
      nextNodeCheck = Date.now() + NODE_CHECK_EVERY_MS;
      const notReady = await nodeNotReady(kube, node).catch(() => undefined);
      if (notReady) {
        throw new OperationError(
          `node ${node} is NotReady (${notReady}): its kubelet does not start pods; ${where} is still ${phase}${pod.status?.startTime ? '' : ' with no status from a kubelet'}` +
            (await podEvidence(kube, namespace, name, { log: false })),
          'bench needs two Ready nodes: pick them with --from and --to (kubectl get nodes)',
        );
      }
    }
    if (Date.now() > deadline) {
      if (options.onTimeout) throw await options.onTimeout(pod);
      throw new OperationError(
        `${where} did not become ${goal === 'ready' ? 'Ready' : goal === 'running' ? 'Running' : 'complete'} within ${Math.round(timeoutMs / 1000)}s (phase ${phase})` +
          (await podEvidence(kube, namespace, name)),
        'raise --timeout, or see `kubectl describe pod` in that namespace',
      );
    }
    await sleep(POLL_MS, signal);
  }
};
