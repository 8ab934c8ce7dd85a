import type { ListrTask } from 'listr2';
import { OperationError } from '../errors.ts';
import type { KubeClient } from './client.ts';
import type { FlannelDaemonSet } from './discover.ts';
import { daemonSetRolloutStatus, nodeRolloutStates, type NodeRolloutState, type PodLike } from './rollout.ts';

export interface RolloutSnapshot {
  readonly daemonSet: FlannelDaemonSet;
  readonly nodes: readonly NodeRolloutState[];
  readonly done: boolean;
  readonly message: string;
}

const POLL_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const readRollout = async (
  kube: KubeClient,
  namespace: string,
  name: string,
): Promise<RolloutSnapshot> => {
  const daemonSet = await kube.get<FlannelDaemonSet>({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    namespace,
    name,
  });
  if (!daemonSet)
    throw new OperationError(`daemonset ${namespace}/${name} disappeared while waiting for its rollout`);
  const selector = Object.entries(daemonSet.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await kube.list<PodLike>('v1', 'Pod', { namespace, labelSelector: selector });
  const status = daemonSetRolloutStatus(daemonSet);
  return { daemonSet, nodes: nodeRolloutStates(daemonSet, pods), ...status };
};

/**
 * Watches a DaemonSet rollout as listr2 tasks: one row per node that turns green when the node's pod
 * runs the current template and is Ready. One poller feeds all rows, so the API sees one GET and one
 * LIST per interval whatever the node count.
 */
export const rolloutTasks = <Ctx extends { rollout?: RolloutSnapshot }>(
  kube: KubeClient,
  namespace: string,
  name: string,
  nodeNames: readonly string[],
  timeoutMs: number,
): ListrTask<Ctx>[] => {
  let latest: RolloutSnapshot | undefined;
  let failure: Error | undefined;
  let finished = false;
  let deadline = Infinity;
  const expired = () => Date.now() > deadline;

  // Started by the first wait task, i.e. after the changes before it in the list were applied.
  let poller: Promise<void> | undefined;
  const startPolling = () => {
    deadline = Date.now() + timeoutMs;
    poller = pollUntilDone();
  };
  const pollUntilDone = async () => {
    for (;;) {
      try {
        latest = await readRollout(kube, namespace, name);
      } catch (error) {
        failure = error as Error;
        break;
      }
      if (latest.done || expired()) break;
      await sleep(POLL_MS);
    }
    finished = true;
  };

  const stateOf = (node: string) => latest?.nodes.find((n) => n.node === node);
  const pending = () => nodeNames.filter((n) => !(stateOf(n)?.updated && stateOf(n)?.ready));
  const timeoutError = () =>
    new OperationError(
      `timed out after ${Math.round(timeoutMs / 1000)}s waiting for daemonset ${namespace}/${name}: ` +
        `${latest?.message ?? 'no status'}; not ready: ${pending().join(', ') || 'none'}`,
      `inspect with \`kubectl -n ${namespace} get pods -o wide -l app=flannel\` and \`flannelctl doctor\`; raise --timeout if nodes are slow`,
    );

  const nodeTask = (node: string): ListrTask<Ctx> => ({
    title: `${node}: waiting for its flannel pod`,
    task: async (_ctx, task) => {
      for (;;) {
        if (failure) throw failure;
        const state = stateOf(node);
        if (state?.updated && state.ready) {
          task.title = `${node}: ${state.pod} is Ready`;
          return;
        }
        if (!state && finished && latest?.done) {
          // The DaemonSet does not schedule here (node selector, taints): nothing to wait for.
          task.skip(`${node}: no flannel pod is scheduled on this node`);
          return;
        }
        const detail =
          state && (state.updated ? `${state.pod} starting` : `${state.pod} runs the previous template`);
        // The simple renderer prints every assignment: only say something new.
        if (detail && detail !== task.output) task.output = detail;
        if (expired()) throw timeoutError();
        await sleep(POLL_MS / 2);
      }
    },
  });

  return [
    {
      title: `Wait for daemonset ${namespace}/${name} on ${nodeNames.length} node(s)`,
      task: (_ctx, task) => {
        startPolling();
        return task.newListr(nodeNames.map(nodeTask), { concurrent: true, exitOnError: true });
      },
    },
    {
      title: 'Confirm the rollout is complete',
      task: async (ctx, task) => {
        await poller;
        if (failure) throw failure;
        if (!latest?.done) {
          if (expired()) throw timeoutError();
          latest = await readRollout(kube, namespace, name);
        }
        if (!latest.done) throw timeoutError();
        task.title = latest.message;
        ctx.rollout = latest;
      },
    },
  ];
};
