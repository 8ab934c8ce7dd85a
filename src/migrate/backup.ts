import { mkdirSync, writeFileSync } from 'node:fs';
import { readRegularFile } from '../files.ts';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OperationError, UsageError } from '../errors.ts';
import type { ConfigMapLike } from '../kube/discover.ts';
import { BACKUP_ANNOTATION } from './annotations.ts';

/**
 * A copy of the flannel ConfigMap's data and binaryData taken before a migration. Rollback restores only
 * the Backend from it; `--rollback --restore-backup` restores all of it byte for byte.
 */
export interface ConfigMapBackup {
  readonly apiVersion: 'flannelctl/v1';
  readonly kind: 'ConfigMapBackup';
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion?: string;
  readonly takenAt: string;
  /** Every data key as stored, byte for byte. */
  readonly data: Readonly<Record<string, string>>;
  /** Every binaryData key as the API returns it (base64), when the ConfigMap had any. */
  readonly binaryData?: Readonly<Record<string, string>>;
}

const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');

export const takeBackup = (configMap: ConfigMapLike, now: Date): ConfigMapBackup => ({
  apiVersion: 'flannelctl/v1',
  kind: 'ConfigMapBackup',
  namespace: configMap.metadata.namespace ?? '',
  name: configMap.metadata.name,
  ...(configMap.metadata.resourceVersion
    ? { resourceVersion: String(configMap.metadata.resourceVersion) }
    : {}),
  takenAt: now.toISOString(),
  data: { ...(configMap.data ?? {}) },
  ...(configMap.binaryData && Object.keys(configMap.binaryData).length > 0
    ? { binaryData: { ...configMap.binaryData } }
    : {}),
});

/** Checks a parsed value is a backup; `source` names the file or annotation in the error. */
export const parseBackup = (text: string, source: string): ConfigMapBackup => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source} is not JSON: ${(error as Error).message}`);
  }
  const b = value as Partial<ConfigMapBackup>;
  const dataOk = isStringMap(b?.data) && (b.binaryData === undefined || isStringMap(b.binaryData));
  if (b?.kind !== 'ConfigMapBackup' || typeof b.name !== 'string' || !dataOk) {
    throw new UsageError(
      `${source} is not a flannelctl ConfigMap backup`,
      'use a file written by `flannelctl migrate` (~/.flannelctl/backups)',
    );
  }
  return b as ConfigMapBackup;
};

export const readBackupFile = (path: string): ConfigMapBackup => {
  return parseBackup(readRegularFile(path, '--backup-file'), `--backup-file ${path}`);
};

/** The backup as kept in the ConfigMap's annotation, next to what it protects. */
export const backupAnnotationValue = (backup: ConfigMapBackup): string => JSON.stringify(backup);

export const withBackupAnnotation = (configMap: ConfigMapLike, backup: ConfigMapBackup): ConfigMapLike => ({
  ...configMap,
  metadata: {
    ...configMap.metadata,
    annotations: { ...configMap.metadata.annotations, [BACKUP_ANNOTATION]: backupAnnotationValue(backup) },
  },
});

/** The ConfigMap with data and binaryData replaced by the backup's, every key byte for byte. */
export const withRestoredData = (configMap: ConfigMapLike, backup: ConfigMapBackup): ConfigMapLike => {
  const { binaryData: _current, ...rest } = configMap;
  return {
    ...rest,
    data: { ...backup.data },
    ...(backup.binaryData ? { binaryData: { ...backup.binaryData } } : {}),
  };
};

export const defaultBackupDir = (env: NodeJS.ProcessEnv): string =>
  env.FLANNELCTL_BACKUP_DIR ?? join(env.HOME ?? homedir(), '.flannelctl', 'backups');

/** Writes the backup as JSON and returns its path; a failure here stops the migration before any change. */
export const writeBackupFile = (backup: ConfigMapBackup, dir: string): string => {
  const stamp = backup.takenAt.replace(/[:.]/g, '-');
  const path = join(dir, `${backup.namespace}-${backup.name}-${stamp}.json`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path, `${JSON.stringify(backup, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new OperationError(
      `cannot write the ConfigMap backup to ${path}: ${(error as Error).message}; nothing was changed`,
      'pass --backup-dir DIR with a writable directory',
    );
  }
  return path;
};
