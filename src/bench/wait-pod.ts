// Waits for a bench pod by polling the API, and fails fast with the real cause (unschedulable, image
// pull, config error) instead of sitting out the timeout — the complaint users have with peer tools.
import { InterruptedError, OperationError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/kube-object.ts';

export interface PodStatus {
  phase?: string;
  podIP?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  containerStatuses?: {
    state?: {
      waiting?: { reason?: string; message?: string };
      terminated?: { exitCode?: number; reason?: string };
    };
  }[];
}

export type BenchPod = KubeObject & { status?: PodStatus };

/** ready: Ready condition; running: started or already finished; done: Succeeded or Failed. */
export type PodGoal = 'ready' | 'running' | 'done';

const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

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

/** Why this pod can never reach its goal, or undefined while it still may. */
export const podBlocker = (pod: BenchPod, goal: PodGoal): string | undefined => {
  const status = pod.status ?? {};
  const unschedulable = status.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
  if (unschedulable) return `unschedulable: ${unschedulable.message ?? 'no message'}`;
  for (const c of status.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && FATAL_WAITING.has(waiting.reason))
      return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
    if (goal === 'ready' && waiting?.reason === 'CrashLoopBackOff')
      return 'CrashLoopBackOff: the container keeps exiting';
  }
  if (goal === 'ready' && (status.phase === 'Failed' || status.phase === 'Succeeded'))
    return `the pod ended (${status.phase}) before it became Ready`;
  return undefined;
};

const reached = (pod: BenchPod, goal: PodGoal): boolean => {
  const phase = pod.status?.phase;
  if (goal === 'done') return phase === 'Succeeded' || phase === 'Failed';
  if (goal === 'running') return phase === 'Running' || phase === 'Succeeded' || phase === 'Failed';
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
};

export const waitForPod = async (
  kube: KubeClient,
  namespace: string,
  name: string,
  goal: PodGoal,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<BenchPod> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new InterruptedError();
    const pod = await kube.get<BenchPod>({ apiVersion: 'v1', kind: 'Pod', namespace, name });
    if (!pod) throw new OperationError(`pod ${namespace}/${name} disappeared`);
    if (reached(pod, goal)) return pod;
    const blocker = podBlocker(pod, goal);
    if (blocker) {
      throw new OperationError(
        `pod ${namespace}/${name} on ${(pod.spec as { nodeName?: string }).nodeName}: ${blocker}`,
        'check the image (--image, --image-pull-secret) and taints (--toleration)',
      );
    }
    if (Date.now() > deadline) {
      throw new OperationError(
        `pod ${namespace}/${name} did not become ${goal === 'ready' ? 'Ready' : goal === 'running' ? 'Running' : 'complete'} within ${Math.round(timeoutMs / 1000)}s (phase ${pod.status?.phase ?? 'unknown'})`,
        'raise --timeout, or see `kubectl describe pod` in that namespace',
      );
    }
    await sleep(200, signal);
  }
};
