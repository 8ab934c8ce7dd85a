// The ConfigMap edits a migration makes, as pure functions of the object read just before each PUT
// (updateConfigMap re-reads and re-runs them on 409), plus the same edits spelled as planned requests.
import { OperationError } from '../errors.ts';
import { NET_CONF_KEY } from '../flannel/names.ts';
import { parseNetConf, type NetConf } from '../flannel/net-conf.ts';
import type { ConfigMapLike } from '../kube/discover.ts';
import { restartPatch } from '../kube/rollout.ts';
import { takeBackup, withBackupAnnotation, withRestoredData, type ConfigMapBackup } from './backup.ts';
import { decideBackendRestore, threeWayDiff } from './backend-restore.ts';
import { desiredNetConfText } from './plan.ts';
import type { MigrateRequest } from './request.ts';
import { putConfigMap, restartRequest, type PlannedRequest } from './requests.ts';
import { reached, withState, type MigrationPhase, type MigrationState } from './state.ts';
import { backendLabel, parseTargetLabel, targetLabel, type MigrationTarget } from './target.ts';
import type { ConfigUpdate } from './update-config.ts';

/** What we PUT: the object as read, without managedFields (the server keeps them when omitted). */
export const forPut = (configMap: ConfigMapLike): ConfigMapLike => {
  const { managedFields: _managed, ...metadata } = configMap.metadata;
  return { ...configMap, metadata };
};

export const stateAt = (
  state: MigrationState,
  phase: MigrationPhase,
  now: Date,
  extra: Partial<MigrationState> = {},
) => ({
  ...state,
  ...extra,
  phase,
  updatedAt: now.toISOString(),
});

const netConfText = (cm: ConfigMapLike): string | undefined => cm.data?.[NET_CONF_KEY];

/** Backup annotation + state, only if nobody changed net-conf.json since the backup was taken. */
export const backupStep =
  (backup: ConfigMapBackup, state: MigrationState): ConfigUpdate =>
  (current) => {
    if (netConfText(current) !== backup.data[NET_CONF_KEY]) {
      throw new OperationError(
        'net-conf.json changed while the migration was starting (someone else edited the ConfigMap); nothing was changed',
        'rerun flannelctl migrate to plan against the new configuration',
      );
    }
    return withState(withBackupAnnotation(forPut(current), backup), state);
  };

/** Someone else changed net-conf.json before flannelctl did: stop, change nothing, restart nothing. */
export class ChangeConflictError extends OperationError {}

/** net-conf.json -> desired, re-checked against the backup on every attempt (409 -> re-read). */
export const changeStep =
  (backup: ConfigMapBackup, desiredText: string, state: MigrationState): ConfigUpdate =>
  (current) => {
    const text = netConfText(current);
    if (text !== backup.data[NET_CONF_KEY] && text !== desiredText) {
      throw new ChangeConflictError(
        `net-conf.json of configmap ${current.metadata.namespace}/${current.metadata.name} was changed by someone else after the backup; the migration stopped before changing it: nothing was rolled back or restarted, the other edit is kept`,
        'inspect the ConfigMap (kubectl get configmap -o yaml), then plan again: flannelctl migrate --to … --dry-run',
      );
    }
    return withState({ ...forPut(current), data: { ...current.data, [NET_CONF_KEY]: desiredText } }, state);
  };

export const phaseStep =
  (state: MigrationState): ConfigUpdate =>
  (current) =>
    withState(forPut(current), state);

/**
 * The net-conf.json flannelctl wrote for this migration: recorded in the state, or (states written
 * before that was recorded) recomputed from the backup and the target. Undefined: it wrote none.
 */
export const writtenNetConf = (
  state: MigrationState | undefined,
  backup: ConfigMapBackup,
): string | undefined => {
  if (!state || !reached(state, 'config-changed')) return undefined;
  if (state.written !== undefined) return state.written;
  const target = parseTargetLabel(state.to);
  const text = backup.data[NET_CONF_KEY];
  if (!target || text === undefined) return undefined;
  try {
    return desiredNetConfText(parseNetConf(text, 'backup net-conf.json'), target);
  } catch {
    return undefined;
  }
};

/** The Backend was changed by someone else since flannelctl wrote it: a rollback must not guess. */
export class RollbackConflictError extends OperationError {}

/** What the rollback found, for the result line: 'restored', or nothing to write. */
export interface RestoreOutcome {
  restoredBackend?: boolean;
}

/**
 * Puts the backup's Backend back into the current net-conf.json (every other key and edit kept), decided
 * afresh from the object read before each attempt; `whole` restores every data and binaryData key of
 * the backup byte for byte instead (--restore-backup).
 */
export const restoreStep =
  (
    backup: ConfigMapBackup,
    written: string | undefined,
    state: MigrationState,
    whole: boolean,
    outcome: RestoreOutcome = {},
  ): ConfigUpdate =>
  (current) => {
    if (whole) {
      outcome.restoredBackend = true;
      return withState(withRestoredData(forPut(current), backup), state);
    }
    const threeWay = { backup: backup.data[NET_CONF_KEY] ?? '', written, current: netConfText(current) };
    const decision = decideBackendRestore(threeWay);
    if (decision.kind === 'conflict') {
      const ref = `configmap ${current.metadata.namespace}/${current.metadata.name}`;
      throw new RollbackConflictError(
        `refusing to roll back ${ref}: ${decision.reason}; nothing was changed.\n${threeWayDiff(threeWay, {
          backup: `backup taken ${backup.takenAt}`,
          written: 'written by flannelctl',
          current: `current, resourceVersion ${String(current.metadata.resourceVersion ?? '?')}`,
        })}`,
        'keep the current ConfigMap, or restore the whole backup byte for byte (this reverts every edit made since): flannelctl migrate --rollback --restore-backup',
      );
    }
    outcome.restoredBackend = decision.kind === 'restore';
    const next = forPut(current);
    return withState(
      decision.kind === 'restore'
        ? { ...next, data: { ...current.data, [NET_CONF_KEY]: decision.text } }
        : next,
      state,
    );
  };

export const newState = (
  id: string,
  current: NetConf,
  target: MigrationTarget,
  now: Date,
  extra: Partial<MigrationState> = {},
): MigrationState => ({
  id,
  from: backendLabel(current.Backend),
  to: targetLabel(target),
  phase: 'backed-up',
  startedAt: now.toISOString(),
  updatedAt: now.toISOString(),
  ...extra,
});

/** The requests a real run sends, in order, for --dry-run (resourceVersions after the first are the server's). */
export const plannedRequests = (
  configMap: ConfigMapLike,
  daemonSet: string,
  current: NetConf,
  target: MigrationTarget,
  now: Date,
  request: MigrateRequest,
): PlannedRequest[] => {
  const backup = takeBackup(configMap, now);
  const state = newState('<generated>', current, target, now, { backupFile: `${request.backupDir}/…json` });
  const namespace = configMap.metadata.namespace ?? '';
  const later = (cm: ConfigMapLike): ConfigMapLike => ({
    ...cm,
    metadata: { ...cm.metadata, resourceVersion: '<from the previous response>' },
  });
  const first = backupStep(backup, state)(configMap)!;
  const desired = desiredNetConfText(current, target);
  // The state records what was written from here on, as a real run's does (rollback compares with it).
  const changed = later(
    changeStep(backup, desired, stateAt(state, 'config-changed', now, { written: desired }))(first)!,
  );
  const wrote = { ...state, written: desired };
  const restarted = later(phaseStep(stateAt(wrote, 'restarted', now))(changed)!);
  const converged = later(phaseStep(stateAt(wrote, 'converged', now))(restarted)!);
  return [
    putConfigMap(
      'back up net-conf.json into the annotation flannelctl.io/net-conf-backup and record the migration',
      first,
    ),
    putConfigMap(`change net-conf.json Backend to ${targetLabel(target)}`, changed),
    restartRequest(namespace, daemonSet, restartPatch(now)),
    putConfigMap('record that the restart was issued', restarted),
    putConfigMap('record that every node converged (after verification)', converged),
    ...(request.cleanup && target.type === 'host-gw'
      ? [putConfigMap('record the cleanup', later(phaseStep(stateAt(wrote, 'cleaned-up', now))(converged)!))]
      : []),
  ];
};
