// `flannelctl migrate`: decides what this run does (plan, migrate, resume, roll back, nothing), then
// hands over to the steps in execute.ts. Validation happens before the cluster or a node is touched.
import type { MigrateFlags } from '../commands/migrate.ts';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import { gatherCluster } from '../diagnose/gather-cluster.ts';
import { OperationError, ResultExit, UsageError } from '../errors.ts';
import { readNetConf } from '../flannel/config-map.ts';
import { NET_CONF_KEY } from '../flannel/names.ts';
import type { GlobalOptions } from '../global-options.ts';
import { canPrompt, type Io } from '../io.ts';
import { printableText } from '../report/printable.ts';
import { discoverFlannel } from '../kube/discover.ts';
import { askSelect } from '../prompts.ts';
import { parseBackup } from './backup.ts';
import { executeMigration, executeRollback, finishUnchanged, type MigrationContext } from './execute.ts';
import { buildPlan, effectiveMaxUnavailable, renderPlanText } from './plan.ts';
import { formatFailure, formatWarning, runPreflight, warningsOf } from './preflight.ts';
import { migrateRequest } from './request.ts';
import { plannedRequests } from './steps.ts';
import { isAtTarget, parseTargetLabel, targetLabel } from './target.ts';
import { isUnfinished, readBackupAnnotation, readMigrationState } from './state.ts';
import type { MigrationResult } from './result.ts';
import { writeMigrationResult } from './result.ts';

export const runMigrate = async (
  flags: MigrateFlags,
  globals: GlobalOptions,
  access: NodeAccessOptions,
  io: Io,
): Promise<void> => {
  const request = migrateRequest(flags, io.env);
  const startedAt = new Date();
  const gathered = await gatherCluster({ globals, access, io });
  try {
    const kube = gathered.kube;
    if (!kube)
      throw new UsageError(
        'migrate needs the cluster API',
        'pass --kubeconfig (an --inventory alone has no cluster)',
      );
    const install = await discoverFlannel(kube, globals.namespace);
    if (!install?.configMap) {
      throw new OperationError(
        `no flannel install found${globals.namespace ? ` in ${globals.namespace}` : ' in kube-flannel or kube-system'}`,
        'install flannel first: flannelctl install --backend host-gw',
      );
    }
    const configMap = install.configMap;
    const current = readNetConf(configMap);
    if (current.Backend.Type !== 'vxlan' && current.Backend.Type !== 'host-gw') {
      throw new OperationError(
        `the cluster runs the ${current.Backend.Type} backend; migrate switches between vxlan and host-gw`,
      );
    }
    const state = readMigrationState(configMap);
    const nodes = gathered.selection.nodes;
    const ctx: MigrationContext = {
      kube,
      exec: gathered.exec,
      io,
      globals,
      access,
      request,
      install: { ...install, configMap },
      nodes,
      facts: gathered.facts,
      startedAt,
    };

    if (request.mode === 'rollback') {
      const annotation = readBackupAnnotation(configMap);
      const backup =
        request.backupFile?.backup ??
        (annotation
          ? parseBackup(annotation, `annotation on configmap ${install.namespace}/${install.configMapName}`)
          : undefined);
      if (!backup) {
        throw new UsageError(
          `configmap ${install.namespace}/${install.configMapName} holds no migration backup`,
          'pass --backup-file with a file from ~/.flannelctl/backups',
        );
      }
      return await executeRollback(ctx, backup, state, 'requested with --rollback', request.backupFile?.path);
    }

    let mode = request.mode;
    if (isUnfinished(state)) {
      const recorded = parseTargetLabel(state.to);
      if (request.target && recorded && targetLabel(request.target) !== state.to) {
        throw new UsageError(
          `an unfinished migration ${state.from} -> ${state.to} is recorded on configmap ${install.namespace}/${install.configMapName}; it cannot be resumed as --to ${targetLabel(request.target)}`,
          'finish it with --resume, or undo it with --rollback',
        );
      }
      if (mode !== 'resume') {
        const what = `an unfinished migration ${state.from} -> ${state.to} (started ${state.startedAt}, last step: ${state.phase}) is recorded on configmap ${install.namespace}/${install.configMapName}`;
        if (request.dryRun || !canPrompt(io, globals.yes)) {
          throw new UsageError(what, 'continue it with --resume or undo it with --rollback');
        }
        const choice = await askSelect(io, `${what}. What now?`, [
          { value: 'resume', name: 'Resume', description: 'continue from the last recorded step' },
          {
            value: 'rollback',
            name: 'Roll back',
            description: 'put back the Backend from the backup (other edits kept) and restart',
          },
          { value: 'abort', name: 'Abort', description: 'change nothing' },
        ]);
        if (choice === 'abort') throw new OperationError('aborted; nothing was changed');
        if (choice === 'rollback') {
          const annotation = readBackupAnnotation(configMap);
          if (!annotation)
            throw new OperationError('no backup annotation to roll back to', 'use --rollback --backup-file');
          return await executeRollback(
            ctx,
            parseBackup(annotation, 'backup annotation'),
            state,
            'chosen after an interrupted run',
          );
        }
        mode = 'resume';
      }
      const target = recorded ?? request.target;
      if (!target)
        throw new UsageError(
          `cannot tell the target of the recorded migration (${state.to})`,
          'pass --rollback',
        );
      const annotation = readBackupAnnotation(configMap);
      if (!annotation)
        throw new OperationError(
          'the recorded migration has no backup annotation',
          'use --rollback --backup-file',
        );
      return await executeMigration(ctx, target, {
        state,
        backup: parseBackup(annotation, 'backup annotation'),
      });
    }
    if (mode === 'resume') {
      throw new UsageError(
        `no unfinished migration is recorded on configmap ${install.namespace}/${install.configMapName}`,
        'start one with --to host-gw',
      );
    }

    const target = request.target!;
    const apiNodes = gathered.facts.api?.nodes ?? [];
    const everyNodeOnTarget =
      apiNodes.length > 0 && apiNodes.every((n) => n.flannel.backendType === target.type);
    if (isAtTarget(current, target) && everyNodeOnTarget) {
      return await finishUnchanged(ctx, target);
    }
    if (isAtTarget(current, target)) {
      io.stderr.write(
        `warning: net-conf.json already says ${targetLabel(target)} but not every node runs it (edited without a restart?); the restart will apply it\n`,
      );
    }

    const preflight = runPreflight(gathered.facts, target);
    const ds = install.daemonSet as {
      spec?: { updateStrategy?: { rollingUpdate?: { maxUnavailable?: unknown } } };
    };
    const plan = buildPlan({
      namespace: install.namespace,
      configMap: install.configMapName,
      daemonSet: install.daemonSet.metadata.name,
      currentText: configMap.data?.[NET_CONF_KEY] ?? '',
      current,
      target,
      nodes: nodes.map((n) => n.name),
      maxUnavailable: effectiveMaxUnavailable(
        ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable,
        nodes.length,
      ),
      cleanup: request.cleanup,
      watch: request.watch,
      requests: plannedRequests(
        configMap,
        install.daemonSet.metadata.name,
        current,
        target,
        startedAt,
        request,
      ),
    });

    if (request.dryRun) {
      const result: MigrationResult = {
        apiVersion: 'flannelctl/v1',
        kind: 'MigrationResult',
        outcome: 'planned',
        changed: false,
        namespace: plan.namespace,
        configMap: plan.configMap,
        daemonSet: plan.daemonSet,
        from: plan.from,
        to: plan.to,
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        durationSeconds: 0,
        message: preflight.passed
          ? `Dry run: nothing was changed. The preflight passed; \`flannelctl migrate --to ${plan.to === 'vxlan+directrouting' ? 'vxlan --direct-routing' : plan.to}\` would do the above.`
          : `Dry run: nothing was changed. The preflight FAILED; a real run would refuse${request.force ? ' (unless --force)' : ''}.`,
        preflight: {
          passed: preflight.passed,
          forced: [],
          checks: preflight.checks,
          ...warningsOf(preflight),
        },
        nodes: [],
        plan: {
          diff: plan.diff,
          steps: plan.steps,
          window: plan.window,
          estimatedSeconds: plan.estimatedSeconds,
          requests: plan.requests,
          nodeCommands: plan.nodeCommands,
        },
      };
      if (globals.output === 'text') {
        // The plan quotes API values (annotations, net-conf.json): shown printable.
        const say = (text: string) => io.stdout.write(printableText(text));
        say(renderPlanText(plan));
        say(`\nPreflight: ${preflight.passed ? 'passed' : 'FAILED'}\n`);
        for (const f of preflight.failures) say(`${formatFailure(f)}\n`);
        for (const f of preflight.warnings) say(`${formatWarning(f)}\n`);
        say('\nAPI requests a real run sends (none was sent):\n');
        const { formatRequest } = await import('./requests.ts');
        plan.requests.forEach((r, i) => say(formatRequest(r, i + 1)));
        if (plan.nodeCommands.length > 0)
          say(`\nNode commands:\n${plan.nodeCommands.map((c) => `  ${c}`).join('\n')}\n`);
        say(`\n${result.message}\n`);
      } else {
        writeMigrationResult(result, globals, io);
      }
      if (!preflight.passed) throw new ResultExit(1);
      return;
    }

    if (preflight.warnings.length > 0)
      io.stderr.write(
        `Preflight warnings (${preflight.warnings.length}):\n${preflight.warnings.map(formatWarning).join('\n')}\n`,
      );
    if (!preflight.passed) {
      const blocking = preflight.failures.filter((f) => f.blocking);
      if (blocking.length > 0 || !request.force) {
        io.stderr.write(
          `Preflight failed (${preflight.failures.length}):\n${preflight.failures.map(formatFailure).join('\n')}\n`,
        );
        const l2 = preflight.failures.some((f) => f.code.startsWith('l2-adjacency/'));
        throw new OperationError(
          `refusing to migrate to ${targetLabel(target)}: ${preflight.failures.length} preflight check(s) failed; nothing was changed`,
          blocking.length > 0
            ? blocking.map((b) => b.remediation ?? b.message).join('; ')
            : l2
              ? 'some node pairs are not L2-adjacent: use `flannelctl migrate --to vxlan --direct-routing`, or fix them, or pass --force to accept the failures'
              : 'fix the failures above, or pass --force to proceed past them (they are recorded in the migration state)',
        );
      }
      io.stderr.write(
        `warning: --force: proceeding past ${preflight.failures.length} failed preflight check(s):\n${preflight.failures.map(formatFailure).join('\n')}\n`,
      );
    }
    if (canPrompt(io, globals.yes)) {
      io.stderr.write(renderPlanText(plan));
      const { askConfirm } = await import('../prompts.ts');
      if (!(await askConfirm(io, `Migrate ${plan.from} -> ${plan.to} now?`)))
        throw new OperationError('cancelled; nothing was changed');
    }
    return await executeMigration(ctx, target, { preflight, plan });
  } finally {
    await gathered.exec.close();
  }
};
