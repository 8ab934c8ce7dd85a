import { OperationError } from '../errors.ts';
import type { AccessCheck, KubeClient } from '../kube/client.ts';
import type { ObjectPlan } from './plan.ts';

const RESOURCES: Record<string, { group: string; resource: string }> = {
  Namespace: { group: '', resource: 'namespaces' },
  ClusterRole: { group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
  ServiceAccount: { group: '', resource: 'serviceaccounts' },
  ConfigMap: { group: '', resource: 'configmaps' },
  DaemonSet: { group: 'apps', resource: 'daemonsets' },
};

const describe = (c: AccessCheck) =>
  `${c.verb} ${c.resource}${c.group ? `.${c.group}` : ''}${c.namespace ? ` in ${c.namespace}` : ''}`;

/**
 * Asks the API (SelfSubjectAccessReview) before changing anything, so a missing permission is reported
 * as one list up front instead of a half-applied install.
 */
export const checkPermissions = async (kube: KubeClient, plans: readonly ObjectPlan[]): Promise<void> => {
  const checks: AccessCheck[] = [];
  for (const plan of plans) {
    if (plan.action === 'unchanged') continue;
    const r = RESOURCES[plan.object.kind];
    if (!r) continue;
    const namespace = plan.object.metadata.namespace;
    const base = { ...r, ...(namespace ? { namespace } : {}), name: plan.object.metadata.name };
    checks.push({ ...base, verb: 'patch' });
    if (plan.action === 'created') checks.push({ ...base, verb: 'create' });
  }
  const namespace = plans.find((p) => p.object.kind === 'DaemonSet')?.object.metadata.namespace;
  checks.push({ group: '', resource: 'pods', verb: 'list', ...(namespace ? { namespace } : {}) });
  const answers = await Promise.all(checks.map(async (c) => ({ check: c, ...(await kube.canI(c)) })));
  const denied = answers.filter((a) => !a.allowed);
  if (denied.length > 0) {
    throw new OperationError(
      `your Kubernetes user may not ${denied.map((d) => describe(d.check)).join(', ')}; nothing was changed`,
      'ask a cluster admin for these permissions, or run install with an admin kubeconfig',
    );
  }
};
