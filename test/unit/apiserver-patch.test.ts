import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { AppsV1Api, V1DaemonSet } from '@kubernetes/client-node';
import { startTestCluster, statusOf } from '../helpers/apiserver.ts';

const as = (strategy: string) => setHeaderOptions('Content-Type', strategy);
const NS = 'kube-system';

const daemonSet = (image = 'flannel:v1', extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'flannel', namespace: NS, labels: { app: 'flannel' } },
  spec: {
    selector: { matchLabels: { app: 'flannel' } },
    template: {
      metadata: { labels: { app: 'flannel' } },
      spec: {
        hostNetwork: true,
        tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
        containers: [
          {
            name: 'kube-flannel',
            image,
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
          { name: 'sidecar', image: 'sidecar:1' },
        ],
        ...extra,
      },
    },
  },
});

const apply = (
  apps: AppsV1Api,
  body: unknown,
  fieldManager = 'flannelctl',
  force?: boolean,
): Promise<V1DaemonSet> =>
  apps.patchNamespacedDaemonSet(
    { name: 'flannel', namespace: NS, body, fieldManager, ...(force !== undefined ? { force } : {}) },
    as(PatchStrategy.ServerSideApply),
  );

const containers = (ds: V1DaemonSet) => ds.spec!.template.spec!.containers;

test('strategic merge patch merges containers and env by name and replaces tolerations', async (t) => {
  const { apps } = await startTestCluster(t);
  await apps.createNamespacedDaemonSet({ namespace: NS, body: daemonSet() });
  const patched = await apps.patchNamespacedDaemonSet(
    {
      name: 'flannel',
      namespace: NS,
      body: {
        spec: {
          template: {
            metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } },
            spec: {
              tolerations: [{ operator: 'Exists' }],
              containers: [
                { name: 'kube-flannel', image: 'flannel:v2', env: [{ name: 'B', value: 'changed' }] },
              ],
            },
          },
        },
      },
    },
    as(PatchStrategy.StrategicMergePatch),
  );
  const [flannel, sidecar] = containers(patched);
  assert.equal(flannel?.image, 'flannel:v2');
  assert.deepEqual(
    flannel?.env?.map((e) => `${e.name}=${e.value}`),
    ['A=1', 'B=changed'],
  );
  assert.equal(sidecar?.name, 'sidecar', 'the other container is kept');
  assert.deepEqual(JSON.parse(JSON.stringify(patched.spec?.template.spec?.tolerations)), [
    { operator: 'Exists' },
  ]);
  assert.equal(
    patched.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'],
    '2026-01-01T00:00:00Z',
  );
  assert.equal(patched.metadata?.generation, 2);

  const deleted = await apps.patchNamespacedDaemonSet(
    {
      name: 'flannel',
      namespace: NS,
      body: { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
    },
    as(PatchStrategy.StrategicMergePatch),
  );
  assert.deepEqual(
    containers(deleted).map((c) => c.name),
    ['kube-flannel'],
  );
});

test('JSON merge patch replaces lists wholesale and null deletes a key', async (t) => {
  const { core } = await startTestCluster(t);
  await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'cfg', labels: { a: '1', b: '2' } }, data: { keep: 'x', drop: 'y' } },
  });
  const patched = await core.patchNamespacedConfigMap(
    {
      name: 'cfg',
      namespace: 'default',
      body: { metadata: { labels: { b: null } }, data: { drop: null, added: 'z' } },
    },
    as(PatchStrategy.MergePatch),
  );
  assert.deepEqual(patched.metadata?.labels, { a: '1' });
  assert.deepEqual(patched.data, { keep: 'x', added: 'z' });
});

test('JSON patch applies operations, and a failed test op is 422 and changes nothing', async (t) => {
  const { core } = await startTestCluster(t);
  await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'cfg' }, data: { k: 'v' } },
  });
  const patched = await core.patchNamespacedConfigMap(
    {
      name: 'cfg',
      namespace: 'default',
      body: [
        { op: 'test', path: '/data/k', value: 'v' },
        { op: 'replace', path: '/data/k', value: 'w' },
        { op: 'add', path: '/data/n', value: 'new' },
      ],
    },
    as(PatchStrategy.JsonPatch),
  );
  assert.deepEqual(patched.data, { k: 'w', n: 'new' });
  await assert.rejects(
    core.patchNamespacedConfigMap(
      { name: 'cfg', namespace: 'default', body: [{ op: 'test', path: '/data/k', value: 'v' }] },
      as(PatchStrategy.JsonPatch),
    ),
    (error) => statusOf(error).code === 422,
  );
  const after = await core.readNamespacedConfigMap({ name: 'cfg', namespace: 'default' });
  assert.equal(after.metadata?.resourceVersion, patched.metadata?.resourceVersion);
});

test('a merge patch carrying a stale resourceVersion is 409 Conflict', async (t) => {
  const { core } = await startTestCluster(t);
  const created = await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'cfg' }, data: { k: 'v' } },
  });
  await core.patchNamespacedConfigMap(
    { name: 'cfg', namespace: 'default', body: { data: { k: 'w' } } },
    as(PatchStrategy.MergePatch),
  );
  await assert.rejects(
    core.patchNamespacedConfigMap(
      {
        name: 'cfg',
        namespace: 'default',
        body: { metadata: { resourceVersion: created.metadata?.resourceVersion }, data: { k: 'x' } },
      },
      as(PatchStrategy.MergePatch),
    ),
    (error) => statusOf(error).reason === 'Conflict',
  );
});

test('server-side apply creates, records the manager, and a re-apply of the same content changes nothing', async (t) => {
  const { apps, server } = await startTestCluster(t);
  const created = await apply(apps, daemonSet());
  assert.equal(created.metadata?.generation, 1);
  const entry = created.metadata?.managedFields?.find((m) => m.manager === 'flannelctl');
  assert.equal(entry?.operation, 'Apply');
  assert.equal(entry?.fieldsType, 'FieldsV1');
  assert.ok(JSON.stringify(entry?.fieldsV1).includes('k:{\\"name\\":\\"kube-flannel\\"}'));
  // Let the controller settle its status writes, then re-apply.
  await new Promise((r) => setTimeout(r, 200));
  const before = server.get('daemonsets', NS, 'flannel')!;
  const again = await apply(apps, daemonSet());
  assert.equal(again.metadata?.resourceVersion, before.metadata?.resourceVersion);
  assert.equal(again.metadata?.generation, 1);
});

test('server-side apply removes fields the manager no longer applies', async (t) => {
  const { apps } = await startTestCluster(t);
  await apply(apps, daemonSet('flannel:v1', { priorityClassName: 'system-node-critical' }));
  const body = daemonSet('flannel:v1');
  body.spec.template.spec.containers = [body.spec.template.spec.containers[0]!];
  const updated = await apply(apps, body);
  assert.equal(updated.spec?.template.spec?.priorityClassName, undefined);
  assert.deepEqual(
    containers(updated).map((c) => c.name),
    ['kube-flannel'],
  );
  assert.equal(updated.metadata?.generation, 2);
});

test('server-side apply conflicts with another manager unless forced, and force takes ownership', async (t) => {
  const { apps } = await startTestCluster(t);
  await apply(apps, daemonSet('flannel:v1'));
  // Someone else edits the image with a plain update (like `kubectl set image`).
  await apps.patchNamespacedDaemonSet(
    {
      name: 'flannel',
      namespace: NS,
      fieldManager: 'kubectl-set',
      body: {
        spec: { template: { spec: { containers: [{ name: 'kube-flannel', image: 'flannel:hotfix' }] } } },
      },
    },
    as(PatchStrategy.StrategicMergePatch),
  );
  await assert.rejects(apply(apps, daemonSet('flannel:v2')), (error) => {
    const status = statusOf(error);
    assert.equal(status.code, 409);
    assert.equal(status.reason, 'Conflict');
    assert.match(
      status.message,
      /^Apply failed with 1 conflict: conflict with "kubectl-set" using apps\/v1: \.spec\.template\.spec\.containers\[name="kube-flannel"\]\.image/,
    );
    return true;
  });
  const forced = await apply(apps, daemonSet('flannel:v2'), 'flannelctl', true);
  assert.equal(containers(forced)[0]?.image, 'flannel:v2');
  const other = forced.metadata?.managedFields?.find((m) => m.manager === 'kubectl-set');
  assert.ok(!JSON.stringify(other?.fieldsV1 ?? {}).includes('f:image'), 'the other manager lost the field');
  // Re-applying the value someone else set is not a conflict.
  const same = await apply(apps, daemonSet('flannel:v2'), 'another-applier');
  assert.equal(containers(same)[0]?.image, 'flannel:v2');
});

test('apply without fieldManager is 422, force on a non-apply patch is 422, dryRun apply stores nothing', async (t) => {
  const { apps, core, server } = await startTestCluster(t);
  await assert.rejects(apply(apps, daemonSet(), ''), (error) => {
    assert.match(statusOf(error).message, /fieldManager: Required value/);
    return true;
  });
  await assert.rejects(
    core.patchNamespace(
      { name: 'default', body: { metadata: { labels: { a: 'b' } } }, force: true },
      as(PatchStrategy.MergePatch),
    ),
    (error) => statusOf(error).code === 422,
  );
  const dry = await apps.patchNamespacedDaemonSet(
    { name: 'flannel', namespace: NS, body: daemonSet(), fieldManager: 'flannelctl', dryRun: 'All' },
    as(PatchStrategy.ServerSideApply),
  );
  assert.equal(dry.metadata?.name, 'flannel');
  assert.equal(server.get('daemonsets', NS, 'flannel'), undefined);
});
