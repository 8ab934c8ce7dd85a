// Impersonation as kube-apiserver's filter does it (k8s.io/apiserver .../impersonation/impersonation.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { impersonate } from '../../src/sim/apiserver/impersonation.ts';
import { ApiError } from '../../src/sim/apiserver/api-error.ts';

const ci = { name: 'ci', groups: ['system:authenticated'], admin: false };

test('no Impersonate headers: the requester itself', () => {
  assert.equal(
    impersonate(ci, {}, () => false),
    ci,
  );
});

test('a service account gets its groups and system:authenticated; given groups replace them', () => {
  const sa = impersonate(ci, { 'impersonate-user': 'system:serviceaccount:ns1:bot' }, () => true);
  assert.deepEqual(sa, {
    name: 'system:serviceaccount:ns1:bot',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'],
    admin: false,
  });
  const withGroup = impersonate(
    ci,
    { 'impersonate-user': 'bob', 'impersonate-group': 'system:masters' },
    () => true,
  );
  assert.deepEqual(withGroup.groups, ['system:masters', 'system:authenticated']);
  assert.equal(withGroup.admin, true);
});

test('each impersonated user and group needs the impersonate verb', () => {
  const asked: string[] = [];
  assert.throws(
    () =>
      impersonate(ci, { 'impersonate-user': 'bob', 'impersonate-group': 'ops' }, (a) => {
        asked.push(`${a.verb} ${a.resource}/${a.name}`);
        return a.resource === 'users';
      }),
    (e: unknown) =>
      e instanceof ApiError &&
      e.code === 403 &&
      e.message ===
        'groups "ops" is forbidden: User "ci" cannot impersonate resource "groups" in API group "" at the cluster scope',
  );
  assert.deepEqual(asked, ['impersonate users/bob', 'impersonate groups/ops']);
});

test('groups without a user are a bad request', () => {
  assert.throws(
    () => impersonate(ci, { 'impersonate-group': 'ops' }, () => true),
    (e: unknown) => e instanceof ApiError && e.code === 400 && /without impersonating a user/.test(e.message),
  );
});
