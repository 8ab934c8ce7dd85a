// The mutating steps of a migration and of a rollback, in order, each recorded in the state annotation
// so a later run can continue or undo them. Every write goes through updateConfigMap (resourceVersion,
// 409 -> re-read, re-check, retry) or the restart patch.
import { randomBytes } from 'node:crypto';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import { ExitCode, InterruptedError, ResultExit } from '../errors.ts';
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import { isFlannelVxlanDevice } from '../facts/cluster-facts.ts';
import { readNetConf } from '../flannel/config-map.ts';
import { parseNetConf } from '../flannel/net-conf.ts';
import { NET_CONF_KEY } from '../flannel/names.ts';
import type { GlobalOptions } from '../global-options.ts';
import { canPrompt, type Io } from '../io.ts';
import type { KubeClient } from '../kube/client.ts';
import type { ConfigMapLike, FlannelInstall } from '../kube/discover.ts';
import { restartPatch } from '../kube/rollout.ts';
import type { NodeExec } from '../nodes/exec.ts';
import type { SelectedNode } from '../nodes/select.ts';
import { runTasks } from '../render/progress.ts';
import { BACKUP_ANNOTATION } from './annotations.ts';
import { takeBackup, writeBackupFile, type ConfigMapBackup } from './backup.ts';
import { deleteVxlanDevices, staleMtuNodes, staleOwners, type NodeCleanup } from './cleanup.ts';
import { ConnectivityWatch, podPingTargets, type WatchSummary } from './connectivity.ts';
import { listPodTargets, type PodTarget } from '../kube/pod-targets.ts';
import { describeJoined, NodeJoinWatch, type JoinedNode } from './join-watch.ts';
import { desiredNetConfText, type MigrationPlan } from './plan.ts';
import { warningsOf, type PreflightResult } from './preflight.ts';
import type { MigrateRequest } from './request.ts';
import type { JoinedNodeResult, MigrationOutcome, MigrationResult, NodeResult } from './result.ts';
import { writeMigrationResult } from './result.ts';
import { rolloutRows, type NodeProgress } from './rollout.ts';
import {
  backupStep,
  ChangeConflictError,
  changeStep,
  newState,
  phaseStep,
  restoreStep,
  RollbackConflictError,
  stateAt,
  writtenNetConf,
  type RestoreOutcome,
} from './steps.ts';
import { reached, type MigrationState } from './state.ts';
import { backendLabel, targetLabel, type MigrationTarget, type TargetBackend } from './target.ts';
import { updateConfigMap } from './update-config.ts';
import { verifyConvergence, type ConvergenceResult, type VerifyContext } from './verify.ts';

export interface MigrationContext {
  readonly kube: KubeClient;
  readonly exec: NodeExec;
  readonly io: Io;
  readonly globals: GlobalOptions;
  readonly access: NodeAccessOptions;
  readonly request: MigrateRequest;
  readonly install: FlannelInstall & { readonly configMap: ConfigMapLike };
  readonly nodes: readonly SelectedNode[];
  readonly facts: ClusterFacts;
  readonly startedAt: Date;
}

/** How long the cluster may take, after the rollout, to show every route and answer every ping. */
const CONVERGE_MS = 30_000;

const ref = (ctx: MigrationContext) => ({
  namespace: ctx.install.namespace,
  name: ctx.install.configMapName,
});

const update = (ctx: MigrationContext, fn: Parameters<typeof updateConfigMap>[2]) =>
  updateConfigMap(ctx.kube, ref(ctx), fn);

const verifyContext = (ctx: MigrationContext, target: TargetBackend): VerifyContext => ({
  kube: ctx.kube,
  exec: ctx.exec,
  namespace: ctx.install.namespace,
  nodes: ctx.nodes,
  target,
  commandTimeoutMs: ctx.access.commandTimeoutMs,
});

const restart = async (ctx: MigrationContext): Promise<number> => {
  await ctx.kube.patch(
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      namespace: ctx.install.namespace,
      name: ctx.install.daemonSet.metadata.name,
    },
    restartPatch(new Date()),
    'strategic',
  );
  return Date.now();
};

/** Watches one pod IP per peer that has pods (read once, when the watch starts). */
const startWatch = async (ctx: MigrationContext): Promise<ConnectivityWatch | undefined> => {
  if (!ctx.request.watch) return undefined;
  const errors: Record<string, string> = {};
  const pods = await listPodTargets(ctx.kube, ctx.nodes).catch((error: Error) => {
    errors.api = `could not list pods to watch: ${error.message}`;
    return new Map<string, PodTarget[]>();
  });
  const withoutPods = ctx.nodes.filter((n) => !pods.has(n.name)).map((n) => n.name);
  const watch = new ConnectivityWatch(
    ctx.exec,
    podPingTargets(ctx.nodes, pods, 1),
    undefined,
    withoutPods,
    errors,
  );
  watch.start();
  return watch;
};

const connectivityOf = (summary: WatchSummary | undefined): MigrationResult['connectivity'] =>
  summary && {
    intervalMs: summary.intervalMs,
    rounds: summary.rounds,
    sent: summary.sent,
    lost: summary.lost,
    pairs: summary.pairs.map((p) => ({ ...p })),
    errors: summary.errors,
    withoutPods: summary.withoutPods,
  };

const nodeResults = (
  ctx: MigrationContext,
  progress: ReadonlyMap<string, NodeProgress>,
  converge?: ConvergenceResult,
): NodeResult[] =>
  ctx.nodes.map((n) => {
    const p = progress.get(n.name);
    const api = (converge?.facts ?? ctx.facts).api?.nodes.find((a) => a.name === n.name);
    const unreachable = converge?.unreachable.includes(n.name);
    const reach = converge?.reachability.get(n.name);
    // Without a convergence check, a node's own verification (annotation, routes) is node level.
    const verdict = p?.verdict?.status === 'verified' ? 'node-level' : p?.verdict?.status;
    const verification = unreachable
      ? 'unreachable'
      : p?.verdict?.status === 'failed'
        ? 'failed'
        : (reach?.level ?? verdict ?? 'pending');
    const message = unreachable
      ? 'could not be re-probed over SSH'
      : [p?.verdict?.message, reach?.message].filter(Boolean).join('; ');
    return {
      node: n.name,
      ...(p?.pod ? { pod: p.pod } : {}),
      ...(p?.readyAfterMs !== undefined
        ? { convertedAfterSeconds: Math.round(p.readyAfterMs / 100) / 10 }
        : {}),
      backendType: api?.flannel.backendType ?? null,
      verification,
      ...(message ? { message } : {}),
    };
  });

const nodesAt = (converge: ConvergenceResult, level: string): string[] =>
  [...converge.reachability].filter(([, r]) => r.level === level).map(([node]) => node);

/** "pod IPs answered on 2 node(s); node-3 without pods verified at node level". */
const levelSummary = (converge: ConvergenceResult): string => {
  const pods = nodesAt(converge, 'verified');
  const nodeLevel = nodesAt(converge, 'node-level');
  return [
    pods.length > 0 ? `pods reached by pod IP on ${pods.length} node(s)` : 'no pods to ping',
    ...(nodeLevel.length > 0
      ? [`${nodeLevel.join(', ')} verified at node level (annotation, routes; no pods reached there)`]
      : []),
  ].join('; ');
};

const verificationOf = (converge: ConvergenceResult): MigrationResult['verification'] => ({
  passed: converge.passed,
  failures: converge.failures,
  unreachable: converge.unreachable,
  podLevel: nodesAt(converge, 'verified'),
  nodeLevel: nodesAt(converge, 'node-level'),
});

/** Joined nodes as the result reports them, judged by the convergence check that included them. */
const joinedResults = (
  joined: readonly JoinedNode[],
  target: string,
  converge?: ConvergenceResult,
): JoinedNodeResult[] =>
  joined.map((j) => {
    const backendType =
      converge?.facts.api?.nodes.find((n) => n.name === j.node)?.flannel.backendType ?? null;
    const named = converge?.failures.some((f) => f.includes(j.node)) ?? false;
    return {
      ...j,
      backendType,
      verification: converge?.passed ? 'verified' : named ? 'failed' : 'pending',
      message: describeJoined(backendType, target),
    };
  });

const base = (ctx: MigrationContext, from: string, to: string) => ({
  apiVersion: 'flannelctl/v1' as const,
  kind: 'MigrationResult' as const,
  namespace: ctx.install.namespace,
  configMap: ctx.install.configMapName,
  daemonSet: ctx.install.daemonSet.metadata.name,
  from,
  to,
  startedAt: ctx.startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  durationSeconds: Math.round((Date.now() - ctx.startedAt.getTime()) / 100) / 10,
});

/** The already-migrated case: nothing is written to the API; leftover devices only go with --cleanup. */
export const finishUnchanged = async (ctx: MigrationContext, target: MigrationTarget): Promise<void> => {
  const label = targetLabel(target);
  const leftovers = ctx.facts.nodes.filter((n) =>
    n.facts?.links?.some((l) => isFlannelVxlanDevice(l.name, l.kind)),
  );
  let removed: NodeCleanup[] = [];
  if (target.type === 'host-gw' && ctx.request.cleanup && leftovers.length > 0 && !ctx.request.dryRun) {
    removed = await deleteVxlanDevices(ctx.exec, ctx.nodes, ctx.facts, ctx.access.commandTimeoutMs);
  }
  const changed = removed.some((r) => r.removed.length > 0);
  const result: MigrationResult = {
    ...base(ctx, label, label),
    outcome: 'unchanged',
    changed,
    message: `No changes: flannel in ${ctx.install.namespace} already runs ${label} on all ${ctx.facts.api?.nodes.length ?? 0} node(s)${changed ? '; removed the leftover flannel.1' : ''}.`,
    nodes: nodeResults(ctx, new Map()),
    ...(target.type === 'host-gw' && leftovers.length > 0
      ? {
          cleanup: {
            done: changed,
            removed: removed.map((r) => ({
              node: r.node,
              devices: r.removed,
              ...(r.error ? { error: r.error } : {}),
            })),
            staleMtu: staleMtuNodes(ctx.facts),
            staleOwners: [],
            ...(changed
              ? {}
              : {
                  hint: `flannel.1 is still present on ${leftovers.map((n) => n.name).join(', ')}: \`flannelctl migrate --to host-gw --cleanup\` removes it`,
                }),
          },
        }
      : {}),
  };
  writeMigrationResult(result, ctx.globals, ctx.io);
  if (removed.some((r) => r.error)) throw new ResultExit(ExitCode.failed);
};

interface Resume {
  readonly state: MigrationState;
  readonly backup: ConfigMapBackup;
}

interface Fresh {
  readonly preflight: PreflightResult;
  readonly plan: MigrationPlan;
}

export const executeMigration = async (
  ctx: MigrationContext,
  target: MigrationTarget,
  how: Resume | Fresh,
): Promise<void> => {
  const { io } = ctx;
  const resume = 'state' in how ? how : undefined;
  const now = () => new Date();
  let backup: ConfigMapBackup;
  let backupFile: string | undefined;
  let state: MigrationState;
  if (resume) {
    backup = resume.backup;
    state = resume.state;
    backupFile = state.backupFile;
    io.stderr.write(`Resuming migration ${state.from} -> ${state.to} after step "${state.phase}"\n`);
  } else {
    const fresh = how as Fresh;
    backup = takeBackup(ctx.install.configMap, now());
    backupFile = writeBackupFile(backup, ctx.request.backupDir);
    const forced = fresh.preflight.failures.map(({ code, node, peer, message }) => ({
      code,
      ...(node ? { node } : {}),
      ...(peer ? { peer } : {}),
      message,
    }));
    state = newState(randomBytes(6).toString('hex'), readNetConf(ctx.install.configMap), target, now(), {
      backupFile,
      ...(forced.length > 0 ? { forced } : {}),
    });
    await update(ctx, backupStep(backup, state));
  }
  const original = parseNetConf(backup.data[NET_CONF_KEY] ?? '', 'backup net-conf.json');
  const from = backendLabel(original.Backend);
  const to = targetLabel(target);
  const desiredText = desiredNetConfText(original, target);
  const progress = new Map<string, NodeProgress>();
  const watch = await startWatch(ctx);
  let restartedAt = Date.now();
  // A node that joins during the window starts on the new backend; it is noticed and reported.
  const joinWatch = new NodeJoinWatch(
    ctx.kube,
    new Set((ctx.facts.api?.nodes ?? []).map((n) => n.name)),
    () => restartedAt,
  );
  joinWatch.start();
  let failure: Error | undefined;
  let converge: ConvergenceResult | undefined;
  try {
    await runTasks<object>(
      [
        {
          title: `Change net-conf.json Backend ${from} -> ${to}`,
          skip: () => reached(state, 'config-changed') && 'net-conf.json already changed',
          task: async (_c, task) => {
            state = stateAt(state, 'config-changed', now(), { written: desiredText });
            const r = await update(ctx, changeStep(backup, desiredText, state));
            task.title = `configmap/${ctx.install.configMapName} net-conf.json Backend: ${from} -> ${to}${r.attempts > 1 ? ` (after ${r.attempts - 1} conflict(s), re-read and re-checked)` : ''}`;
          },
        },
        {
          title: `Restart daemonset ${ctx.install.namespace}/${ctx.install.daemonSet.metadata.name} (like kubectl rollout restart)`,
          skip: () => reached(state, 'restarted') && 'restart already issued; waiting for it',
          task: async () => {
            restartedAt = await restart(ctx);
            state = stateAt(state, 'restarted', now());
            await update(ctx, phaseStep(state));
          },
        },
        ...rolloutRows<object>({
          kube: ctx.kube,
          namespace: ctx.install.namespace,
          daemonSet: ctx.install.daemonSet.metadata.name,
          nodes: ctx.nodes,
          timeoutMs: ctx.globals.timeoutMs,
          verify: verifyContext(ctx, target.type),
          progress,
          restartedAt: () => restartedAt,
        }),
        {
          title: `Verify every node runs ${target.type}: annotation, routes, and pings to pod IPs where pods run`,
          task: async (_c, task) => {
            converge = await verifyConvergence(verifyContext(ctx, target.type), CONVERGE_MS);
            if (!converge.passed)
              throw new Error(`verification failed: ${converge.failures.slice(0, 3).join('; ')}`);
            task.title = `Converged: ${ctx.nodes.length - converge.unreachable.length} node(s) on ${target.type}, ${levelSummary(converge)}${converge.unreachable.length ? `; NOT verified: ${converge.unreachable.join(', ')}` : ''}`;
          },
        },
      ],
      io,
      { ctx: {} },
    );
  } catch (error) {
    if (error instanceof InterruptedError) {
      await joinWatch.stop();
      throw error;
    }
    failure = error as Error;
  }
  const { joined } = await joinWatch.stop();
  if (failure instanceof ChangeConflictError) {
    // Nothing of ours reached net-conf.json and nothing was restarted: undoing anything would only
    // overwrite the other writer's edit. Record the stop, so the next run plans afresh.
    await watch?.stop();
    state = stateAt(state, 'stopped', now(), { reason: failure.message });
    await update(ctx, phaseStep(state)).catch(() => undefined);
    throw failure;
  }
  if (failure) {
    return executeRollback(ctx, backup, state, failure.message, backupFile, {
      watch,
      progress,
      converge,
      joined,
    });
  }
  state = stateAt(state, 'converged', now());
  await update(ctx, phaseStep(state));

  // Cleanup and the MTU report come from fresh facts (the convergence probe).
  let removed: NodeCleanup[] = [];
  let cleanupDone = false;
  let hint: string | undefined;
  const facts = converge!.facts;
  const leftovers = facts.nodes.filter((n) =>
    n.facts?.links?.some((l) => isFlannelVxlanDevice(l.name, l.kind)),
  );
  if (target.type === 'host-gw' && leftovers.length > 0) {
    let confirmed = ctx.request.cleanup;
    if (!confirmed && canPrompt(io, ctx.globals.yes)) {
      const { askConfirm } = await import('../prompts.ts');
      confirmed = await askConfirm(
        io,
        `Delete the leftover flannel.1 (and its neighbour/fdb entries) on ${leftovers.length} node(s)?`,
        true,
      );
    }
    if (confirmed) {
      removed = await deleteVxlanDevices(ctx.exec, ctx.nodes, facts, ctx.access.commandTimeoutMs);
      cleanupDone = true;
      state = stateAt(state, 'cleaned-up', now());
      await update(ctx, phaseStep(state));
    } else {
      hint = `flannel.1 is left on ${leftovers.map((n) => n.name).join(', ')}: \`flannelctl migrate --to host-gw --cleanup\` removes it`;
    }
  }
  const summary = await watch?.stop();
  const switchedAt = new Map(
    [...progress]
      .filter(([, p]) => p.readyAfterMs !== undefined)
      .map(([n, p]) => [n, restartedAt + p.readyAfterMs!]),
  );
  const staleMtu = staleMtuNodes(facts);
  const owners = await staleOwners(ctx.kube, staleMtu, switchedAt, ctx.install.namespace).catch(() => []);
  const incomplete = converge!.unreachable.length > 0 || removed.some((r) => r.error);
  const outcome: MigrationOutcome = incomplete ? 'incomplete' : 'migrated';
  const result: MigrationResult = {
    ...base(ctx, from, to),
    outcome,
    changed: true,
    message: incomplete
      ? `Migrated ${from} -> ${to}, but not everything could be verified or cleaned: ${[...converge!.unreachable.map((n) => `${n} unreachable over SSH`), ...removed.filter((r) => r.error).map((r) => `cleanup failed on ${r.node}`)].join(', ')}.`
      : `Migrated ${from} -> ${to}: ${ctx.nodes.length} node(s) converted one at a time and verified (routes via peer IPs${target.type === 'host-gw' ? ', none via flannel.1' : ''}; ${levelSummary(converge!)}).`,
    ...('preflight' in how
      ? {
          preflight: {
            passed: how.preflight.passed,
            forced: state.forced ?? [],
            checks: how.preflight.checks,
            ...warningsOf(how.preflight),
          },
        }
      : {}),
    backup: { ...(backupFile ? { file: backupFile } : {}), annotation: BACKUP_ANNOTATION },
    nodes: nodeResults(ctx, progress, converge),
    ...(joined.length > 0 ? { joined: joinedResults(joined, target.type, converge) } : {}),
    verification: verificationOf(converge!),
    ...(summary ? { connectivity: connectivityOf(summary) } : {}),
    cleanup: {
      done: cleanupDone,
      removed: removed.map((r) => ({
        node: r.node,
        devices: r.removed,
        ...(r.error ? { error: r.error } : {}),
      })),
      staleMtu,
      staleOwners: owners,
      ...(hint ? { hint } : {}),
    },
    state,
  };
  writeMigrationResult(result, ctx.globals, io);
  if (incomplete)
    throw new ResultExit(converge!.unreachable.length > 0 ? ExitCode.incomplete : ExitCode.failed);
};

/**
 * Puts the backup's Backend back into net-conf.json (only what flannelctl changed; every other edit is
 * kept), restarts, and verifies the original backend. A Backend someone else changed since flannelctl
 * wrote it stops it with the three-way difference; --restore-backup restores the whole backup instead.
 * Automatic after a stalled rollout or a failed verification (exit 1 either way), or asked for with
 * --rollback.
 */
export const executeRollback = async (
  ctx: MigrationContext,
  backup: ConfigMapBackup,
  state: MigrationState | undefined,
  reason: string,
  backupFile?: string,
  during?: {
    watch?: ConnectivityWatch;
    progress?: Map<string, NodeProgress>;
    converge?: ConvergenceResult;
    joined?: readonly JoinedNode[];
  },
): Promise<void> => {
  const { io } = ctx;
  const original = parseNetConf(backup.data[NET_CONF_KEY] ?? '', 'backup net-conf.json');
  const originalType = original.Backend.Type as TargetBackend;
  const fromLabel = state?.to ?? backendLabel(readNetConf(ctx.install.configMap).Backend);
  const toLabel = backendLabel(original.Backend);
  const automatic = during !== undefined;
  if (automatic) io.stderr.write(`Rolling back: ${reason}\n`);
  const watch = during?.watch ?? (await startWatch(ctx));
  const progress = new Map<string, NodeProgress>();
  let restored = false;
  let converge: ConvergenceResult | undefined;
  let failure: Error | undefined;
  let rolledBack: MigrationState | undefined;
  const whole = ctx.request.restoreBackup;
  const written = writtenNetConf(state, backup);
  const restore: RestoreOutcome = {};
  const ref = `configmap/${ctx.install.configMapName}`;
  let refused: RollbackConflictError | undefined;
  try {
    await runTasks<object>(
      [
        {
          title: whole
            ? `Restore ${ref} byte for byte (every data and binaryData key) from the backup taken ${backup.takenAt}`
            : `Restore the Backend of net-conf.json in ${ref} from the backup taken ${backup.takenAt} (other keys and edits kept)`,
          task: async (_c, task) => {
            const now = new Date();
            rolledBack = state
              ? stateAt(state, 'rolled-back', now, { reason })
              : {
                  id: 'manual',
                  from: fromLabel,
                  to: toLabel,
                  phase: 'rolled-back',
                  startedAt: now.toISOString(),
                  updatedAt: now.toISOString(),
                  reason,
                };
            const r = await update(ctx, restoreStep(backup, written, rolledBack, whole, restore)).catch(
              (error: unknown) => {
                // Reported once, by the CLI, with the diff; the row only says why it stopped.
                if (!(error instanceof RollbackConflictError)) throw error;
                refused = error;
              },
            );
            if (!r) {
              task.skip(`${ref}: rollback refused, the Backend was changed by someone else`);
              return;
            }
            restored = true;
            const retried =
              r.attempts > 1 ? ` (after ${r.attempts - 1} conflict(s), re-read and re-checked)` : '';
            if (!restore.restoredBackend)
              task.title = `${ref}: net-conf.json Backend is ${toLabel} already${retried}`;
            else if (retried) task.title = `${task.title}${retried}`;
          },
        },
      ],
      io,
      { ctx: {} },
    );
  } catch (error) {
    if (error instanceof InterruptedError) {
      await watch?.stop();
      throw error;
    }
    failure = error as Error;
  }
  if (refused) {
    await watch?.stop();
    throw refused;
  }
  // flanneld reads net-conf.json only at start: restart when the Backend just changed back, when a
  // restart of ours ran the other backend, or when a node still runs another one.
  const restartNeeded =
    restore.restoredBackend === true ||
    state === undefined ||
    reached(state, 'restarted') ||
    (ctx.facts.api?.nodes ?? []).some((n) => n.flannel.backendType !== originalType);
  if (!failure && restartNeeded) {
    try {
      await runTasks<object>(
        [
          {
            title: `Restart daemonset ${ctx.install.namespace}/${ctx.install.daemonSet.metadata.name}`,
            task: async () => {
              await restart(ctx);
              for (const p of progress.values()) p.readyAfterMs = undefined;
            },
          },
          ...(originalType === 'host-gw' || originalType === 'vxlan'
            ? [
                ...rolloutRows<object>({
                  kube: ctx.kube,
                  namespace: ctx.install.namespace,
                  daemonSet: ctx.install.daemonSet.metadata.name,
                  nodes: ctx.nodes,
                  timeoutMs: ctx.globals.timeoutMs,
                  verify: verifyContext(ctx, originalType),
                  progress,
                  restartedAt: () => Date.now(),
                }),
                {
                  title: `Verify every node runs ${originalType} again`,
                  task: async () => {
                    converge = await verifyConvergence(verifyContext(ctx, originalType), CONVERGE_MS);
                    if (!converge.passed)
                      throw new Error(
                        `verification after rollback failed: ${converge.failures.slice(0, 3).join('; ')}`,
                      );
                  },
                },
              ]
            : []),
        ],
        io,
        { ctx: {} },
      );
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      failure = error as Error;
    }
  }
  const summary = await watch?.stop();
  const verified = !failure && (restartNeeded ? (converge?.passed ?? false) : true);
  const result: MigrationResult = {
    ...base(ctx, fromLabel, toLabel),
    outcome: verified ? 'rolled-back' : 'rollback-failed',
    changed: true,
    message: verified
      ? !restartNeeded
        ? `Nothing to roll back: net-conf.json has the ${toLabel} Backend and every node runs it; the migration is recorded as rolled back.`
        : `${automatic ? 'Migration failed and was rolled back' : 'Rolled back'}: ${whole ? 'the whole backup restored byte for byte' : `the ${toLabel} Backend restored from the backup (other edits kept)`} and verified on every node.`
      : `Rollback did not complete: ${failure?.message ?? 'verification failed'}.`,
    backup: { ...(backupFile ? { file: backupFile } : {}), annotation: BACKUP_ANNOTATION },
    nodes: nodeResults(ctx, progress, converge),
    ...(during?.joined?.length ? { joined: joinedResults(during.joined, originalType, converge) } : {}),
    ...(converge
      ? {
          verification: verificationOf(converge),
        }
      : {}),
    ...(summary ? { connectivity: connectivityOf(summary) } : {}),
    rollback: {
      reason,
      restored,
      verified,
      failures: converge?.failures ?? (failure ? [failure.message] : []),
    },
    ...(rolledBack ? { state: rolledBack } : {}),
  };
  writeMigrationResult(result, ctx.globals, io);
  // A rollback the operator asked for and that verified is a success; an automatic one is not.
  if (automatic || !verified) throw new ResultExit(ExitCode.failed);
};
