import { BACKUP_ANNOTATION, STATE_ANNOTATION } from './annotations.ts';
import type { ConfigMapLike } from '../kube/discover.ts';

/** The phases a migration passes through, in order; a run resumes after the last one recorded. */
export const MIGRATION_PHASES = [
  'backed-up',
  // Stopped before net-conf.json was changed (someone else edited it): nothing to resume or undo.
  'stopped',
  'config-changed',
  'restarted',
  'converged',
  'cleaned-up',
  'rolled-back',
] as const;
export type MigrationPhase = (typeof MIGRATION_PHASES)[number];

/** A preflight failure the operator accepted with --force. */
export interface ForcedFailure {
  readonly code: string;
  readonly node?: string;
  readonly peer?: string;
  readonly message: string;
}

export interface MigrationState {
  readonly id: string;
  /** Backend labels, e.g. vxlan -> host-gw (vxlan+directrouting for the hybrid). */
  readonly from: string;
  readonly to: string;
  readonly phase: MigrationPhase;
  readonly startedAt: string;
  readonly updatedAt: string;
  /** Where the local copy of the backup was written (on the workstation that started it). */
  readonly backupFile?: string;
  /** Preflight failures accepted with --force, and the operator's stated reason. */
  readonly forced?: readonly ForcedFailure[];
  /** The net-conf.json text flannelctl wrote: what a rollback compares the live one with. */
  readonly written?: string;
  /** Why a rollback happened, or why the migration stopped. */
  readonly reason?: string;
}

export const readMigrationState = (configMap: ConfigMapLike): MigrationState | undefined => {
  const text = configMap.metadata.annotations?.[STATE_ANNOTATION];
  if (!text) return undefined;
  try {
    const state = JSON.parse(text) as MigrationState;
    return typeof state.phase === 'string' && typeof state.to === 'string' ? state : undefined;
  } catch {
    return undefined;
  }
};

export const readBackupAnnotation = (configMap: ConfigMapLike): string | undefined =>
  configMap.metadata.annotations?.[BACKUP_ANNOTATION];

/** A migration that started and neither converged nor was rolled back. */
export const isUnfinished = (state: MigrationState | undefined): state is MigrationState =>
  state !== undefined &&
  state.phase !== 'cleaned-up' &&
  state.phase !== 'stopped' &&
  state.phase !== 'converged' &&
  state.phase !== 'rolled-back';

/** Phase order, so a resumed run skips what is done. */
export const reached = (state: MigrationState | undefined, phase: MigrationPhase): boolean =>
  state !== undefined && MIGRATION_PHASES.indexOf(state.phase) >= MIGRATION_PHASES.indexOf(phase);

/** The ConfigMap with its state annotation set (other annotations and data untouched). */
export const withState = (configMap: ConfigMapLike, state: MigrationState): ConfigMapLike => ({
  ...configMap,
  metadata: {
    ...configMap.metadata,
    annotations: { ...configMap.metadata.annotations, [STATE_ANNOTATION]: JSON.stringify(state) },
  },
});
