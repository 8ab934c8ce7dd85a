// `kubectl --as USER [--as-group G]` (Impersonate-User / Impersonate-Group headers): the request is
// served as that user when the requester may `impersonate` it, as kube-apiserver's filter does
// (k8s.io/apiserver pkg/endpoints/filters/impersonation/impersonation.go: one authorization per
// impersonated user, service account or group; a service account's groups unless groups are given;
// system:authenticated added; groups without a user are a bad request).
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError, badRequest } from './api-error.ts';
import type { ResourceAttributes } from './authorizer.ts';
import type { Identity } from './users.ts';

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):([^:]+)$/;

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The identity the request acts as: the requester's own, or the one it may impersonate. */
export const impersonate = (
  requester: Identity,
  headers: IncomingHttpHeaders,
  allowed: (a: ResourceAttributes) => boolean,
): Identity => {
  const user = list(headers['impersonate-user'])[0] ?? '';
  // Node joins repeated headers with ", " unless they are read raw; kubectl sends one per group.
  const requestedGroups = list(headers['impersonate-group']).flatMap((g) => g.split(/,\s*/));
  if (user === '' && requestedGroups.length === 0) return requester;
  if (user === '')
    throw badRequest(
      `requested ${requestedGroups.map((g) => `{Group  ${g}  }`).join(' ')} without impersonating a user`,
    );

  const check = (a: ResourceAttributes, what: string): void => {
    if (allowed({ ...a, verb: 'impersonate' })) return;
    const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
    throw new ApiError(
      403,
      'Forbidden',
      `${what} is forbidden: User "${requester.name}" cannot impersonate resource "${a.resource}" in API group "" ${scope}`,
    );
  };
  const sa = SERVICE_ACCOUNT.exec(user);
  let groups: string[] = [];
  if (sa) {
    check(
      { verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: sa[1]!, name: sa[2]! },
      `serviceaccounts "${sa[2]}"`,
    );
    if (requestedGroups.length === 0) groups = ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`];
  } else check({ verb: 'impersonate', group: '', resource: 'users', name: user }, `users "${user}"`);
  for (const g of requestedGroups) {
    check({ verb: 'impersonate', group: '', resource: 'groups', name: g }, `groups "${g}"`);
    groups.push(g);
  }
  const anonymous = user === 'system:anonymous';
  const everyone = anonymous ? 'system:unauthenticated' : 'system:authenticated';
  if (!groups.includes(everyone) && (anonymous || !groups.includes('system:unauthenticated')))
    groups.push(everyone);
  return { name: user, groups, admin: groups.includes('system:masters') };
};
