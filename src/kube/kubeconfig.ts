import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from '../errors.ts';
import { readRegularFile } from '../files.ts';

export interface KubeconfigSelection {
  readonly kubeconfig?: string;
  readonly context?: string;
}

/** The file kubectl would read: --kubeconfig, then the first entry of $KUBECONFIG, then ~/.kube/config. */
export const kubeconfigPath = (sel: KubeconfigSelection, env: NodeJS.ProcessEnv): string =>
  sel.kubeconfig ?? env.KUBECONFIG?.split(':').find((p) => p !== '') ?? join(homedir(), '.kube', 'config');

/** Loads and validates the kubeconfig; every problem is a usage error naming the file and the fix. */
export const loadKubeConfig = (
  KubeConfigClass: new () => KubeConfig,
  sel: KubeconfigSelection,
  env: NodeJS.ProcessEnv,
): KubeConfig => {
  const path = kubeconfigPath(sel, env);
  if (!existsSync(path)) {
    throw new UsageError(`kubeconfig ${path} does not exist`, 'pass --kubeconfig FILE or set KUBECONFIG');
  }
  const text = readRegularFile(path, 'kubeconfig');
  const kc = new KubeConfigClass();
  try {
    kc.loadFromString(text);
  } catch (error) {
    throw new UsageError(
      `kubeconfig ${path} is not valid: ${(error as Error).message}`,
      'check it with `kubectl config view --kubeconfig ' + path + '`',
    );
  }
  if (sel.context) {
    if (!kc.getContexts().some((c) => c.name === sel.context)) {
      const known =
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'none';
      throw new UsageError(`context "${sel.context}" is not in ${path}`, `use one of: ${known}`);
    }
    kc.setCurrentContext(sel.context);
  }
  if (!kc.getCurrentContext() || !kc.getCurrentCluster()) {
    throw new UsageError(`kubeconfig ${path} has no current context with a cluster`, 'pass --context NAME');
  }
  return kc;
};
