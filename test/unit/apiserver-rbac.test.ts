// The emulator's RBAC authorizer: token users, bindings, roles, subresources, resourceNames, the create
// check of a server-side apply that creates, escalation prevention, and access reviews that agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { serviceAccountUser } from '../../src/sim/apiserver/index.ts';
import { resourceByName } from '../../src/sim/apiserver/resources.ts';
import { startTestCluster, statusOf } from '../helpers/apiserver.ts';

const SA = serviceAccountUser('ci', 'flannelctl', 'ci-token');
const RBAC_V1 = 'rbac.authorization.k8s.io/v1';

const start = async (t: Parameters<typeof startTestCluster>[0]) => {
  const c = await startTestCluster(t, { users: [SA] });
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const res = await fetch(`${c.server.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${SA.token}`, 'Content-Type': contentType },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const grant = (kind: 'ClusterRole' | 'Role', name: string, rules: unknown[], namespace?: string) => {
    c.server.create({
      apiVersion: RBAC_V1,
      kind,
      metadata: { name, ...(namespace ? { namespace } : {}) },
      rules,
    });
  };
  const bind = (
    kind: 'ClusterRoleBinding' | 'RoleBinding',
    name: string,
    roleRef: { kind: string; name: string },
    subjects: unknown[],
    namespace?: string,
  ) => {
    c.server.create({
      apiVersion: RBAC_V1,
      kind,
      metadata: { name, ...(namespace ? { namespace } : {}) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef },
      subjects,
    });
  };
  const canI = async (attrs: Record<string, string>) =>
    (
      (
        await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: attrs },
        })
      ).body.status as { allowed: boolean }
    ).allowed;
  return { ...c, call, grant, bind, canI };
};

const SA_SUBJECT = { kind: 'ServiceAccount', name: 'flannelctl', namespace: 'ci' };

test('a user without bindings gets real 403 Status bodies; discovery and access reviews still work', async (t) => {
  const c = await start(t);
  const r = await c.call('GET', '/api/v1/nodes');
  assert.equal(r.status, 403);
  assert.equal(r.body.reason, 'Forbidden');
  assert.equal(
    r.body.message,
    'nodes is forbidden: User "system:serviceaccount:ci:flannelctl" cannot list resource "nodes" in API group "" at the cluster scope',
  );
  assert.equal(
    (await c.call('GET', '/api/v1/namespaces/kube-system')).body.message,
    'namespaces "kube-system" is forbidden: User "system:serviceaccount:ci:flannelctl" cannot get resource "namespaces" in API group "" in the namespace "kube-system"',
  );
  assert.equal((await c.call('GET', '/api')).status, 200);
  assert.equal(await c.canI({ verb: 'list', resource: 'nodes' }), false);
  // The admin token keeps full access, and an unknown token is 401.
  assert.equal((await c.core.listNode()).items.length, 3);
  const bad = await fetch(`${c.server.url}/api/v1/nodes`, { headers: { Authorization: 'Bearer nope' } });
  assert.equal(bad.status, 401);
});

test('ClusterRoleBindings and RoleBindings grant by ServiceAccount, Group and User subjects', async (t) => {
  const c = await start(t);
  c.grant('ClusterRole', 'nodes-reader', [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }]);
  c.bind('ClusterRoleBinding', 'nodes-reader', { kind: 'ClusterRole', name: 'nodes-reader' }, [
    { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:serviceaccounts:ci' },
  ]);
  assert.equal((await c.call('GET', '/api/v1/nodes')).status, 200);
  assert.equal((await c.call('GET', '/api/v1/nodes/node-1')).status, 200);
  assert.equal((await c.call('GET', '/api/v1/nodes?watch=true&timeoutSeconds=0')).status, 403);

  // A Role in kube-flannel, bound by a RoleBinding there, grants nothing elsewhere.
  c.server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-flannel' } });
  c.grant('Role', 'pods', [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }], 'kube-flannel');
  c.bind(
    'RoleBinding',
    'pods',
    { kind: 'Role', name: 'pods' },
    [{ kind: 'ServiceAccount', name: 'flannelctl', namespace: 'ci' }],
    'kube-flannel',
  );
  assert.equal((await c.call('GET', '/api/v1/namespaces/kube-flannel/pods')).status, 200);
  assert.equal((await c.call('GET', '/api/v1/namespaces/default/pods')).status, 403);
  assert.equal((await c.call('GET', '/api/v1/pods')).status, 403);
  assert.equal(await c.canI({ verb: 'list', resource: 'pods', namespace: 'kube-flannel' }), true);
  assert.equal(await c.canI({ verb: 'list', resource: 'pods', namespace: 'default' }), false);

  // A User subject naming someone else grants this user nothing.
  c.grant('ClusterRole', 'cm', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['*'] }]);
  c.bind('ClusterRoleBinding', 'cm', { kind: 'ClusterRole', name: 'cm' }, [{ kind: 'User', name: 'alice' }]);
  assert.equal((await c.call('GET', '/api/v1/configmaps')).status, 403);
  c.bind('ClusterRoleBinding', 'cm-sa', { kind: 'ClusterRole', name: 'cm' }, [
    { kind: 'User', name: SA.name },
  ]);
  assert.equal((await c.call('GET', '/api/v1/configmaps')).status, 200);
});

test('subresources need their own rule; resourceNames limit get but never allow list', async (t) => {
  const c = await start(t);
  c.server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-flannel' } });
  c.server.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'kube-flannel' },
    spec: { containers: [{ name: 'c', image: 'x' }] },
  });
  c.grant('ClusterRole', 'r', [
    { apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['p'] },
    { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
  ]);
  c.bind('ClusterRoleBinding', 'r', { kind: 'ClusterRole', name: 'r' }, [SA_SUBJECT]);
  assert.equal((await c.call('GET', '/api/v1/namespaces/kube-flannel/pods/p')).status, 200);
  assert.equal((await c.call('GET', '/api/v1/namespaces/kube-flannel/pods')).status, 403);
  const log = await c.call('GET', '/api/v1/namespaces/kube-flannel/pods/p/log');
  assert.equal(
    log.body.message,
    'pods "p" is forbidden: User "system:serviceaccount:ci:flannelctl" cannot get resource "pods/log" in API group "" in the namespace "kube-flannel"',
  );
  const patch = (path: string) =>
    c.call('PATCH', path, { metadata: { annotations: { a: 'b' } } }, 'application/merge-patch+json');
  assert.equal((await patch('/api/v1/nodes/node-1/status')).status, 200);
  assert.equal((await patch('/api/v1/nodes/node-1')).status, 403);
});

test('only "*" and "*/sub" widen a subresource rule: "pods" and "pods/*" grant no pods/log (evaluation_helpers.go)', async (t) => {
  const c = await start(t);
  c.server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-flannel' } });
  c.server.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'kube-flannel' },
    spec: { containers: [{ name: 'c', image: 'x' }] },
  });
  // A log is text/plain, not a Status: only its status code is compared.
  const logOf = async () =>
    (
      await fetch(`${c.server.url}/api/v1/namespaces/kube-flannel/pods/p/log`, {
        headers: { Authorization: `Bearer ${SA.token}` },
      })
    ).status;
  c.grant('ClusterRole', 'wide', [{ apiGroups: [''], resources: ['pods', 'pods/*'], verbs: ['get'] }]);
  c.bind('ClusterRoleBinding', 'wide', { kind: 'ClusterRole', name: 'wide' }, [SA_SUBJECT]);
  assert.equal((await c.call('GET', '/api/v1/namespaces/kube-flannel/pods/p')).status, 200);
  assert.equal(await logOf(), 403);
  assert.equal(
    await c.canI({ verb: 'get', resource: 'pods', subresource: 'log', namespace: 'kube-flannel' }),
    false,
  );
  c.grant('ClusterRole', 'logs', [{ apiGroups: [''], resources: ['*/log'], verbs: ['get'] }]);
  c.bind('ClusterRoleBinding', 'logs', { kind: 'ClusterRole', name: 'logs' }, [SA_SUBJECT]);
  assert.equal(await logOf(), 200);
  assert.equal(
    await c.canI({ verb: 'get', resource: 'pods', subresource: 'log', namespace: 'kube-flannel' }),
    true,
  );
});

test('a ClusterRole bound by a RoleBinding applies only in that namespace; a Role only in its own', async (t) => {
  const c = await start(t);
  for (const name of ['kube-flannel', 'other'])
    c.server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  c.grant('ClusterRole', 'pod-maker', [
    { apiGroups: [''], resources: ['pods', 'pods/exec'], verbs: ['create'] },
  ]);
  c.bind(
    'RoleBinding',
    'pod-maker',
    { kind: 'ClusterRole', name: 'pod-maker' },
    [SA_SUBJECT],
    'kube-flannel',
  );
  const can = (namespace?: string, subresource?: string) =>
    c.canI({
      verb: 'create',
      resource: 'pods',
      ...(namespace ? { namespace } : {}),
      ...(subresource ? { subresource } : {}),
    });
  assert.equal(await can('kube-flannel'), true);
  assert.equal(await can('kube-flannel', 'exec'), true);
  for (const ns of ['kube-system', 'other', undefined]) {
    assert.equal(await can(ns), false, `pods create in ${ns ?? 'every namespace'}`);
    assert.equal(await can(ns, 'exec'), false, `pods/exec create in ${ns ?? 'every namespace'}`);
  }
  // A RoleBinding to a Role of another namespace grants nothing: the Role is looked up in the binding's.
  c.grant('Role', 'cm', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }], 'other');
  c.bind('RoleBinding', 'cm', { kind: 'Role', name: 'cm' }, [SA_SUBJECT], 'kube-flannel');
  assert.equal((await c.call('GET', '/api/v1/namespaces/kube-flannel/configmaps')).status, 403);
  assert.equal((await c.call('GET', '/api/v1/namespaces/other/configmaps')).status, 403);
});

test('escalation: holding "*/log" or "pods/*" does not cover granting pods/log (policy_comparator.go)', async (t) => {
  const c = await start(t);
  c.grant('ClusterRole', 'writer', [
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['create'] },
    { apiGroups: [''], resources: ['*/log', 'pods/*'], verbs: ['get'] },
  ]);
  c.bind('ClusterRoleBinding', 'writer', { kind: 'ClusterRole', name: 'writer' }, [SA_SUBJECT]);
  const role = (name: string, resources: string[]) => ({
    apiVersion: RBAC_V1,
    kind: 'ClusterRole',
    metadata: { name },
    rules: [{ apiGroups: [''], resources, verbs: ['get'] }],
  });
  const post = (body: unknown) => c.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', body);
  assert.equal((await post(role('same', ['*/log', 'pods/*']))).status, 201);
  const denied = await post(role('logs', ['pods/log']));
  assert.equal(denied.status, 403);
  assert.match(String(denied.body.message), /Resources:\["pods\/log"\], Verbs:\["get"\]/);
});

test('a server-side apply that creates is also authorized as create of that name', async (t) => {
  const c = await start(t);
  const apply = () =>
    c.call(
      'PATCH',
      '/api/v1/namespaces/kube-flannel?fieldManager=flannelctl',
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-flannel\n',
      'application/apply-patch+yaml',
    );
  c.grant('ClusterRole', 'ns', [
    { apiGroups: [''], resources: ['namespaces'], verbs: ['patch'], resourceNames: ['kube-flannel'] },
  ]);
  c.bind('ClusterRoleBinding', 'ns', { kind: 'ClusterRole', name: 'ns' }, [SA_SUBJECT]);
  const denied = await apply();
  assert.equal(denied.status, 403);
  assert.match(String(denied.body.message), /cannot create resource "namespaces"/);
  assert.equal(c.server.get('namespaces', undefined, 'kube-flannel'), undefined);
  c.grant('ClusterRole', 'ns-create', [
    { apiGroups: [''], resources: ['namespaces'], verbs: ['create'], resourceNames: ['kube-flannel'] },
  ]);
  c.bind('ClusterRoleBinding', 'ns-create', { kind: 'ClusterRole', name: 'ns-create' }, [SA_SUBJECT]);
  assert.equal((await apply()).status, 201);
  // Once it exists, patch alone is enough.
  c.server.registry.delete(resourceByName('clusterrolebindings'), undefined, 'ns-create');
  assert.equal((await apply()).status, 200);
});

test('roles and bindings cannot grant what the writer does not hold, unless it may escalate or bind', async (t) => {
  const c = await start(t);
  c.grant('ClusterRole', 'writer', [
    {
      apiGroups: ['rbac.authorization.k8s.io'],
      resources: ['clusterroles', 'clusterrolebindings'],
      verbs: ['create'],
    },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] },
  ]);
  c.bind('ClusterRoleBinding', 'writer', { kind: 'ClusterRole', name: 'writer' }, [SA_SUBJECT]);
  const role = (name: string, verbs: string[]) => ({
    apiVersion: RBAC_V1,
    kind: 'ClusterRole',
    metadata: { name },
    rules: [{ apiGroups: [''], resources: ['nodes'], verbs }],
  });
  assert.equal(
    (await c.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', role('held', ['get']))).status,
    201,
  );
  const escalating = await c.call(
    'POST',
    '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    role('more', ['get', 'watch']),
  );
  assert.equal(escalating.status, 403);
  assert.equal(
    escalating.body.message,
    'clusterroles.rbac.authorization.k8s.io "more" is forbidden: user "system:serviceaccount:ci:flannelctl" (groups=["system:serviceaccounts" "system:serviceaccounts:ci" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["watch"]}',
  );
  c.server.create(role('admin-made', ['watch']));
  const binding = (roleName: string) => ({
    apiVersion: RBAC_V1,
    kind: 'ClusterRoleBinding',
    metadata: { name: `b-${roleName}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
    subjects: [{ kind: 'User', name: 'bob' }],
  });
  const post = (b: unknown) => c.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', b);
  assert.equal((await post(binding('held'))).status, 201);
  assert.equal((await post(binding('admin-made'))).status, 403);
  c.grant('ClusterRole', 'binder', [
    {
      apiGroups: ['rbac.authorization.k8s.io'],
      resources: ['clusterroles'],
      verbs: ['bind'],
      resourceNames: ['admin-made'],
    },
  ]);
  c.bind('ClusterRoleBinding', 'binder', { kind: 'ClusterRole', name: 'binder' }, [SA_SUBJECT]);
  assert.equal((await post(binding('admin-made'))).status, 201);
});

test('a kubeconfig for a token user works with client-node, and Forbidden faults still apply', async (t) => {
  const c = await start(t);
  c.grant('ClusterRole', 'nodes', [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }]);
  c.bind('ClusterRoleBinding', 'nodes', { kind: 'ClusterRole', name: 'nodes' }, [SA_SUBJECT]);
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-rbac-'));
  const path = join(dir, 'kubeconfig');
  await c.server.writeKubeconfig(path, { user: SA.name, token: SA.token });
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const core = kc.makeApiClient(CoreV1Api);
  assert.equal((await core.listNode()).items.length, 3);
  c.server.faults.forbid({ verb: 'list', resource: 'nodes' });
  await assert.rejects(core.listNode(), (e) => {
    assert.match(
      statusOf(e).message,
      /User "system:serviceaccount:ci:flannelctl" cannot list resource "nodes"/,
    );
    return true;
  });
  await assert.rejects(c.core.listNode(), (e) => statusOf(e).code === 403);
  assert.ok(c.server.requests.records.some((r) => r.user === SA.name && r.resource === 'nodes'));
});
