// NodeExec through one short-lived DaemonSet: Kubernetes fans the scripts out, not the workstation.
// The scripts announced with prepare() (gatherNodeFacts announces every node's probe) or run() in the
// same tick go into one batch: a ConfigMap keyed by node name and a DaemonSet limited to those nodes
// (daemonset-pod.ts). Pods are polled with one list per interval; a running pod's log tail is checked
// for the end marker and the whole log read once (bounded concurrency). The batch's objects are deleted
// as soon as every node has answered, and on close(), failure and SIGINT/SIGTERM/SIGHUP
// (cleanup-on-signal.ts); their pods go with the DaemonSet (garbage collection).
import { randomBytes } from 'node:crypto';
import { InterruptedError } from '../errors.ts';
import { guardWithSignals, kubectlDeleteCommand, type CleanupGuard } from './cleanup-on-signal.ts';
import { KubeApiError } from '../kube/api-errors.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/kube-object.ts';
import {
  batchConfigMap,
  batchDaemonSet,
  batchName,
  batchSelector,
  parseBatchLog,
  type BatchObjectsOptions,
} from './daemonset-pod.ts';
import {
  NodeAccessError,
  validateNodeTarget,
  type ExecResult,
  type NodeExec,
  type NodeJob,
  type NodeTarget,
  type RunOptions,
} from './exec.ts';
import { NODE_ACCESS_CONTAINER, nodeAccessSelector, podState } from './kube-exec-pod.ts';
import { Pool } from './pool.ts';

export interface DaemonSetAccessOptions {
  readonly kube: KubeClient;
  /** Flannel's namespace: its pod security admits hostNetwork pods with NET_ADMIN. */
  readonly namespace: string;
  readonly image: string;
  /** In object names and the flannelctl.io/node-access label. */
  readonly runId: string;
  /** Pod logs read at once. */
  readonly concurrency?: number;
  /** How long a node's pod may take to be running. */
  readonly startTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** Install SIGINT/SIGTERM/SIGHUP handlers that delete the objects; default true. */
  readonly handleSignals?: boolean;
  /** Between pod lists; default grows with the batch (one list per interval however many nodes). */
  readonly pollMs?: number;
  /** Script bytes per ConfigMap (the API refuses objects over 1 MiB). */
  readonly maxBatchBytes?: number;
  /** How long a signal's deletes may take (cleanup-on-signal.ts). */
  readonly cleanupDeadlineMs?: number;
}

const DEFAULT_MAX_BATCH_BYTES = 900_000;
const RBAC_HINT =
  "grant create/delete on configmaps and daemonsets, list on pods and get on pods/log in flannel's namespace (flannelctl rbac --for doctor --node-access daemonset)";

interface Waiter {
  readonly node: string;
  readonly script: string;
  readonly timeoutMs: number;
  readonly promise: Promise<ExecResult>;
  resolve(result: ExecResult): void;
  reject(error: Error): void;
}

const waiter = (node: string, script: string, timeoutMs: number): Waiter => {
  let resolve!: (r: ExecResult) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<ExecResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { node, script, timeoutMs, promise, resolve, reject };
};

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class DaemonSetAccess implements NodeExec {
  private readonly waiters = new Map<string, Waiter>();
  private queue = new Map<string, Waiter>();
  private flushTimer: NodeJS.Immediate | undefined;
  private batches = 0;
  /** Batches whose objects may exist: name → the launch in flight. */
  private readonly live = new Map<string, Promise<void>>();
  private readonly deletes = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly logPool: Pool;
  private closing: Promise<void> | undefined;
  /** `daemonset/<name>`, `configmap/<name>` sent for create and not yet confirmed deleted. */
  private readonly remaining = new Set<string>();
  private guard: CleanupGuard | undefined;

  constructor(private readonly options: DaemonSetAccessOptions) {
    this.logPool = new Pool(options.concurrency ?? 32);
  }

  /** Every node's script at once: they run in one DaemonSet instead of as run() comes. */
  prepare(jobs: readonly NodeJob[], opts: RunOptions): void {
    for (const job of jobs) this.enqueue(validateNodeTarget(job.node).name, job.script, opts.timeoutMs);
    this.flush();
  }

  async run(node: NodeTarget, script: string, opts: RunOptions): Promise<ExecResult> {
    validateNodeTarget(node);
    if (this.closing || opts.signal?.aborted) throw new InterruptedError();
    let pending = this.waiters.get(node.name);
    if (pending?.script === script) this.waiters.delete(node.name);
    else pending = this.enqueue(node.name, script, opts.timeoutMs, true);
    const signals = [this.stopping.signal, ...(opts.signal ? [opts.signal] : [])];
    const abort = AbortSignal.any(signals);
    return new Promise<ExecResult>((resolve, reject) => {
      const onAbort = (): void => reject(new InterruptedError());
      abort.addEventListener('abort', onAbort, { once: true });
      pending.promise.then(resolve, reject).finally(() => abort.removeEventListener('abort', onAbort));
    });
  }

  close(): Promise<void> {
    this.closing ??= this.deleteAll();
    return this.closing;
  }

  private enqueue(node: string, script: string, timeoutMs: number, claimed = false): Waiter {
    // One script per node and batch: a second one for the same node goes into the next batch.
    if (this.queue.has(node)) this.flush();
    const w = waiter(node, script, timeoutMs);
    this.queue.set(node, w);
    if (!claimed) this.waiters.set(node, w);
    this.flushTimer ??= setImmediate(() => this.flush());
    return w;
  }

  private flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    const jobs = [...this.queue.values()];
    this.queue = new Map();
    const max = this.options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    let chunk: Waiter[] = [];
    let bytes = 0;
    for (const job of jobs) {
      const size = Buffer.byteLength(job.script) + job.node.length;
      if (chunk.length > 0 && bytes + size > max) {
        this.launch(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(job);
      bytes += size;
    }
    if (chunk.length > 0) this.launch(chunk);
  }

  private launch(jobs: Waiter[]): void {
    const batch = this.batches++;
    const name = batchName(this.options.runId, batch);
    const running = this.runBatch(batch, jobs).catch((error: unknown) => {
      for (const job of jobs) job.reject(error as Error);
    });
    this.live.set(name, running);
    void running.then(() => this.deleteBatch(name));
  }

  private installSignalHandlers(): void {
    if (this.guard || this.options.handleSignals === false) return;
    this.guard = guardWithSignals({
      what: `node-access DaemonSet of run ${this.options.runId}`,
      namespace: this.options.namespace,
      cleanup: () => this.close(),
      leftovers: () => [...this.remaining],
      log: (line) => this.options.log?.(line),
      ...(this.options.cleanupDeadlineMs !== undefined ? { deadlineMs: this.options.cleanupDeadlineMs } : {}),
    });
  }

  private accessError(node: string, error: unknown, what: string): NodeAccessError {
    if (error instanceof KubeApiError && error.status === 403)
      return new NodeAccessError('auth', node, `${node}: cannot ${what}: ${error.message}`, RBAC_HINT, error);
    return new NodeAccessError(
      'unreachable',
      node,
      `${node}: cannot ${what}: ${(error as Error).message}`,
      undefined,
      error,
    );
  }

  private async runBatch(batch: number, jobs: Waiter[]): Promise<void> {
    const { kube, namespace, runId, image } = this.options;
    const signal = this.stopping.signal;
    if (signal.aborted) throw new InterruptedError();
    this.installSignalHandlers();
    const objects: BatchObjectsOptions = {
      runId,
      batch,
      namespace,
      image,
      mark: randomBytes(8).toString('hex'),
      scripts: new Map(jobs.map((j) => [j.node, j.script])),
    };
    const name = batchName(runId, batch);
    for (const [object, what] of [
      [batchConfigMap(objects), `create the ConfigMap ${namespace}/${name} with the node scripts`],
      [batchDaemonSet(objects), `create the node-access DaemonSet ${namespace}/${name}`],
    ] as const) {
      const ref = `${object.kind!.toLowerCase()}/${name}`;
      this.remaining.add(ref);
      try {
        await kube.create(object);
      } catch (error) {
        if (error instanceof KubeApiError && error.status !== 409) this.remaining.delete(ref);
        for (const job of jobs) job.reject(this.accessError(job.node, error, what));
        return;
      }
    }

    const pending = new Map(jobs.map((j) => [j.node, j]));
    const startTimeoutMs = this.options.startTimeoutMs ?? 60_000;
    const startDeadline = Date.now() + startTimeoutMs;
    /** Node → when its pod was first seen running: the command timeout counts from there. */
    const runningSince = new Map<string, number>();
    const pollMs = this.options.pollMs ?? Math.min(2000, 200 + jobs.length);
    const fail = (node: string, error: Error): void => {
      pending.get(node)?.reject(error);
      pending.delete(node);
    };
    while (pending.size > 0 && !signal.aborted) {
      let pods: KubeObject[];
      try {
        pods = await kube.list<KubeObject>('v1', 'Pod', {
          namespace,
          labelSelector: batchSelector(runId, batch),
        });
      } catch (error) {
        if (signal.aborted) break;
        for (const node of [...pending.keys()])
          fail(node, this.accessError(node, error, `list the pods of ${name}`));
        break;
      }
      const byNode = new Map<string, KubeObject>();
      for (const pod of pods) {
        const node = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
        if (node && !pod.metadata?.deletionTimestamp) byNode.set(node, pod);
      }
      const now = Date.now();
      await Promise.all(
        [...pending.values()].map(async (job) => {
          const pod = byNode.get(job.node);
          const state = podState(pod);
          if (pod && state.state === 'failed') {
            return fail(
              job.node,
              new NodeAccessError(
                'unreachable',
                job.node,
                `${job.node}: the node-access pod ${namespace}/${pod.metadata!.name} cannot start: ${state.reason}`,
                `see \`kubectl -n ${namespace} describe pod ${pod.metadata!.name}\`; --node-image picks another image`,
              ),
            );
          }
          if (!pod || state.state !== 'running') {
            if (now <= startDeadline) return;
            const detail =
              pod && state.state === 'starting' ? ` (${state.detail})` : ' (no pod was scheduled there)';
            return fail(
              job.node,
              new NodeAccessError(
                'unreachable',
                job.node,
                `${job.node}: the node-access pod of DaemonSet ${namespace}/${name} did not start within ${Math.round(startTimeoutMs / 1000)}s${detail}`,
                'the node may be down, its kubelet not running, or /run/flannel missing there (flannel not running: the pod waits in ContainerCreating, FailedMount); --connect-timeout allows longer',
              ),
            );
          }
          const since = runningSince.get(job.node) ?? now;
          runningSince.set(job.node, since);
          await this.readIfDone(pod, objects.mark, job, fail, pending, signal);
          if (pending.has(job.node) && now - since > job.timeoutMs) {
            fail(
              job.node,
              new NodeAccessError(
                'timeout',
                job.node,
                `${job.node}: the command did not finish within ${job.timeoutMs} ms (pod ${pod.metadata!.name})`,
                'the node may be overloaded or a command is hanging; raise --command-timeout if it is just slow',
              ),
            );
          }
        }),
      );
      if (pending.size > 0) await sleep(pollMs, signal);
    }
    if (signal.aborted) for (const node of [...pending.keys()]) fail(node, new InterruptedError());
  }

  /** Checks the log's last line for the marker; only then reads the whole log. */
  private async readIfDone(
    pod: KubeObject,
    mark: string,
    job: Waiter,
    fail: (node: string, error: Error) => void,
    pending: Map<string, Waiter>,
    signal: AbortSignal,
  ): Promise<void> {
    const { kube, namespace } = this.options;
    const name = pod.metadata!.name!;
    try {
      await this.logPool.use(async () => {
        const tail = await kube.podLog(namespace, name, { container: NODE_ACCESS_CONTAINER, tailLines: 1 });
        if (!parseBatchLog(tail, mark)) return;
        const done = parseBatchLog(
          await kube.podLog(namespace, name, { container: NODE_ACCESS_CONTAINER }),
          mark,
        );
        if (!done) return;
        job.resolve({ stdout: done.output, stderr: '', exitCode: done.exitCode });
        pending.delete(job.node);
      }, signal);
    } catch (error) {
      if (signal.aborted || error instanceof InterruptedError) return;
      if (error instanceof KubeApiError && error.status === 403)
        fail(job.node, this.accessError(job.node, error, `read the log of pod ${namespace}/${name}`));
      // Anything else (a log not there yet, a blip): the next poll tries again until the timeout.
    }
  }

  private deleteBatch(name: string): Promise<void> {
    let pending = this.deletes.get(name);
    if (!pending) this.deletes.set(name, (pending = this.deleteObjects(name)));
    return pending;
  }

  private async deleteObjects(name: string): Promise<void> {
    const { kube, namespace, runId } = this.options;
    const failed: string[] = [];
    // The DaemonSet first: its pods are garbage-collected with it; the ConfigMap they mount goes next.
    for (const kind of ['DaemonSet', 'ConfigMap'] as const) {
      const apiVersion = kind === 'DaemonSet' ? 'apps/v1' : 'v1';
      const ref = `${kind.toLowerCase()}/${name}`;
      if (!this.remaining.has(ref)) continue;
      await kube.delete({ apiVersion, kind, namespace, name }).then(
        () => void this.remaining.delete(ref),
        (error: unknown) => {
          if (error instanceof KubeApiError && error.status === 404) this.remaining.delete(ref);
          else failed.push(`${kind} ${name}: ${(error as Error).message}`);
        },
      );
    }
    if (failed.length > 0) {
      this.options.log?.(
        `warning: could not delete ${failed.join('; ')}\n` +
          `  delete them with: ${kubectlDeleteCommand(namespace, [...this.remaining])}\n` +
          `  (every object of this run: kubectl delete -n ${namespace} daemonsets,configmaps -l ${nodeAccessSelector(runId)})`,
      );
    }
  }

  private async deleteAll(): Promise<void> {
    this.stopping.abort();
    if (this.flushTimer) clearImmediate(this.flushTimer);
    for (const w of this.queue.values()) w.reject(new InterruptedError());
    this.queue.clear();
    // A create still in flight must land before its delete is sent.
    await Promise.allSettled(this.live.values());
    await Promise.all([...this.live.keys()].map((name) => this.deleteBatch(name)));
    this.guard?.dispose();
  }
}

export const createDaemonSetAccess = (options: DaemonSetAccessOptions): NodeExec =>
  new DaemonSetAccess(options);
