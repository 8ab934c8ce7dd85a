// Every migrate flag checked, before the cluster or a node is touched (exit 2 on bad input).
import type { MigrateFlags } from '../commands/migrate.ts';
import { UsageError } from '../errors.ts';
import { defaultBackupDir, readBackupFile, type ConfigMapBackup } from './backup.ts';
import type { MigrationTarget } from './target.ts';

export type MigrateMode = 'migrate' | 'resume' | 'rollback';

export interface MigrateRequest {
  readonly mode: MigrateMode;
  /** Absent for --rollback and for a --resume that takes the target from the recorded state. */
  readonly target?: MigrationTarget;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly cleanup: boolean;
  readonly watch: boolean;
  readonly backupDir: string;
  /** --rollback --restore-backup: every data and binaryData key of the backup, byte for byte. */
  readonly restoreBackup: boolean;
  readonly backupFile?: { readonly path: string; readonly backup: ConfigMapBackup };
}

export const migrateRequest = (flags: MigrateFlags, env: NodeJS.ProcessEnv): MigrateRequest => {
  if (flags.resume && flags.rollback) throw new UsageError('--resume and --rollback cannot be used together');
  if (flags.rollback && (flags.to || flags.directRouting || flags.force || flags.dryRun)) {
    throw new UsageError(
      '--rollback takes no --to, --direct-routing, --force or --dry-run',
      'it restores the backup taken before the migration: flannelctl migrate --rollback',
    );
  }
  if (!flags.to && !flags.rollback && !flags.resume) {
    throw new UsageError('--to is required', 'e.g. flannelctl migrate --to host-gw --dry-run');
  }
  if (flags.directRouting && flags.to !== 'vxlan') {
    throw new UsageError(
      '--direct-routing only applies to --to vxlan',
      'flannelctl migrate --to vxlan --direct-routing',
    );
  }
  if (flags.restoreBackup && !flags.rollback)
    throw new UsageError(
      '--restore-backup is only used with --rollback',
      'flannelctl migrate --rollback --restore-backup',
    );
  if (flags.backupFile !== undefined && !flags.rollback)
    throw new UsageError('--backup-file is only used with --rollback');
  if (flags.dryRun && flags.resume) throw new UsageError('--dry-run cannot be combined with --resume');
  const mode: MigrateMode = flags.rollback ? 'rollback' : flags.resume ? 'resume' : 'migrate';
  return {
    mode,
    ...(flags.to ? { target: { type: flags.to, directRouting: Boolean(flags.directRouting) } } : {}),
    dryRun: Boolean(flags.dryRun),
    force: Boolean(flags.force),
    cleanup: Boolean(flags.cleanup),
    watch: Boolean(flags.watchConnectivity),
    backupDir: flags.backupDir ?? defaultBackupDir(env),
    restoreBackup: Boolean(flags.restoreBackup),
    ...(flags.backupFile !== undefined
      ? { backupFile: { path: flags.backupFile, backup: readBackupFile(flags.backupFile) } }
      : {}),
  };
};
