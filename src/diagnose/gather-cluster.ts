// Gather once, evaluate many: the API objects and one probe per node, with a progress row per node
// on stderr. Every diagnosis command (doctor, verify-l2, check-rpfilter, mtu-probe, tune, status)
// starts here.
import type { ListrTask } from 'listr2';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import type { KubeClient } from '../kube/client.ts';
import { connectKube } from '../kube/connect.ts';
import {
  buildClusterFacts,
  daemonSetFactsFrom,
  type ClusterFacts,
  type NodeProbeOutcome,
  type RawApiObjects,
} from '../facts/cluster-facts.ts';
import { gatherNodeFacts, type GatherProgress, type NodeGatherResult } from '../facts/gather.ts';
import type { NodeExec } from '../nodes/exec.ts';
import { createNodeExec } from '../nodes/create-exec.ts';
import { resolveNodeTargets } from '../nodes/resolve-targets.ts';
import { selectionWarnings, type ApiNode, type NodeSelection, type SelectedNode } from '../nodes/select.ts';
import { runTasks } from '../render/progress.ts';
import { readApiObjects } from './read-api.ts';

const daemonSetImage = (daemonSet: unknown): string | undefined =>
  daemonSetFactsFrom(daemonSet).image ?? undefined;

/** Above this many nodes one summary row replaces the per-node rows. */
const MAX_NODE_ROWS = 20;

export interface GatherClusterOptions {
  readonly globals: GlobalOptions;
  readonly access: NodeAccessOptions;
  readonly io: Io;
  /** --backend: what the nodes should run when there is no ConfigMap to say so. */
  readonly backend?: string;
  /** Read recent flanneld logs (doctor needs them; status does not). */
  readonly logs?: boolean;
  /** Read FailedCreatePodSandBox events (the pod-sandbox check). */
  readonly events?: boolean;
  readonly signal?: AbortSignal;
}

export interface GatheredCluster {
  readonly facts: ClusterFacts;
  readonly selection: NodeSelection;
  readonly kube?: KubeClient;
  /** Open node connections for follow-up work (fixes, probes); the caller closes it. */
  readonly exec: NodeExec;
}

/**
 * With an inventory and no explicit kubeconfig, there is no cluster API (pre-install preflight);
 * otherwise the API is the source of truth for nodes and flannel.
 */
export const wantsApi = (
  globals: GlobalOptions,
  access: NodeAccessOptions,
  env: NodeJS.ProcessEnv,
): boolean =>
  access.inventoryFile === undefined || Boolean(globals.kubeconfig || globals.context || env.KUBECONFIG);

export const gatherCluster = async (options: GatherClusterOptions): Promise<GatheredCluster> => {
  const { globals, access, io } = options;
  const kube = wantsApi(globals, access, io.env) ? await connectKube(globals, io.env) : undefined;
  const api: RawApiObjects | undefined = kube
    ? await readApiObjects(kube, {
        ...(globals.namespace ? { namespace: globals.namespace } : {}),
        ...(access.selector ? { selector: access.selector } : {}),
        logs: options.logs ?? false,
        events: options.events ?? false,
      })
    : undefined;
  const selection = await resolveNodeTargets(access, kube, api?.nodes as ApiNode[] | undefined);
  for (const line of selectionWarnings(selection, globals.verbose > 0)) io.stderr.write(`${line}\n`);
  if (globals.verbose > 0) {
    for (const node of selection.nodes)
      io.stderr.write(`${node.name}: ${node.address} (${node.addressReason})\n`);
  }
  const exec = await createNodeExec(access, {
    io,
    yes: globals.yes,
    ...(kube && api ? { kube, namespace: api.namespace } : {}),
    ...(api?.daemonSet ? { flannelImage: daemonSetImage(api.daemonSet) } : {}),
  });
  let results: NodeGatherResult[];
  try {
    results = await probeWithProgress(selection.nodes, exec, access, io, options.signal);
  } catch (error) {
    await exec.close();
    throw error;
  }
  const unaddressable: NodeProbeOutcome[] = selection.unaddressable.map((u) => ({
    name: u.name,
    issue: { node: u.name, kind: 'error', message: u.reason },
  }));
  const facts = buildClusterFacts({
    ...(api ? { api } : {}),
    nodes: [...results, ...unaddressable],
    ...(options.backend ? { backend: options.backend } : {}),
  });
  return { facts, selection, exec, ...(kube ? { kube } : {}) };
};

type Ctx = { results?: NodeGatherResult[] };

/** Runs the probe on every node; a row per node (or one counting row for big clusters) on stderr. */
const probeWithProgress = async (
  nodes: readonly SelectedNode[],
  exec: NodeExec,
  access: NodeAccessOptions,
  io: Io,
  signal?: AbortSignal,
): Promise<NodeGatherResult[]> => {
  const perNode = nodes.length <= MAX_NODE_ROWS;
  const rows = new Map<string, (event: GatherProgress) => void>();
  // Rows still waiting when the probe stops early (a bad key file, a wrong passphrase): they must settle,
  // or the task list never ends and Node exits 13 with the error unsaid.
  const unsettled = new Map<string, () => void>();
  let probeEnded = false;
  let failure: { error: unknown } | undefined;
  let done = 0;
  let failed = 0;
  const probeTask: ListrTask<Ctx> = {
    title: `Probe ${nodes.length} node(s)`,
    task: async (ctx, task) => {
      try {
        ctx.results = await gatherProbe(task);
      } catch (error) {
        failure = { error };
        throw error;
      } finally {
        probeEnded = true;
        for (const settle of [...unsettled.values()]) settle();
      }
      task.title = `Probed ${nodes.length - failed} of ${nodes.length} node(s)${failed ? `; ${failed} could not be reached` : ''}`;
    },
  };
  const gatherProbe = (task: { title: string }) =>
    gatherNodeFacts(nodes, exec, {
      timeoutMs: access.commandTimeoutMs,
      concurrency: access.concurrency,
      ...(signal ? { signal } : {}),
      onProgress: (event) => {
        rows.get(event.node)?.(event);
        if (event.type === 'started') return;
        done++;
        if (event.type === 'failed') failed++;
        if (!perNode)
          task.title = `Probe nodes: ${done}/${nodes.length} done${failed ? `, ${failed} unreachable` : ''}`;
      },
    });
  const rowTasks: ListrTask<Ctx>[] = perNode
    ? nodes.map((node) => nodeRow(node, rows, unsettled, () => probeEnded))
    : [];
  const ctx = await runTasks<Ctx>(
    [
      {
        title: 'Gather node facts',
        task: (_c, t) => t.newListr([probeTask, ...rowTasks], { concurrent: true, exitOnError: false }),
      },
    ],
    io,
    { ctx: {} },
  );
  // The rows' list does not stop on errors, so the probe's own failure is rethrown here.
  if (failure) throw failure.error;
  return ctx.results ?? [];
};

/** A row that turns green when its node's probe is parsed, or shows why the node could not be reached. */
const nodeRow = (
  node: SelectedNode,
  rows: Map<string, (event: GatherProgress) => void>,
  unsettled: Map<string, () => void>,
  probeEnded: () => boolean,
): ListrTask<Ctx> => ({
  title: `${node.name} (${node.address})`,
  task: (_ctx, task) =>
    new Promise<void>((resolve) => {
      const settle = () => {
        unsettled.delete(node.name);
        resolve();
      };
      const notProbed = () => {
        task.skip(`${node.name} (${node.address}): not probed`);
        settle();
      };
      if (probeEnded()) return notProbed();
      unsettled.set(node.name, notProbed);
      rows.set(node.name, (event) => {
        if (event.type === 'started') task.output = 'probing';
        if (event.type === 'done') {
          task.title = `${node.name} (${node.address}): facts gathered`;
          settle();
        }
        if (event.type === 'failed') {
          // Not a failure of the run: the report says which nodes could not be reached (exit 3).
          task.skip(`${node.name} (${node.address}): ${event.issue.message}`);
          settle();
        }
      });
    }),
});
