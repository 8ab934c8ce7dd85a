// The rolling restart as listr2 rows, one per node: a row turns green when the node's new flannel pod is
// Ready and the node verifies (annotation + routes). One poller feeds every row. A stall past the
// timeout or a failed verification ends the wait with an error that names the nodes, for rollback.
import type { ListrTask } from 'listr2';
import { OperationError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { readRollout, type RolloutSnapshot } from '../kube/wait-rollout.ts';
import type { SelectedNode } from '../nodes/select.ts';
import { verifyNode, type NodeVerdict, type VerifyContext } from './verify.ts';

export interface NodeProgress {
  pod?: string;
  /** ms since the restart when the node's new pod was first seen Ready. */
  readyAfterMs?: number;
  verdict?: NodeVerdict;
}

export class RolloutFailure extends OperationError {}

const POLL_MS = 300;
/** How long flanneld may take, after its pod is Ready, to program the routes we verify. */
const NODE_VERIFY_MS = 15_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const rolloutRows = <Ctx extends object>(options: {
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly daemonSet: string;
  readonly nodes: readonly SelectedNode[];
  readonly timeoutMs: number;
  readonly verify: VerifyContext;
  readonly progress: Map<string, NodeProgress>;
  readonly restartedAt: () => number;
}): ListrTask<Ctx>[] => {
  const { kube, namespace, daemonSet, nodes, progress } = options;
  let latest: RolloutSnapshot | undefined;
  let failure: Error | undefined;
  let finished = false;
  const deadline = Date.now() + options.timeoutMs;
  const expired = () => Date.now() > deadline;
  let poller: Promise<void> | undefined;

  const poll = async () => {
    for (;;) {
      try {
        latest = await readRollout(kube, namespace, daemonSet);
      } catch (error) {
        failure = error as Error;
        break;
      }
      if ((latest.done && nodes.every((n) => progress.get(n.name)?.verdict)) || expired() || finished) break;
      await sleep(POLL_MS);
    }
  };
  const stateOf = (node: string) => latest?.nodes.find((n) => n.node === node);
  const pending = () => nodes.map((n) => n.name).filter((n) => !progress.get(n)?.readyAfterMs);
  const stalled = () =>
    new RolloutFailure(
      `the rollout stalled: after ${Math.round(options.timeoutMs / 1000)}s ${pending().join(', ') || 'no node'} had no Ready flannel pod with the new configuration (${latest?.message ?? 'no status'})`,
      `inspect with \`kubectl -n ${namespace} get pods -o wide -l app=flannel\`; raise --timeout if nodes are slow`,
    );

  const row = (node: SelectedNode): ListrTask<Ctx> => ({
    title: `${node.name}: waiting for its new flannel pod`,
    task: async (_ctx, task) => {
      const p = progress.get(node.name) ?? {};
      progress.set(node.name, p);
      for (;;) {
        if (failure) throw failure;
        const state = stateOf(node.name);
        if (state?.updated && state.ready) break;
        const detail =
          state && (state.updated ? `${state.pod} starting` : `${state.pod} runs the previous configuration`);
        if (detail && detail !== task.output) task.output = detail;
        if (expired()) throw stalled();
        await sleep(POLL_MS / 2);
      }
      const state = stateOf(node.name)!;
      p.pod = state.pod;
      p.readyAfterMs = Date.now() - options.restartedAt();
      task.output = `${state.pod} Ready; verifying annotation and routes`;
      p.verdict = await verifyNode(options.verify, node, NODE_VERIFY_MS);
      if (p.verdict.status === 'failed') {
        throw new RolloutFailure(`verification of ${node.name} failed: ${p.verdict.message}`);
      }
      if (p.verdict.status === 'unreachable') {
        task.skip(`${node.name}: ${state.pod} Ready, NOT verified: ${p.verdict.message}`);
        return;
      }
      task.title = `${node.name}: ${state.pod} Ready, ${p.verdict.message}`;
    },
  });

  return [
    {
      title: `Roll daemonset ${namespace}/${daemonSet} over ${nodes.length} node(s), verifying each`,
      task: (_ctx, task) => {
        poller = poll();
        return task.newListr(nodes.map(row), { concurrent: true, exitOnError: true });
      },
    },
    {
      title: 'Confirm the rollout is complete',
      task: async (_ctx, task) => {
        finished = true;
        await poller;
        if (failure) throw failure;
        const snapshot = await readRollout(kube, namespace, daemonSet);
        if (!snapshot.done) throw stalled();
        task.title = snapshot.message;
      },
    },
  ];
};
