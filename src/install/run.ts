import { ExitCode, OperationError, ResultExit } from '../errors.ts';
import type { GlobalOptions } from '../global-options.ts';
import { canPrompt, type Io } from '../io.ts';
import type { InstallFlags } from '../commands/install.ts';
import { listImages, renderManifest, toJsonList, toYaml } from '../flannel/manifest.ts';
import { type ManifestOptions } from '../flannel/manifest-options.ts';
import { DAEMONSET_NAME } from '../flannel/names.ts';
import type { KubeClient } from '../kube/client.ts';
import { KubeApiError } from '../kube/api-errors.ts';
import { connectKube } from '../kube/connect.ts';
import { runTasks } from '../render/progress.ts';
import { readRollout, rolloutTasks, type RolloutSnapshot } from '../kube/wait-rollout.ts';
import { restartPatch } from '../kube/rollout.ts';
import { displayName, refOf } from '../kube/kube-object.ts';
import { inspectCluster, type ClusterState } from './cluster-state.ts';
import { completeOptions } from './complete.ts';
import { assertValid } from './validate.ts';
import { planObjects, renderDiff, type ObjectPlan } from './plan.ts';
import { checkPermissions } from './permissions.ts';
import { installRequest, type InstallRequest } from './request.ts';
import { writeInstallResult, type InstallResult } from './result.ts';
import { askConfirm } from '../prompts.ts';
import { writeOutputFile } from '../files.ts';

export const FIELD_MANAGER = 'flannelctl';

export const runInstallCommand = async (
  flags: InstallFlags,
  globals: GlobalOptions,
  io: Io,
): Promise<void> => {
  const request = installRequest(flags, globals);
  if (request.mode === 'print-images' || request.mode === 'render') {
    return renderOffline(request, globals, io);
  }
  const kube = await connectKube(globals, io.env);
  const cluster = await inspectCluster(kube, globals.namespace);
  const options = await completeOptions(request, cluster, globals, io);
  assertValid(options, cluster.nodes, io);
  const desired = renderManifest(options);
  const plans = await planObjects(kube, desired);
  if (request.mode === 'diff') {
    const diff = renderDiff(plans);
    io.stdout.write(diff || 'No differences: the live objects match the requested install.\n');
    // kubectl diff's convention: exit 1 when there are differences, so CI can gate on drift.
    if (diff) throw new ResultExit(ExitCode.failed);
    return;
  }
  await checkPermissions(kube, plans);
  await serverDryRun(kube, plans, request);
  await applyAndWait(kube, cluster, options, plans, request, globals, io);
};

const renderOffline = async (request: InstallRequest, globals: GlobalOptions, io: Io): Promise<void> => {
  const options = await completeOptions(request, undefined, globals, io);
  assertValid(options, [], io);
  if (request.mode === 'print-images') {
    const images = listImages(options);
    io.stdout.write(
      globals.output === 'text' ? `${images.join('\n')}\n` : `${JSON.stringify(images, null, 2)}\n`,
    );
    return;
  }
  const objects = renderManifest(options);
  const text = globals.output === 'json' ? toJsonList(objects) : toYaml(objects);
  if (request.outputFile) {
    writeOutputFile(request.outputFile, text, '--output-file');
    io.stderr.write(
      `Wrote ${objects.length} objects to ${request.outputFile}; apply with: kubectl apply --server-side -f ${request.outputFile}\n`,
    );
    return;
  }
  io.stdout.write(text);
};

/** Server-side apply refuses to change fields another manager (kubectl, helm, a seed) owns. */
const explainConflict = (error: unknown): never => {
  if (error instanceof KubeApiError && error.status === 409) {
    throw new OperationError(
      error.message,
      'another field manager (kubectl apply, helm, …) owns these fields; rerun with --force-conflicts to let flannelctl take them over',
    );
  }
  throw error;
};

/**
 * The API server checks every change to an existing object (immutable fields, ownership conflicts)
 * without storing it, so a rejected change stops the install before anything was written. New objects
 * are left out: those in a namespace this run creates cannot be dry-run, and none of them can conflict.
 */
const serverDryRun = async (kube: KubeClient, plans: readonly ObjectPlan[], request: InstallRequest) => {
  for (const plan of plans.filter((p) => p.action === 'configured')) {
    await kube
      .apply(plan.object, { fieldManager: FIELD_MANAGER, force: request.forceConflicts, dryRun: true })
      .catch(explainConflict);
  }
};

interface InstallContext {
  rollout?: RolloutSnapshot;
}

const applyAndWait = async (
  kube: KubeClient,
  cluster: ClusterState,
  options: ManifestOptions,
  plans: readonly ObjectPlan[],
  request: InstallRequest,
  globals: GlobalOptions,
  io: Io,
): Promise<void> => {
  const changes = plans.filter((p) => p.action !== 'unchanged');
  if (globals.verbose > 0 && changes.length > 0) io.stderr.write(renderDiff(plans));
  if (changes.length > 0 && cluster.install && canPrompt(io, globals.yes)) {
    io.stderr.write(renderDiff(plans));
    const ok = await askConfirm(
      io,
      `Apply these changes to the live flannel install in ${cluster.install.namespace}?`,
    );
    if (!ok) throw new OperationError('install cancelled; nothing was changed');
  }
  const configChanged = plans.some((p) => p.object.kind === 'ConfigMap' && p.action === 'configured');
  const templateChanged = plans.some((p) => p.object.kind === 'DaemonSet' && p.action !== 'unchanged');
  // flanneld reads net-conf.json only at start: a ConfigMap change needs a restart unless the
  // DaemonSet template changes anyway (which rolls the pods by itself).
  const restart = configChanged && !templateChanged;
  const nodeNames = cluster.nodes.filter((n) => n.os === 'linux').map((n) => n.name);
  const tasks = [
    ...changes.map((plan) => ({
      title: `Apply ${displayName(refOf(plan.object))}`,
      task: async (_ctx: InstallContext, task: { title: string }) => {
        await kube
          .apply(plan.object, { fieldManager: FIELD_MANAGER, force: request.forceConflicts })
          .catch(explainConflict);
        task.title = `${displayName(refOf(plan.object))} ${plan.action}`;
      },
    })),
    ...(restart
      ? [
          {
            title: `Restart daemonset ${options.namespace}/${DAEMONSET_NAME} so flanneld reads the new configuration`,
            task: async () => {
              await kube.patch(
                {
                  apiVersion: 'apps/v1',
                  kind: 'DaemonSet',
                  namespace: options.namespace,
                  name: DAEMONSET_NAME,
                },
                restartPatch(new Date()),
                'strategic',
              );
            },
          },
        ]
      : []),
    ...(request.wait
      ? rolloutTasks<InstallContext>(kube, options.namespace, DAEMONSET_NAME, nodeNames, globals.timeoutMs)
      : []),
  ];
  const ctx = await runTasks<InstallContext>(tasks, io, { ctx: {} });
  const rollout =
    ctx.rollout ?? (request.wait ? undefined : await readRollout(kube, options.namespace, DAEMONSET_NAME));
  const result: InstallResult = {
    apiVersion: 'flannelctl/v1',
    kind: 'InstallResult',
    namespace: options.namespace,
    backend: typeof options.backend === 'string' ? options.backend : options.backend.Type,
    network: options.network,
    flannelVersion: options.flannelVersion,
    changed: changes.length > 0 || restart,
    objects: plans.map((p) => ({ ...refOf(p.object), action: p.action })),
    restarted: restart,
    rollout: rollout
      ? {
          done: rollout.done,
          message: rollout.message,
          nodes: rollout.nodes.map((n) => ({ node: n.node, pod: n.pod, ready: n.ready && n.updated })),
        }
      : undefined,
  };
  writeInstallResult(result, globals, io);
};
