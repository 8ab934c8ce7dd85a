import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Watch } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { eventually, startTestCluster } from '../helpers/apiserver.ts';

interface Seen {
  type: string;
  name: string | undefined;
  data: string | undefined;
}

const watchConfigMaps = async (watch: Watch, query: Record<string, string>, seen: Seen[]) =>
  watch.watch(
    '/api/v1/namespaces/default/configmaps',
    query,
    (type: string, obj: KubernetesObject & { data?: Record<string, string> }) =>
      seen.push({ type, name: obj.metadata?.name, data: obj.data?.k }),
    () => undefined,
  );

test('client-node Watch sees ADDED, MODIFIED and DELETED after the list resourceVersion', async (t) => {
  const { core, kc } = await startTestCluster(t);
  await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'before' }, data: { k: '0' } },
  });
  const list = await core.listNamespacedConfigMap({ namespace: 'default' });
  const seen: Seen[] = [];
  const controller = await watchConfigMaps(
    new Watch(kc),
    { resourceVersion: list.metadata!.resourceVersion! },
    seen,
  );
  t.after(() => controller.abort());
  await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'a' }, data: { k: '1' } },
  });
  await core.replaceNamespacedConfigMap({
    name: 'a',
    namespace: 'default',
    body: { metadata: { name: 'a' }, data: { k: '2' } },
  });
  await core.deleteNamespacedConfigMap({ name: 'a', namespace: 'default' });
  await eventually(() => seen.length >= 3, 'three watch events');
  assert.deepEqual(seen, [
    { type: 'ADDED', name: 'a', data: '1' },
    { type: 'MODIFIED', name: 'a', data: '2' },
    { type: 'DELETED', name: 'a', data: '2' },
  ]);
});

test('a watch without resourceVersion starts with the current objects; selectors turn leaving into DELETED', async (t) => {
  const { core, kc } = await startTestCluster(t);
  await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'x', labels: { app: 'flannel' } }, data: { k: '0' } },
  });
  const seen: Seen[] = [];
  const controller = await watchConfigMaps(new Watch(kc), { labelSelector: 'app=flannel' }, seen);
  t.after(() => controller.abort());
  await eventually(() => seen.length >= 1, 'the initial ADDED');
  await core.patchNamespacedConfigMap({
    name: 'x',
    namespace: 'default',
    body: [{ op: 'replace', path: '/metadata/labels/app', value: 'other' }],
  });
  await eventually(() => seen.length >= 2, 'the object leaving the selection');
  assert.deepEqual(
    seen.map((s) => s.type),
    ['ADDED', 'DELETED'],
  );
});

test('a watch from a resourceVersion replays what happened since, and a too-old one gets 410 Expired', async (t) => {
  const { core, server } = await startTestCluster(t, { watchHistory: 5, seed: { nodes: [] } });
  const created = await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'a' }, data: { k: '1' } },
  });
  await core.patchNamespacedConfigMap({
    name: 'a',
    namespace: 'default',
    body: [{ op: 'replace', path: '/data/k', value: '2' }],
  });
  const readLines = async (
    query: string,
  ): Promise<{ type: string; object: { data?: { k?: string }; code?: number; reason?: string } }[]> => {
    const response = await fetch(
      `${server.url}/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&${query}`,
    );
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    return (await response.text())
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
  };
  const replay = await readLines(`resourceVersion=${created.metadata!.resourceVersion}`);
  assert.deepEqual(
    replay.map((e) => `${e.type}:${e.object.data?.k}`),
    ['MODIFIED:2'],
  );
  for (let i = 0; i < 6; i++) {
    await core.patchNamespacedConfigMap({
      name: 'a',
      namespace: 'default',
      body: [{ op: 'replace', path: '/data/k', value: String(i) }],
    });
  }
  const expired = await readLines(`resourceVersion=${created.metadata!.resourceVersion}`);
  assert.equal(expired[0]?.type, 'ERROR');
  assert.equal(expired[0]?.object.code, 410);
  assert.equal(expired[0]?.object.reason, 'Expired');
});
