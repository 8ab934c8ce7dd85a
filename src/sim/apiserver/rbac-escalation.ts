// The RBAC storage's escalation prevention: a user may write a (Cluster)Role only with rules it holds
// itself (or with the `escalate` verb on it), and a binding only to a role whose rules it holds (or with
// the `bind` verb on that role). Mirrors pkg/registry/rbac/*/policybased.
import type { KubeObject } from '../cluster-seed.ts';
import { ApiError } from './api-error.ts';
import type { Authorizer, PolicyRule, UserInfo } from './authorizer.ts';
import { describeRule } from './authorizer.ts';
import type { ResourceType } from './resources.ts';
import { qualifiedResource } from './resources.ts';

const RBAC = 'rbac.authorization.k8s.io';

const forbiddenWrite = (t: ResourceType, name: string, reason: string): ApiError =>
  new ApiError(403, 'Forbidden', `${qualifiedResource(t)} "${name}" is forbidden: ${reason}`, {
    name,
    group: t.group,
    kind: t.resource,
  });

/** Throws 403 when writing `obj` (the object as it would be stored) would grant more than `user` holds. */
export const checkNoEscalation = (
  authorizer: Authorizer,
  user: UserInfo,
  t: ResourceType,
  namespace: string | undefined,
  obj: KubeObject,
): void => {
  if (t.group !== RBAC) return;
  const name = obj.metadata?.name ?? '';
  let wanted: PolicyRule[];
  if (t.resource === 'clusterroles' || t.resource === 'roles') {
    const may = authorizer.authorize(user, {
      verb: 'escalate',
      group: RBAC,
      resource: t.resource,
      namespace,
      name,
    });
    if (may) return;
    wanted = (obj as { rules?: PolicyRule[] }).rules ?? [];
  } else {
    const ref = (obj as { roleRef?: { kind?: string; name?: string } }).roleRef ?? {};
    const roleResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
    const may = authorizer.authorize(user, {
      verb: 'bind',
      group: RBAC,
      resource: roleResource,
      namespace,
      ...(ref.name ? { name: ref.name } : {}),
    });
    if (may) return;
    wanted = authorizer.roleRules(ref, namespace);
    if (wanted.length === 0 && !authorizer.roleExists(ref, namespace)) {
      const kind = ref.kind === 'ClusterRole' ? 'clusterrole' : 'role';
      throw forbiddenWrite(t, name, `${kind}.${RBAC} "${ref.name ?? ''}" not found`);
    }
  }
  const missing = authorizer.missingRules(user, namespace, wanted);
  if (missing.length === 0) return;
  const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]`;
  throw forbiddenWrite(
    t,
    name,
    `user ${JSON.stringify(user.name)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${missing.map(describeRule).join('\n')}`,
  );
};
