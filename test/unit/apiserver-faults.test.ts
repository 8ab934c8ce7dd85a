import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthorizationV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startTestCluster, statusOf } from '../helpers/apiserver.ts';

test('failNext makes the next N matching requests fail with a 5xx Status, then recovers', async (t) => {
  const { server, core } = await startTestCluster(t);
  server.faults.failNext({ method: 'GET', path: /\/nodes$/, status: 503, count: 2 });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(core.listNode(), (error) => {
      const status = statusOf(error);
      assert.equal(status.code, 503);
      assert.equal(status.reason, 'ServiceUnavailable');
      return true;
    });
  }
  assert.equal((await core.listNode()).items.length, 3);
  assert.equal((await core.listNamespace()).items.length > 0, true, 'other paths were never affected');
});

test('conflictNext makes the next matching write a 409 Conflict and leaves the object alone', async (t) => {
  const { server, core } = await startTestCluster(t);
  await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'cfg' }, data: { k: 'v' } },
  });
  server.faults.conflictNext({ path: 'configmaps/cfg' });
  const patch = () =>
    core.patchNamespacedConfigMap(
      { name: 'cfg', namespace: 'default', body: { data: { k: 'w' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  await assert.rejects(patch(), (error) => statusOf(error).reason === 'Conflict');
  assert.equal((server.get('configmaps', 'default', 'cfg')!.data as { k: string }).k, 'v');
  assert.equal((await patch()).data?.k, 'w', 'only the next write conflicts');
});

test('beforeNext lets another writer in first, so a PUT with the old resourceVersion meets a real 409', async (t) => {
  const { server, core } = await startTestCluster(t);
  const created = await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'cfg' }, data: { k: 'v' } },
  });
  // Only the PUT whose body matches: the other writer's own PATCH passes by untouched.
  server.faults.beforeNext({ method: 'PUT', path: 'configmaps/cfg', body: /"mine"/ }, () =>
    core.patchNamespacedConfigMap(
      { name: 'cfg', namespace: 'default', body: { data: { other: 'theirs' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
  const put = () =>
    core.replaceNamespacedConfigMap({
      name: 'cfg',
      namespace: 'default',
      body: {
        metadata: { name: 'cfg', resourceVersion: created.metadata!.resourceVersion },
        data: { k: 'mine' },
      },
    });
  await assert.rejects(put(), (error) => statusOf(error).reason === 'Conflict');
  assert.deepEqual(server.get('configmaps', 'default', 'cfg')!.data, { k: 'v', other: 'theirs' });
});

test('added latency delays matching requests past a client deadline', async (t) => {
  const { server } = await startTestCluster(t);
  server.faults.addLatency({ path: '/api/v1/nodes', ms: 2_000 });
  await assert.rejects(
    fetch(`${server.url}/api/v1/nodes`, { signal: AbortSignal.timeout(100) }),
    /abort|timeout/i,
  );
  const other = await fetch(`${server.url}/api/v1/namespaces`);
  assert.equal(other.status, 200);
});

test('a Forbidden fault answers 403 with the real wording and selfsubjectaccessreviews agree', async (t) => {
  const { server, apps, kc } = await startTestCluster(t);
  server.faults.forbid({ verb: 'patch', resource: 'daemonsets', namespace: 'kube-flannel' });
  await assert.rejects(
    apps.patchNamespacedDaemonSet(
      { name: 'kube-flannel-ds', namespace: 'kube-flannel', body: {} },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
    (error) => {
      const status = statusOf(error);
      assert.equal(status.code, 403);
      assert.equal(status.reason, 'Forbidden');
      assert.equal(
        status.message,
        'daemonsets.apps "kube-flannel-ds" is forbidden: User "kubernetes-admin" cannot patch resource "daemonsets" in API group "apps" in the namespace "kube-flannel"',
      );
      return true;
    },
  );
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const review = (verb: string, namespace: string) =>
    authz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb, group: 'apps', resource: 'daemonsets', namespace } } },
    });
  assert.equal((await review('patch', 'kube-flannel')).status?.allowed, false);
  assert.equal((await review('get', 'kube-flannel')).status?.allowed, true);
  assert.equal((await review('patch', 'kube-system')).status?.allowed, true);
});

test('the request log records method, path, query, content type and status; dry-run writes are not writes', async (t) => {
  const { server, core } = await startTestCluster(t);
  server.requests.clear();
  await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'dry' } },
    dryRun: 'All',
  });
  await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app=flannel' });
  await assert.rejects(core.readNamespacedConfigMap({ name: 'missing', namespace: 'default' }));
  assert.deepEqual(
    server.requests.records.map((r) => [
      r.method,
      r.path,
      r.query,
      r.contentType,
      r.status,
      r.verb,
      r.dryRun,
    ]),
    [
      [
        'POST',
        '/api/v1/namespaces/default/configmaps',
        'dryRun=All',
        'application/json',
        201,
        'create',
        true,
      ],
      [
        'GET',
        '/api/v1/namespaces/default/configmaps',
        'labelSelector=app%3Dflannel',
        undefined,
        200,
        'list',
        false,
      ],
      ['GET', '/api/v1/namespaces/default/configmaps/missing', '', undefined, 404, 'get', false],
    ],
  );
  assert.deepEqual(server.requests.writes(), []);
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'real' } } });
  assert.equal(server.requests.writes().length, 1);
});

test('a wrong bearer token is 401 Unauthorized', async (t) => {
  const { server } = await startTestCluster(t);
  const response = await fetch(`${server.url}/api/v1/nodes`, { headers: { Authorization: 'Bearer wrong' } });
  assert.equal(response.status, 401);
  assert.equal(((await response.json()) as { reason: string }).reason, 'Unauthorized');
});
