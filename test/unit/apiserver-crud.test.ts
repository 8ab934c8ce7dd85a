import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { startTestCluster, statusOf } from '../helpers/apiserver.ts';

const configMap = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data: { key: 'value' },
});

test('nodes come from the seed with addresses, kubelet info and a Ready condition', async (t) => {
  const { core } = await startTestCluster(t);
  const nodes = await core.listNode();
  assert.deepEqual(
    nodes.items.map((n) => n.metadata?.name),
    ['node-1', 'node-2', 'node-3'],
  );
  const node = nodes.items[0]!;
  assert.deepEqual(JSON.parse(JSON.stringify(node.status?.addresses)), [
    { type: 'InternalIP', address: '192.168.77.11' },
    { type: 'Hostname', address: 'node-1' },
  ]);
  assert.match(node.status?.nodeInfo?.kubeletVersion ?? '', /^v1\.32\./);
  assert.equal(node.spec?.podCIDR, '10.244.1.0/24');
  assert.equal(node.metadata?.labels?.['kubernetes.io/os'], 'linux');
  assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  assert.ok(nodes.metadata?.resourceVersion, 'a list carries its resourceVersion');
});

test('create assigns uid, resourceVersion and creationTimestamp; a duplicate is 409 AlreadyExists', async (t) => {
  const { core } = await startTestCluster(t);
  const created = await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('a') });
  assert.match(created.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
  assert.match(created.metadata?.resourceVersion ?? '', /^\d+$/);
  assert.ok(created.metadata?.creationTimestamp instanceof Date);
  await assert.rejects(
    core.createNamespacedConfigMap({ namespace: 'default', body: configMap('a') }),
    (error) => {
      assert.ok(error instanceof ApiException);
      assert.equal(error.code, 409);
      const status = statusOf(error);
      assert.equal(status.kind, 'Status');
      assert.equal(status.status, 'Failure');
      assert.equal(status.reason, 'AlreadyExists');
      assert.equal(status.message, 'configmaps "a" already exists');
      return true;
    },
  );
});

test('a missing object is 404 NotFound with the real wording, and a missing namespace refuses creates', async (t) => {
  const { core, apps } = await startTestCluster(t);
  await assert.rejects(apps.readNamespacedDaemonSet({ name: 'nope', namespace: 'kube-system' }), (error) => {
    assert.equal((error as ApiException<string>).code, 404);
    const status = statusOf(error);
    assert.equal(status.reason, 'NotFound');
    assert.equal(status.message, 'daemonsets.apps "nope" not found');
    assert.deepEqual(status.details, { name: 'nope', group: 'apps', kind: 'daemonsets' });
    return true;
  });
  await assert.rejects(
    core.createNamespacedConfigMap({ namespace: 'kube-flannel', body: configMap('x') }),
    (error) => {
      assert.equal(statusOf(error).message, 'namespaces "kube-flannel" not found');
      return true;
    },
  );
});

test('label selectors support =, ==, !=, in, notin, exists and !key', async (t) => {
  const { core } = await startTestCluster(t);
  await core.createNamespacedConfigMap({
    namespace: 'default',
    body: configMap('a', { app: 'flannel', tier: 'node' }),
  });
  await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('b', { app: 'flannel' }) });
  await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('c', { app: 'other' }) });
  const names = async (labelSelector: string) =>
    (await core.listNamespacedConfigMap({ namespace: 'default', labelSelector })).items.map(
      (c) => c.metadata?.name,
    );
  assert.deepEqual(await names('app=flannel'), ['a', 'b']);
  assert.deepEqual(await names('app==flannel,tier=node'), ['a']);
  assert.deepEqual(await names('app!=flannel'), ['c']);
  assert.deepEqual(await names('app in (other, nothing)'), ['c']);
  assert.deepEqual(await names('app notin (other)'), ['a', 'b']);
  assert.deepEqual(await names('tier'), ['a']);
  assert.deepEqual(await names('!tier,app'), ['b', 'c']);
  await assert.rejects(names('app in (a'), (error) => statusOf(error).code === 400);
});

test('field selectors filter by name, namespace and pod fields; lists span all namespaces', async (t) => {
  const { core } = await startTestCluster(t);
  await core.createNamespace({ body: { metadata: { name: 'other' } } });
  await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('same') });
  await core.createNamespacedConfigMap({ namespace: 'other', body: configMap('same') });
  const all = await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=same' });
  assert.deepEqual(
    all.items.map((c) => c.metadata?.namespace),
    ['default', 'other'],
  );
  const one = await core.listConfigMapForAllNamespaces({
    fieldSelector: 'metadata.namespace=other,metadata.name=same',
  });
  assert.equal(one.items.length, 1);
  for (const [name, node] of [
    ['p1', 'node-1'],
    ['p2', 'node-2'],
  ]) {
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] } },
    });
  }
  const onNode2 = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-2' });
  assert.deepEqual(
    onNode2.items.map((p) => p.metadata?.name),
    ['p2'],
  );
  const pending = await core.listNamespacedPod({
    namespace: 'default',
    fieldSelector: 'status.phase=Pending,spec.nodeName!=node-2',
  });
  assert.ok(pending.items.every((p) => p.spec?.nodeName === 'node-1'));
});

test('PUT with a stale resourceVersion is 409 Conflict; with the current one it bumps the version', async (t) => {
  const { core } = await startTestCluster(t);
  const first = await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('a') });
  const updated = await core.replaceNamespacedConfigMap({
    name: 'a',
    namespace: 'default',
    body: { ...first, data: { key: 'changed' } },
  });
  assert.notEqual(updated.metadata?.resourceVersion, first.metadata?.resourceVersion);
  assert.equal(updated.metadata?.uid, first.metadata?.uid);
  await assert.rejects(
    core.replaceNamespacedConfigMap({
      name: 'a',
      namespace: 'default',
      body: { ...first, data: { key: 'lost update' } },
    }),
    (error) => {
      const status = statusOf(error);
      assert.equal(status.code, 409);
      assert.equal(status.reason, 'Conflict');
      assert.match(
        status.message,
        /the object has been modified; please apply your changes to the latest version/,
      );
      return true;
    },
  );
  const current = await core.readNamespacedConfigMap({ name: 'a', namespace: 'default' });
  assert.equal(current.data?.key, 'changed');
});

test('a PUT that changes nothing does not bump resourceVersion', async (t) => {
  const { core } = await startTestCluster(t);
  const first = await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('a') });
  const again = await core.replaceNamespacedConfigMap({ name: 'a', namespace: 'default', body: first });
  assert.equal(again.metadata?.resourceVersion, first.metadata?.resourceVersion);
});

test('DaemonSets get real defaults, generation tracks spec changes only, and the selector is immutable', async (t) => {
  const { apps } = await startTestCluster(t);
  const ds = await apps.createNamespacedDaemonSet({
    namespace: 'kube-system',
    body: {
      metadata: { name: 'agent', labels: { app: 'agent' } },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: {
          metadata: { labels: { app: 'agent' } },
          spec: { containers: [{ name: 'a', image: 'agent:1' }] },
        },
      },
    },
  });
  assert.equal(ds.metadata?.generation, 1);
  assert.equal(ds.spec?.updateStrategy?.type, 'RollingUpdate');
  assert.equal(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, 1);
  assert.equal(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge, 0);
  assert.equal(ds.spec?.revisionHistoryLimit, 10);
  // The controller writes status meanwhile: read the latest before each replace, as clients must.
  const replace = async (change: (current: V1DaemonSet) => V1DaemonSet): Promise<V1DaemonSet> => {
    for (;;) {
      const current = await apps.readNamespacedDaemonSet({ name: 'agent', namespace: 'kube-system' });
      try {
        return await apps.replaceNamespacedDaemonSet({
          name: 'agent',
          namespace: 'kube-system',
          body: change(current),
        });
      } catch (error) {
        if (statusOf(error).reason !== 'Conflict') throw error;
      }
    }
  };
  const labelled = await replace((current) => ({
    ...current,
    metadata: { ...current.metadata, labels: { app: 'agent', extra: 'yes' } },
  }));
  assert.equal(labelled.metadata?.generation, 1, 'a metadata-only change keeps the generation');
  const imaged = await replace((current) => ({
    ...current,
    spec: {
      ...current.spec!,
      template: { ...current.spec!.template, spec: { containers: [{ name: 'a', image: 'agent:2' }] } },
    },
  }));
  assert.equal(imaged.metadata?.generation, 2);
  await assert.rejects(
    replace((current) => ({
      ...current,
      spec: {
        ...current.spec!,
        selector: { matchLabels: { app: 'agent', tier: 'node' } },
        template: { ...current.spec!.template, metadata: { labels: { app: 'agent', tier: 'node' } } },
      },
    })),
    (error) => {
      const status = statusOf(error);
      assert.equal(status.code, 422);
      assert.equal(status.reason, 'Invalid');
      assert.match(
        status.message,
        /^DaemonSet\.apps "agent" is invalid: spec\.selector: Invalid value: .*field is immutable/,
      );
      return true;
    },
  );
});

test('dryRun=All create returns the object and stores nothing', async (t) => {
  const { core, server } = await startTestCluster(t);
  const result = await core.createNamespacedConfigMap({
    namespace: 'default',
    body: configMap('dry'),
    dryRun: 'All',
  });
  assert.equal(result.metadata?.name, 'dry');
  assert.equal(server.get('configmaps', 'default', 'dry'), undefined);
  assert.equal(server.requests.writes().length, 0, 'a dry-run request is not a write');
});

test('deleting a namespace deletes what is in it', async (t) => {
  const { core, server } = await startTestCluster(t);
  await core.createNamespace({ body: { metadata: { name: 'gone' } } });
  await core.createNamespacedConfigMap({ namespace: 'gone', body: configMap('a') });
  await core.deleteNamespace({ name: 'gone' });
  assert.equal(server.get('configmaps', 'gone', 'a'), undefined);
  await assert.rejects(core.readNamespace({ name: 'gone' }), (error) => statusOf(error).code === 404);
});
