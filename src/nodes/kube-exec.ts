// NodeExec through the Kubernetes API: one short-lived hostNetwork pod per node (kube-exec-pod.ts),
// created on first use and reused for every script on that node, each script sent on stdin to `sh -s`
// via pods/exec. No SSH, no node credentials: only RBAC on pods and pods/exec in flannel's namespace.
// Every pod is deleted on close(), on failure and on SIGINT/SIGTERM/SIGHUP (cleanup-on-signal.ts).
import { InterruptedError } from '../errors.ts';
import { guardWithSignals, kubectlDeleteCommand, type CleanupGuard } from './cleanup-on-signal.ts';
import { KubeApiError } from '../kube/api-errors.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/kube-object.ts';
import {
  NodeAccessError,
  validateNodeTarget,
  type ExecResult,
  type NodeExec,
  type NodeTarget,
  type RunOptions,
} from './exec.ts';
import {
  NODE_ACCESS_CONTAINER,
  nodeAccessPod,
  nodeAccessPodName,
  nodeAccessSelector,
  podState,
} from './kube-exec-pod.ts';
import { Pool } from './pool.ts';

export interface KubeExecOptions {
  readonly kube: KubeClient;
  /** Flannel's namespace: its pod security admits hostNetwork pods with NET_ADMIN. */
  readonly namespace: string;
  readonly image: string;
  /** In pod names and the flannelctl.io/node-access label. */
  readonly runId: string;
  /** Nodes talked to at once. */
  readonly concurrency?: number;
  /** How long a pod may take to be running. */
  readonly startTimeoutMs?: number;
  /** Progress and warnings (stderr). */
  readonly log?: (line: string) => void;
  /** Install SIGINT/SIGTERM/SIGHUP handlers that delete the pods; default true. */
  readonly handleSignals?: boolean;
  /** Poll interval while a pod starts. */
  readonly pollMs?: number;
  /** How long a signal's deletes may take (cleanup-on-signal.ts). */
  readonly cleanupDeadlineMs?: number;
}

const DELETE_CONCURRENCY = 16;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new InterruptedError());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

export class KubeExec implements NodeExec {
  private readonly pool: Pool;
  private readonly pods = new Map<string, Promise<string>>();
  /** Every pod name a create was sent for: close() deletes them all. */
  private readonly created = new Set<string>();
  /** Created and not yet confirmed deleted: what a second signal names in its kubectl command. */
  private readonly remaining = new Set<string>();
  /** Aborted by close() and by a signal: stops pod waits and running execs. */
  private readonly stopping = new AbortController();
  private closing: Promise<void> | undefined;
  private guard: CleanupGuard | undefined;

  constructor(private readonly options: KubeExecOptions) {
    this.pool = new Pool(options.concurrency ?? 32);
  }

  private get where(): string {
    return `namespace ${this.options.namespace}`;
  }

  async run(node: NodeTarget, script: string, opts: RunOptions): Promise<ExecResult> {
    validateNodeTarget(node);
    if (this.closing) throw new InterruptedError();
    return this.pool.use(async () => {
      const pod = await this.pod(node.name);
      return this.exec(node, pod, script, opts);
    }, opts.signal);
  }

  close(): Promise<void> {
    this.closing ??= this.deleteAll();
    return this.closing;
  }

  private async deleteAll(): Promise<void> {
    this.stopping.abort();
    // A create still in flight must land before its delete is sent.
    await Promise.allSettled(this.pods.values());
    const pool = new Pool(DELETE_CONCURRENCY);
    const failed: string[] = [];
    await Promise.all(
      [...this.created].map((name) =>
        pool.use(() =>
          this.options.kube
            .delete({ apiVersion: 'v1', kind: 'Pod', namespace: this.options.namespace, name })
            .then(
              () => void this.remaining.delete(name),
              (error: unknown) => {
                if (error instanceof KubeApiError && error.status === 404) this.remaining.delete(name);
                else failed.push(`${name}: ${(error as Error).message}`);
              },
            ),
        ),
      ),
    );
    if (failed.length > 0) {
      this.options.log?.(
        `warning: could not delete ${failed.length} node-access pod(s): ${failed.join('; ')}\n` +
          `  delete them with: ${kubectlDeleteCommand(this.options.namespace, this.leftovers())}\n` +
          `  (every leftover of any run: kubectl delete -n ${this.options.namespace} pods -l ${nodeAccessSelector(this.options.runId).split(',')[0]})`,
      );
    }
    this.guard?.dispose();
  }

  private leftovers(): string[] {
    return [...this.remaining].map((name) => `pod/${name}`);
  }

  /** The node's pod, created and started once per run; a failure is remembered like an unreachable host. */
  private pod(node: string): Promise<string> {
    let pending = this.pods.get(node);
    if (!pending) {
      pending = this.startPod(node);
      this.pods.set(node, pending);
      pending.catch(() => undefined);
    }
    return pending;
  }

  private installSignalHandlers(): void {
    if (this.guard || this.options.handleSignals === false) return;
    this.guard = guardWithSignals({
      what: `node-access pods of run ${this.options.runId}`,
      namespace: this.options.namespace,
      cleanup: () => this.close(),
      leftovers: () => this.leftovers(),
      log: (line) => this.options.log?.(line),
      ...(this.options.cleanupDeadlineMs !== undefined ? { deadlineMs: this.options.cleanupDeadlineMs } : {}),
    });
  }

  private async startPod(node: string): Promise<string> {
    const { kube, namespace, runId, image } = this.options;
    const signal = this.stopping.signal;
    if (signal.aborted) throw new InterruptedError();
    this.installSignalHandlers();
    const name = nodeAccessPodName(runId, node);
    this.created.add(name);
    this.remaining.add(name);
    try {
      await kube.create(nodeAccessPod({ runId, namespace, node, image }));
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 403) {
        throw new NodeAccessError(
          'auth',
          node,
          `${node}: cannot create the node-access pod in ${this.where}: ${error.message}`,
          'grant create, get and delete on pods and create on pods/exec there (flannelctl rbac --for doctor --node-access kube-exec)',
          error,
        );
      }
      // A retried create whose first attempt went through finds its own pod.
      if (!(error instanceof KubeApiError && error.status === 409)) {
        throw new NodeAccessError(
          'unreachable',
          node,
          `${node}: cannot create the node-access pod: ${(error as Error).message}`,
          undefined,
          error,
        );
      }
    }
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    let detail = 'Pending';
    for (;;) {
      const pod = await kube.get<KubeObject>({ apiVersion: 'v1', kind: 'Pod', namespace, name });
      const state = podState(pod);
      if (state.state === 'running') return name;
      if (state.state === 'failed') {
        throw new NodeAccessError(
          'unreachable',
          node,
          `${node}: the node-access pod ${namespace}/${name} cannot start: ${state.reason}`,
          `see \`kubectl -n ${namespace} describe pod ${name}\`; --node-image picks another image`,
        );
      }
      detail = state.detail;
      if (Date.now() > deadline) {
        throw new NodeAccessError(
          'unreachable',
          node,
          `${node}: the node-access pod ${namespace}/${name} did not start within ${Math.round(timeoutMs / 1000)}s (${detail})`,
          'the node may be down, its kubelet not running, or /run/flannel missing there (flannel not running: the pod waits in ContainerCreating, FailedMount); --connect-timeout allows longer',
        );
      }
      await sleep(this.options.pollMs ?? 200, signal);
    }
  }

  private async exec(node: NodeTarget, pod: string, script: string, opts: RunOptions): Promise<ExecResult> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), opts.timeoutMs);
    const signals = [this.stopping.signal, timeout.signal, ...(opts.signal ? [opts.signal] : [])];
    try {
      return await this.options.kube.exec({
        namespace: this.options.namespace,
        pod,
        container: NODE_ACCESS_CONTAINER,
        // The script travels on stdin, exactly as over SSH: nothing of it on a command line.
        command: ['sh', '-s'],
        stdin: script.endsWith('\n') ? script : `${script}\n`,
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      if (timeout.signal.aborted && !this.stopping.signal.aborted && !opts.signal?.aborted) {
        throw new NodeAccessError(
          'timeout',
          node.name,
          `${node.name}: the command did not finish within ${opts.timeoutMs} ms (pod ${pod})`,
          'the node may be overloaded or a command is hanging; raise --command-timeout if it is just slow',
        );
      }
      if (error instanceof InterruptedError) throw error;
      if (error instanceof KubeApiError && error.status === 403) {
        throw new NodeAccessError(
          'auth',
          node.name,
          `${node.name}: ${error.message}`,
          "grant create on pods/exec in flannel's namespace (flannelctl rbac --for doctor --node-access kube-exec)",
          error,
        );
      }
      throw new NodeAccessError(
        'channel',
        node.name,
        `${node.name}: exec in the node-access pod failed: ${(error as Error).message}`,
        undefined,
        error,
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

export const createKubeExec = (options: KubeExecOptions): NodeExec => new KubeExec(options);
