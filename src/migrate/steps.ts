// The ConfigMap edits a migration makes, as pure functions of the object read just before each PUT
// (updateConfigMap re-reads and re-runs them on 409), plus the same edits spelled as planned requests.
import { OperationError } from '../errors.ts';
import { NET_CONF_KEY } from '../flannel/names.ts';
import type { NetConf } from '../flannel/net-conf.ts';
import type { ConfigMapLike } from '../kube/discover.ts';
import { restartPatch } from '../kube/rollout.ts';
import { takeBackup, withBackupAnnotation, withRestoredData, type ConfigMapBackup } from './backup.ts';
import { desiredNetConfText } from './plan.ts';
import type { MigrateRequest } from './request.ts';
import { putConfigMap, restartRequest, type PlannedRequest } from './requests.ts';
import { withState, type MigrationPhase, type MigrationState } from './state.ts';
import { backendLabel, targetLabel, type MigrationTarget } from './target.ts';
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

/** net-conf.json -> desired, re-checked against the backup on every attempt. */
export const changeStep =
  (backup: ConfigMapBackup, desiredText: string, state: MigrationState): ConfigUpdate =>
  (current) => {
    const text = netConfText(current);
    if (text !== backup.data[NET_CONF_KEY] && text !== desiredText) {
      throw new OperationError(
        'net-conf.json was changed by someone else after the backup; the migration stopped before changing it',
        'inspect the ConfigMap, then rerun with --rollback (restores the backup) or --resume',
      );
    }
    return withState({ ...forPut(current), data: { ...current.data, [NET_CONF_KEY]: desiredText } }, state);
  };

export const phaseStep =
  (state: MigrationState): ConfigUpdate =>
  (current) =>
    withState(forPut(current), state);

export const restoreStep =
  (backup: ConfigMapBackup, state: MigrationState): ConfigUpdate =>
  (current) =>
    withState(withRestoredData(forPut(current), backup), state);

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
  const changed = later(
    changeStep(backup, desiredNetConfText(current, target), stateAt(state, 'config-changed', now))(first)!,
  );
  const restarted = later(phaseStep(stateAt(state, 'restarted', now))(changed)!);
  const converged = later(phaseStep(stateAt(state, 'converged', now))(restarted)!);
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
      ? [putConfigMap('record the cleanup', later(phaseStep(stateAt(state, 'cleaned-up', now))(converged)!))]
      : []),
  ];
};
